"""The CDK app builds the functions of ``sendrail.functions_spec``: handler, timeout,
memory, schedule and SQS event sources each as the spec says."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20,18")

from aws_cdk import App, Stack
from aws_cdk.assertions import Template
from sendrail.functions_spec import FUNCTIONS, schedules

from infra.app import build

pytestmark = pytest.mark.xdist_group("infra")


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Template]:
    out: Path = tmp_path_factory.mktemp("cdk.out")
    app = App(context={"bundleDependencies": "false"}, outdir=str(out))
    stack = build(app)
    return stack, Template.from_stack(stack)


def _logical_id(stack: Stack, *path: str) -> str:
    node = stack.node
    for name in path:
        node = node.find_child(name).node
    return stack.get_logical_id(node.default_child)  # type: ignore[arg-type]


def _function_ids(stack: Stack) -> dict[str, str]:
    return {
        name: stack.get_logical_id(fn.node.default_child)  # type: ignore[arg-type]
        for name, fn in stack.functions.by_name.items()  # type: ignore[attr-defined]
    }


def _rate(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    assert rest == 0, "the spec's rates are whole minutes"
    return "rate(1 minute)" if minutes == 1 else f"rate({minutes} minutes)"


def test_given_the_spec_then_the_stack_has_exactly_its_functions_with_their_sizes(synthesized):
    stack, template = synthesized
    ids = _function_ids(stack)
    assert sorted(ids) == sorted(FUNCTIONS)
    resources = template.find_resources("AWS::Lambda::Function")
    for name, spec in FUNCTIONS.items():
        props = resources[ids[name]]["Properties"]
        assert props["Handler"] == spec.handler
        assert props["Timeout"] == spec.timeout, name
        assert props["MemorySize"] == spec.memory, name
        has_key = "SENDRAIL_KMS_KEY_ID" in props["Environment"]["Variables"]
        assert has_key is spec.uses_kms, name


def test_given_the_spec_then_eventbridge_fires_exactly_its_scheduled_functions(synthesized):
    stack, template = synthesized
    ids = _function_ids(stack)
    fired: dict[str, set[str]] = {}
    for rule in template.find_resources("AWS::Events::Rule").values():
        (target,) = rule["Properties"]["Targets"]
        name = next(n for n, i in ids.items() if target["Arn"] == {"Fn::GetAtt": [i, "Arn"]})
        fired.setdefault(name, set()).add(rule["Properties"]["ScheduleExpression"])
    assert fired == {name: {_rate(every)} for name, every in schedules().items()}


def test_given_the_spec_then_each_queue_feeds_its_function_in_batches_as_specified(synthesized):
    stack, template = synthesized
    ids = _function_ids(stack)
    expected = {
        (ids[spec.name], _logical_id(stack, "Queues", _queue_id(source.queue))): (
            source.batch_size,
            source.window_seconds or None,
        )
        for spec in FUNCTIONS.values()
        for source in spec.sources
    }
    found = {}
    for mapping in template.find_resources("AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        key = (props["FunctionName"]["Ref"], props["EventSourceArn"]["Fn::GetAtt"][0])
        found[key] = (props["BatchSize"], props.get("MaximumBatchingWindowInSeconds"))
    assert found == expected


def _queue_id(logical: str) -> str:
    """The Queues construct's child id for a logical queue name (``webhook-items`` ->
    ``WebhookItems``)."""
    return logical.replace("-", " ").title().replace(" ", "")
