"""The ``sendrail`` command line against the real local stack (virtual clock), in process
with typer's CliRunner and, where a terminal matters (watching, Ctrl-C), as a subprocess
of the installed console script. Nothing of our API is faked."""

from __future__ import annotations

import csv
import io
import json
import os
import select
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sendrail_cli.app import app
from typer.testing import CliRunner, Result

from tests.e2e.conftest import ADMIN, OWNER, Stack, start_stack, stop_stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-cli")]

SYNC_ROWS = 20  # uploads above this many rows are imported in the background


@pytest.fixture(scope="module")
def cli_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(
        tmp_path_factory.mktemp("cli-stack"),
        extra_env={"SENDRAIL_SYNC_IMPORT_ROWS": str(SYNC_ROWS)},
    )
    yield running
    stop_stack(running)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-config")


@pytest.fixture(scope="module")
def mailbox(cli_stack: Stack, home: Path) -> str:
    """Logged in as the default tenant's owner, with one SMTP mailbox into the sink."""
    assert sendrail(home, "login", "--url", cli_stack.http.base, "--key", OWNER).exit_code == 0
    result = sendrail(
        home,
        "mailboxes",
        "add-smtp",
        "--email",
        "news@example.com",
        "--host",
        "127.0.0.1",
        "--port",
        str(cli_stack.smtp_port),
        "--security",
        "none",
        "--daily-limit",
        "5",
        "--tag",
        "news",
        "--json",
    )
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["id"])


def sendrail(home: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    """One CLI run in process; its config lives under ``home``; no ambient overrides."""
    base = {
        "SENDRAIL_CONFIG_DIR": str(home),
        "SENDRAIL_URL": None,
        "SENDRAIL_KEY": None,
        "SENDRAIL_PROFILE": None,
        "COLUMNS": "120",
    }
    return CliRunner().invoke(app, list(args), env={**base, **(env or {})})


def write_campaign_files(folder: Path, emails: list[str]) -> tuple[Path, Path]:
    html = folder / "body.html"
    html.write_text('<p>Hi {{ first_name }}</p><a href="{{ unsubscribe_url }}">unsubscribe</a>')
    listing = folder / "list.csv"
    with listing.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "first_name"])
        for n, email in enumerate(emails):
            writer.writerow([email, f"Name{n}"])
    return html, listing


def send_args(html: Path, listing: Path, name: str) -> list[str]:
    return [
        "send",
        "--name",
        name,
        "--subject",
        "Hi {{ first_name }}",
        "--html",
        str(html),
        "--csv",
        str(listing),
        "--mailbox-tag",
        "news",
    ]


def campaign_id(output: str) -> str:
    return next(w for w in output.split() if w.startswith("cmp_"))


def test_given_a_wrong_key_when_logging_in_then_exit_4_and_nothing_is_saved(
    cli_stack: Stack, tmp_path: Path
):
    result = sendrail(tmp_path, "login", "--url", cli_stack.http.base, "--key", "sr_wrong")
    assert result.exit_code == 4
    assert "unauthorized" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "config.json").exists()


def test_given_a_key_when_logging_in_then_the_profile_is_0600_and_the_key_never_printed(
    cli_stack: Stack, tmp_path: Path
):
    result = sendrail(
        tmp_path, "login", "--url", cli_stack.http.base, "--key", OWNER, "--profile", "local"
    )
    assert result.exit_code == 0, result.output
    assert OWNER not in result.output
    path = tmp_path / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["profiles"]["local"]["token"] == OWNER

    profiles = sendrail(tmp_path, "profiles", "--json")
    assert OWNER not in profiles.output
    assert json.loads(profiles.stdout)["local"]["url"] == cli_stack.http.base
    # Without --profile the default profile is used, and there is none: auth exit code.
    assert sendrail(tmp_path, "whoami").exit_code == 4
    me = sendrail(tmp_path, "--profile", "local", "whoami", "--json")
    assert me.exit_code == 0 and json.loads(me.stdout)["role"] == "owner"


def test_given_email_and_password_when_logging_in_then_a_session_profile_works(
    cli_stack: Stack, tmp_path: Path
):
    status, _, _ = cli_stack.http.post(
        "/api/admin/tenants",
        {"name": "Cli", "owner_email": "cli@acme.example", "owner_password": "correct horse 42"},
        token=ADMIN,
    )
    assert status == 201
    wrong = sendrail(
        tmp_path,
        "login",
        "--url",
        cli_stack.http.base,
        "--email",
        "cli@acme.example",
        "--password",
        "not it",
    )
    assert wrong.exit_code == 4
    result = sendrail(
        tmp_path,
        "login",
        "--url",
        cli_stack.http.base,
        "--email",
        "cli@acme.example",
        "--password",
        "correct horse 42",
    )
    assert result.exit_code == 0, result.output
    assert "correct horse" not in result.output
    saved = json.loads((tmp_path / "config.json").read_text())["profiles"]["default"]
    assert saved["kind"] == "session"
    me = json.loads(sendrail(tmp_path, "whoami", "--json").stdout)
    assert me["role"] == "owner" and me["kind"] == "session"
    assert sendrail(tmp_path, "logout").exit_code == 0
    assert sendrail(tmp_path, "whoami").exit_code == 4


def test_given_env_overrides_then_no_config_file_is_needed(cli_stack: Stack, tmp_path: Path):
    env = {"SENDRAIL_URL": cli_stack.http.base, "SENDRAIL_KEY": OWNER}
    result = sendrail(tmp_path, "campaigns", "list", "--json", env=env)
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.stdout), list)
    bad = sendrail(tmp_path, "campaigns", "list", env={**env, "SENDRAIL_KEY": "sr_nope"})
    assert bad.exit_code == 4


def test_given_api_errors_then_one_line_with_the_code_and_exit_3(
    cli_stack: Stack, home: Path, mailbox: str
):
    result = sendrail(home, "campaigns", "show", "cmp_missing")
    assert result.exit_code == 3
    assert result.output.strip().splitlines() == ["error: not_found: no such campaign (HTTP 404)"]
    invalid = sendrail(home, "suppressions", "add", "not-an-address")
    assert invalid.exit_code == 3 and "Traceback" not in invalid.output
    usage = sendrail(home, "send", "--name", "x")
    assert usage.exit_code == 2
    assert sendrail(home, "local", "advance", "soon").exit_code == 2


def test_given_a_csv_when_sent_with_yes_then_it_completes_and_the_report_has_every_row(
    cli_stack: Stack, home: Path, mailbox: str, tmp_path: Path
):
    emails = [f"person{n}@example.org" for n in range(8)]
    html, listing = write_campaign_files(tmp_path, [*emails, "not an address", emails[0]])
    result = sendrail(home, *send_args(html, listing, "Launch"), "--yes", "--detach")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "8 added, 1 duplicates, 1 invalid, 0 suppressed" in out
    assert "Content check" in out and "Estimate: 8 to send over 2 day(s)" in out
    assert "Started: running, 8 queued" in out
    cid = campaign_id(out)

    advanced = sendrail(home, "local", "advance", "1d", "--json")
    assert advanced.exit_code == 0 and json.loads(advanced.stdout)["fired"]["dispatch"] > 0
    watched = sendrail(home, "campaigns", "watch", cid, "--interval", "0.1")
    assert watched.exit_code == 0 and f"Campaign {cid}: completed" in watched.output
    shown = json.loads(sendrail(home, "campaigns", "show", cid, "--json").stdout)
    assert shown["status"] == "completed" and shown["stats"]["sent"] == 8

    report = tmp_path / "report.csv"
    written = sendrail(home, "campaigns", "report", cid, "--page-size", "3", "-o", str(report))
    assert written.exit_code == 0 and "8 rows written" in written.output
    rows = list(csv.DictReader(io.StringIO(report.read_text())))
    assert sorted(r["email"] for r in rows) == sorted(emails)
    assert {r["status"] for r in rows} == {"sent"}
    as_json = tmp_path / "report.json"
    sendrail(
        home, "campaigns", "report", cid, "--format", "json", "--page-size", "3", "-o", str(as_json)
    )
    assert sorted(r["email"] for r in json.loads(as_json.read_text())) == sorted(emails)


def test_given_a_large_csv_then_the_background_import_is_followed_to_its_counts(
    cli_stack: Stack, home: Path, mailbox: str, tmp_path: Path
):
    emails = [f"bulk{n}@example.org" for n in range(SYNC_ROWS * 3)]
    html, listing = write_campaign_files(tmp_path, emails)
    result = sendrail(home, *send_args(html, listing, "Bulk"), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "importing" in result.output
    assert f"{len(emails)} added, 0 duplicates, 0 invalid" in result.output
    assert "Dry run: nothing started" in result.output
    cid = campaign_id(result.output)
    shown = json.loads(sendrail(home, "campaigns", "show", cid, "--json").stdout)
    assert shown["status"] == "draft" and shown["stats"]["total"] == len(emails)
    assert sendrail(home, "campaigns", "cancel", cid, "--yes").exit_code == 0


def test_read_commands_answer_json_that_parses(cli_stack: Stack, home: Path, mailbox: str):
    assert sendrail(home, "suppressions", "add", "gone@example.org").exit_code == 0
    for args in (
        ["campaigns", "list"],
        ["mailboxes", "list"],
        ["queue", "status"],
        ["suppressions", "list"],
        ["local", "clock"],
        ["whoami"],
    ):
        result = sendrail(home, *args, "--json")
        assert result.exit_code == 0, (args, result.output)
        json.loads(result.stdout)
    boxes = json.loads(sendrail(home, "mailboxes", "list", "--json").stdout)
    assert [b["id"] for b in boxes] == [mailbox] and boxes[0]["daily_limit"] == 5
    listed = json.loads(sendrail(home, "suppressions", "list", "--json").stdout)
    assert "gone@example.org" in {s["email"] for s in listed}
    assert sendrail(home, "suppressions", "remove", "gone@example.org").exit_code == 0
    listed = json.loads(sendrail(home, "suppressions", "list", "--json").stdout)
    assert "gone@example.org" not in {s["email"] for s in listed}


def _console_script(home: Path, cli_stack: Stack, *args: str) -> subprocess.Popen[bytes]:
    """The installed ``sendrail`` script, as a user runs it. Its output unbuffered on our
    side, so ``select`` sees every line not yet read (see ``_line``)."""
    script = Path(sys.executable).parent / "sendrail"
    env = {**os.environ, "SENDRAIL_CONFIG_DIR": str(home), "COLUMNS": "120"}
    env.pop("SENDRAIL_URL", None)
    env.pop("SENDRAIL_KEY", None)
    return subprocess.Popen(
        [str(script), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0
    )


def _line(process: subprocess.Popen[bytes], wait: float = 60) -> str:
    """The next line the process prints; fails after ``wait`` seconds of silence."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], wait)
    assert ready, "the command printed nothing"
    return process.stdout.readline().decode()


def _rest(process: subprocess.Popen[bytes]) -> str:
    output, _ = process.communicate(timeout=120)
    return output.decode()


def test_given_a_running_campaign_when_watched_then_the_virtual_clock_drives_it_to_completion(
    cli_stack: Stack, home: Path, mailbox: str, tmp_path: Path
):
    html, listing = write_campaign_files(tmp_path, [f"w{n}@example.org" for n in range(3)])
    started = sendrail(home, *send_args(html, listing, "Watched"), "--yes", "--detach")
    cid = campaign_id(started.output)
    watcher = _console_script(home, cli_stack, "campaigns", "watch", cid, "--interval", "0.2")
    try:
        cli_stack.http.advance(24 * 3600)
        output = _rest(watcher)
    finally:
        watcher.kill()
    assert watcher.returncode == 0, output
    assert f"Campaign {cid}: completed" in output and "sent 3" in output


def test_given_ctrl_c_while_watching_then_it_detaches_and_the_campaign_keeps_running(
    cli_stack: Stack, home: Path, mailbox: str, tmp_path: Path
):
    html, listing = write_campaign_files(tmp_path, [f"c{n}@example.org" for n in range(2)])
    started = sendrail(home, *send_args(html, listing, "Detached"), "--yes", "--detach")
    cid = campaign_id(started.output)
    watcher = _console_script(home, cli_stack, "campaigns", "watch", cid, "--interval", "0.2")
    try:
        # The script says it is watching (bounded wait: never block on the pipe forever).
        assert "Watching" in _line(watcher)
        watcher.send_signal(signal.SIGINT)
        output = _rest(watcher)
    finally:
        watcher.kill()
    assert watcher.returncode == 0, output
    assert "Detached; the campaign keeps running" in output
    assert cli_stack.http.get(f"/api/campaigns/{cid}")[1]["status"] == "running"


def test_given_gmail_when_connecting_then_the_cli_waits_until_consent_makes_it_active(
    cli_stack: Stack, home: Path, mailbox: str
):
    from tests.e2e.test_oauth_e2e import consent

    connecting = _console_script(
        home,
        cli_stack,
        "mailboxes",
        "connect",
        "gmail",
        "--email",
        "team@gmail.example",
        "--no-open",
        "--interval",
        "0.2",
        "--timeout",
        "120",
    )
    try:
        assert "consent" in _line(connecting)
        link = _line(connecting).strip()  # the link on a line of its own
        back = consent(link)  # what the browser does
        assert back.startswith(cli_stack.http.base + "/oauth/callback?")
        assert cli_stack.http.get(back[len(cli_stack.http.base) :], token="")[0] == 200
        output = _rest(connecting)
    finally:
        connecting.kill()
    assert connecting.returncode == 0, output
    assert "(team@gmail.example): active" in output


def test_given_a_draft_then_start_pause_resume_and_cancel_change_its_status(
    cli_stack: Stack, home: Path, mailbox: str, tmp_path: Path
):
    html, listing = write_campaign_files(tmp_path, ["p1@example.org", "p2@example.org"])
    drafted = sendrail(home, *send_args(html, listing, "Controls"), "--dry-run")
    cid = campaign_id(drafted.output)
    for action, expected in (
        ("start", "running"),
        ("pause", "paused"),
        ("resume", "running"),
    ):
        result = sendrail(home, "campaigns", action, cid, "--json")
        assert result.exit_code == 0, (action, result.output)
        assert json.loads(result.stdout)["status"] == expected
    cancelled = sendrail(home, "campaigns", "cancel", cid, "--yes")
    assert cancelled.exit_code == 0 and f"Campaign {cid}: cancelled" in cancelled.output
    again = sendrail(home, "campaigns", "pause", cid)
    assert again.exit_code == 3 and again.output.startswith("error: ")
