"""Provider configuration is built field by field from the settings: every field of
``ProviderConfig`` arrives from its setting (the SES region was once lost this way)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sendrail.providers.base import ProviderConfig
from sendrail.settings import ProviderSettings
from sendrail.storage.tables import MODELS
from sendrail.wiring import provider_config

# A distinct setting value for each field, and what the field must then hold.
GIVEN: dict[str, tuple[dict[str, Any], Any]] = {
    "smtp_timeout": ({"smtp_timeout": 7.5}, 7.5),
    "allow_private_hosts": ({"allow_private_hosts": True}, True),
    "ses_region": ({"ses_region": "ap-south-1"}, "ap-south-1"),
    "ses_endpoint_url": ({"ses_endpoint_url": "http://127.0.0.1:4566"}, "http://127.0.0.1:4566"),
    "ses_configuration_set": ({"ses_configuration_set": "feedback"}, "feedback"),
    "google_client_id": ({"google_client_id": "gid"}, "gid"),
    "google_client_secret": ({"google_client_secret": "gsecret"}, "gsecret"),
    "google_auth_uri": ({"google_auth_uri": "https://g.test/auth"}, "https://g.test/auth"),
    "google_token_uri": ({"google_token_uri": "https://g.test/token"}, "https://g.test/token"),
    "gmail_api_root": ({"gmail_api_root": "https://g.test/"}, "https://g.test/"),
    "microsoft_client_id": ({"microsoft_client_id": "mid"}, "mid"),
    "microsoft_client_secret": ({"microsoft_client_secret": "msecret"}, "msecret"),
    "microsoft_authority": ({"microsoft_authority": "https://m.test/t"}, "https://m.test/t"),
    "graph_api_root": ({"graph_api_root": "https://m.test/v1.0"}, "https://m.test/v1.0"),
    "http_timeout": ({"http_timeout": 3.0}, 3.0),
    "ca_bundle": ({"ca_bundle": "/tmp/ca.pem"}, "/tmp/ca.pem"),
}


def settings(**values: Any) -> ProviderSettings:
    return ProviderSettings(tables={name: name for name in MODELS}, queues={}, **values)


def test_given_the_config_then_every_field_has_a_case_here():
    assert set(GIVEN) == {f.name for f in dataclasses.fields(ProviderConfig)}


@pytest.mark.parametrize("field", sorted(GIVEN))
def test_given_a_setting_then_its_config_field_holds_it(field: str):
    values, expected = GIVEN[field]
    config = provider_config(settings(**values))
    assert getattr(config, field) == expected
    # ... and without the setting, the field keeps the config's own default.
    unset = provider_config(settings())
    if field != "ses_region":
        assert getattr(unset, field) == getattr(ProviderConfig(), field)


def test_given_a_deployment_region_then_ses_sends_there(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert provider_config(settings()).ses_region == "eu-west-1"
    assert provider_config(settings(ses_region="us-west-2")).ses_region == "us-west-2"
