"""The MIME builder writes the bytes directly (it is on every email's path): they must be
exactly those of ``email.mime``'s classes with the compat32 policy and CRLF line ends,
which it replaced. The reference builder below is that former code, kept as the oracle."""

import re
from datetime import UTC, datetime, timedelta, timezone
from email import charset as charsets
from email import message_from_bytes, policy, quoprimime
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sendrail.domain import mime
from sendrail.domain.mime import OutgoingMessage

_UTF8_QP = charsets.Charset("utf-8")
_UTF8_QP.body_encoding = charsets.QP
_CRLF = policy.compat32.clone(linesep="\r\n")
_BOUNDARY = re.compile(rb"={15}\d{19}==")


def reference_bytes(message: OutgoingMessage) -> bytes:
    """What ``OutgoingMessage.as_bytes`` built before: the email package's own classes."""
    built = MIMEMultipart("alternative")
    built["From"] = mime._address(message.from_name, message.from_email)
    built["To"] = mime._address(None, message.to)
    built["Subject"] = mime._header(message.subject)
    built["Date"] = mime.format_datetime(message.date)
    built["Message-ID"] = mime._header(message.message_id)
    if message.reply_to:
        built["Reply-To"] = mime._address(None, message.reply_to)
    for name, value in message.headers.items():
        built[name] = mime._header(value)
    built.attach(MIMEText(message.text, "plain", _UTF8_QP))  # type: ignore[arg-type]
    built.attach(MIMEText(message.html, "html", _UTF8_QP))  # type: ignore[arg-type]
    return built.as_bytes(policy=_CRLF)


def _same(message: OutgoingMessage) -> None:
    ours, theirs = message.as_bytes(), reference_bytes(message)
    assert len(_BOUNDARY.findall(ours)) == 4  # one boundary, drawn at random
    assert _BOUNDARY.sub(b"B", ours) == _BOUNDARY.sub(b"B", theirs)


def _message(**fields: object) -> OutgoingMessage:
    base: dict[str, object] = {
        "message_id": "<cmp_1.0a1b2c@example.com>",
        "from_email": "news@example.com",
        "from_name": "Example News",
        "to": "ann@example.org",
        "subject": "Hello Ann",
        "html": "<p>Hello <b>Ann</b></p>",
        "text": "Hello **Ann**\n",
        "date": datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        "reply_to": "help@example.com",
        "headers": {
            "X-Campaign": "autumn",
            "List-Unsubscribe": "<https://t.example.com/unsubscribe/abc.def>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    }
    base.update(fields)
    return OutgoingMessage(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"from_name": None, "reply_to": None, "headers": {}},
        {"from_name": "Zoë Ångström", "subject": "Olá — ça va? " * 6},
        {"subject": "x" * 200, "to": "josé@example.org"},
        {"subject": "two  spaces and a trailing one ", "from_name": "A, B; C"},
        {"html": "", "text": ""},
        {"text": "trailing space \nand tab\t\n=sign\r\nlone\rcr\n\n", "html": "é" * 300},
        {"html": "x" * 75 + "=" + "y" * 200 + " ", "text": "." * 76 + "\n" + "-" * 77},
        {"headers": {"X-Long": "word " * 40, "X-Note": "naïve", "X-Semi": "a;b,c " * 20}},
        {"date": datetime(2026, 3, 1, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5)))},
    ],
)
def test_given_typical_and_awkward_messages_then_the_bytes_are_the_email_packages(fields):
    _same(_message(**fields))


def test_given_the_same_moment_in_two_zones_then_each_date_header_has_its_own_zone():
    # The Date line is written once a second: equal moments in two zones are two lines.
    utc = datetime(2026, 3, 2, 4, 59, 59, 123456, tzinfo=UTC)
    eastern = utc.astimezone(timezone(timedelta(hours=-5)))
    for when in (utc, eastern, utc.replace(microsecond=999), eastern):
        _same(_message(date=when))


_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(" \t\r\n=.-é€😀\x0b\x0c\x85\u2028"),
        st.characters(blacklist_categories=("Cs",)),
    ),
    max_size=300,
)
_LINE = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=120)


@settings(max_examples=300, deadline=None)
@given(subject=_LINE, name=_LINE, text=_TEXT, html=_TEXT, extra=_LINE)
def test_given_any_content_then_the_bytes_are_the_email_packages(subject, name, text, html, extra):
    _same(
        _message(
            subject=subject,
            from_name=name or None,
            text=text,
            html=html,
            headers={"X-Extra": extra} if extra else {},
        )
    )


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=90),
    st.sampled_from(["X-A", "Subject", "List-Unsubscribe", "X-" + "n" * 40]),
)
def test_given_any_ascii_header_then_folding_is_the_policys(value, name):
    assert mime._fold(name, value) == _CRLF.fold_binary(name, value)


@given(st.binary(max_size=400))
def test_given_any_bytes_then_quoted_printable_is_the_email_packages(data):
    text = data.decode("latin-1")
    expected = quoprimime.body_encode(text.encode("utf-8").decode("latin-1"))
    lines = re.split(r"\r\n|\r|\n", expected) if expected else []
    assert mime._quoted_printable(text) == "\r\n".join(lines).encode("ascii")


def test_given_built_bytes_then_a_mail_reader_gets_the_parts_back():
    message = _message(subject="Olá", text="é\n", html="<p>é</p>")
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed["Subject"] == "Olá"
    plain, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content() == "é\r\n"  # the line ends of the wire
    assert html.get_content().strip() == "<p>é</p>"
