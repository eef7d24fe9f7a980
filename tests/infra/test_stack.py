"""CDK assertions on the synthesized template, cdk-nag and cfn-lint."""

from __future__ import annotations

import importlib.util
import json
import marshal
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20,18")

from aws_cdk import App
from aws_cdk.assertions import Match, Template
from sendrail.api_routes import READER_ROUTES
from sendrail.functions_spec import schedules
from sendrail.storage.queues import BANDS, queue_specs
from sendrail.storage.tables import table_specs

from infra.app import build
from infra.constructs.tracking_api import BURST_LIMIT, RATE_LIMIT, TrackingDomain

CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0f2b6c1e-5d7a-4e9b-8f3c-1a2b3c4d5e6f"

pytestmark = pytest.mark.xdist_group("infra")


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Template, Path]:
    out = tmp_path_factory.mktemp("cdk.out")
    app = App(context={"bundleDependencies": "false"}, outdir=str(out))
    stack = build(app)
    app.synth()  # cdk-nag runs here: an unacknowledged finding fails the synth
    return stack, Template.from_stack(stack), out


def _resources(template: Template, kind: str) -> dict[str, Any]:
    return template.find_resources(kind)


def test_given_the_table_specs_then_every_table_is_on_demand_with_pitr_and_ttl(synthesized):
    _, template, _ = synthesized
    specs = table_specs()
    template.resource_count_is("AWS::DynamoDB::Table", len(specs))
    tables = list(_resources(template, "AWS::DynamoDB::Table").values())
    for spec in specs:
        keys = [{"AttributeName": spec.hash_key, "KeyType": "HASH"}]
        if spec.range_key:
            keys.append({"AttributeName": spec.range_key, "KeyType": "RANGE"})
        table = next(
            t["Properties"]
            for t in tables
            if t["Properties"]["KeySchema"] == keys
            and {i["IndexName"] for i in t["Properties"].get("GlobalSecondaryIndexes", [])}
            == {i.name for i in spec.indexes}
        )
        assert table["BillingMode"] == "PAY_PER_REQUEST"
        assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert table["SSESpecification"]["SSEEnabled"] is True
        if spec.ttl_attribute:
            assert table["TimeToLiveSpecification"] == {
                "AttributeName": spec.ttl_attribute,
                "Enabled": True,
            }


def test_given_the_queue_specs_then_each_band_has_a_dead_letter_queue(synthesized):
    _, template, _ = synthesized
    template.resource_count_is("AWS::SQS::Queue", len(queue_specs()))
    redriven = [
        q
        for q in _resources(template, "AWS::SQS::Queue").values()
        if "RedrivePolicy" in q["Properties"]
    ]
    # the send bands, the import, events, webhooks and webhook-items queues
    assert len(redriven) == len(BANDS) + 4
    for queue in _resources(template, "AWS::SQS::Queue").values():
        assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 86400
        assert queue["Properties"]["SqsManagedSseEnabled"] is True


def test_given_five_functions_then_each_has_its_own_role_tracing_and_the_layer(synthesized):
    _, template, _ = synthesized
    functions = _resources(template, "AWS::Lambda::Function")
    ours = {
        k: v
        for k, v in functions.items()
        if v["Properties"].get("Handler", "").startswith("functions.")
    }
    assert sorted(v["Properties"]["Handler"] for v in ours.values()) == [
        "functions.dispatch.handler.handler",
        "functions.enqueue.handler.handler",
        "functions.inbox.handler.handler",
        "functions.token_refresh.handler.handler",
        "functions.tracking.handler.handler",
    ]
    roles = {json.dumps(v["Properties"]["Role"]) for v in ours.values()}
    assert len(roles) == 5
    for fn in ours.values():
        assert fn["Properties"]["TracingConfig"] == {"Mode": "Active"}
        assert len(fn["Properties"]["Layers"]) == 1
        assert fn["Properties"]["Architectures"] == ["arm64"]
    template.resource_count_is("AWS::Lambda::LayerVersion", 1)
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})


def test_given_the_bundles_then_they_run_on_the_python_that_compiled_them(synthesized):
    _, template, out = synthesized
    runtime = f"python{sys.version_info.major}.{sys.version_info.minor}"
    functions = _resources(template, "AWS::Lambda::Function").values()
    ours = [f for f in functions if f["Properties"].get("Handler", "").startswith("functions.")]
    assert {f["Properties"]["Runtime"] for f in ours} == {runtime}
    (layer,) = _resources(template, "AWS::Lambda::LayerVersion").values()
    assert layer["Properties"]["CompatibleRuntimes"] == [runtime]
    # Every module of every asset ships its bytecode, hash-based and never re-validated
    # (Lambda's file system is read-only: a missing .pyc is compiled on every cold start),
    # naming the path the file has in Lambda.
    assets = [d for d in out.iterdir() if d.is_dir() and d.name.startswith("asset.")]
    sources = [py for asset in assets for py in asset.rglob("*.py")]
    assert any("sendrail" in py.parts for py in sources)
    assert any(py.parts[-2:] == ("dispatch", "handler.py") for py in sources)
    for py in sources:
        pyc = importlib.util.cache_from_source(str(py))
        header = Path(pyc).read_bytes()[:16]
        assert header[:4] == importlib.util.MAGIC_NUMBER, py
        assert int.from_bytes(header[4:8], "little") == 0b01, py  # hash-based, unchecked
    dispatch = next(py for py in sources if py.parts[-2:] == ("dispatch", "handler.py"))
    code = marshal.loads(Path(importlib.util.cache_from_source(str(dispatch))).read_bytes()[16:])
    assert code.co_filename == "/var/task/functions/dispatch/handler.py"


def _settings_fields(model: Any) -> tuple[set[str], set[str]]:
    prefix = model.model_config.get("env_prefix", "")
    names, required = set(), set()
    for name, field in model.model_fields.items():
        alias = field.validation_alias
        env = alias if isinstance(alias, str) else f"{prefix}{name}".upper()
        names.add(env)
        if field.is_required():
            required.add(env)
    return names, required


@pytest.mark.parametrize("function", ["enqueue", "dispatch", "tracking", "token_refresh", "inbox"])
def test_given_a_function_then_its_environment_matches_its_settings_model(synthesized, function):
    _, template, _ = synthesized
    module = __import__(f"functions.{function}.settings", fromlist=["x"])
    model = next(
        v
        for k, v in vars(module).items()
        if k.endswith("Settings") and getattr(v, "__module__", "") == module.__name__
    )
    names, required = _settings_fields(model)
    handler = f"functions.{function}.handler.handler"
    fn = next(
        v
        for v in _resources(template, "AWS::Lambda::Function").values()
        if v["Properties"].get("Handler") == handler
    )
    env = set(fn["Properties"]["Environment"]["Variables"])
    ours = {e for e in env if e.startswith("SENDRAIL_")}
    assert ours <= names, f"{function} gets variables its settings do not read: {ours - names}"
    assert required - {"AWS_REGION"} <= ours, f"{function} misses {required - ours}"


def test_given_the_schedules_then_eventbridge_fires_dispatch_token_refresh_and_inbox(
    synthesized,
):
    _, template, _ = synthesized
    rules = [
        r["Properties"]["ScheduleExpression"]
        for r in _resources(template, "AWS::Events::Rule").values()
    ]
    expected = {60: "rate(1 minute)", 120: "rate(2 minutes)", 300: "rate(5 minutes)"}
    assert sorted(rules) == sorted(expected[every] for every in schedules().values())


def test_given_dispatch_concurrency_then_that_many_dispatchers_run_each_with_its_lanes(
    tmp_path: Path,
):
    app = App(
        context={
            "bundleDependencies": "false",
            "dispatchConcurrency": "3",
            "dispatchLanes": "48",
        },
        outdir=str(tmp_path),
    )
    template = Template.from_stack(build(app))
    dispatch = next(
        (name, v)
        for name, v in _resources(template, "AWS::Lambda::Function").items()
        if v["Properties"].get("Handler") == "functions.dispatch.handler.handler"
    )
    assert dispatch[1]["Properties"]["ReservedConcurrentExecutions"] == 3
    assert dispatch[1]["Properties"]["Environment"]["Variables"]["SENDRAIL_LANES"] == "48"
    fired = [
        json.loads(t["Input"])["slot"]
        for rule in _resources(template, "AWS::Events::Rule").values()
        for t in rule["Properties"]["Targets"]
        if dispatch[0] in json.dumps(t["Arn"])
    ]
    assert sorted(fired) == [0, 1, 2]


@pytest.mark.parametrize("bad", [{"dispatchConcurrency": "0"}, {"dispatchLanes": "lots"}])
def test_given_bad_dispatch_context_then_synth_refuses_it(tmp_path: Path, bad: dict[str, str]):
    app = App(context={"bundleDependencies": "false", **bad}, outdir=str(tmp_path))
    with pytest.raises(ValueError, match="dispatch"):
        build(app)


def test_given_the_api_then_routes_reach_their_functions(synthesized):
    _, template, _ = synthesized
    template.resource_count_is("AWS::ApiGateway::RestApi", 1)
    paths = {
        r["Properties"]["PathPart"]
        for r in _resources(template, "AWS::ApiGateway::Resource").values()
    }
    assert {
        "api",
        "track",
        "unsubscribe",
        "webhooks",
        "oauth",
        "health",
        "openapi.json",
        "app",
        "{proxy+}",
    } <= paths
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "TracingEnabled": True,
            "AccessLogSetting": Match.object_like({"DestinationArn": Match.any_value()}),
        },
    )
    template.has_output("ApiUrl", {})


def _function(template: Template, name: str) -> tuple[str, dict[str, Any]]:
    return next(
        (logical, v["Properties"])
        for logical, v in _resources(template, "AWS::Lambda::Function").items()
        if v["Properties"].get("Handler") == f"functions.{name}.handler.handler"
    )


def test_given_the_tracking_api_then_the_readers_routes_reach_tracking_in_payload_2(
    synthesized,
):
    _, template, _ = synthesized
    (api,) = _resources(template, "AWS::ApiGatewayV2::Api").values()
    assert api["Properties"]["ProtocolType"] == "HTTP"
    routes = {
        r["Properties"]["RouteKey"]
        for r in _resources(template, "AWS::ApiGatewayV2::Route").values()
    }
    assert routes == {
        f"{method} {prefix}/{{proxy+}}" for prefix, methods in READER_ROUTES for method in methods
    }
    assert routes == {
        "GET /track/{proxy+}",
        "GET /unsubscribe/{proxy+}",
        "POST /unsubscribe/{proxy+}",
    }
    tracking, _ = _function(template, "tracking")
    (integration,) = _resources(template, "AWS::ApiGatewayV2::Integration").values()
    assert integration["Properties"]["IntegrationType"] == "AWS_PROXY"
    assert integration["Properties"]["PayloadFormatVersion"] == "2.0"
    assert tracking in json.dumps(integration["Properties"]["IntegrationUri"])
    (stage,) = _resources(template, "AWS::ApiGatewayV2::Stage").values()
    props = stage["Properties"]
    assert (props["StageName"], props["AutoDeploy"]) == ("$default", True)
    assert props["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": RATE_LIMIT,
        "ThrottlingBurstLimit": BURST_LIMIT,
    }
    assert "$context.requestId" in props["AccessLogSettings"]["Format"]
    assert "DestinationArn" in props["AccessLogSettings"]
    template.resource_count_is("AWS::ApiGatewayV2::DomainName", 0)
    # The REST API keeps the same paths: links already sent keep working.
    template.has_resource_properties(
        "AWS::ApiGateway::Resource", {"PathPart": "track", "ParentId": Match.any_value()}
    )
    template.has_resource_properties("AWS::ApiGateway::Resource", {"PathPart": "unsubscribe"})


def test_given_no_tracking_domain_then_links_use_the_http_apis_own_url(synthesized):
    _, template, _ = synthesized
    (api_id,) = _resources(template, "AWS::ApiGatewayV2::Api")
    for name in ("dispatch", "enqueue"):  # sent mail; previews and proofs
        _, props = _function(template, name)
        url = props["Environment"]["Variables"]["SENDRAIL_TRACKING_BASE_URL"]
        assert {"Ref": api_id} in url["Fn::Join"][1], url
        assert ".execute-api." in json.dumps(url) and "/v1" not in json.dumps(url)
    for name in ("tracking", "token_refresh", "inbox"):  # they write no reader's links
        _, props = _function(template, name)
        assert "SENDRAIL_TRACKING_BASE_URL" not in props["Environment"]["Variables"]
    template.has_output("TrackingUrl", {})
    assert "TrackingDomainCname" not in template.to_json()["Outputs"]


def test_given_a_tracking_domain_then_it_maps_to_the_http_api_and_links_use_it(tmp_path: Path):
    app = App(
        context={
            "bundleDependencies": "false",
            "trackingDomain": "t.example.com",
            "trackingCertificateArn": CERTIFICATE,
        },
        outdir=str(tmp_path),
    )
    stack = build(app)
    app.synth()  # cdk-nag runs here: the domain must pass it too
    template = Template.from_stack(stack)
    (domain_id,) = _resources(template, "AWS::ApiGatewayV2::DomainName")
    (api_id,) = _resources(template, "AWS::ApiGatewayV2::Api")
    template.has_resource_properties(
        "AWS::ApiGatewayV2::DomainName",
        {
            "DomainName": "t.example.com",
            "DomainNameConfigurations": [
                Match.object_like({"CertificateArn": CERTIFICATE, "EndpointType": "REGIONAL"})
            ],
        },
    )
    template.has_resource_properties(
        "AWS::ApiGatewayV2::ApiMapping",
        {"ApiId": {"Ref": api_id}, "DomainName": {"Ref": domain_id}, "Stage": Match.any_value()},
    )
    for name in ("dispatch", "enqueue"):
        _, props = _function(template, name)
        assert props["Environment"]["Variables"]["SENDRAIL_TRACKING_BASE_URL"] == (
            "https://t.example.com"
        )
        # The API's own links (OAuth callbacks, invitations) stay on the REST API.
        public = props["Environment"]["Variables"]["SENDRAIL_PUBLIC_BASE_URL"]
        assert ".execute-api." in json.dumps(public)
    outputs = template.to_json()["Outputs"]
    cname = outputs["TrackingDomainCname"]
    assert cname["Value"] == {"Fn::GetAtt": [domain_id, "RegionalDomainName"]}
    assert "t.example.com CNAME" in cname["Description"]
    assert outputs["TrackingUrl"]["Value"] == "https://t.example.com"
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (nag,) = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert nag["conclusion"] == "success" and nag["violations"] == []


def test_given_a_public_base_url_and_no_tracking_domain_then_links_stay_on_it(tmp_path: Path):
    """A deployment already on its own domain (in front of the REST API) keeps its branded
    links rather than moving them to an ``execute-api`` host."""
    app = App(
        context={"bundleDependencies": "false", "publicBaseUrl": "https://mail.example.com"},
        outdir=str(tmp_path),
    )
    template = Template.from_stack(build(app))
    for name in ("dispatch", "enqueue"):
        _, props = _function(template, name)
        variables = props["Environment"]["Variables"]
        assert variables["SENDRAIL_TRACKING_BASE_URL"] == "https://mail.example.com"
        assert variables["SENDRAIL_PUBLIC_BASE_URL"] == "https://mail.example.com"


def test_given_good_tracking_domain_context_then_it_is_read_as_a_host_name():
    domain = TrackingDomain.from_context(" T.Example.COM. ", CERTIFICATE)
    assert domain == TrackingDomain("t.example.com", CERTIFICATE)
    assert TrackingDomain.from_context("t.xn--p1ai", CERTIFICATE) is not None
    assert TrackingDomain.from_context(None, None) is None


@pytest.mark.parametrize(
    "bad",
    [
        {"trackingDomain": "t.example.com"},
        {"trackingCertificateArn": CERTIFICATE},
        {"trackingDomain": "https://t.example.com", "trackingCertificateArn": CERTIFICATE},
        {"trackingDomain": "t.example.com", "trackingCertificateArn": "not-an-arn"},
        {"trackingDomain": "t.example.com/x", "trackingCertificateArn": CERTIFICATE},
        {"trackingDomain": "localhost", "trackingCertificateArn": CERTIFICATE},
    ],
)
def test_given_bad_tracking_domain_context_then_it_is_refused_before_synth(bad: dict[str, str]):
    with pytest.raises(ValueError, match="tracking"):
        TrackingDomain.from_context(bad.get("trackingDomain"), bad.get("trackingCertificateArn"))


def test_given_least_privilege_then_only_dispatch_and_the_api_may_send_through_ses(synthesized):
    # The API sends a campaign's proofs (POST /api/campaigns/{id}/test); nothing else sends
    _, template, _ = synthesized
    policies = _resources(template, "AWS::IAM::Policy")
    senders = [
        name
        for name, p in policies.items()
        if "ses:SendEmail" in json.dumps(p["Properties"]["PolicyDocument"])
    ]
    assert len(senders) == 2, senders
    assert {"Dispatch", "Enqueue"} == {n[len("Functions") :].split("Service")[0] for n in senders}
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_given_the_inbox_watcher_then_it_reads_secrets_and_writes_outcomes_but_sends_nothing(
    synthesized,
):
    _, template, _ = synthesized
    policies = _resources(template, "AWS::IAM::Policy")
    (policy,) = [p for name, p in policies.items() if name.startswith("FunctionsInboxServiceRole")]
    document = json.dumps(policy["Properties"]["PolicyDocument"])
    assert "dynamodb:PutItem" in document and "kms:Decrypt" in document
    assert "ses:" not in document
    # Its only queue is the webhooks queue (bounces it reads become webhook events).
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        if any(a.startswith("sqs:") for a in actions):
            assert "Webhooks" in json.dumps(statement["Resource"]), statement
            assert "webhooks-dlq" not in json.dumps(statement["Resource"]).lower()


def _statements_of(template: Template, role_hint: str) -> list[dict[str, Any]]:
    return [
        statement
        for name, policy in _resources(template, "AWS::IAM::Policy").items()
        if role_hint in name
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_given_api_rate_limits_then_enqueue_may_only_update_items_of_the_limits_table(
    synthesized,
):
    # Given the API's rate counters (UpdateItem) and proofs, which take units of the
    # sending limits (a conditional PutItem): enqueue puts only sending subjects, never
    # the rate counters (api#...), and deletes nothing
    _, template, _ = synthesized
    limits = next(
        name
        for name, t in _resources(template, "AWS::DynamoDB::Table").items()
        if t["Properties"]["KeySchema"] == [{"AttributeName": "subject", "KeyType": "HASH"}]
    )
    writes = {"dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
    on_limits = [
        s
        for s in _statements_of(template, "Enqueue")
        if limits in json.dumps(s.get("Resource")) and "Index" not in json.dumps(s["Resource"])
    ]
    actions: set[str] = set()
    for statement in on_limits:
        granted = statement["Action"]
        granted = {granted} if isinstance(granted, str) else set(granted)
        actions |= granted
        if granted & writes:
            assert granted == {"dynamodb:PutItem"}, granted
            patterns = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            assert set(patterns) == {"mbx#*", "ten#*", "rdom#*", "sdom#*"}
    assert "dynamodb:UpdateItem" in actions
    assert actions & writes == {"dynamodb:PutItem"}, actions & writes
    table = _resources(template, "AWS::DynamoDB::Table")[limits]["Properties"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_given_ses_feedback_then_a_topic_delivers_it_to_the_webhook_over_https(synthesized):
    _, template, _ = synthesized
    template.resource_count_is("AWS::SNS::Topic", 2)  # SES feedback, and the alarms
    template.has_resource_properties(
        "AWS::SNS::Topic",
        {"DisplayName": "sendrail SES feedback", "KmsMasterKeyId": Match.any_value()},
    )
    template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "https"})
    subscription = next(iter(_resources(template, "AWS::SNS::Subscription").values()))
    assert "/webhooks/ses" in json.dumps(subscription["Properties"]["Endpoint"])
    topic_policy = json.dumps(_resources(template, "AWS::SNS::TopicPolicy"))
    assert "ses.amazonaws.com" in topic_policy and "AWS:SourceAccount" in topic_policy
    tracking = next(
        v
        for v in _resources(template, "AWS::Lambda::Function").values()
        if v["Properties"].get("Handler") == "functions.tracking.handler.handler"
    )
    # The webhook accepts only this topic's messages.
    assert "SENDRAIL_SES_TOPIC_ARNS" in tracking["Properties"]["Environment"]["Variables"]


def test_given_the_template_then_cfn_lint_passes(synthesized):
    _, _, out = synthesized
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "cfn-lint"),
            "--ignore-checks",
            "W3005",
            "--",
            str(out / "Sendrail.template.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_given_cdk_nag_then_nothing_is_violated_and_every_acknowledgement_is_used_and_explained(
    synthesized,
):
    from infra.nag import ACCEPTED

    _, _, out = synthesized
    report = json.loads((out / "validation-report.json").read_text())
    (nag,) = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert nag["conclusion"] == "success"
    assert nag["violations"] == []
    used = {v["acknowledgedId"] for v in nag["suppressedViolations"]}
    assert used == set(ACCEPTED), f"stale acknowledgements: {set(ACCEPTED) - used}"
    assert all(len(reason) > 40 for reason in ACCEPTED.values())


def test_given_make_synth_then_the_template_lands_in_cdk_out():
    """The README's command, without dependency bundling (context as the CDK CLI passes it)."""
    root = Path(__file__).resolve().parents[2]
    template = root / "cdk.out" / "Sendrail.template.json"
    template.unlink(missing_ok=True)
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps({"bundleDependencies": "false"})}
    env.pop("CDK_OUTDIR", None)
    done = subprocess.run(
        ["make", "--no-print-directory", "synth"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert template.is_file()
    assert "ApiUrl" in json.loads(template.read_text())["Outputs"]
    assert f"into {template.relative_to(root)}" in done.stderr


def test_given_webhooks_then_enqueue_drains_their_queue_five_at_a_time(synthesized):
    _, template, _ = synthesized
    mappings = _resources(template, "AWS::Lambda::EventSourceMapping").values()
    webhooks = [
        m
        for m in mappings
        if "Webhooks" in json.dumps(m["Properties"]["EventSourceArn"])
        and "Dlq" not in json.dumps(m["Properties"]["EventSourceArn"])
    ]
    assert len(webhooks) == 1, mappings
    (mapping,) = webhooks
    assert mapping["Properties"]["BatchSize"] == 5
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "Enqueue" in json.dumps(mapping["Properties"]["FunctionName"])
