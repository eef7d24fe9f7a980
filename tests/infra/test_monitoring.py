"""Alarms, their topic and the dashboard in the synthesized template."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20,18")

from aws_cdk import App
from aws_cdk.assertions import Template
from sendrail.functions_spec import FUNCTIONS
from sendrail.storage.queues import queue_specs

from infra.app import build
from infra.constructs.monitoring import API_5XX, NEAR_TIMEOUT

pytestmark = pytest.mark.xdist_group("infra")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    out = tmp_path_factory.mktemp("cdk.out")
    app = App(
        context={"bundleDependencies": "false", "alarmEmail": "oncall@example.com"},
        outdir=str(out),
    )
    stack = build(app)
    app.synth()  # cdk-nag runs here
    return Template.from_stack(stack)


def _alarms(template: Template) -> list[dict[str, Any]]:
    return [a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()]


def _alarm_topic(template: Template) -> str:
    topics = template.find_resources(
        "AWS::SNS::Topic", {"Properties": {"DisplayName": "sendrail alarms"}}
    )
    assert len(topics) == 1
    return next(iter(topics))


def _watching(alarms: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    return [a for a in alarms if a.get("MetricName") == metric]


def test_given_the_alarm_topic_then_it_is_encrypted_and_mails_the_context_address(template):
    topic = _alarm_topic(template)
    props = template.find_resources("AWS::SNS::Topic")[topic]["Properties"]
    assert "KmsMasterKeyId" in props
    template.has_resource_properties(
        "AWS::SNS::Subscription",
        {"Protocol": "email", "Endpoint": "oncall@example.com", "TopicArn": {"Ref": topic}},
    )


def test_given_every_alarm_then_it_notifies_the_topic_and_ignores_missing_data(template):
    topic = _alarm_topic(template)
    alarms = _alarms(template)
    assert alarms
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": topic}], alarm["AlarmDescription"]
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_given_each_dead_letter_queue_then_one_message_in_it_alarms(template):
    dlqs = [s for s in queue_specs() if s.logical.endswith("-dlq")]
    depth = _watching(_alarms(template), "ApproximateNumberOfMessagesVisible")
    assert len(depth) == len(dlqs)
    assert all(a["Threshold"] == 1 and a["Namespace"] == "AWS/SQS" for a in depth)


def test_given_the_send_queues_then_an_old_message_alarms(template):
    sends = [
        s for s in queue_specs() if s.logical.startswith("send-") and not s.logical.endswith("dlq")
    ]
    age = _watching(_alarms(template), "ApproximateAgeOfOldestMessage")
    assert len(age) == len(sends)
    assert {a["Threshold"] for a in age} == {6 * 3600}


def test_given_the_functions_then_errors_throttles_and_dispatch_duration_alarm(template):
    alarms = _alarms(template)
    assert len(_watching(alarms, "Errors")) == len(FUNCTIONS)
    assert len(_watching(alarms, "Throttles")) == len(FUNCTIONS)
    (duration,) = _watching(alarms, "Duration")
    assert duration["Threshold"] == NEAR_TIMEOUT * FUNCTIONS["dispatch"].timeout * 1000
    assert duration["Statistic"] == "Maximum"


def test_given_the_api_then_server_errors_alarm(template):
    (errors,) = _watching(_alarms(template), "5XXError")
    assert errors["Namespace"] == "AWS/ApiGateway"
    assert errors["Threshold"] == API_5XX


def test_given_the_tracking_api_then_its_server_errors_alarm_and_are_on_the_dashboard(template):
    (http_api,) = template.find_resources("AWS::ApiGatewayV2::Api")
    (errors,) = _watching(_alarms(template), "5xx")  # the HTTP API's metric name
    assert errors["Namespace"] == "AWS/ApiGateway"
    assert errors["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": http_api}}]
    assert errors["Threshold"] == API_5XX and errors["Statistic"] == "Sum"
    (dashboard,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert "Tracking API" in body and '\\"5xx\\"' in body and http_api in body


@pytest.mark.parametrize("metric", ["MailboxNeedsReauth", "MailboxPausedForRate"])
def test_given_a_mailbox_an_operator_must_act_on_then_its_metric_alarms(template, metric):
    (alarm,) = _watching(_alarms(template), metric)
    assert alarm["Namespace"] == "Sendrail"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "sendrail"}]
    assert alarm["Threshold"] == 1


def test_given_the_dashboard_then_it_shows_sends_engagement_and_queues(template):
    (dashboard,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for shown in (
        "Sent",
        "Deferred",
        "Failed",
        "Opened",
        "Clicked",
        "ApproximateNumberOfMessagesVisible",
        "5XXError",
        "Duration",
    ):
        assert shown in body, shown


def test_given_no_alarm_email_then_the_topic_has_no_subscription(tmp_path: Path):
    app = App(context={"bundleDependencies": "false"}, outdir=str(tmp_path))
    template = Template.from_stack(build(app))
    template.resource_count_is("AWS::SNS::Subscription", 1)  # the SES feedback one only
