"""Dispatchers as separate processes sharing one store (moto as a server): one killed
between its send and its acknowledgement and replaced by a fresh one, and two racing over
the same queue. Zero duplicates, zero lost recipients."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from sendrail.domain.models import RecipientStatus, SendingSettings
from sendrail.services import campaigns, mailboxes, recipients
from sendrail.services.campaigns import CampaignCreate
from sendrail.services.deps import Deps
from sendrail.services.mailboxes import MailboxCreate
from sendrail.storage import tables
from sendrail.storage.queues import SqsQueues
from sendrail.storage.secrets import SecretBox
from sendrail_local.aws import REGION, create_resources
from werkzeug.serving import make_server

from tests.conftest import TEST_SIGNING_KEY, free_port
from tests.fakes.smtp import ScriptedSmtp

ROOT = Path(__file__).resolve().parents[2]
TENANT = "ten_proc"
LEASE = 4
_stores = itertools.count()

pytestmark = pytest.mark.xdist_group("processes")


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A moto server on 127.0.0.1 handling one request at a time (like DynamoDB, each call
    is atomic); this process and the dispatcher processes all use it."""
    port = free_port()
    server = make_server(
        "127.0.0.1", port, DomainDispatcherApplication(create_backend_app), threaded=False
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    resources = create_resources(f"proc{next(_stores)}-")  # moto's state outlives the server
    tables.bind(tables.TableNames(**resources.tables), REGION)
    env.update(
        {
            "SENDRAIL_TABLES": json.dumps(resources.tables),
            "SENDRAIL_QUEUES": json.dumps(resources.queues),
            "SENDRAIL_KMS_KEY_ID": resources.kms_key_id,
            "SENDRAIL_SIGNING_KEY": TEST_SIGNING_KEY,
            "SENDRAIL_LEASE_SECONDS": str(LEASE),
            "SENDRAIL_RECEIVE_WAIT_SECONDS": "0",
            "SENDRAIL_STOP_MARGIN_SECONDS": "1",
            "SENDRAIL_ALLOW_PRIVATE_HOSTS": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("layers/common", "local", ".")),
        }
    )
    yield env
    server.shutdown()


def _setup(
    env: dict[str, str],
    smtp: ScriptedSmtp,
    emails: list[str],
    mailboxes_: int = 1,
    daily_limit: int = 0,
) -> tuple[Deps, str]:
    deps = Deps(
        queues=SqsQueues(json.loads(env["SENDRAIL_QUEUES"]), REGION),
        secrets=SecretBox(env["SENDRAIL_KMS_KEY_ID"], REGION),
        signing_key=TEST_SIGNING_KEY.encode(),
        public_base_url="http://127.0.0.1:9",
        tracking_base_url="http://127.0.0.1:9",
    )
    deps.settings.put_sending(TENANT, SendingSettings())
    for i in range(mailboxes_):
        mailboxes.create(
            deps,
            TENANT,
            MailboxCreate(
                provider="smtp",
                email=f"m{i}@example.com",
                daily_limit=daily_limit,
                smtp={"host": "127.0.0.1", "port": smtp.port, "security": "none"},
            ),
            allow_private_hosts=True,
        )
    campaign = campaigns.create(
        deps, TENANT, CampaignCreate(name="p", subject="s", html="<p>x</p>")
    )
    recipients.add(deps, campaign, recipients.rows_from_json([{"email": e} for e in emails]))
    campaigns.start(deps, TENANT, campaign.id)
    return deps, campaign.id


def _dispatcher(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.run_dispatch"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _finish(process: subprocess.Popen[bytes]) -> dict[str, Any]:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err.decode()[-3000:]
    return dict(json.loads(out.decode().strip().splitlines()[-1]))


def _statuses(deps: Deps, campaign_id: str) -> dict[str, Any]:
    return {r.email: r for r in deps.recipients.iterate(campaign_id)}


def test_given_a_dispatcher_killed_between_send_and_ack_then_a_fresh_one_neither_resends_nor_skips(
    store,
):
    smtp = ScriptedSmtp(slow_seconds=30).start()
    try:
        emails = ["slow-x@example.org"] + [f"r{i}@example.org" for i in range(9)]
        deps, cid = _setup(store, smtp, emails)
        doomed = _dispatcher(store)
        assert smtp.slow_started.wait(timeout=60), "the dispatcher never reached the slow send"
        doomed.kill()  # mid-batch: the server has the message, the dispatcher recorded nothing
        doomed.wait(timeout=10)
        assert _statuses(deps, cid)["slow-x@example.org"].status is RecipientStatus.SENDING

        time.sleep(2 * LEASE + 1)  # its claim and its messages' visibility run out
        _finish(_dispatcher(store))
        _finish(_dispatcher(store))

        delivered = Counter(d.to for d in smtp.delivered)
        assert sorted(delivered) == sorted(emails)  # nobody skipped
        assert max(delivered.values()) == 1  # nobody twice
        final = _statuses(deps, cid)
        assert final["slow-x@example.org"].status is RecipientStatus.FAILED
        assert (final["slow-x@example.org"].last_error or "").startswith("unknown_outcome")
        assert not {r.status for r in final.values()} & {
            RecipientStatus.QUEUED,
            RecipientStatus.SENDING,
        }
        assert deps.campaigns.get(TENANT, cid).status.value == "completed"  # type: ignore[union-attr]
    finally:
        smtp.stop()


def test_given_two_dispatcher_processes_over_one_queue_then_nobody_twice_and_limits_hold(store):
    smtp = ScriptedSmtp().start()
    try:
        emails = [f"r{i}@example.org" for i in range(60)]
        deps, cid = _setup(store, smtp, emails, mailboxes_=3, daily_limit=15)
        racers = [_dispatcher(store), _dispatcher(store)]
        results = [_finish(p) for p in racers]
        assert sum(r["sent"] for r in results) == 45
        delivered = Counter(d.to for d in smtp.delivered)
        assert len(delivered) == 45 and max(delivered.values()) == 1
        per_mailbox = Counter(
            r.mailbox_id for r in _statuses(deps, cid).values() if r.status is RecipientStatus.SENT
        )
        assert sorted(per_mailbox.values()) == [15, 15, 15]
    finally:
        smtp.stop()
