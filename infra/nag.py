"""cdk-nag (AwsSolutions) checks, and the findings we accept, each with its reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Stack, Validations
from cdk_nag import AwsSolutionsChecks

# Finding id -> why it is accepted. Everything else is a failure (tests/infra).
_NO_AUTHORIZER = (
    "API keys and sessions are checked by the enqueue function against DynamoDB (hashed keys, "
    "roles, tenants); public tracking/unsubscribe/webhook routes must stay open."
)
_TABLE_GRANTS = "CDK's table grants include the table's indexes and its KMS key's data-key actions."
ACCEPTED: dict[str, str] = {
    "AwsSolutions::AwsSolutions-APIG4": _NO_AUTHORIZER,
    "AwsSolutions::AwsSolutions-COG4": _NO_AUTHORIZER,
    "AwsSolutions::AwsSolutions-APIG3": (
        "No WAF by default: it has a fixed monthly cost and the bill must be near zero when idle; "
        "stage throttling and per-key checks apply. Attach a web ACL to the stage where needed."
    ),
    "AwsSolutions::AwsSolutions-L1": (
        "The runtime is the Python that builds the bundles (3.11 or 3.12, as pyproject allows): "
        "the shipped bytecode only loads in that version. Moving runtime means building with "
        "the newer Python, a deliberate change rather than a synth-time default."
    ),
    "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
    "AWSLambdaBasicExecutionRole]": "Lets each function write its own logs; nothing else.",
    "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
    "AmazonAPIGatewayPushToCloudWatchLogs]": "API Gateway's account role for execution logs.",
    "AwsSolutions::AwsSolutions-IAM5[Resource::*]": (
        "X-Ray's PutTraceSegments/PutTelemetryRecords take no resource; ses:SendEmail is "
        "limited to SES API v2 and the sending identities are chosen by tenants at run time."
    ),
    "AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]": _TABLE_GRANTS,
    "AwsSolutions::AwsSolutions-IAM5[Action::kms:ReEncrypt*]": _TABLE_GRANTS,
    "AwsSolutions::AwsSolutions-IAM5[Resource::<TablesMainBB1D2EBD.Arn>/index/*]": _TABLE_GRANTS,
    "AwsSolutions::AwsSolutions-IAM5[Resource::<TablesRecipients030EDB65.Arn>/index/*]": (
        _TABLE_GRANTS
    ),
    "AwsSolutions::AwsSolutions-SMG4": (
        "The signing key is inside every tracking and unsubscribe link already sent; rotating it "
        "would break those links (RFC 8058 requires unsubscribe links to keep working). The admin "
        "key is rotated by an operator creating a new admin key and deleting the old one."
    ),
}


def check(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(stack: Stack) -> None:
    Validations.of(stack).acknowledge(
        *[Acknowledgment(id=finding, reason=reason) for finding, reason in ACCEPTED.items()]
    )
