"""Low-level AWS clients for the adapters that do not go through pynamodb (SQS, KMS, the
stats table), made from botocore directly.

Not through boto3: importing boto3 imports s3transfer and with it ``multiprocessing``
(about 25 ms of every function's cold start, for a library whose resources and transfer
manager we never use). A botocore client is what ``boto3.client`` returns anyway. One
botocore session serves the process: creating a session loads its data files, and a
session is not safe to create clients from on several threads at once, hence the lock
(clients themselves are thread-safe)."""

from __future__ import annotations

import threading
from typing import Any

import botocore.session

_lock = threading.Lock()
_session: botocore.session.Session | None = None


def client(service: str, region: str) -> Any:
    """A new client of ``service`` in ``region`` (endpoint and credentials resolved as
    boto3 would: environment, shared config, the Lambda role)."""
    global _session
    with _lock:
        if _session is None:
            _session = botocore.session.get_session()
        return _session.create_client(service, region_name=region)
