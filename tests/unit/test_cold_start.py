"""Enqueue's cold start: what its routes use on first use only is not imported with the
handler, and the collector waits for the imports and resumes after them."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

import pytest
from sendrail.cold_start import importing
from sendrail.functions_spec import FUNCTIONS

from functions.enqueue.schemas import ErrorBody

# Hashing a password, validating an address, checking a domain's DNS, rendering or checking
# content, the OpenAPI document's models: loaded by the requests that need them.
ENQUEUE_LAZY = (
    "argon2",
    "email_validator",
    "dns",
    "sendrail.domain.sender_auth",
    "sendrail.providers.dns_lookup",
    "jinja2",
    "nh3",
    "html2text",
    "imapclient",
    "aws_lambda_powertools.event_handler.openapi.models",
)

IMPORT_ENQUEUE = f"""
import gc, json, sys
import functions.enqueue.handler
from functions.enqueue.api_model import ApiModel

def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)

models = set(subclasses(ApiModel))
print(json.dumps({{
    "loaded": sorted(m for m in {ENQUEUE_LAZY!r} if m in sys.modules),
    "api_models": len(models),
    "built": sorted(m.__name__ for m in models if m.__pydantic_complete__),
    "collecting": gc.isenabled(),
    "frozen": gc.get_freeze_count(),
}}))
"""


def test_given_enqueue_s_handler_imported_then_first_use_helpers_and_models_are_not_built():
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_ENQUEUE], capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["loaded"] == []
    # The API's models are built by the requests that use them, not by the import.
    assert result["api_models"] > 50
    assert result["built"] == []
    # ... and the collector is on again, the import's objects out of its way.
    assert result["collecting"] is True
    assert result["frozen"] > 10_000


def test_given_imports_then_nothing_is_collected_during_them_and_collection_resumes():
    assert gc.isenabled()
    try:
        with importing():
            assert not gc.isenabled()
            built = [[i] for i in range(1000)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= len(built)
    finally:
        gc.unfreeze()


def test_given_the_collector_off_already_then_it_stays_off():
    gc.disable()
    try:
        with importing():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_given_a_function_s_handler_imported_then_its_imports_are_out_of_the_collector_s_way(
    name: str,
):
    # A cold start's objects are frozen, not walked by every later collection; measured in
    # the layer (paired, CPU medians): dispatch 271 -> 234 ms, tracking 273 -> 230 ms.
    code = (
        "import gc, json, sys\n"
        f"import functions.{name}.handler\n"
        "print(json.dumps([gc.isenabled(), gc.get_freeze_count()]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    collecting, frozen = json.loads(out.stdout.strip().splitlines()[-1])
    assert collecting is True
    assert frozen > 10_000


# boto3 imports s3transfer and multiprocessing (~25 ms); our adapters use botocore clients.
NOT_AT_IMPORT = ("boto3", "s3transfer", "multiprocessing")


def test_given_any_function_s_handler_imported_then_boto3_is_not_loaded():
    code = (
        "import json, sys\n"
        "for name in sys.argv[1:]:\n"
        "    __import__(f'functions.{name}.handler')\n"
        f"print(json.dumps(sorted(m for m in {NOT_AT_IMPORT!r} if m in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *FUNCTIONS], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_given_a_deferred_api_model_then_it_validates_and_serializes_on_first_use():
    body = ErrorBody.model_validate({"code": "bad", "message": "no"})
    assert body.model_dump() == {"code": "bad", "message": "no", "details": []}
    assert ErrorBody.__pydantic_complete__
