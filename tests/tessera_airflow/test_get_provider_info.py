"""The provider metadata Airflow reads through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

import json
from importlib import import_module, metadata
from pathlib import Path

import airflow
import jsonschema
import pytest

from tessera_airflow.get_provider_info import get_provider_info
from tessera_airflow.hooks.tessera import TesseraHook

ENTRY_POINT = "tessera_airflow.get_provider_info:get_provider_info"


def test_provider_info_matches_airflows_schema() -> None:
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_every_listed_module_imports() -> None:
    info = get_provider_info()
    modules = [
        m
        for kind in ("hooks", "operators", "sensors", "triggers")
        for e in info[kind]
        for m in e["python-modules"]
    ]
    assert len(modules) == 4
    for name in modules:
        import_module(name)


def test_connection_type_points_at_the_hook() -> None:
    [conn] = get_provider_info()["connection-types"]
    module, _, name = conn["hook-class-name"].rpartition(".")
    hook = getattr(import_module(module), name)
    assert hook is TesseraHook and conn["connection-type"] == hook.conn_type == "tessera"


def test_airflow_lists_the_tessera_connection_type_and_its_form() -> None:
    installed = [ep.value for ep in metadata.entry_points(group="apache_airflow_provider")]
    if ENTRY_POINT not in installed:
        pytest.skip(
            "the package was installed before the entry point existed: reinstall it (pip install -e .)"
        )
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    hook = ProvidersManagerTaskRuntime().hooks["tessera"]
    assert hook is not None
    assert (hook.hook_class_name, hook.connection_id_attribute_name, hook.connection_testable) == (
        "tessera_airflow.hooks.tessera.TesseraHook",
        "tessera_conn_id",
        True,
    )
    ui = ProvidersManager()
    assert {"extra__tessera__registry", "extra__tessera__fail_open"} <= set(ui.connection_form_widgets)
    assert ui.field_behaviours["tessera"]["relabeling"]["password"] == "API key"
