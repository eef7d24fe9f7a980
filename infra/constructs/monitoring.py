"""Alarms and a dashboard: what a team running sendrail needs to be told, on one SNS topic
(an e-mail subscription from the app's ``alarmEmail`` context), and one CloudWatch
dashboard with sends, deferrals, failures, opens, clicks and queue depth.

Custom metrics come from Powertools (namespace ``Sendrail``, dimension ``service``):
dispatch publishes its report's counts, tracking opens and clicks, and the services the
mailbox transitions an operator must act on (``MailboxNeedsReauth``,
``MailboxPausedForRate``)."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

NAMESPACE = "Sendrail"
SERVICE = {"service": "sendrail"}
PERIOD = Duration.minutes(5)
# Dispatch's duration alarm: a run this close to its timeout is about to be cut short.
NEAR_TIMEOUT = 0.8
# The API's 5xx alarm: this many server errors in five minutes (bad input is a 4xx).
API_5XX = 5


@dataclass(frozen=True)
class Watched:
    """What the alarms watch: the functions (with their timeouts in seconds), the queues
    by logical name, the API and the tracking HTTP API."""

    functions: dict[str, lambda_.Function]
    timeouts: dict[str, int]
    queues: dict[str, sqs.Queue]
    api: apigw.RestApi
    tracking_api: apigwv2.HttpApi


def custom(name: str, statistic: str = "Sum") -> cw.Metric:
    return cw.Metric(
        namespace=NAMESPACE,
        metric_name=name,
        dimensions_map=SERVICE,
        statistic=statistic,
        period=PERIOD,
    )


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        watched: Watched,
        key: kms.IKey,
        email: str | None = None,
        oldest_message_hours: int = 6,
    ) -> None:
        super().__init__(scope, cid)
        self.topic = sns.Topic(
            self, "Alarms", display_name="sendrail alarms", master_key=key, enforce_ssl=True
        )
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        self._action = cw_actions.SnsAction(self.topic)
        self.alarms: dict[str, cw.Alarm] = {}

        dead_letters = {n: q for n, q in watched.queues.items() if n.endswith("-dlq")}
        sends = {
            n: q
            for n, q in watched.queues.items()
            if n.startswith("send-") and n not in dead_letters
        }
        for name, queue in dead_letters.items():
            self._alarm(
                f"{name} has messages",
                queue.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic="Maximum"
                ),
                threshold=1,
                description=f"messages were dead-lettered into {name}: inspect and redrive",
            )
        for name, queue in sends.items():
            self._alarm(
                f"{name} oldest message",
                queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum"),
                threshold=oldest_message_hours * 3600,
                description=f"a message has waited over {oldest_message_hours} h in {name}:"
                " dispatch is not keeping up or not running",
            )
        for name, fn in watched.functions.items():
            self._alarm(
                f"{name} errors",
                fn.metric_errors(period=PERIOD, statistic="Sum"),
                threshold=1,
                description=f"the {name} function failed",
            )
            self._alarm(
                f"{name} throttles",
                fn.metric_throttles(period=PERIOD, statistic="Sum"),
                threshold=1,
                description=f"the {name} function was throttled",
            )
        dispatch = watched.functions["dispatch"]
        self._alarm(
            "dispatch near its timeout",
            dispatch.metric_duration(period=PERIOD, statistic="Maximum"),
            threshold=NEAR_TIMEOUT * watched.timeouts["dispatch"] * 1000,
            description="a dispatch run came close to its timeout",
        )
        self._alarm(
            "api 5xx",
            watched.api.metric_server_error(period=PERIOD, statistic="Sum"),
            threshold=API_5XX,
            description="the API answered server errors",
        )
        self._alarm(
            "tracking api 5xx",
            watched.tracking_api.metric_server_error(period=PERIOD, statistic="Sum"),
            threshold=API_5XX,
            description="the tracking API answered readers with server errors",
        )
        self._alarm(
            "mailbox needs reauth",
            custom("MailboxNeedsReauth"),
            threshold=1,
            description="a Gmail or Outlook mailbox lost its grant: reconnect it",
        )
        self._alarm(
            "mailbox paused for rate",
            custom("MailboxPausedForRate"),
            threshold=1,
            description="a mailbox was paused for its bounce or complaint rate",
        )
        self.dashboard = self._dashboard(watched, sends, dead_letters)

    def _alarm(self, name: str, metric: cw.Metric, *, threshold: float, description: str) -> None:
        alarm = metric.create_alarm(
            self,
            name.title().replace(" ", "").replace("-", ""),
            alarm_description=f"sendrail: {description}",
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        self.alarms[name] = alarm

    def _dashboard(
        self,
        watched: Watched,
        sends: dict[str, sqs.Queue],
        dead_letters: dict[str, sqs.Queue],
    ) -> cw.Dashboard:
        dashboard = cw.Dashboard(self, "Dashboard", dashboard_name="sendrail")
        dispatch = watched.functions["dispatch"]
        dashboard.add_widgets(
            cw.GraphWidget(
                title="Sending",
                left=[custom(n) for n in ("Sent", "Deferred", "Retried", "Failed")],
                width=12,
            ),
            cw.GraphWidget(
                title="Engagement",
                left=[custom(n) for n in ("Opened", "Clicked")],
                width=12,
            ),
        )
        dashboard.add_widgets(
            cw.GraphWidget(
                title="Send queues (visible)",
                left=[
                    q.metric_approximate_number_of_messages_visible(period=PERIOD)
                    for q in sends.values()
                ],
                width=8,
            ),
            cw.GraphWidget(
                title="Dead-letter queues",
                left=[
                    q.metric_approximate_number_of_messages_visible(period=PERIOD)
                    for q in dead_letters.values()
                ],
                width=8,
            ),
            cw.GraphWidget(
                title="Dispatch duration (ms)",
                left=[dispatch.metric_duration(period=PERIOD, statistic="Maximum")],
                left_annotations=[
                    cw.HorizontalAnnotation(
                        value=watched.timeouts["dispatch"] * 1000, label="timeout"
                    )
                ],
                width=8,
            ),
        )
        dashboard.add_widgets(
            cw.GraphWidget(
                title="API",
                left=[
                    watched.api.metric_client_error(period=PERIOD),
                    watched.api.metric_server_error(period=PERIOD),
                ],
                width=8,
            ),
            cw.GraphWidget(
                title="Tracking API",
                left=[
                    watched.tracking_api.metric_client_error(period=PERIOD),
                    watched.tracking_api.metric_server_error(period=PERIOD),
                ],
                width=8,
            ),
            cw.GraphWidget(
                title="Mailboxes needing attention",
                left=[custom("MailboxNeedsReauth"), custom("MailboxPausedForRate")],
                width=8,
            ),
        )
        return dashboard
