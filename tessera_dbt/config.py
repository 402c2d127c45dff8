"""Settings for the dbt integration: explicit arguments > environment > ``dbt_project.yml`` vars > defaults.

In ``dbt_project.yml``::

    vars:
      tessera:
        registry: .tessera/registry.db   # or https://tessera.example.com
        fail_open: false
        default_team: data-platform
        gate: true                      # the plain `dbt run` plugin hook (dbt_tessera); off by default

        notify_config: .tessera/notify.yml  # webhook / Slack channels per team (used when it exists)

Environment: ``TESSERA_REGISTRY``, ``TESSERA_API_KEY``, ``TESSERA_FAIL_OPEN``, ``TESSERA_DBT_GATE``,
``TESSERA_NOTIFY_CONFIG``.
Nothing is required: the default registry is ``.tessera/registry.db`` inside the project.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tessera_core import TesseraError

TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class DbtSettings:
    project_dir: Path
    profiles_dir: Path | None = None
    target: str | None = None
    registry: str = ""
    api_key: str | None = None
    fail_open: bool = False
    default_team: str = "unowned"
    gate: bool = False  # the plain `dbt run` plugin hook; off unless turned on
    target_path: str = "target"
    notify_config: Path | None = None  # channels per team; notifications go out after each write

    @property
    def target_dir(self) -> Path:
        return self.project_dir / self.target_path

    def dbt_args(self) -> list[str]:
        """The ``--project-dir`` / ``--profiles-dir`` / ``--target`` arguments for every dbt call."""
        args = ["--project-dir", str(self.project_dir)]
        if self.profiles_dir:
            args += ["--profiles-dir", str(self.profiles_dir)]
        if self.target:
            args += ["--target", self.target]
        return args

    def __repr__(self) -> str:  # never print the key
        return (
            f"DbtSettings(project_dir={self.project_dir!s}, registry={self.registry!r}, "
            f"fail_open={self.fail_open})"
        )


def project_vars(project_dir: Path) -> dict[str, Any]:
    """``vars.tessera`` of ``dbt_project.yml`` (only literal values: Jinja is not rendered here)."""
    path = project_dir / "dbt_project.yml"
    if not path.exists():
        raise TesseraError(f"{path} not found: point --project-dir at a dbt project")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise TesseraError(f"{path} is not valid YAML: {exc}") from exc
    found = (data.get("vars") or {}).get("tessera") or {}
    if not isinstance(found, dict):
        raise TesseraError(f"{path}: vars.tessera must be a mapping, got {type(found).__name__}")
    return found


def _flag(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in TRUE


def load_settings(
    project_dir: str | Path = ".",
    *,
    profiles_dir: str | Path | None = None,
    target: str | None = None,
    registry: str | None = None,
    fail_open: bool | None = None,
    env: Mapping[str, str] | None = None,
) -> DbtSettings:
    env = os.environ if env is None else env
    root = Path(project_dir).resolve()
    found = project_vars(root)
    if profiles_dir is None:
        profiles_dir = env.get("DBT_PROFILES_DIR") or (root if (root / "profiles.yml").exists() else None)
    spec = registry or env.get("TESSERA_REGISTRY") or found.get("registry") or ".tessera/registry.db"
    if not str(spec).startswith(("http://", "https://")) and not Path(spec).is_absolute():
        spec = str(root / spec)
    if fail_open is None:
        raw = env.get("TESSERA_FAIL_OPEN", found.get("fail_open", False))
        fail_open = _flag(raw)
    gate = _flag(env.get("TESSERA_DBT_GATE", found.get("gate", False)))
    notify = env.get("TESSERA_NOTIFY_CONFIG") or found.get("notify_config") or ".tessera/notify.yml"
    return DbtSettings(
        project_dir=root,
        profiles_dir=Path(profiles_dir).resolve() if profiles_dir else None,
        target=target,
        registry=str(spec),
        api_key=env.get("TESSERA_API_KEY"),
        fail_open=fail_open,
        default_team=str(found.get("default_team", "unowned")),
        gate=gate,
        notify_config=root / notify,
    )
