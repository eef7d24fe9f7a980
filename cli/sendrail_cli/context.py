"""What every command needs: the API client for the chosen profile, and the exit codes."""

from __future__ import annotations

import typer

from sendrail_cli import config
from sendrail_cli.client import Client

EXIT_OK, EXIT_USAGE, EXIT_API, EXIT_AUTH = 0, 2, 3, 4


def profile_name(ctx: typer.Context) -> str | None:
    obj = ctx.find_root().obj or {}
    name = obj.get("profile")
    return str(name) if name else None


def client(ctx: typer.Context) -> Client:
    """The API client for the chosen profile (SENDRAIL_URL/SENDRAIL_KEY on top)."""
    profile = config.resolve(profile_name(ctx))
    return Client(profile.url, profile.token)
