"""Low-level AWS clients for the adapters that do not go through pynamodb (SQS, KMS, the
stats table) and for recipients' raw calls, made from botocore directly.

Not through boto3: importing boto3 imports s3transfer and with it ``multiprocessing``
(about 25 ms of every function's cold start, for a library whose resources and transfer
manager we never use). A botocore client is what ``boto3.client`` returns anyway. One
botocore session serves the process: creating a session loads its data files, and a
session is not safe to create clients from on several threads at once, hence the lock
(clients themselves are thread-safe).

Every client has a fixed User-Agent (botocore otherwise builds that header from a dozen
sanitised components on every request, twice: about 40 us of the 120 us it takes to
build a claim's request) and no client-side parameter validation (our calls are built by
this code, and the services validate them anyway), as pynamodb configures its own. That
matters on the hot paths: the claim before every send, batch writes of outcomes, SQS
receives, acknowledgements and feeding."""

from __future__ import annotations

import threading
from typing import Any

import botocore.session
from botocore.config import Config

USER_AGENT = "sendrail"

_lock = threading.Lock()
_session: botocore.session.Session | None = None


def client(
    service: str, region: str | None, *, endpoint_url: str | None = None, **settings: Any
) -> Any:
    """A new client of ``service`` in ``region`` (endpoint and credentials resolved as
    boto3 would: environment, shared config, the Lambda role); ``settings`` are more of
    botocore's ``Config`` (timeouts, pool, retries)."""
    global _session
    config = Config(user_agent=USER_AGENT, parameter_validation=False, **settings)
    with _lock:
        if _session is None:
            _session = botocore.session.get_session()
        return _session.create_client(
            service, region_name=region, endpoint_url=endpoint_url, config=config
        )
