"""Amazon SES (sesv2 ``SendEmail`` with raw content built by our MIME builder).

One client per region and endpoint is shared by every SES lane of the process (boto3
clients are thread-safe; creating them from several threads at once is not, hence the
lock). An SES mailbox sends over several connections unless it sets ``max_connections``:
one per :data:`RATE_PER_CONNECTION` messages a second of the account's sending rate."""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

from sendrail.domain.mime import OutgoingMessage
from sendrail.domain.models import Mailbox
from sendrail.errors import MailboxSendError, PermanentSendError, TemporarySendError, UnknownOutcome
from sendrail.providers.base import ProviderConfig, SendReceipt, Step

_TEMPORARY = {
    "TooManyRequestsException",
    "Throttling",
    "ThrottlingException",
    "LimitExceededException",
    "ServiceUnavailable",
    "InternalFailure",
}
_MAILBOX = {
    "AccountSuspendedException",
    "SendingPausedException",
    "MailFromDomainNotVerifiedException",
    "NotFoundException",
    "AccessDeniedException",
}


log = logging.getLogger("sendrail.providers.ses")
RATE_PER_CONNECTION = 10.0  # messages a second one connection sustains (calls take ~100 ms)
MAX_DEFAULT_CONNECTIONS = 10
QUOTA_TTL_SECONDS = 3600.0
_CLIENTS: dict[tuple[str, str, str | None], Any] = {}
_RATES: dict[tuple[str, str | None], tuple[float | None, float]] = {}
_LOCK = threading.Lock()


def client(config: ProviderConfig, service: str = "sesv2") -> Any:
    key = (service, config.ses_region, config.ses_endpoint_url)
    with _LOCK:
        if key not in _CLIENTS:
            import boto3  # noqa: PLC0415 - lazy, like every provider
            from botocore.config import Config  # noqa: PLC0415

            session: Any = boto3.session.Session()  # its own: not shared across threads
            _CLIENTS[key] = session.client(
                service,
                region_name=config.ses_region,
                endpoint_url=config.ses_endpoint_url,
                config=Config(max_pool_connections=50),
            )
        return _CLIENTS[key]


def max_send_rate(config: ProviderConfig) -> float | None:
    """The account's sending rate in this region (messages a second), read once an hour;
    None when SES cannot tell."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    key = (config.ses_region, config.ses_endpoint_url)
    cached = _RATES.get(key)
    if cached is not None and time.monotonic() - cached[1] < QUOTA_TTL_SECONDS:
        return cached[0]
    try:
        rate: float | None = float(client(config, "ses").get_send_quota()["MaxSendRate"])
    except (BotoCoreError, ClientError, KeyError, ValueError):
        log.warning("SES send quota unavailable; one connection per SES mailbox", exc_info=True)
        rate = None
    _RATES[key] = (rate, time.monotonic())
    return rate


_DAILY: dict[tuple[str, str | None], tuple[int | None, float]] = {}


def daily_quota(config: ProviderConfig) -> int | None:
    """The account's ``Max24HourSend`` in this region (-1: unlimited), read once an hour;
    None when SES cannot tell."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    key = (config.ses_region, config.ses_endpoint_url)
    cached = _DAILY.get(key)
    if cached is not None and time.monotonic() - cached[1] < QUOTA_TTL_SECONDS:
        return cached[0]
    try:
        quota: int | None = int(float(client(config, "ses").get_send_quota()["Max24HourSend"]))
    except (BotoCoreError, ClientError, KeyError, ValueError):
        log.warning("SES send quota unavailable; no default daily ceiling", exc_info=True)
        quota = None
    _DAILY[key] = (quota, time.monotonic())
    return quota


def account(config: ProviderConfig) -> tuple[int | None, float | None]:
    """``(Max24HourSend, MaxSendRate)`` of the account in this region, each cached an hour."""
    return daily_quota(config), max_send_rate(config)


def default_connections(config: ProviderConfig) -> int:
    rate = max_send_rate(config)
    if not rate:
        return 1
    return max(1, min(MAX_DEFAULT_CONNECTIONS, math.ceil(rate / RATE_PER_CONNECTION)))


class SesSender:
    def __init__(self, mailbox: Mailbox, secret: bytes | None, config: ProviderConfig) -> None:
        self._mailbox = mailbox
        self._client: Any = client(config)
        # The mailbox's own, else the deployment's (bounces and complaints to the webhook).
        self._configuration_set = mailbox.ses_configuration_set or config.ses_configuration_set

    def send(self, message: OutgoingMessage) -> SendReceipt:
        from botocore.exceptions import (  # noqa: PLC0415
            BotoCoreError,
            ClientError,
            ConnectionClosedError,
            ReadTimeoutError,
        )

        request: dict[str, Any] = {
            "FromEmailAddress": message.from_email,
            "Destination": {"ToAddresses": [message.to]},
            "Content": {"Raw": {"Data": message.as_bytes()}},
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            response = self._client.send_email(**request)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            text = f"SES {code}: {exc.response.get('Error', {}).get('Message', '')}"[:500]
            if code in _TEMPORARY:
                raise TemporarySendError(text, reason=f"ses_{code}") from None
            if code in _MAILBOX:
                raise MailboxSendError(text, reason=f"ses_{code}") from None
            raise PermanentSendError(text, reason=f"ses_{code}") from None
        except (ReadTimeoutError, ConnectionClosedError) as exc:
            # The request went out; SES may have accepted it.
            raise UnknownOutcome(
                f"SES call ended early: {type(exc).__name__}", reason="ses_timeout"
            ) from None
        except BotoCoreError as exc:
            raise TemporarySendError(
                f"SES unreachable: {type(exc).__name__}", reason="ses_transport"
            ) from None
        return SendReceipt(provider_message_id=response.get("MessageId"))

    def close(self) -> None:
        return None


def verify(mailbox: Mailbox, config: ProviderConfig) -> list[Step]:
    """The sender's identity (its address or its domain) verified in this region, and the
    account's sending enabled. Details name AWS error codes, never their messages."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    ses = client(config, "ses")
    steps: list[Step] = []
    try:
        found = ses.get_identity_verification_attributes(
            Identities=[mailbox.email, mailbox.domain]
        )["VerificationAttributes"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        return [Step("identity", ok=False, detail=f"SES refused the lookup ({code})")]
    except BotoCoreError as exc:
        return [Step("identity", ok=False, detail=f"SES unreachable ({type(exc).__name__})")]
    verified = [
        name
        for name in (mailbox.email, mailbox.domain)
        if found.get(name, {}).get("VerificationStatus") == "Success"
    ]
    if not verified:
        return [
            Step(
                "identity",
                ok=False,
                detail=f"neither {mailbox.email} nor {mailbox.domain} is verified in "
                f"{config.ses_region}",
            )
        ]
    steps.append(Step("identity", ok=True, detail=f"{verified[0]} is verified"))
    try:
        enabled = bool(ses.get_account_sending_enabled()["Enabled"])
    except NotImplementedError:
        # The local stack's SES (moto) does not report it; AWS always does.
        steps.append(Step("sending", ok=True, detail="not reported by this SES endpoint"))
        return steps
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        steps.append(Step("sending", ok=False, detail=f"SES refused the lookup ({code})"))
        return steps
    except BotoCoreError as exc:
        steps.append(Step("sending", ok=False, detail=f"SES unreachable ({type(exc).__name__})"))
        return steps
    steps.append(
        Step("sending", ok=enabled, detail="enabled" if enabled else "paused for the account")
    )
    return steps
