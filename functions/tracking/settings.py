from __future__ import annotations

from sendrail.settings import CommonSettings


class TrackingSettings(CommonSettings):
    pass
