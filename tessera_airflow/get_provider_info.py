"""What Airflow's providers manager lists for this package (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

INTEGRATION = "Tessera"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "tessera-integrations",
        "name": "Tessera",
        "description": "Data-contract gates for Airflow: check, publish and acknowledge contracts in a "
        "Tessera registry, and register the tables and columns SQL tasks read.",
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": "https://github.com/ashita-ai/tessera",
                "tags": ["service"],
            }
        ],
        "hooks": [{"integration-name": INTEGRATION, "python-modules": ["tessera_airflow.hooks.tessera"]}],
        "operators": [
            {"integration-name": INTEGRATION, "python-modules": ["tessera_airflow.operators.contract"]}
        ],
        "sensors": [
            {"integration-name": INTEGRATION, "python-modules": ["tessera_airflow.sensors.acknowledgment"]}
        ],
        "triggers": [
            {"integration-name": INTEGRATION, "python-modules": ["tessera_airflow.triggers.acknowledgment"]}
        ],
        "connection-types": [
            {
                "connection-type": "tessera",
                "hook-class-name": "tessera_airflow.hooks.tessera.TesseraHook",
                "hook-name": "Tessera",
                "conn-fields": {
                    "registry": {
                        "label": "Registry path",
                        "description": "A SQLite registry file; leave empty to use the Registry URL (host)",
                        "schema": {"type": ["string", "null"]},
                    },
                    "fail_open": {
                        "label": "Fail open",
                        "description": "Pass contract checks with a warning when the registry is unreachable",
                        "schema": {"type": ["boolean", "null"], "default": False},
                    },
                },
                "ui-field-behaviour": {
                    "hidden-fields": ["login"],
                    "relabeling": {"host": "Registry URL", "password": "API key", "schema": "Path"},
                    "placeholders": {"host": "https://tessera.example.com"},
                },
            }
        ],
    }
