"""SES mailboxes send over several connections, derived from the account's sending rate
(one per ten messages a second), unless the mailbox sets its own ``max_connections``."""

from __future__ import annotations

from botocore.stub import Stubber
from sendrail.providers import ses
from sendrail.providers.base import ProviderConfig


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
