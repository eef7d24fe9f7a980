"""``login``, ``logout``, ``whoami``, ``profiles``: where the deployment is and who we are."""

from __future__ import annotations

import contextlib
from typing import Annotated

import typer
from rich.table import Table

from sendrail_cli import config
from sendrail_cli.client import ApiError, Client
from sendrail_cli.context import client, profile_name
from sendrail_cli.output import emit_json, out

JSON = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def login(
    ctx: typer.Context,
    url: Annotated[str, typer.Option("--url", help="The API's base URL.", prompt="API URL")],
    key: Annotated[
        str | None, typer.Option("--key", help="An API key (asked for, hidden, if omitted).")
    ] = None,
    email: Annotated[
        str | None, typer.Option("--email", help="Log in as a user instead (session token).")
    ] = None,
    password: Annotated[
        str | None, typer.Option("--password", help="The user's password (asked for if omitted).")
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", "-p", help="Profile name to save to.")
    ] = None,
) -> None:
    """Check a key (or email and password) against URL and save it as a profile (0600)."""
    name = profile or profile_name(ctx) or config.DEFAULT_PROFILE
    api = Client(url.rstrip("/"))
    if email:
        secret = password or typer.prompt("Password", hide_input=True)
        session = api.request(
            "POST", "/api/auth/login", {"email": email, "password": secret}, auth=False
        ).json()
        saved = config.Profile(
            url=api.base_url,
            token=session["token"],
            kind="session",
            expires_at=session.get("expires_at"),
        )
    else:
        token = key or typer.prompt("API key", hide_input=True)
        saved = config.Profile(url=api.base_url, token=token, kind="key")
    me = Client(saved.url, saved.token).get("/api/me")
    path = config.save_profile(name, saved)
    who = (me.get("user") or {}).get("email") if isinstance(me.get("user"), dict) else None
    out().print(
        f"Logged in to {saved.url} as {me.get('role')} of {me.get('tenant_id')}"
        + (f" ({who})" if who else "")
        + f"; profile [bold]{name}[/] saved in {path}"
    )


def logout(
    ctx: typer.Context,
    profile: Annotated[str | None, typer.Option("--profile", "-p", help="Profile name.")] = None,
) -> None:
    """Forget a profile (and end its session on the server if it is one)."""
    name = profile or profile_name(ctx) or config.DEFAULT_PROFILE
    stored = config.profiles().get(name)
    if stored is None:
        out().print(f"No profile {name!r}.")
        return
    if stored.kind == "session":
        # Already expired or revoked: forgetting it is all that is left.
        with contextlib.suppress(ApiError):
            Client(stored.url, stored.token).request("POST", "/api/auth/logout")
    config.remove_profile(name)
    out().print(f"Profile {name!r} removed.")


def whoami(ctx: typer.Context, as_json: JSON = False) -> None:
    """Who the current profile's key or session belongs to."""
    profile = config.resolve(profile_name(ctx))
    me = client(ctx).get("/api/me")
    if as_json:
        emit_json({**me, "url": profile.url, "kind": profile.kind})
        return
    out().print(f"{profile.url}: {me.get('role')} of {me.get('tenant_id')} ({profile.kind})")


def profiles(as_json: JSON = False) -> None:
    """The saved profiles (never their keys)."""
    found = {name: p.redacted() for name, p in config.profiles().items()}
    if as_json:
        emit_json(found)
        return
    table = Table("profile", "url", "kind", "expires")
    for name, p in sorted(found.items()):
        table.add_row(name, p["url"], p["kind"], p["expires_at"] or "")
    out().print(table)


def register(app: typer.Typer) -> None:
    app.command()(login)
    app.command()(logout)
    app.command()(whoami)
    app.command()(profiles)
