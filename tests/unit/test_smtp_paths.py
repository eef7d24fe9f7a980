"""MAIL FROM and RCPT TO paths are written without parsing plain addresses (smtplib's
``quoteaddr`` parses each one, twice a send); they must be exactly what it writes."""

import smtplib

from hypothesis import given
from hypothesis import strategies as st
from sendrail.providers.smtp import _PLAIN_ADDRESS, smtp_path

_ATEXT = st.text(alphabet="abcXYZ019!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=8)
_LABEL = st.text(alphabet="abz09-", min_size=1, max_size=6).filter(
    lambda s: s[0] != "-" and s[-1] != "-"
)


@given(
    st.lists(_ATEXT, min_size=1, max_size=3).map(".".join),
    st.lists(_LABEL, min_size=1, max_size=3).map(".".join),
)
def test_plain_addresses_as_quoteaddr_writes_them(local: str, domain: str) -> None:
    address = f"{local}@{domain}"
    assert _PLAIN_ADDRESS.fullmatch(address)
    assert smtp_path(address) == smtplib.quoteaddr(address)


@given(st.text(alphabet='ab."() <>@,;:\\[]é\t', max_size=20))
def test_any_other_text_as_quoteaddr_writes_it(text: str) -> None:
    assert smtp_path(text) == smtplib.quoteaddr(text)


def test_addresses_that_are_not_plain_go_through_quoteaddr() -> None:
    for address in ('"a b"@example.com', "a..b@example.com", "Ann <a@example.com>", "a@[10.0.0.1]"):
        assert not _PLAIN_ADDRESS.fullmatch(address)
        assert smtp_path(address) == smtplib.quoteaddr(address)
