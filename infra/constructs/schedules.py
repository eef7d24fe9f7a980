"""EventBridge rules that fire the scheduled functions (``sendrail.schedules``)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from sendrail.schedules import SCHEDULES


class Schedules(Construct):
    def __init__(
        self, scope: Construct, cid: str, *, functions: dict[str, lambda_.IFunction]
    ) -> None:
        super().__init__(scope, cid)
        for schedule in SCHEDULES:
            events.Rule(
                self,
                schedule.function.title().replace("_", ""),
                description=f"fire {schedule.function} every {schedule.every_seconds} s",
                schedule=events.Schedule.rate(Duration.seconds(schedule.every_seconds)),
                targets=[
                    targets.LambdaFunction(
                        functions[schedule.function],
                        retry_attempts=0,  # a missed run is replaced by the next one
                        max_event_age=Duration.minutes(2),
                    )
                ],
            )
