"""Which channels each team has, and how hard delivery tries: ``.tessera/notify.yml``.

```yaml
teams:
  analytics:
    webhook:
      url: https://hooks.example.com/tessera     # or url_env: ANALYTICS_WEBHOOK_URL
      secret_env: ANALYTICS_WEBHOOK_SECRET        # HMAC-SHA256 key, read from the environment
    slack:
      webhook_url_env: ANALYTICS_SLACK_WEBHOOK_URL
delivery:                  # optional; the defaults are shown
  timeout_seconds: 10
  max_attempts: 5
  backoff_seconds: 30      # before the 2nd attempt, doubling after each failure
  max_backoff_seconds: 3600
```

Secrets (webhook secrets, Slack webhook URLs) are never in the file: it names
the environment variables that hold them, read once by ``load_notify_config``.
JSON with the same shape works too. The values keep secrets out of ``repr``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from tessera_core.notify.errors import NotifyConfigError

DEFAULT_CONFIG_PATH = Path(".tessera") / "notify.yml"
WEBHOOK, SLACK = "webhook", "slack"


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """A generic JSON webhook, signed with the team's secret."""

    url: str = field(repr=False)
    secret: str = field(repr=False)

    @property
    def shown(self) -> str:
        """The URL's scheme and host only: safe for logs and errors."""
        return origin(self.url)


@dataclass(frozen=True, slots=True)
class SlackTarget:
    """A Slack incoming webhook; its URL is the credential."""

    webhook_url: str = field(repr=False)

    @property
    def shown(self) -> str:
        return f"slack incoming webhook at {origin(self.webhook_url)}"


@dataclass(frozen=True, slots=True)
class TeamChannels:
    webhook: WebhookTarget | None = None
    slack: SlackTarget | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(
            name for name, target in ((WEBHOOK, self.webhook), (SLACK, self.slack)) if target is not None
        )


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """``timeout``: seconds per HTTP request (connect and read). A delivery that fails waits
    ``backoff`` seconds before its 2nd attempt, twice that before its 3rd, and so on up to
    ``max_backoff``; after ``max_attempts`` failures it is dead: reported, never retried."""

    timeout: float = 10.0
    max_attempts: int = 5
    backoff: float = 30.0
    max_backoff: float = 3600.0

    def __post_init__(self) -> None:
        for name in ("timeout", "backoff", "max_backoff"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise NotifyConfigError(
                    f"delivery {name} must be a positive number of seconds, got {value!r}"
                )
        if not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise NotifyConfigError(f"delivery max_attempts must be 1 or more, got {self.max_attempts!r}")

    def delay(self, attempts: int) -> timedelta:
        """How long a delivery that has failed ``attempts`` times waits before the next attempt."""
        seconds = min(self.backoff * 2 ** max(attempts - 1, 0), self.max_backoff)
        return timedelta(seconds=seconds)

    @property
    def lease(self) -> timedelta:
        """How long a claimed delivery is left alone: longer than any single attempt can take."""
        return timedelta(seconds=max(60.0, 3 * self.timeout))


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    """Channels per team plus delivery settings; ``source`` names the file it came from."""

    teams: Mapping[str, TeamChannels] = field(default_factory=dict, hash=False)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    source: str | None = None

    def channels_of(self, team: str) -> TeamChannels:
        return self.teams.get(team) or TeamChannels()


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: never its path or query, which may hold a token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{parts.port}" if parts.port else "")


def load_notify_config(path: str | Path, *, environ: Mapping[str, str] | None = None) -> NotifyConfig:
    """Read a YAML or JSON notify config and resolve its secrets from ``environ`` (default: os.environ).

    Raises NotifyConfigError naming the file and the key at fault: a missing
    file, an unknown key, a URL that is not http(s), an env var that is unset.
    """
    path = Path(path)
    env = os.environ if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotifyConfigError(
            f"no notify config at {path}; create it (teams: {{<team>: {{webhook: ..., slack: ...}}}}) "
            "or pass the right path"
        ) from None
    except OSError as error:
        raise NotifyConfigError(f"cannot read the notify config {path}: {error.strerror}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None)
        said = f" ({problem})" if problem else ""
        raise NotifyConfigError(f"{path}{where} is not valid YAML or JSON{said}; fix the syntax") from None
    return parse_notify_config(raw if raw is not None else {}, env, source=str(path))


def parse_notify_config(raw: Any, environ: Mapping[str, str], *, source: str) -> NotifyConfig:
    """Validate an already parsed config document (``source`` names it in errors)."""
    top = _mapping(raw, source, "the document", {"teams", "delivery"})
    teams_raw = _mapping(top.get("teams", {}), source, "teams", None)
    teams: dict[str, TeamChannels] = {}
    for team, spec in teams_raw.items():
        if not isinstance(team, str) or not team.strip():
            raise NotifyConfigError(f"{source}: teams has a key {team!r}; team names are non-empty strings")
        where = f"teams.{team}"
        channels = _mapping(spec if spec is not None else {}, source, where, {WEBHOOK, SLACK})
        webhook = channels.get(WEBHOOK)
        slack = channels.get(SLACK)
        teams[team] = TeamChannels(
            webhook=_webhook(webhook, environ, source, f"{where}.webhook") if webhook is not None else None,
            slack=_slack(slack, environ, source, f"{where}.slack") if slack is not None else None,
        )
    return NotifyConfig(teams, _delivery(top.get("delivery"), source), source)


def _webhook(raw: Any, environ: Mapping[str, str], source: str, where: str) -> WebhookTarget:
    spec = _mapping(raw, source, where, {"url", "url_env", "secret_env"})
    if ("url" in spec) == ("url_env" in spec):
        raise NotifyConfigError(f"{source}: {where} needs exactly one of url or url_env")
    if "url" in spec:
        url = _string(spec, "url", source, where)
        _check_url(url, source, f"{where}.url")
    else:
        url = _env(spec, "url_env", environ, source, where)
        _check_url(url, source, f"{where}.url_env")
    if "secret_env" not in spec:
        raise NotifyConfigError(
            f"{source}: {where} has no secret_env; name the environment variable that holds the "
            "team's signing secret (the secret itself never goes in the file)"
        )
    return WebhookTarget(url, _env(spec, "secret_env", environ, source, where))


def _slack(raw: Any, environ: Mapping[str, str], source: str, where: str) -> SlackTarget:
    spec = _mapping(raw, source, where, {"webhook_url_env", "webhook_url"})
    if "webhook_url" in spec:
        raise NotifyConfigError(
            f"{source}: {where}.webhook_url puts a Slack webhook URL (a credential) in the file; move it to "
            "an environment variable and name that with webhook_url_env"
        )
    if "webhook_url_env" not in spec:
        raise NotifyConfigError(f"{source}: {where} needs webhook_url_env (the env var holding the URL)")
    url = _env(spec, "webhook_url_env", environ, source, where)
    _check_url(url, source, f"{where}.webhook_url_env")
    return SlackTarget(url)


def _delivery(raw: Any, source: str) -> DeliverySettings:
    if raw is None:
        return DeliverySettings()
    keys = {
        "timeout_seconds": "timeout",
        "max_attempts": "max_attempts",
        "backoff_seconds": "backoff",
        "max_backoff_seconds": "max_backoff",
    }
    spec = _mapping(raw, source, "delivery", set(keys))
    values: dict[str, Any] = {}
    for key, name in keys.items():
        if key in spec:
            value = spec[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise NotifyConfigError(f"{source}: delivery.{key} must be a number, got {value!r}")
            values[name] = value
    try:
        return DeliverySettings(**values)
    except NotifyConfigError as error:
        raise NotifyConfigError(f"{source}: {error}") from None


def _mapping(raw: Any, source: str, where: str, allowed: set[str] | None) -> dict[Any, Any]:
    if not isinstance(raw, dict):
        raise NotifyConfigError(f"{source}: {where} must be a mapping, got {type(raw).__name__}")
    if allowed is not None:
        unknown = sorted(str(k) for k in raw if k not in allowed)
        if unknown:
            raise NotifyConfigError(
                f"{source}: {where} has unknown key(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )
    return raw


def _string(spec: dict[Any, Any], key: str, source: str, where: str) -> str:
    value = spec[key]
    if not isinstance(value, str) or not value.strip():
        raise NotifyConfigError(f"{source}: {where}.{key} must be a non-empty string")
    return value.strip()


def _env(spec: dict[Any, Any], key: str, environ: Mapping[str, str], source: str, where: str) -> str:
    name = _string(spec, key, source, where)
    value = environ.get(name, "").strip()
    if not value:
        raise NotifyConfigError(
            f"{source}: {where}.{key} names the environment variable {name}, which is not set or empty; "
            "export it before sending notifications"
        )
    return value


def _check_url(url: str, source: str, where: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # the value may be a secret (a Slack URL read from the environment): show only its scheme
        raise NotifyConfigError(
            f"{source}: {where} must be an http(s) URL with a host (got a value starting with "
            f"{parts.scheme or 'no scheme'!r}); fix the URL"
        )


__all__ = [
    "DEFAULT_CONFIG_PATH",
    "DeliverySettings",
    "NotifyConfig",
    "SlackTarget",
    "TeamChannels",
    "WebhookTarget",
    "load_notify_config",
    "origin",
    "parse_notify_config",
]
