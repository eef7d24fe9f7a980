"""Domain exceptions. Each maps to one HTTP status in exactly one place
(``functions/enqueue/errors.py``); nothing matches on message text."""

from __future__ import annotations

from typing import Any


class SendrailError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class BadRequest(SendrailError):
    code = "bad_request"


class MalformedJson(BadRequest):
    """A body that is not JSON, or JSON that Python cannot hold (too deep, huge numbers)."""

    code = "malformed_json"


class InvalidCursor(BadRequest):
    """A list cursor that this list never handed out (malformed, forged, or another's)."""

    code = "invalid_cursor"


class ValidationFailed(SendrailError):
    code = "validation_failed"


class ContentCheckFailed(ValidationFailed):
    """The campaign's content check found errors (the findings are the details)."""

    code = "content_check_failed"


class UnknownRecipient(ValidationFailed):
    """A preview or proof asked for a recipient the campaign does not have."""

    code = "unknown_recipient"


class SuppressedAddress(ValidationFailed):
    """A proof addressed to a suppressed address (unsubscribed, bounced, complained)."""

    code = "suppressed_address"


class Unauthorized(SendrailError):
    code = "unauthorized"


class Forbidden(SendrailError):
    code = "forbidden"


class NotFound(SendrailError):
    code = "not_found"


class Conflict(SendrailError):
    code = "conflict"


class SendingLimitReached(Conflict):
    """A send made now (a proof) would go over a limit of its mailbox, its sender or
    recipient domain, or its tenant; ``retry_at`` tells when it would fit."""

    code = "limit_reached"


class ProofNotSent(SendrailError):
    """The provider refused or failed a proof (its message says why)."""

    code = "test_not_sent"


class PayloadTooLarge(SendrailError):
    code = "payload_too_large"


class UnsupportedMediaType(SendrailError):
    code = "unsupported_media_type"


class TooManyRequests(SendrailError):
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ApiRateLimited(TooManyRequests):
    """An API client over its key's requests per second."""

    code = "rate_limited"


# --- sending -------------------------------------------------------------------------------


class SendError(SendrailError):
    """A provider refused or failed a send. ``reason`` is a short machine-readable cause."""

    code = "send_error"

    def __init__(self, message: str, *, reason: str = "", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.reason = reason or type(self).__name__
        self.retry_after = retry_after


class TemporarySendError(SendError):
    """Try this recipient again later (4xx SMTP, throttling, 5xx HTTP)."""

    code = "temporary_send_error"


class Unreachable(TemporarySendError):
    """The provider could not be reached at all (no connection, no greeting): nothing was
    sent. The mailbox's lane stops for the rest of the run and its mail goes to the others;
    the recipient's attempt does not count."""

    code = "unreachable"


class RateLimited(TemporarySendError):
    """The provider asks us to slow down (HTTP 429): retried after its ``Retry-After``;
    not a sign that the mailbox is failing."""

    code = "rate_limited"


class PermanentSendError(SendError):
    """This recipient will never be accepted (5xx SMTP about the recipient, 4xx about it)."""

    code = "permanent_send_error"


class MailboxSendError(SendError):
    """The mailbox itself cannot send (auth refused, quota exhausted, grant revoked).
    The mailbox is paused (or marked ``needs_reauth``) and the message goes to another one."""

    code = "mailbox_send_error"

    def __init__(
        self,
        message: str,
        *,
        reason: str = "",
        status: str = "paused",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, reason=reason, retry_after=retry_after)
        self.status = status


class UnknownOutcome(SendError):
    """The provider may or may not have accepted the message (timeout, dropped connection
    after DATA). Never blindly repeated: resolved by a lookup or marked unknown."""

    code = "unknown_outcome"
