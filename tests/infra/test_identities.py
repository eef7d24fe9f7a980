"""SES domain identities from the ``sesDomains`` context: Easy DKIM, a custom MAIL FROM, and
the DNS records to publish as outputs."""

from __future__ import annotations

import os
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20,18")

from aws_cdk import App
from aws_cdk.assertions import Match, Template

from infra.app import build
from infra.constructs.identities import parse_domains

pytestmark = pytest.mark.xdist_group("infra")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    app = App(
        context={"bundleDependencies": "false", "sesDomains": "Example.com, example.org,"},
        outdir=str(tmp_path_factory.mktemp("cdk.out")),
    )
    stack = build(app)
    app.synth()  # cdk-nag runs here too
    return Template.from_stack(stack)


def test_given_two_domains_then_two_identities_with_easy_dkim_and_mail_from(template):
    template.resource_count_is("AWS::SES::EmailIdentity", 2)
    for domain in ("example.com", "example.org"):
        template.has_resource_properties(
            "AWS::SES::EmailIdentity",
            {
                "EmailIdentity": domain,  # Easy DKIM signs by default: 2048-bit keys
                "DkimSigningAttributes": {"NextSigningKeyLength": "RSA_2048_BIT"},
                "MailFromAttributes": {
                    "MailFromDomain": f"mail.{domain}",
                    "BehaviorOnMxFailure": "USE_DEFAULT_VALUE",
                },
            },
        )


def _joined(value: Any) -> str:
    """An output's value as text, tokens shown by their logical name or pseudo parameter."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        return "".join(_joined(v) for v in value["Fn::Join"][1])
    if "Fn::GetAtt" in value:
        return "{" + ".".join(value["Fn::GetAtt"]) + "}"
    if "Ref" in value:
        return "{" + value["Ref"] + "}"
    raise AssertionError(value)


def test_given_two_domains_then_their_dns_records_are_printed(template):
    outputs = {k: _joined(v["Value"]) for k, v in template.find_outputs("*").items()}
    com = {k: v for k, v in outputs.items() if k.startswith("SesExampleCom")}
    assert set(com) == {
        "SesExampleComDkimCname1",
        "SesExampleComDkimCname2",
        "SesExampleComDkimCname3",
        "SesExampleComMailFromMx",
        "SesExampleComMailFromTxt",
        "SesExampleComDmarc",
    }
    assert "DkimDNSTokenName1" in com["SesExampleComDkimCname1"]
    assert " CNAME " in com["SesExampleComDkimCname1"]
    assert "DkimDNSTokenValue1" in com["SesExampleComDkimCname1"]
    assert com["SesExampleComMailFromMx"] == (
        "mail.example.com MX 10 feedback-smtp.{AWS::Region}.amazonses.com"
    )
    assert com["SesExampleComMailFromTxt"] == (
        'mail.example.com TXT "v=spf1 include:amazonses.com ~all"'
    )
    assert outputs["SesExampleOrgDmarc"].startswith('_dmarc.example.org TXT "v=DMARC1; p=none')
    template.has_output(
        "SesExampleOrgDkimCname3", {"Description": Match.string_like_regexp("CNAME")}
    )


def _logical_id(template: Template, kind: str) -> str:
    (found,) = template.find_resources(kind)
    return str(found)


def test_given_the_stack_then_bounces_and_complaints_of_ses_sends_reach_the_feedback_topic(
    template,
):
    # Given the configuration set, publishing bounces and complaints to the feedback topic
    config_set = _logical_id(template, "AWS::SES::ConfigurationSet")
    topic = next(
        name
        for name, t in template.find_resources("AWS::SNS::Topic").items()
        if t["Properties"].get("DisplayName") == "sendrail SES feedback"
    )
    template.has_resource_properties(
        "AWS::SES::ConfigurationSetEventDestination",
        {
            "ConfigurationSetName": {"Ref": config_set},
            "EventDestination": {
                "Enabled": True,
                "MatchingEventTypes": ["bounce", "complaint"],
                "SnsDestination": {"TopicARN": {"Ref": topic}},
            },
        },
    )
    # Then every identity of the stack uses it by default
    for identity in template.find_resources("AWS::SES::EmailIdentity").values():
        attributes = identity["Properties"]["ConfigurationSetAttributes"]
        assert attributes == {"ConfigurationSetName": {"Ref": config_set}}
    # And dispatch names it on every SES send
    dispatch = next(
        f
        for f in template.find_resources("AWS::Lambda::Function").values()
        if "SENDRAIL_SES_CONFIGURATION_SET" in f["Properties"]["Environment"]["Variables"]
    )
    assert dispatch["Properties"]["Handler"].startswith("functions.dispatch")
    variables = dispatch["Properties"]["Environment"]["Variables"]
    assert variables["SENDRAIL_SES_CONFIGURATION_SET"] == {"Ref": config_set}
    template.has_output("SesConfigurationSet", {"Value": {"Ref": config_set}})


def test_domains_from_context_are_cleaned_and_checked():
    assert parse_domains(None) == [] and parse_domains("") == []
    assert parse_domains(" A.example.com., a.example.com ,b.example.org") == [
        "a.example.com",
        "b.example.org",
    ]
    assert parse_domains(["x.example"]) == ["x.example"]
    with pytest.raises(ValueError, match="not a domain"):
        parse_domains("example.com,not a domain")
