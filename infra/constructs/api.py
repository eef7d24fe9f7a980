"""API Gateway: one REST API; each path prefix of ``sendrail.api_routes`` goes to its
function by Lambda proxy integration. Authentication and roles are checked in the
``enqueue`` function (API keys and sessions live in DynamoDB), not by an authorizer."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from sendrail.api_routes import ROUTES

STAGE = "v1"


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        functions: dict[str, lambda_.IFunction],
        removal: RemovalPolicy,
    ) -> None:
        super().__init__(scope, cid)
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=removal
        )
        self.rest = apigw.RestApi(
            self,
            "Rest",
            rest_api_name="sendrail",
            description="sendrail: management API, tracking and webhooks",
            binary_media_types=["image/*"],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=removal,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                throttling_rate_limit=200,
                throttling_burst_limit=400,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
            ),
        )
        validator = self.rest.add_request_validator(
            "Validator", validate_request_parameters=True, validate_request_body=True
        )
        integrations = {name: apigw.LambdaIntegration(fn) for name, fn in functions.items()}
        for prefix, function in ROUTES:
            resource = self.rest.root
            for part in prefix.strip("/").split("/"):
                resource = resource.get_resource(part) or resource.add_resource(part)
            integration = integrations[function]
            if prefix in ("/health", "/openapi.json"):
                resource.add_method("GET", integration, request_validator=validator)
            else:
                if prefix == "/app":  # the dashboard's index is the folder itself
                    resource.add_method("GET", integration, request_validator=validator)
                resource.add_resource("{proxy+}").add_method(
                    "ANY", integration, request_validator=validator
                )

    def base_url(self) -> str:
        """The deployment's public base URL, from the API id (no dependency on the stage)."""
        from aws_cdk import Aws  # noqa: PLC0415

        return f"https://{self.rest.rest_api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}/{STAGE}"
