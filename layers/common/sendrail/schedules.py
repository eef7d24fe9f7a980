"""The EventBridge schedules: one definition for the CDK rules and the local scheduler."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    function: str
    every_seconds: int


SCHEDULES: tuple[Schedule, ...] = (
    Schedule("dispatch", 60),
    Schedule("token_refresh", 300),
    Schedule("inbox", 120),
)
