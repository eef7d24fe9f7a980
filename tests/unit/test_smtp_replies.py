"""SMTP replies become our classification plus codes: a server's text never comes back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sendrail.errors import MailboxSendError, PermanentSendError, TemporarySendError
from sendrail.providers.smtp import classify_reply, reply_codes

STAGES = ["connect", "mail", "rcpt", "data"]


@given(
    st.integers(min_value=400, max_value=599),
    st.text(min_size=1, max_size=200),
    st.sampled_from(STAGES),
)
def test_property_no_reply_text_survives_classification(code: int, text: str, stage: str) -> None:
    marker = f"X{text}Y"  # whatever the server says, wrapped so it is never just a code
    error = classify_reply(code, f"5.7.1 {marker}", stage=stage)
    assert marker not in str(error)
    assert str(error).endswith(f"{code} 5.7.1")


CASES = [
    (550, "5.7.1 secret relay denied", "rcpt", PermanentSendError),
    (451, "4.7.1 greylisted", "rcpt", TemporarySendError),
    (553, "5.7.1 secret", "mail", MailboxSendError),
    (535, "5.7.8 bad credentials", "connect", MailboxSendError),
    (554, "no enhanced code here", "data", PermanentSendError),
]
MESSAGES = [
    "rejected by server at rcpt: 550 5.7.1",
    "temporarily refused by server at rcpt: 451 4.7.1",
    "sender refused by server: 553 5.7.1",
    "authentication refused by server at connect: 535 5.7.8",
    "rejected by server at data: 554",
]


@pytest.mark.parametrize(("case", "message"), list(zip(CASES, MESSAGES, strict=True)))
def test_given_replies_then_classified_with_codes_only(case: tuple, message: str) -> None:
    code, text, stage, kind = case
    error = classify_reply(code, text, stage=stage)
    assert isinstance(error, kind) and str(error) == message


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("5.1.1 no such user", "550 5.1.1"),
        ("5.1.1000", "550"),
        ("  5.7.26 dmarc", "550 5.7.26"),
        ("", "550"),
    ],
)
def test_given_reply_texts_then_only_an_enhanced_code_is_kept(text: str, codes: str) -> None:
    assert reply_codes(550, text) == codes
