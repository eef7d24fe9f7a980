"""The functions of ``sendrail.functions_spec``, each with its own least-privilege role,
sharing one layer; their SQS event sources come from the spec too."""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from sendrail.functions_spec import FUNCTIONS
from sendrail.services.capacity import SUBJECT_PREFIXES

from infra.bundling import function_code, runtime
from infra.constructs.queues import Queues
from infra.constructs.tables import Tables

RUNTIME = runtime()
ARCHITECTURE = lambda_.Architecture.ARM_64
SEND_SUBJECTS = [f"{prefix}*" for prefix in SUBJECT_PREFIXES]  # the limits proofs take


@dataclass(frozen=True)
class DispatchScale:
    """How dispatch scales out: ``concurrency`` invocations are started every minute and
    may run at once (reserved concurrency); each sends over ``lanes`` lanes. Invocations
    share the work through SQS (each message goes to one receiver at a time), conditional
    feed cursors, versioned limit writes and conditional claims."""

    concurrency: int = 1
    lanes: int = 32

    def __post_init__(self) -> None:
        if not 1 <= self.concurrency <= 20:
            raise ValueError("dispatchConcurrency must be between 1 and 20")
        if not 1 <= self.lanes <= 256:
            raise ValueError("dispatchLanes must be between 1 and 256")

    @classmethod
    def from_context(cls, concurrency: object, lanes: object) -> DispatchScale:
        try:
            return cls(
                concurrency=int(str(concurrency)) if concurrency is not None else 1,
                lanes=int(str(lanes)) if lanes is not None else 32,
            )
        except ValueError as exc:
            raise ValueError(f"bad dispatch context: {exc}") from None


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        layer: lambda_.ILayerVersion,
        tables: Tables,
        queues: Queues,
        key: kms.IKey,
        signing_secret: secretsmanager.ISecret,
        admin_key: secretsmanager.ISecret,
        removal: RemovalPolicy,
        scale: DispatchScale | None = None,
    ) -> None:
        super().__init__(scope, cid)
        common = {
            "SENDRAIL_TABLES": json.dumps(tables.names()),
            "SENDRAIL_QUEUES": json.dumps(queues.urls()),
            "SENDRAIL_SIGNING_SECRET_ARN": signing_secret.secret_arn,
            "POWERTOOLS_SERVICE_NAME": "sendrail",
            "POWERTOOLS_METRICS_NAMESPACE": "Sendrail",
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        self.by_name: dict[str, lambda_.Function] = {}
        self.scale = scale or DispatchScale()
        for spec in FUNCTIONS.values():
            fn = lambda_.Function(
                self,
                spec.name.title().replace("_", ""),
                runtime=RUNTIME,
                architecture=ARCHITECTURE,
                handler=spec.handler,
                code=function_code(spec.name),
                layers=[layer],
                timeout=Duration.seconds(spec.timeout),
                memory_size=spec.memory,
                # Dispatch: at most this many invocations at once (they share the queues).
                reserved_concurrent_executions=self.scale.concurrency
                if spec.name == "dispatch"
                else None,
                tracing=lambda_.Tracing.ACTIVE,
                environment={
                    **common,
                    **({"SENDRAIL_KMS_KEY_ID": key.key_arn} if spec.uses_kms else {}),
                },
                log_group=logs.LogGroup(
                    self,
                    f"{spec.name.title().replace('_', '')}Logs",
                    retention=logs.RetentionDays.ONE_MONTH,
                    removal_policy=removal,
                ),
            )
            signing_secret.grant_read(fn)
            for source in spec.sources:
                fn.add_event_source(
                    sources.SqsEventSource(
                        queues.by_name[source.queue],
                        batch_size=source.batch_size,
                        max_batching_window=Duration.seconds(source.window_seconds)
                        if source.window_seconds
                        else None,
                        report_batch_item_failures=True,
                    )
                )
            self.by_name[spec.name] = fn
        t = tables.by_name
        enqueue, dispatch = self.by_name["enqueue"], self.by_name["dispatch"]
        tracking, refresh = self.by_name["tracking"], self.by_name["token_refresh"]
        for function in self.by_name.values():  # webhook events are emitted everywhere
            queues.by_name["webhooks"].grant_send_messages(function)

        # enqueue: the management API and the import worker.
        for name in ("main", "recipients", "suppressions"):
            t[name].grant_read_write_data(enqueue)
        for name in ("limits", "stats"):
            t[name].grant_read_data(enqueue)
        # The API's per-key rate counters (``api#…`` items): counting is one UpdateItem.
        t["limits"].grant(enqueue, "dynamodb:UpdateItem")
        # POST /api/campaigns/{id}/test: proofs take units of the sending limits (a
        # conditional PutItem of mailbox, sender/recipient domain and tenant subjects; never
        # the API's rate counters) and count on the mailbox's day; SES mailboxes send them.
        enqueue.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:PutItem"],
                resources=[t["limits"].table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": SEND_SUBJECTS}},
            )
        )
        t["stats"].grant(enqueue, "dynamodb:UpdateItem")
        enqueue.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=["*"],
                conditions={"StringEquals": {"ses:ApiVersion": "2"}},
            )
        )
        for queue in queues.send_queues():
            queue.grant_send_messages(enqueue)
        queues.by_name["import"].grant_send_messages(enqueue)
        key.grant(enqueue, "kms:GenerateDataKey", "kms:Decrypt")
        admin_key.grant_read(enqueue)
        enqueue.add_environment("SENDRAIL_ADMIN_KEY_SECRET_ARN", admin_key.secret_arn)
        enqueue.add_to_role_policy(
            iam.PolicyStatement(
                # POST /api/mailboxes/{id}/verify: an SES sender's identity and the account's
                # sending state (read-only; these actions take no resource).
                actions=["ses:GetIdentityVerificationAttributes", "ses:GetAccountSendingEnabled"],
                resources=["*"],
            )
        )
        for name in queues.by_name:
            if name.endswith("-dlq"):
                queues.by_name[name].grant(enqueue, "sqs:GetQueueAttributes")
        for queue in queues.send_queues():
            queue.grant(enqueue, "sqs:GetQueueAttributes")

        # dispatch: reads the queues, writes recipients, counters and outcomes, sends mail.
        dispatch.add_environment("SENDRAIL_LANES", str(self.scale.lanes))
        for name in ("main", "recipients", "limits", "stats"):
            t[name].grant_read_write_data(dispatch)
        t["suppressions"].grant_read_data(dispatch)
        for queue in queues.send_queues():
            queue.grant_consume_messages(dispatch)
            queue.grant_send_messages(dispatch)
        for name, queue in queues.by_name.items():
            if name.startswith("send-") and name.endswith("-dlq"):
                queue.grant_send_messages(dispatch)
        key.grant(dispatch, "kms:Decrypt", "kms:GenerateDataKey")
        dispatch.add_to_role_policy(
            iam.PolicyStatement(
                # The account's sending rate sets SES mailboxes' parallel connections.
                actions=["ses:GetSendQuota"],
                resources=["*"],
            )
        )
        dispatch.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=["*"],
                conditions={"StringEquals": {"ses:ApiVersion": "2"}},
            )
        )

        # tracking: records events, suppresses, cancels unsent mail, pauses mailboxes; hits
        # it cannot record at once go through the events queue, which it drains itself.
        for name in ("main", "recipients", "suppressions", "stats"):
            t[name].grant_read_write_data(tracking)
        events = queues.by_name["events"]
        events.grant_send_messages(tracking)
        queues.by_name["webhook-items"].grant_send_messages(tracking)

        # token_refresh: reads and re-seals tokens on mailboxes.
        t["main"].grant_read_write_data(refresh)
        key.grant(refresh, "kms:Decrypt", "kms:GenerateDataKey")

        # inbox: reads mailboxes' inboxes; records replies, bounces, suppressions, counters,
        # pauses mailboxes (the bounce service) and keeps its checkpoints in ``main``.
        watcher = self.by_name["inbox"]
        for name in ("main", "recipients", "suppressions", "stats"):
            t[name].grant_read_write_data(watcher)
        key.grant(watcher, "kms:Decrypt", "kms:GenerateDataKey")  # refreshed tokens

    def use_oauth_clients(
        self,
        secret: secretsmanager.ISecret,
        *,
        google_client_id: str | None,
        microsoft_client_id: str | None,
    ) -> None:
        """Gmail and Outlook: client ids from the app's context, client secrets from
        Secrets Manager (read by the functions that connect, send and refresh)."""
        for name in ("enqueue", "dispatch", "token_refresh", "inbox"):
            fn = self.by_name[name]
            secret.grant_read(fn)
            fn.add_environment("SENDRAIL_OAUTH_SECRET_ARN", secret.secret_arn)
            if google_client_id:
                fn.add_environment("SENDRAIL_GOOGLE_CLIENT_ID", google_client_id)
            if microsoft_client_id:
                fn.add_environment("SENDRAIL_MICROSOFT_CLIENT_ID", microsoft_client_id)

    def set_public_base_url(self, url: str) -> None:
        for fn in self.by_name.values():
            fn.add_environment("SENDRAIL_PUBLIC_BASE_URL", url)

    def set_tracking_base_url(self, url: str) -> None:
        """The functions that write links for readers: dispatch (sent mail) and enqueue
        (previews and proofs)."""
        for name in ("dispatch", "enqueue"):
            self.by_name[name].add_environment("SENDRAIL_TRACKING_BASE_URL", url)
