"""The functions' spec names every function there is, and each function reads its
settings through one :class:`sendrail.wiring.Wiring` of the spec's settings model."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sendrail.functions_spec import FUNCTIONS, FunctionSpec
from sendrail.settings import CommonSettings
from sendrail.storage.queues import queue_specs
from sendrail.storage.tables import MODELS
from sendrail.wiring import Wiring

ROOT = Path(__file__).resolve().parents[2]


def _settings_type(spec: FunctionSpec) -> Any:
    module, name = spec.settings.split(":")
    return getattr(importlib.import_module(module), name)


def test_given_the_functions_folder_then_every_handler_is_in_the_spec():
    handlers = {p.parent.name for p in (ROOT / "functions").glob("*/handler.py")}
    assert handlers == set(FUNCTIONS)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_given_a_function_then_its_wiring_reads_the_spec_s_settings_model(name: str):
    spec = FUNCTIONS[name]
    model = _settings_type(spec)
    assert issubclass(model, CommonSettings)
    wiring = importlib.import_module(spec.wiring).wiring
    assert isinstance(wiring, Wiring)
    assert wiring.settings_type is model
    handler = importlib.import_module(spec.module)
    assert callable(handler.handler)


def test_given_the_spec_s_event_sources_then_they_name_existing_queues():
    queues = {q.logical for q in queue_specs()}
    for spec in FUNCTIONS.values():
        for source in spec.sources:
            assert source.queue in queues, (spec.name, source.queue)
            assert not source.queue.endswith("-dlq")


# --- the generic wiring ----------------------------------------------------------------------


class _Settings(CommonSettings):
    greeting: str = "hello"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("SENDRAIL_TABLES", json.dumps({n: n for n in MODELS}))
    monkeypatch.setenv("SENDRAIL_QUEUES", "{}")
    return monkeypatch


def test_given_a_wiring_then_settings_are_read_once_until_reset(env: pytest.MonkeyPatch):
    wiring = Wiring(_Settings)
    env.setenv("SENDRAIL_GREETING", "first")
    assert wiring.settings().greeting == "first"
    env.setenv("SENDRAIL_GREETING", "second")
    assert wiring.settings() is wiring.settings()
    assert wiring.settings().greeting == "first"  # a warm container keeps its settings
    wiring.reset()
    assert wiring.settings().greeting == "second"


def test_given_a_cached_value_then_reset_forgets_it_with_the_settings(env: pytest.MonkeyPatch):
    wiring = Wiring(_Settings)
    built: list[str] = []

    @wiring.cached
    def shout() -> str:
        built.append(wiring.settings().greeting)
        return built[-1].upper()

    assert (shout(), shout()) == ("HELLO", "HELLO")
    env.setenv("SENDRAIL_GREETING", "hey")
    wiring.reset()
    assert shout() == "HEY"
    assert built == ["hello", "hey"]


def test_given_bad_settings_then_the_first_use_fails_and_nothing_is_kept(
    env: pytest.MonkeyPatch,
):
    wiring = Wiring(_Settings)
    env.setenv("SENDRAIL_TABLES", "{}")  # every table must be named
    with pytest.raises(ValidationError):
        wiring.settings()
    env.setenv("SENDRAIL_TABLES", json.dumps({n: n for n in MODELS}))
    assert wiring.settings().greeting == "hello"
