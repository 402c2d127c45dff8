"""Settings for the dbt integration: explicit arguments > environment > dbt_project.yml vars > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera_core import TesseraError
from tessera_dbt.config import load_settings


def _project(where: Path, tessera: str | None = None) -> Path:
    text = "name: shop\nversion: '1.0.0'\nprofile: shop\n"
    if tessera is not None:
        text += "vars:\n  tessera:\n" + "".join(f"    {line}\n" for line in tessera.splitlines())
    (where / "dbt_project.yml").write_text(text)
    return where


def test_nothing_is_required(tmp_path: Path) -> None:
    settings = load_settings(_project(tmp_path), env={})
    assert settings.registry == str(tmp_path.resolve() / ".tessera" / "registry.db")
    assert (settings.fail_open, settings.default_team, settings.profiles_dir) == (False, "unowned", None)


def test_plain_dbt_gate_is_off_by_default(tmp_path: Path) -> None:
    assert load_settings(_project(tmp_path), env={}).gate is False


def test_project_vars_turn_the_gate_on_and_place_the_registry(tmp_path: Path) -> None:
    project = _project(tmp_path, "gate: true\nregistry: state/contracts.db\ndefault_team: data")
    settings = load_settings(project, env={})
    assert settings.gate is True
    assert settings.registry == str(tmp_path.resolve() / "state" / "contracts.db")
    assert settings.default_team == "data"


def test_environment_overrides_project_vars(tmp_path: Path) -> None:
    project = _project(tmp_path, "gate: true\nregistry: a.db\nfail_open: false")
    env = {
        "TESSERA_DBT_GATE": "0",
        "TESSERA_REGISTRY": "https://tessera.example.com",
        "TESSERA_FAIL_OPEN": "yes",
    }
    settings = load_settings(project, env=env)
    assert (settings.gate, settings.registry, settings.fail_open) == (
        False,
        "https://tessera.example.com",
        True,
    )


def test_explicit_arguments_override_the_environment(tmp_path: Path) -> None:
    env = {"TESSERA_REGISTRY": "/elsewhere.db", "TESSERA_FAIL_OPEN": "1"}
    settings = load_settings(_project(tmp_path), registry="/mine.db", fail_open=False, env=env)
    assert (settings.registry, settings.fail_open) == ("/mine.db", False)


def test_profiles_dir_defaults_to_the_project_when_it_holds_profiles_yml(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "profiles.yml").write_text("shop: {target: dev, outputs: {dev: {type: duckdb}}}\n")
    assert load_settings(project, env={}).profiles_dir == project.resolve()
    assert load_settings(project, env={"DBT_PROFILES_DIR": "/p"}).profiles_dir == Path("/p")


def test_api_key_never_shows_in_repr(tmp_path: Path) -> None:
    settings = load_settings(_project(tmp_path), env={"TESSERA_API_KEY": "s3cret"})
    assert settings.api_key == "s3cret"
    assert "s3cret" not in repr(settings)


def test_missing_project_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(TesseraError, match=r"dbt_project\.yml not found: point --project-dir"):
        load_settings(tmp_path, env={})


def test_vars_tessera_must_be_a_mapping(tmp_path: Path) -> None:
    project = tmp_path
    (project / "dbt_project.yml").write_text("name: shop\nvars:\n  tessera: [gate]\n")
    with pytest.raises(TesseraError, match=r"dbt_project\.yml: vars\.tessera must be a mapping, got list"):
        load_settings(project, env={})


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "dbt_project.yml").write_text("name: [shop\n")
    with pytest.raises(TesseraError, match=r"dbt_project\.yml is not valid YAML"):
        load_settings(tmp_path, env={})
