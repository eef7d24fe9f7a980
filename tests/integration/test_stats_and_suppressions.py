"""The shared stats counters and the suppression service, on moto."""

from __future__ import annotations

from datetime import UTC, datetime

from sendrail.domain.models import SuppressionReason
from sendrail.services import suppressions
from sendrail.storage import stats

from tests.conftest import smtp_mailbox


def test_given_counter_adds_then_get_and_range_return_the_sums(deps):
    when = datetime(2026, 11, 23, 8, tzinfo=UTC)
    key = stats.campaign_key("cmp_1")
    deps.stats.add(key, stats.hour_bucket(when), {"sent": 2, "failed": 1})
    deps.stats.add(key, stats.hour_bucket(when), {"sent": 3, "opened": 0})
    deps.stats.add(key, "h#2026-11-23T09", {"sent": 1})
    assert deps.stats.get(key, stats.hour_bucket(when)) == {"sent": 5, "failed": 1}
    assert deps.stats.range(key, "h#2026-11-23T00", "h#2026-11-23T23") == [
        ("h#2026-11-23T08", {"sent": 5, "failed": 1}),
        ("h#2026-11-23T09", {"sent": 1}),
    ]
    assert deps.stats.get(key, "h#2001-01-01T00") == {}


def test_given_a_suppression_then_queued_mail_in_every_campaign_is_stopped(api, tenant, deps, sink):
    server, _ = sink
    api.post("/api/mailboxes", smtp_mailbox(server.port))
    ids = []
    for name in ("a", "b"):
        cid = api.post("/api/campaigns", {"name": name, "subject": "s", "html": "<p>h</p>"}).body[
            "id"
        ]
        api.post(
            f"/api/campaigns/{cid}/recipients",
            {"recipients": [{"email": "Gone@Example.com"}, {"email": "stay@example.com"}]},
        )
        ids.append(cid)
    record, stopped = suppressions.suppress(
        deps, tenant["id"], "gone@example.com", SuppressionReason.MANUAL
    )
    assert stopped == 2 and record.reason is SuppressionReason.MANUAL
    for cid in ids:
        stats_ = api.get(f"/api/campaigns/{cid}/stats").body
        assert (stats_["queued"], stats_["suppressed"]) == (1, 1)
    # Suppressing again keeps the first reason and stops nothing more.
    again, stopped = suppressions.suppress(
        deps, tenant["id"], "gone@example.com", SuppressionReason.BOUNCED
    )
    assert stopped == 0 and again.reason is SuppressionReason.MANUAL
