"""API Gateway HTTP API for what readers follow from sent mail (``READER_ROUTES``: the open
pixel, click redirects, the unsubscribe page and RFC 8058's one-click POST): payload format
2.0 to the ``tracking`` function, at $1.00 per million requests where the REST API costs
$3.50. The REST API keeps the same routes, so links already sent keep working.

Optionally on a branded tracking domain (context ``trackingDomain`` with
``trackingCertificateArn``, an ACM certificate in the stack's region): spam filters trust
``t.example.com`` more than an ``execute-api`` host, and cold-email senders expect one."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import jsii
from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration
from constructs import Construct
from sendrail.api_routes import READER_ROUTES

# A campaign's opens arrive in bursts (a mailbox provider's image proxy fetching at once);
# a throttled pixel loses an open and a throttled click a reader, so the stage allows more
# than the REST API's 200/s: the account's own limit (10,000/s) is shared by both.
RATE_LIMIT = 1000
BURST_LIMIT = 2000
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}$")
# HTTP API access log variables (the REST API's standard fields name some differently).
ACCESS_LOG = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationError": "$context.integrationErrorMessage",
}


@dataclass(frozen=True)
class TrackingDomain:
    """A branded host for tracking links and the ACM certificate that covers it."""

    name: str
    certificate_arn: str

    @classmethod
    def from_context(cls, domain: object, certificate_arn: object) -> TrackingDomain | None:
        if not domain and not certificate_arn:
            return None
        if not domain or not certificate_arn:
            raise ValueError(
                "trackingDomain needs trackingCertificateArn (an ACM certificate for it in the "
                "stack's region), and the certificate needs the domain"
            )
        name = str(domain).strip().lower().rstrip(".")
        if not _HOST.match(name):
            raise ValueError(f"trackingDomain must be a host name like t.example.com, not {name!r}")
        arn = str(certificate_arn).strip()
        if not arn.startswith("arn:") or ":acm:" not in arn:
            raise ValueError("trackingCertificateArn must be an ACM certificate ARN")
        return cls(name, arn)


class TrackingApi(Construct):
    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        function: lambda_.IFunction,
        removal: RemovalPolicy,
        domain: TrackingDomain | None = None,
    ) -> None:
        super().__init__(scope, cid)
        self.domain_name = domain.name if domain else None
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=removal
        )
        self.http = apigwv2.HttpApi(
            self,
            "Http",
            api_name="sendrail-tracking",
            description="sendrail: open pixel, click redirects and unsubscribe for readers",
            create_default_stage=False,  # the stage below: throttled, with access logs
        )
        integration = HttpLambdaIntegration(
            "Tracking",
            function,
            payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
        )
        for prefix, methods in READER_ROUTES:
            self.http.add_routes(
                path=f"{prefix}/{{proxy+}}",
                methods=[apigwv2.HttpMethod(method) for method in methods],
                integration=integration,
            )
        self.domain = (
            apigwv2.DomainName(
                self,
                "Domain",
                domain_name=domain.name,
                certificate=acm.Certificate.from_certificate_arn(
                    self, "Certificate", domain.certificate_arn
                ),
            )
            if domain
            else None
        )
        self.stage = apigwv2.HttpStage(
            self,
            "Stage",
            http_api=self.http,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=RATE_LIMIT, burst_limit=BURST_LIMIT),
            access_log_settings=_AccessLogs(access_logs),
            domain_mapping=apigwv2.DomainMappingOptions(domain_name=self.domain)
            if self.domain
            else None,
        )

    def base_url(self) -> str:
        """Where tracking links point: the branded domain, else the API's own URL (from
        its id alone, like the REST API's: the functions depend on the API, not its
        routes, which depend on the tracking function)."""
        if self.domain_name:
            return f"https://{self.domain_name}"
        return f"https://{self.http.api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}"


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogs:
    """One JSON line per request into ``group``."""

    def __init__(self, group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG))
