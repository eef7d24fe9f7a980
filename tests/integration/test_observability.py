"""The tracer as it starts in Lambda: what it patches, and what that costs at import."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = """
import json, sys
import sendrail.observability as o
from aws_xray_sdk.core import patcher
from aws_xray_sdk.ext.httplib.patch import _ignore_request
from botocore.awsrequest import AWSHTTPSConnection
import http.client
print(json.dumps({
    "disabled": o.tracer.disabled,
    "patched": sorted(patcher._PATCHED_MODULES),
    "imported": sorted(m for m in ("requests", "sqlite3", "pynamodb") if m in sys.modules),
    "aws_ignored": _ignore_request(AWSHTTPSConnection("dynamodb.eu-west-1.amazonaws.com"),
                                   "dynamodb.eu-west-1.amazonaws.com", "/"),
    "gmail_ignored": _ignore_request(http.client.HTTPSConnection("gmail.googleapis.com"),
                                     "gmail.googleapis.com", "/gmail/v1/users/me/messages/send"),
}))
"""


def test_given_lambda_then_the_tracer_patches_aws_and_http_calls_once_each() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_")}
    env.update(LAMBDA_TASK_ROOT="/var/task", AWS_LAMBDA_FUNCTION_NAME="sendrail-dispatch")
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    probe = json.loads(result.stdout.strip().splitlines()[-1])

    assert probe["disabled"] is False
    assert probe["patched"] == ["botocore", "httplib"]  # pynamodb goes through botocore
    assert probe["imported"] == []  # patch_all would import requests, sqlite3 and pynamodb
    assert probe["aws_ignored"] is True  # traced once, by the botocore patch
    assert probe["gmail_ignored"] is False
