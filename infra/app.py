"""``python -m infra.app``: synthesise the stack (what ``cdk synth``/``cdk deploy`` run).

Context: ``trackingDomain`` with ``trackingCertificateArn`` (a branded host for the links in
sent mail, on the tracking HTTP API; the certificate from ACM in the stack's region; the
``TrackingDomainCname`` output names the CNAME to create), ``publicBaseUrl`` (a custom
domain in front of the REST API; tracking links stay on it unless ``trackingDomain`` is
given), ``retainData``
(default true), ``bundleDependencies`` (default true; tests pass false),
``dispatchConcurrency`` (dispatch invocations started every minute and allowed at once,
default 1), ``dispatchLanes`` (sends in flight within one invocation, default 32),
``alarmEmail`` (an address subscribed to the alarm topic) and ``sesDomains`` (comma-separated
domains to create SES identities for, with Easy DKIM and a custom MAIL FROM: their DNS
records are printed as outputs)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from aws_cdk import App, Environment

from infra import nag
from infra.constructs.functions import DispatchScale
from infra.constructs.tracking_api import TrackingDomain
from infra.stack import SendrailStack


def build(app: App) -> SendrailStack:
    context = app.node.try_get_context
    stack = SendrailStack(
        app,
        "Sendrail",
        bundle_dependencies=str(context("bundleDependencies") or "true").lower() != "false",
        public_base_url=context("publicBaseUrl"),
        retain_data=str(context("retainData") or "true").lower() != "false",
        dispatch=DispatchScale.from_context(
            context("dispatchConcurrency"), context("dispatchLanes")
        ),
        alarm_email=context("alarmEmail"),
        tracking_domain=TrackingDomain.from_context(
            context("trackingDomain"), context("trackingCertificateArn")
        ),
        env=Environment(account=context("account"), region=context("region")),
    )
    nag.check(app)
    nag.acknowledge(stack)
    return stack


def main() -> None:
    # Into cdk.out/, as ``cdk synth`` does (the CDK CLI names its own directory).
    app = App(outdir=os.environ.get("CDK_OUTDIR") or "cdk.out")
    stack = build(app)
    assembly = app.synth()
    template = Path(assembly.directory) / stack.template_file
    print(f"synthesized {stack.stack_name} into {template}", file=sys.stderr)


if __name__ == "__main__":
    main()
