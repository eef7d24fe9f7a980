"""Amazon SES (sesv2 ``SendEmail`` with raw content built by our MIME builder)."""

from __future__ import annotations

from typing import Any

from sendrail.domain.mime import OutgoingMessage
from sendrail.domain.models import Mailbox
from sendrail.errors import MailboxSendError, PermanentSendError, TemporarySendError, UnknownOutcome
from sendrail.providers.base import ProviderConfig, SendReceipt

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


class SesSender:
    def __init__(self, mailbox: Mailbox, secret: bytes | None, config: ProviderConfig) -> None:
        import boto3  # noqa: PLC0415 - lazy, like every provider

        self._mailbox = mailbox
        self._client: Any = boto3.client(
            "sesv2", region_name=config.ses_region, endpoint_url=config.ses_endpoint_url
        )

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
        if self._mailbox.ses_configuration_set:
            request["ConfigurationSetName"] = self._mailbox.ses_configuration_set
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
