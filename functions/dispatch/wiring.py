"""This function's settings and adapters, built on first use."""

from __future__ import annotations

from sendrail.storage import tables
from sendrail.storage.system import SystemRepo
from sendrail.wiring import Wiring

from functions.dispatch.settings import DispatchSettings

wiring = Wiring(DispatchSettings)


@wiring.cached
def system() -> SystemRepo:
    """The one thing an idle run touches (no secrets, no provider configuration)."""
    s = wiring.settings()
    tables.bind(s.table_names(), s.region)
    return SystemRepo()
