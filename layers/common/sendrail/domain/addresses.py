"""Email addresses: syntax validation (no DNS) and the normal form used as a key."""

from __future__ import annotations

# email_validator compiles its grammar on import (~15 ms); imported on first use so a
# function that never validates an address (dispatch, tracking) does not pay for it.


class InvalidAddress(ValueError):
    pass


def normalize(address: str) -> str:
    """The key form of an address: validated, domain IDNA-normalised, all lower case
    (case-insensitive duplicates are the same recipient)."""
    if not isinstance(address, str) or len(address) > 320:
        raise InvalidAddress("not an email address")
    from email_validator import EmailNotValidError, validate_email  # noqa: PLC0415

    try:
        # ``test_environment``: addresses at ``.test`` names (RFC 6761) are accepted, as
        # that RFC asks; the other special-use names (localhost, invalid, onion, ...) stay
        # refused: no mail can reach them.
        result = validate_email(
            address.strip(),
            check_deliverability=False,
            allow_smtputf8=True,
            test_environment=True,
        )
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from exc
    return result.normalized.lower()


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower()
