"""The notify config file: channels per team, secrets from env vars, errors that name the key."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tessera_core.notify.config import DeliverySettings, load_notify_config
from tessera_core.notify.errors import NotifyConfigError

ENV = {
    "ANALYTICS_WEBHOOK_SECRET": "whsec-analytics",
    "ANALYTICS_SLACK_URL": "https://hooks.slack.com/services/T1/B2/secretpart",
}
YAML = """\
teams:
  analytics:
    webhook:
      url: https://hooks.example.com/tessera/analytics
      secret_env: ANALYTICS_WEBHOOK_SECRET
    slack:
      webhook_url_env: ANALYTICS_SLACK_URL
  finance: {}
delivery:
  timeout_seconds: 3
  max_attempts: 4
"""


def write(tmp_path: Path, text: str, name: str = "notify.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_yaml_config_gives_each_team_its_channels(tmp_path: Path) -> None:
    config = load_notify_config(write(tmp_path, YAML), environ=ENV)
    analytics = config.channels_of("analytics")
    assert analytics.names == ("webhook", "slack")
    assert analytics.webhook is not None and analytics.webhook.secret == "whsec-analytics"
    assert analytics.slack is not None and analytics.slack.webhook_url == ENV["ANALYTICS_SLACK_URL"]
    assert config.channels_of("finance").names == ()
    assert config.channels_of("nobody").names == ()
    assert (config.delivery.timeout, config.delivery.max_attempts) == (3, 4)


def test_a_json_config_reads_the_same(tmp_path: Path) -> None:
    doc = {"teams": {"analytics": {"webhook": {"url_env": "URL", "secret_env": "SECRET"}}}}
    path = write(tmp_path, json.dumps(doc), "notify.json")
    config = load_notify_config(path, environ={"URL": "http://127.0.0.1:9/x", "SECRET": "s"})
    assert config.channels_of("analytics").names == ("webhook",)


def test_secrets_stay_out_of_repr(tmp_path: Path) -> None:
    shown = repr(load_notify_config(write(tmp_path, YAML), environ=ENV))
    assert "whsec-analytics" not in shown
    assert "secretpart" not in shown
    assert "/tessera/analytics" not in shown


def test_an_unset_secret_env_var_is_named_with_its_key(tmp_path: Path) -> None:
    env = {"ANALYTICS_SLACK_URL": ENV["ANALYTICS_SLACK_URL"]}
    with pytest.raises(NotifyConfigError) as caught:
        load_notify_config(write(tmp_path, YAML), environ=env)
    message = str(caught.value)
    assert "notify.yml" in message
    assert "teams.analytics.webhook.secret_env" in message
    assert "ANALYTICS_WEBHOOK_SECRET" in message


def test_a_slack_url_written_in_the_file_is_refused(tmp_path: Path) -> None:
    text = "teams:\n  a:\n    slack:\n      webhook_url: https://hooks.slack.com/services/T/B/x\n"
    with pytest.raises(NotifyConfigError, match=r"teams\.a\.slack\.webhook_url .*webhook_url_env"):
        load_notify_config(write(tmp_path, text), environ={})


def test_a_webhook_without_a_secret_is_refused(tmp_path: Path) -> None:
    text = "teams:\n  a:\n    webhook:\n      url: https://example.com/h\n"
    with pytest.raises(NotifyConfigError, match=r"teams\.a\.webhook has no secret_env"):
        load_notify_config(write(tmp_path, text), environ={})


def test_an_unknown_key_is_named_with_the_allowed_ones(tmp_path: Path) -> None:
    text = "teams:\n  a:\n    webhok:\n      url: https://example.com/h\n"
    expected = r"teams\.a has unknown key\(s\) webhok; allowed: slack, webhook"
    with pytest.raises(NotifyConfigError, match=expected):
        load_notify_config(write(tmp_path, text), environ={})


def test_a_url_that_is_not_http_is_refused_without_echoing_it(tmp_path: Path) -> None:
    text = "teams:\n  a:\n    slack:\n      webhook_url_env: SLACK\n"
    expected = r"teams\.a\.slack\.webhook_url_env must be an http"
    with pytest.raises(NotifyConfigError, match=expected) as caught:
        load_notify_config(write(tmp_path, text), environ={"SLACK": "ftp://files/T/B/secretpart"})
    assert "secretpart" not in str(caught.value)


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(NotifyConfigError, match=r"notify\.yml at line 2"):
        load_notify_config(write(tmp_path, "teams:\n\ta: 1\n"), environ={})


def test_a_missing_file_says_what_to_create(tmp_path: Path) -> None:
    with pytest.raises(NotifyConfigError, match=r"no notify config at .*absent\.yml; create it"):
        load_notify_config(tmp_path / "absent.yml", environ={})


def test_non_positive_delivery_settings_are_refused(tmp_path: Path) -> None:
    text = "delivery:\n  max_attempts: 0\n"
    with pytest.raises(NotifyConfigError, match=r"notify\.yml: delivery max_attempts must be 1 or more"):
        load_notify_config(write(tmp_path, text), environ={})


@given(st.integers(min_value=1, max_value=40), st.floats(min_value=0.1, max_value=600))
def test_backoff_doubles_until_the_cap(attempts: int, backoff: float) -> None:
    settings = DeliverySettings(backoff=backoff, max_backoff=3600)
    delay = settings.delay(attempts)
    assert delay <= timedelta(seconds=3600)
    expected = min(delay * 2, timedelta(seconds=3600))
    assert abs(settings.delay(attempts + 1) - expected) <= timedelta(microseconds=2)
