"""SES mailboxes send over several connections, derived from the account's sending rate
(one per ten messages a second), unless the mailbox sets its own ``max_connections``; and
every SES send names the deployment's configuration set (bounces and complaints reach the
feedback webhook) unless the mailbox names its own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber
from sendrail.domain.mime import OutgoingMessage
from sendrail.domain.models import Mailbox, Provider
from sendrail.providers import ses
from sendrail.providers.base import ProviderConfig
from sendrail.settings import ProviderSettings
from sendrail.wiring import provider_config


def quota(rate: float) -> dict[str, float]:
    return {"Max24HourSend": 50000.0, "MaxSendRate": rate, "SentLast24Hours": 0.0}


def test_given_the_sandbox_quota_then_one_connection(aws):
    config = ProviderConfig(ses_region="us-east-1")
    ses._RATES.clear()
    assert ses.max_send_rate(config) == 1.0  # moto's account is in the sandbox
    assert ses.default_connections(config) == 1


def test_given_a_production_quota_then_one_connection_per_ten_a_second(aws):
    config = ProviderConfig(ses_region="eu-west-1")
    ses._RATES.clear()
    client = ses.client(config, "ses")
    with Stubber(client) as stub:
        stub.add_response("get_send_quota", quota(50.0))
        assert ses.default_connections(config) == 5
    ses._RATES.clear()
    with Stubber(client) as stub:
        stub.add_response("get_send_quota", quota(500.0))
        assert ses.default_connections(config) == ses.MAX_DEFAULT_CONNECTIONS


def test_given_ses_cannot_tell_then_one_connection(aws):
    config = ProviderConfig(ses_region="ap-south-1")
    ses._RATES.clear()
    with Stubber(ses.client(config, "ses")) as stub:
        stub.add_client_error("get_send_quota", "AccessDenied", http_status_code=403)
        assert ses.default_connections(config) == 1


def _sent_configuration_sets(
    aws, monkeypatch: pytest.MonkeyPatch, mailbox_set: str | None
) -> list[str | None]:
    """What ``ConfigurationSetName`` SES is asked for when a dispatch function configured
    from the environment sends one message from a mailbox naming ``mailbox_set``."""
    import boto3

    monkeypatch.setenv("SENDRAIL_SES_CONFIGURATION_SET", "sendrail-feedback")
    config = provider_config(ProviderSettings())
    boto3.client("sesv2", region_name=config.ses_region).create_email_identity(
        EmailIdentity="corp.example"
    )
    seen: list[str | None] = []
    client = ses.client(config)
    hook = "provide-client-params.sesv2.SendEmail"

    def record(params: dict[str, Any], **_: Any) -> None:
        seen.append(params.get("ConfigurationSetName"))

    client.meta.events.register(hook, record)
    try:
        mailbox = Mailbox(
            id="m1",
            tenant_id="t1",
            provider=Provider.SES,
            email="news@corp.example",
            ses_configuration_set=mailbox_set,
            created_at=datetime(2026, 11, 23, tzinfo=UTC),
            updated_at=datetime(2026, 11, 23, tzinfo=UTC),
        )
        sender = ses.SesSender(mailbox, None, config)
        sent = OutgoingMessage(
            "<c1.a@corp.example>",
            "news@corp.example",
            "r@x.example",
            "Hi",
            "<p>Hi</p>",
            "Hi",
            datetime(2026, 11, 23, tzinfo=UTC),
        )
        assert sender.send(sent).provider_message_id
    finally:
        client.meta.events.unregister(hook, record)
    return seen


def test_given_the_deployments_configuration_set_then_every_ses_send_names_it(
    aws, monkeypatch: pytest.MonkeyPatch
):
    # Given SENDRAIL_SES_CONFIGURATION_SET (the stack's set publishing bounces and
    # complaints to the feedback topic), when a mailbox naming none sends, it is named
    assert _sent_configuration_sets(aws, monkeypatch, None) == ["sendrail-feedback"]


def test_given_a_mailboxs_own_configuration_set_then_it_is_named_instead(
    aws, monkeypatch: pytest.MonkeyPatch
):
    assert _sent_configuration_sets(aws, monkeypatch, "own-set") == ["own-set"]
