"""This function's settings and adapters, built on first use."""

from __future__ import annotations

from sendrail.wiring import Wiring

from functions.token_refresh.settings import TokenRefreshSettings

wiring = Wiring(TokenRefreshSettings)
