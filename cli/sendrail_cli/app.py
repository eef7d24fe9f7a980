"""The ``sendrail`` command: global options, error handling and the command groups."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from sendrail_cli import config
from sendrail_cli.client import ApiError
from sendrail_cli.commands import auth, campaigns, local, mailboxes, queue, send, suppressions
from sendrail_cli.context import EXIT_AUTH
from sendrail_cli.output import err


class Root(TyperGroup):
    """Turns API and configuration errors into one readable line and an exit code:
    3 for an API error (its code and message), 4 for auth; click's usage errors are 2."""

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click Context
        try:
            return super().invoke(ctx)
        except ApiError as error:
            err().print(error.line(), markup=False)
            raise typer.Exit(error.exit_code) from None
        except config.ConfigError as error:
            err().print(f"error: {error}", markup=False)
            raise typer.Exit(EXIT_AUTH) from None


app = typer.Typer(
    cls=Root,
    name="sendrail",
    help="Send email campaigns through a sendrail deployment (or the local stack).",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile", "-p", envvar="SENDRAIL_PROFILE", help="Profile to use (see `login`)."
        ),
    ] = None,
) -> None:
    ctx.obj = {"profile": profile}


auth.register(app)
send.register(app)
app.add_typer(campaigns.app, name="campaigns")
app.add_typer(mailboxes.app, name="mailboxes")
app.add_typer(queue.app, name="queue")
app.add_typer(suppressions.app, name="suppressions")
app.add_typer(local.app, name="local")


def main() -> None:
    app()
