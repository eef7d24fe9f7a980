"""Optional SES domain identities: Easy DKIM and a custom MAIL FROM for each domain named in
the context (``-c sesDomains=example.com,example.org``), with the DNS records to publish
printed as stack outputs.

With them, mail an SES mailbox sends from those domains passes DMARC by both DKIM (Easy
DKIM signs with ``d=<domain>``) and SPF (the envelope sender is ``<mailFrom>.<domain>``,
aligned under relaxed alignment); ``GET /api/mailboxes/{id}/authentication`` checks the
published records (add the DKIM token names as the mailbox's ``dkim_selectors``).

:class:`SesFeedbackEvents` is the configuration set that publishes bounces and complaints
to the SES feedback topic (which delivers them to ``/webhooks/ses``): each identity here
uses it by default, and dispatch names it on every SES send (``SENDRAIL_SES_CONFIGURATION_SET``),
so mail from identities verified outside this stack is covered too."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import Aws, CfnOutput
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from constructs import Construct

MAIL_FROM_SUBDOMAIN = "mail"  # the envelope sender's domain: mail.<domain>
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def parse_domains(value: object) -> list[str]:
    """``"a.com, b.org"`` (or a list) → ``["a.com", "b.org"]``, lowercased, without
    duplicates; a name that is not a domain stops the synth with a clear message."""
    if value is None or value == "":
        return []
    parts = value if isinstance(value, list) else str(value).split(",")
    domains: list[str] = []
    for part in parts:
        domain = str(part).strip().lower().rstrip(".")
        if not domain:
            continue
        if not _DOMAIN.match(domain):
            raise ValueError(f"sesDomains: {domain!r} is not a domain name")
        if domain not in domains:
            domains.append(domain)
    return domains


def _output_id(domain: str, what: str) -> str:
    return "Ses" + "".join(p.capitalize() for p in re.split(r"[.-]", domain)) + what


# What reaches ``/webhooks/ses``: bounces and complaints (``bounces.classify_ses``). Not
# deliveries: nothing reads them, and they would be one webhook call per message sent.
FEEDBACK_EVENTS = (ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT)


class SesFeedbackEvents(Construct):
    """An SES configuration set publishing bounces and complaints to ``topic``."""

    def __init__(self, scope: Construct, cid: str, *, topic: sns.ITopic) -> None:
        super().__init__(scope, cid)
        self.configuration_set = ses.ConfigurationSet(self, "ConfigurationSet")
        self.configuration_set.add_event_destination(
            "Feedback",
            destination=ses.EventDestination.sns_topic(topic),
            events=list(FEEDBACK_EVENTS),
        )

    @property
    def name(self) -> str:
        return self.configuration_set.configuration_set_name


@dataclass(frozen=True)
class Identity:
    domain: str
    mail_from: str
    resource: ses.EmailIdentity


class SesIdentities(Construct):
    """One SES domain identity per domain, each with Easy DKIM (2048-bit) and a custom
    MAIL FROM, and outputs naming every DNS record to publish."""

    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        domains: list[str],
        configuration_set: ses.IConfigurationSet | None = None,
    ) -> None:
        super().__init__(scope, cid)
        self.identities: list[Identity] = []
        for domain in domains:
            mail_from = f"{MAIL_FROM_SUBDOMAIN}.{domain}"
            identity = ses.EmailIdentity(
                self,
                _output_id(domain, "Identity"),
                identity=ses.Identity.domain(domain),
                dkim_identity=ses.DkimIdentity.easy_dkim(ses.EasyDkimSigningKeyLength.RSA_2048_BIT),
                mail_from_domain=mail_from,
                mail_from_behavior_on_mx_failure=ses.MailFromBehaviorOnMxFailure.USE_DEFAULT_VALUE,
                configuration_set=configuration_set,  # bounces and complaints: feedback
            )
            self.identities.append(Identity(domain, mail_from, identity))
            self._outputs(domain, mail_from, identity)

    def _outputs(self, domain: str, mail_from: str, identity: ses.EmailIdentity) -> None:
        stack = self.node.scope
        assert isinstance(stack, Construct)
        tokens = (
            (identity.dkim_dns_token_name1, identity.dkim_dns_token_value1),
            (identity.dkim_dns_token_name2, identity.dkim_dns_token_value2),
            (identity.dkim_dns_token_name3, identity.dkim_dns_token_value3),
        )
        for n, (name, value) in enumerate(tokens, start=1):
            CfnOutput(
                stack,
                _output_id(domain, f"DkimCname{n}"),
                value=f"{name} CNAME {value}",
                description=f"Easy DKIM for {domain}: publish this CNAME record",
            )
        CfnOutput(
            stack,
            _output_id(domain, "MailFromMx"),
            value=f"{mail_from} MX 10 feedback-smtp.{Aws.REGION}.amazonses.com",
            description=f"custom MAIL FROM of {domain}: publish this MX record",
        )
        CfnOutput(
            stack,
            _output_id(domain, "MailFromTxt"),
            value=f'{mail_from} TXT "v=spf1 include:amazonses.com ~all"',
            description=f"custom MAIL FROM of {domain}: publish this SPF record",
        )
        CfnOutput(
            stack,
            _output_id(domain, "Dmarc"),
            value=f'_dmarc.{domain} TXT "v=DMARC1; p=none; rua=mailto:dmarc@{domain}"',
            description=f"a starting DMARC record for {domain} (move to p=quarantine once "
            "reports show your mail aligned)",
        )
