"""EventBridge rules that fire the scheduled functions (``sendrail.functions_spec``)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from sendrail.functions_spec import schedules


class Schedules(Construct):
    """One rule per schedule; dispatch gets one rule per concurrent dispatcher (each fires
    one invocation a minute, with its slot number as input)."""

    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        functions: dict[str, lambda_.IFunction],
        dispatchers: int = 1,
    ) -> None:
        super().__init__(scope, cid)
        for function, every_seconds in schedules().items():
            name = function.title().replace("_", "")
            slots = dispatchers if function == "dispatch" else 1
            for slot in range(slots):
                events.Rule(
                    self,
                    name if slot == 0 else f"{name}{slot}",
                    description=f"fire {function} every {every_seconds} s"
                    + (f" (dispatcher {slot + 1} of {slots})" if slots > 1 else ""),
                    schedule=events.Schedule.rate(Duration.seconds(every_seconds)),
                    targets=[
                        targets.LambdaFunction(
                            functions[function],
                            event=events.RuleTargetInput.from_object({"slot": slot}),
                            retry_attempts=0,  # a missed run is replaced by the next one
                            max_event_age=Duration.minutes(2),
                        )
                    ],
                )
