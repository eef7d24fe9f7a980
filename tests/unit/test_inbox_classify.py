"""Inbox classification on real-world-like samples: replies from several clients,
auto-replies in several languages, unsubscribe requests, the DSN corpus, and mail that is
not ours."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sendrail.domain.inbox_classify import InboxKind, classify, our_message_ids
from sendrail.domain.mime import message_id_for, recipient_digest

DATA = Path(__file__).parent.parent / "data"
SAMPLES = sorted((DATA / "inbox").glob("*.eml"))
DSNS = sorted((DATA / "dsn").glob("*.txt"))
CAMPAIGN = "cmp_01JD8Z4K7Q9ABCDEFGHJKMNPQR"
EXPECTED_KIND = {
    "reply": InboxKind.REPLY,
    "auto": InboxKind.AUTO_REPLY,
    "unsubscribe": InboxKind.UNSUBSCRIBE,
    "other": InboxKind.OTHER,
}


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_given_a_sample_then_its_kind_is_the_one_its_name_says(path):
    found = classify(path.read_bytes())
    assert found.kind is EXPECTED_KIND[path.name.split("_", 1)[0]]


@pytest.mark.parametrize("path", DSNS, ids=lambda p: p.name)
def test_given_a_real_world_bounce_then_it_is_a_dsn(path):
    assert classify(path.read_bytes()).kind is InboxKind.DSN


@pytest.mark.parametrize(
    "path", [p for p in SAMPLES if not p.name.startswith("other")], ids=lambda p: p.name
)
def test_given_an_answer_to_our_mail_then_it_names_our_message_and_its_recipient(path):
    found = classify(path.read_bytes())
    (first, *_) = found.ours
    assert first.job_id == CAMPAIGN
    assert first.digest in {recipient_digest(address) for address in found.senders}


def test_given_a_gmail_reply_then_the_snippet_is_the_new_text_without_the_quote():
    found = classify((DATA / "inbox" / "reply_gmail.eml").read_bytes())
    assert found.snippet == "Hi Sam, Thanks — yes, let's talk next week. Tuesday works for me. Jane"
    assert found.subject == "Re: Quick question about your Q1 plans"
    assert found.senders == ("jane@client.example",)
    assert found.date is not None and found.date.isoformat() == "2026-12-01T09:14:03+00:00"


def test_given_an_html_only_outlook_reply_then_the_snippet_stops_at_the_quoted_header():
    found = classify((DATA / "inbox" / "reply_outlook_html.eml").read_bytes())
    assert found.snippet == "Interested & happy to hear more. Can you send pricing?"
    assert found.senders == ("bob@corp.example",)


def test_given_an_encoded_sender_then_the_address_is_normalised():
    found = classify((DATA / "inbox" / "reply_apple_mail.eml").read_bytes())
    assert found.senders == ("marie@societe.example",)
    assert found.snippet.startswith("Bonjour Sam, Pas pour le moment")


def test_given_mail_that_is_not_ours_then_nothing_is_extracted():
    found = classify((DATA / "inbox" / "other_personal.eml").read_bytes())
    assert found.ours == () and found.snippet == ""


@given(
    st.sampled_from(["cmp", "msg"]),
    st.text("0123456789ABCDEFGHJKMNPQRSTVWXYZ", min_size=26, max_size=26),
    st.emails(),
)
def test_property_every_message_id_we_generate_is_recognised(prefix, suffix, address):
    job = f"{prefix}_{suffix}"
    (found,) = our_message_ids(f"<unrelated@x.example> {message_id_for(job, address, 'm.example')}")
    assert (found.job_id, found.digest) == (job, recipient_digest(address))


@given(st.binary(max_size=2000))
def test_property_any_bytes_classify_without_error(raw):
    assert classify(raw).kind in set(InboxKind)
