"""The content check of a campaign (``POST /api/campaigns/{id}/check``); ``start`` runs it
too (see ``routes/campaigns.py``)."""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ConfigDict
from sendrail.domain.content_check import has_errors
from sendrail.services import campaigns, content_checks
from sendrail.services.auth import READ

from functions.enqueue.api_model import ApiModel
from functions.enqueue.auth import tenant
from functions.enqueue.wiring import deps

router = APIGatewayRouter()


class FindingView(ApiModel):
    code: str
    severity: Literal["error", "warning", "info"]
    message: str
    detail: dict[str, Any]


class CheckResult(ApiModel):
    ok: bool
    findings: list[FindingView]


class StartOptions(ApiModel):
    """``{"force": true}`` (owners only) starts a campaign despite content errors."""

    model_config = ConfigDict(extra="forbid")

    force: bool = False


@router.post(
    "/api/campaigns/<campaign_id>/check",
    summary="Check the content before starting",
    description=(
        "Findings with severity `error` stop `start` (422 `content_check_failed`) unless "
        'an owner sends `{"force": true}`.'
    ),
    tags=["campaigns"],
)
def check(campaign_id: str) -> CheckResult:
    _, tenant_id = tenant(router, READ)
    campaign = campaigns.get(deps(), tenant_id, campaign_id)
    findings = content_checks.run(deps(), campaign)
    return CheckResult(
        ok=not has_errors(findings),
        findings=[FindingView.model_validate(f.as_dict()) for f in findings],
    )
