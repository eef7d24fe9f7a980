"""The sendrail stack: tables, queues, a key, secrets, the layer, the functions, the API,
the schedules, and the alarms and dashboard that watch them."""

from __future__ import annotations

from aws_cdk import Aws, CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct
from sendrail.functions_spec import FUNCTIONS

from infra.bundling import layer_code
from infra.constructs.api import Api
from infra.constructs.functions import ARCHITECTURE, RUNTIME, DispatchScale, Functions
from infra.constructs.identities import SesFeedbackEvents, SesIdentities, parse_domains
from infra.constructs.monitoring import Monitoring, Watched
from infra.constructs.queues import Queues
from infra.constructs.schedules import Schedules
from infra.constructs.tables import Tables
from infra.constructs.tracking_api import TrackingApi, TrackingDomain


class SendrailStack(Stack):
    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        bundle_dependencies: bool = True,
        public_base_url: str | None = None,
        retain_data: bool = True,
        dispatch: DispatchScale | None = None,
        alarm_email: str | None = None,
        tracking_domain: TrackingDomain | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, cid, **kwargs)  # type: ignore[arg-type]
        removal = RemovalPolicy.RETAIN if retain_data else RemovalPolicy.DESTROY
        dispatch = dispatch or DispatchScale()
        key = kms.Key(
            self,
            "Key",
            description="sendrail: tables and secrets at rest",
            enable_key_rotation=True,
            removal_policy=removal,
        )
        signing = secretsmanager.Secret(
            self,
            "SigningKey",
            description="sendrail: HMAC key for tracking tokens and OAuth state",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
            encryption_key=key,
            removal_policy=removal,
        )
        admin_key = secretsmanager.Secret(
            self,
            "AdminKey",
            description="sendrail: the platform admin API key (read it once)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=48, exclude_punctuation=True
            ),
            encryption_key=key,
            removal_policy=removal,
        )
        oauth_clients = secretsmanager.Secret(
            self,
            "OAuthClients",
            description="sendrail: Google and Microsoft OAuth client secrets, as JSON "
            '{"google_client_secret": ..., "microsoft_client_secret": ...}',
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template='{"google_client_secret":"","microsoft_client_secret":""}',
                generate_string_key="unused",
            ),
            encryption_key=key,
            removal_policy=removal,
        )
        tables = Tables(self, "Tables", key=key, removal=removal)
        queues = Queues(self, "Queues", removal=removal)
        layer = lambda_.LayerVersion(
            self,
            "Common",
            code=layer_code(
                with_dependencies=bundle_dependencies,
                platform="manylinux2014_aarch64",
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="sendrail shared package and its dependencies",
        )
        self.functions = Functions(
            self,
            "Functions",
            layer=layer,
            tables=tables,
            queues=queues,
            key=key,
            signing_secret=signing,
            admin_key=admin_key,
            removal=removal,
            scale=dispatch,
        )
        self.functions.use_oauth_clients(
            oauth_clients,
            google_client_id=self.node.try_get_context("googleClientId"),
            microsoft_client_id=self.node.try_get_context("microsoftClientId"),
        )
        functions: dict[str, lambda_.IFunction] = dict(self.functions.by_name)
        self.api = Api(self, "Api", functions=functions, removal=removal)
        # Tracking links use the public base URL: a custom domain if given, else the API's
        # own URL, derived from its id alone (no cycle: the API's methods depend on the
        # functions, the functions only on the API's id).
        base_url = public_base_url or self.api.base_url()
        self.functions.set_public_base_url(base_url)
        # The links in sent mail go to the tracking HTTP API (or its branded domain). A
        # deployment that gave ``publicBaseUrl`` and no ``trackingDomain`` keeps its links
        # on that domain (which fronts the REST API) rather than an ``execute-api`` host.
        self.tracking_api = TrackingApi(
            self,
            "TrackingApi",
            function=self.functions.by_name["tracking"],
            removal=removal,
            domain=tracking_domain,
        )
        tracking_url = (
            public_base_url
            if public_base_url and not tracking_domain
            else self.tracking_api.base_url()
        )
        self.functions.set_tracking_base_url(tracking_url)
        self.feedback = self._ses_feedback(key, base_url)
        self.feedback_events = SesFeedbackEvents(self, "SesFeedbackEvents", topic=self.feedback)
        # Dispatch names it on every SES send (``ProviderConfig.ses_configuration_set``).
        self.functions.by_name["dispatch"].add_environment(
            "SENDRAIL_SES_CONFIGURATION_SET", self.feedback_events.name
        )
        Schedules(self, "Schedules", functions=functions, dispatchers=dispatch.concurrency)
        # Optional: SES domain identities for the domains in context ``sesDomains``.
        ses_domains = parse_domains(self.node.try_get_context("sesDomains"))
        self.identities = (
            SesIdentities(
                self,
                "SesIdentities",
                domains=ses_domains,
                configuration_set=self.feedback_events.configuration_set,
            )
            if ses_domains
            else None
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            watched=Watched(
                functions=dict(self.functions.by_name),
                timeouts={name: spec.timeout for name, spec in FUNCTIONS.items()},
                queues=dict(queues.by_name),
                api=self.api.rest,
                tracking_api=self.tracking_api.http,
            ),
            key=key,
            email=alarm_email,
        )
        CfnOutput(
            self, "ApiUrl", value=self.api.rest.url, description="base URL of the sendrail API"
        )
        CfnOutput(
            self,
            "TrackingUrl",
            value=tracking_url,
            description="base URL of the links in sent mail (opens, clicks, unsubscribe)",
        )
        if tracking_domain is not None and self.tracking_api.domain is not None:
            CfnOutput(
                self,
                "TrackingDomainCname",
                value=self.tracking_api.domain.regional_domain_name,
                description=f"create a DNS record: {tracking_domain.name} CNAME to this value"
                " (or a Route 53 alias to it)",
            )
        CfnOutput(
            self,
            "SesFeedbackTopic",
            value=self.feedback.topic_arn,
            description="SES bounces and complaints: SesConfigurationSet publishes to it",
        )
        CfnOutput(
            self,
            "SesConfigurationSet",
            value=self.feedback_events.name,
            description="named on every SES send: bounces and complaints to SesFeedbackTopic",
        )
        CfnOutput(
            self,
            "AdminKeySecret",
            value=admin_key.secret_arn,
            description="Secrets Manager secret holding the platform admin key",
        )
        CfnOutput(
            self,
            "AlarmTopic",
            value=self.monitoring.topic.topic_arn,
            description="sendrail's alarms are published here (subscribe on-call to it)",
        )

    def _ses_feedback(self, key: kms.Key, base_url: str) -> sns.Topic:
        """The topic SES identities send Bounce/Complaint notifications to; it delivers
        them to ``/webhooks/ses`` (which checks their signatures and this topic's ARN)."""
        topic = sns.Topic(
            self,
            "SesFeedback",
            display_name="sendrail SES feedback",
            master_key=key,
            enforce_ssl=True,
        )
        ses = iam.ServicePrincipal("ses.amazonaws.com")
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["sns:Publish"],
                principals=[ses],
                resources=[topic.topic_arn],
                conditions={"StringEquals": {"AWS:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                principals=[ses],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        topic.add_subscription(
            subscriptions.UrlSubscription(
                f"{base_url}/webhooks/ses", protocol=sns.SubscriptionProtocol.HTTPS
            )
        )
        self.functions.by_name["tracking"].add_environment(
            "SENDRAIL_SES_TOPIC_ARNS", f'["{topic.topic_arn}"]'
        )
        return topic
