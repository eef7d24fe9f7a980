"""Send windows: clock times in an IANA timezone on some days of the week.

A window may cross midnight (``22:00``-``06:00``); then the days name the day the window
*opens* on, so Friday 22:00-06:00 covers Saturday 03:00. ``start == end`` means all day.
Several windows (tenant, campaign, recipient's timezone) combine by intersection.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

HHMM = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["08:00"])]


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {name!r}") from exc


class Window(BaseModel):
    """``{start, end, timezone, days}``; days default to every day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: HHMM
    end: HHMM
    timezone: str = "UTC"
    days: list[str] = Field(default_factory=lambda: list(DAY_NAMES))

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("days", mode="before")
    @classmethod
    def _day_names(cls, value: Any) -> Any:
        if value is None:  # like leaving it out: every day
            return list(DAY_NAMES)
        if not isinstance(value, list):
            return value
        out: list[str] = []
        for item in value:
            if isinstance(item, int) and not isinstance(item, bool) and 1 <= item <= 7:
                out.append(DAY_NAMES[item - 1])
            elif isinstance(item, str) and item[:3].lower() in DAY_NAMES:
                out.append(item[:3].lower())
            else:
                raise ValueError(f"unknown day {item!r}: use mon..sun or ISO numbers 1..7")
        if not out:
            raise ValueError("a window needs at least one day")
        return sorted(set(out), key=DAY_NAMES.index)

    # --- queries -----------------------------------------------------------------------------

    def _bounds(self) -> tuple[time, time]:
        return time.fromisoformat(self.start), time.fromisoformat(self.end)

    def _opening(self, day: date) -> tuple[datetime, datetime] | None:
        """The [open, close) interval of the window that opens on local ``day``, in UTC."""
        if DAY_NAMES[day.weekday()] not in self.days:
            return None
        tz = zone(self.timezone)
        start, end = self._bounds()
        opened = datetime.combine(day, start, tzinfo=tz)
        close_day = day if end > start else day + timedelta(days=1)
        closed = datetime.combine(close_day, end, tzinfo=tz)
        return _utc(opened), _utc(closed)

    def is_open(self, when: datetime) -> bool:
        local_day = when.astimezone(zone(self.timezone)).date()
        for offset in (0, -1):
            interval = self._opening(local_day + timedelta(days=offset))
            if interval and interval[0] <= when < interval[1]:
                return True
        return False

    def current_close(self, when: datetime) -> datetime | None:
        """When the interval containing ``when`` closes (None if closed now)."""
        local_day = when.astimezone(zone(self.timezone)).date()
        for offset in (0, -1):
            interval = self._opening(local_day + timedelta(days=offset))
            if interval and interval[0] <= when < interval[1]:
                return interval[1]
        return None

    def next_open(self, when: datetime) -> datetime:
        """``when`` itself if open, else the next opening (within eight days)."""
        if self.is_open(when):
            return when
        local_day = when.astimezone(zone(self.timezone)).date()
        for offset in range(0, 9):
            interval = self._opening(local_day + timedelta(days=offset))
            if interval and interval[0] > when:
                return interval[0]
        raise AssertionError("a window with at least one day opens within eight days")


def _utc(when: datetime) -> datetime:
    # Normalise through UTC so nonexistent local times (DST gaps) resolve forward.
    return when.astimezone(UTC)


def all_open(windows: list[Window], when: datetime) -> bool:
    return all(w.is_open(when) for w in windows)


def next_open_all(
    windows: list[Window], when: datetime, horizon: timedelta = timedelta(days=15)
) -> datetime | None:
    """The first moment at or after ``when`` at which every window is open, or None when
    they never overlap within ``horizon``."""
    current = when
    limit = when + horizon
    while current <= limit:
        moved = False
        for window in windows:
            if not window.is_open(current):
                current = window.next_open(current)
                moved = True
        if not moved:
            return current
    return None


def close_of_all(windows: list[Window], when: datetime) -> datetime | None:
    """When the intersection open at ``when`` closes; None if no window bounds it."""
    closes = [c for c in (w.current_close(when) for w in windows) if c is not None]
    return min(closes) if closes else None
