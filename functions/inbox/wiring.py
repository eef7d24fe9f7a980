"""This function's settings and adapters, built on first use (IMAP calls time out after
the providers' ``smtp_timeout``)."""

from __future__ import annotations

from sendrail.wiring import Wiring

from functions.inbox.settings import InboxSettings

wiring = Wiring(InboxSettings)
