"""Profiles: where each deployment is and the token that opens it.

Stored as JSON in the user's config directory (``platformdirs``; ``SENDRAIL_CONFIG_DIR``
moves it), the file readable by its owner only (0600). ``SENDRAIL_URL`` and
``SENDRAIL_KEY`` override the chosen profile, so scripts need no file at all."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir

DEFAULT_PROFILE = "default"


class ConfigError(Exception):
    """No usable URL or token: the user must log in (exit code 4)."""


@dataclass(frozen=True)
class Profile:
    url: str
    token: str
    kind: str = "key"  # key | session
    expires_at: str | None = None

    def redacted(self) -> dict[str, Any]:
        """What may be shown: never the token itself."""
        return {"url": self.url, "kind": self.kind, "expires_at": self.expires_at}


def config_dir() -> Path:
    override = os.environ.get("SENDRAIL_CONFIG_DIR")
    return Path(override) if override else Path(user_config_dir("sendrail"))


def config_path() -> Path:
    return config_dir() / "config.json"


def _read() -> dict[str, Any]:
    path = config_path()
    if not path.exists():
        return {"profiles": {}}
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise ConfigError(f"{path} is not valid JSON; log in again") from exc
    if not isinstance(data, dict) or not isinstance(data.get("profiles"), dict):
        raise ConfigError(f"{path} has no profiles; log in again")
    return data


def _write(data: dict[str, Any]) -> Path:
    directory = config_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = config_path()
    temporary = path.with_suffix(".tmp")
    # Created 0600 before a byte is written: the token is never readable by others.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return path


def save_profile(name: str, profile: Profile) -> Path:
    data = _read()
    data["profiles"][name] = asdict(profile)
    return _write(data)


def remove_profile(name: str) -> bool:
    data = _read()
    if data["profiles"].pop(name, None) is None:
        return False
    _write(data)
    return True


def profiles() -> dict[str, Profile]:
    return {name: Profile(**raw) for name, raw in _read()["profiles"].items()}


def resolve(name: str | None) -> Profile:
    """The profile to use: the named one (or ``SENDRAIL_PROFILE``, or ``default``), with
    ``SENDRAIL_URL``/``SENDRAIL_KEY`` on top."""
    chosen = name or os.environ.get("SENDRAIL_PROFILE") or DEFAULT_PROFILE
    env_url, env_key = os.environ.get("SENDRAIL_URL"), os.environ.get("SENDRAIL_KEY")
    stored = None if (env_url and env_key) else profiles().get(chosen)
    url = env_url or (stored.url if stored else None)
    token = env_key or (stored.token if stored else None)
    if not url:
        raise ConfigError(
            f"no URL for profile {chosen!r}: run `sendrail login --url URL` or set SENDRAIL_URL"
        )
    if not token:
        raise ConfigError(
            f"no key for profile {chosen!r}: run `sendrail login` or set SENDRAIL_KEY"
        )
    kind = stored.kind if stored and not env_key else "key"
    return Profile(url=url.rstrip("/"), token=token, kind=kind)
