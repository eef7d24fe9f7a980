"""The CLI's pure parts: durations, windows, capacity bars and the profile file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import typer
from sendrail_cli import config
from sendrail_cli.commands.local import parse_duration
from sendrail_cli.commands.send import parse_window
from sendrail_cli.output import bar


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), ("1d12h", 129600)],
)
def test_durations(text: str, seconds: float):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "1x", "d1", "1d soon"])
def test_bad_durations_are_usage_errors(text: str):
    with pytest.raises(typer.BadParameter):
        parse_duration(text)


def test_windows():
    assert parse_window("08:00-20:00@Europe/Berlin") == {
        "start": "08:00",
        "end": "20:00",
        "timezone": "Europe/Berlin",
    }
    assert parse_window("09:00-17:00")["timezone"] == "UTC"
    with pytest.raises(typer.BadParameter):
        parse_window("8-20")


def test_capacity_bar_never_overflows():
    assert bar(0, 0) == "0/∞"
    assert bar(15, 10, width=10).count("█") == 10
    assert "░" * 10 in bar(0, 10, width=10)


def test_given_a_saved_profile_then_the_file_is_0600_and_env_overrides_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SENDRAIL_CONFIG_DIR", str(tmp_path / "cfg"))
    for name in ("SENDRAIL_URL", "SENDRAIL_KEY", "SENDRAIL_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    path = config.save_profile("prod", config.Profile(url="https://api.example/", token="sr_x"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert config.resolve("prod").token == "sr_x"
    assert "sr_x" not in str(config.profiles()["prod"].redacted())
    with pytest.raises(config.ConfigError):
        config.resolve(None)  # no default profile
    monkeypatch.setenv("SENDRAIL_KEY", "sr_env")
    assert config.resolve("prod") == config.Profile(url="https://api.example", token="sr_env")
    monkeypatch.setenv("SENDRAIL_URL", "http://127.0.0.1:1")
    assert config.resolve(None).url == "http://127.0.0.1:1"
