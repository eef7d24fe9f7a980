"""The bundle of adapters a use case may need, built once per cold start by the function
(or the local stack, or a test) and passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field

from sendrail.clock import Clock, SystemClock
from sendrail.storage.api_rate import ApiRateRepo
from sendrail.storage.campaigns import CampaignRepo
from sendrail.storage.imports import ImportRepo
from sendrail.storage.inbox import InboxRepo
from sendrail.storage.limits import LimitRepo
from sendrail.storage.mailboxes import MailboxRepo
from sendrail.storage.queues import SqsQueues
from sendrail.storage.recipients import RecipientRepo
from sendrail.storage.secrets import SecretBox
from sendrail.storage.sender_auth import SenderAuthRepo
from sendrail.storage.settings_repo import SettingsRepo
from sendrail.storage.stats import StatsRepo
from sendrail.storage.suppressions import SuppressionRepo
from sendrail.storage.system import SystemRepo
from sendrail.storage.tenancy import TenancyRepo
from sendrail.storage.webhooks import WebhookRepo


@dataclass
class Deps:
    queues: SqsQueues
    secrets: SecretBox
    signing_key: bytes
    public_base_url: str  # the API's own URL: OAuth callbacks, invitations, the dashboard
    tracking_base_url: str  # the links in sent mail: open pixel, clicks, unsubscribe
    clock: Clock = field(default_factory=SystemClock)
    tenancy: TenancyRepo = field(default_factory=TenancyRepo)
    mailboxes: MailboxRepo = field(default_factory=MailboxRepo)
    campaigns: CampaignRepo = field(default_factory=CampaignRepo)
    recipients: RecipientRepo = field(default_factory=RecipientRepo)
    suppressions: SuppressionRepo = field(default_factory=SuppressionRepo)
    settings: SettingsRepo = field(default_factory=SettingsRepo)
    limits: LimitRepo = field(default_factory=LimitRepo)
    stats: StatsRepo = field(default_factory=StatsRepo)
    system: SystemRepo = field(default_factory=SystemRepo)
    imports: ImportRepo = field(default_factory=ImportRepo)
    api_rate: ApiRateRepo = field(default_factory=ApiRateRepo)
    inbox: InboxRepo = field(default_factory=InboxRepo)
    webhooks: WebhookRepo = field(default_factory=WebhookRepo)
    sender_auth: SenderAuthRepo = field(default_factory=SenderAuthRepo)
