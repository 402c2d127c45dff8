"""Tessera integration core: contracts, compatibility, lineage, registry and the gate.

Adapters (dbt, Dagster, Airflow, the CLI, the MCP server) import only the names
re-exported here. Heavier parts (lineage, manifest reading) load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    # the gate
    "check_impact": "tessera_core.gate",
    "check_removal": "tessera_core.gate",
    "publish": "tessera_core.gate",
    "acknowledge": "tessera_core.gate",
    "force_publish": "tessera_core.gate",
    "withdraw": "tessera_core.gate",
    "proposal_dict": "tessera_core.gate",
    "Decision": "tessera_core.gate",
    "GateSettings": "tessera_core.gate",
    "ImpactReport": "tessera_core.gate",
    "PublishResult": "tessera_core.gate",
    # registry
    "open_registry": "tessera_core.registry",
    "DEFAULT_PATH": "tessera_core.registry",
    "Registry": "tessera_core.registry.base",
    "Asset": "tessera_core.registry.base",
    "Contract": "tessera_core.registry.base",
    "Registration": "tessera_core.registry.base",
    "ColumnFlow": "tessera_core.registry.base",
    "Proposal": "tessera_core.registry.base",
    "AffectedConsumer": "tessera_core.registry.base",
    "AckResponse": "tessera_core.registry.base",
    "CompatibilityMode": "tessera_core.registry.base",
    "ConsumerKind": "tessera_core.registry.base",
    "DependencyType": "tessera_core.registry.base",
    "ProposalStatus": "tessera_core.registry.base",
    "RegistrationSource": "tessera_core.registry.base",
    "RegisterOutcome": "tessera_core.registry.base",
    # schemas
    "Schema": "tessera_core.schema.model",
    "Field": "tessera_core.schema.model",
    "Type": "tessera_core.schema.model",
    "Family": "tessera_core.schema.model",
    "Guarantee": "tessera_core.schema.model",
    "normalize_name": "tessera_core.schema.names",
    "relation_fqn": "tessera_core.schema.names",
    "parse_data_type": "tessera_core.schema.types",
    "schema_from_dbt": "tessera_core.schema.dbt",
    "read_json_schema": "tessera_core.schema.jsonschema",
    "read_schema_file": "tessera_core.schema.files",
    "to_json_schema": "tessera_core.schema.export",
    "check_dialect": "tessera_core.dialects",
    "dialect_for_adapter": "tessera_core.dialects",
    # compatibility
    "Change": "tessera_core.compat.changes",
    "ChangeKind": "tessera_core.compat.changes",
    "diff": "tessera_core.compat.diff",
    # dbt projects and lineage
    "load_manifest": "tessera_core.manifest",
    "Project": "tessera_core.manifest",
    "Node": "tessera_core.manifest",
    "analyze_query": "tessera_core.lineage.query",
    "analyze_project": "tessera_core.lineage.project",
    "ProjectLineage": "tessera_core.lineage.project",
    "ModelLineage": "tessera_core.lineage.project",
    "node_schema": "tessera_core.contracts",
    "contract_nodes": "tessera_core.contracts",
    "live_source_schema": "tessera_core.contracts",
    "assets_from_project": "tessera_core.sync",
    "registrations_from_lineage": "tessera_core.sync",
    "sync_registrations": "tessera_core.sync",
    "SyncReport": "tessera_core.sync",
    # reports
    "render_report": "tessera_core.report.text",
    "render_markdown": "tessera_core.report.markdown",
    "build_picture": "tessera_core.report.picture",
    "PictureSettings": "tessera_core.report.picture",
    "render_mermaid": "tessera_core.report.picture_mermaid",
    "render_dot": "tessera_core.report.picture_dot",
    "render_html": "tessera_core.report.picture_html",
    "render_junit": "tessera_core.report.ci",
    "render_github_annotations": "tessera_core.report.ci",
    "table": "tessera_core.report.table",
    # notifications
    "flush_notifications": "tessera_core.notify.deliver",
    "flush_if_configured": "tessera_core.notify.deliver",
    "flush_after_write": "tessera_core.notify.deliver",
    "load_notify_config": "tessera_core.notify.config",
    "FlushReport": "tessera_core.notify.deliver",
    "verify_signature": "tessera_core.notify.webhook",
    # errors
    "TesseraError": "tessera_core.errors",
    "SchemaError": "tessera_core.errors",
    "ManifestError": "tessera_core.errors",
    "RegistryError": "tessera_core.errors",
    "RegistryUnavailableError": "tessera_core.errors",
    "NotFoundError": "tessera_core.errors",
    "ConflictError": "tessera_core.errors",
    "InvalidStateError": "tessera_core.errors",
    "UnknownDialectError": "tessera_core.errors",
}

__all__ = [
    "DEFAULT_PATH",
    "AckResponse",
    "AffectedConsumer",
    "Asset",
    "Change",
    "ChangeKind",
    "ColumnFlow",
    "CompatibilityMode",
    "ConflictError",
    "ConsumerKind",
    "Contract",
    "Decision",
    "DependencyType",
    "Family",
    "Field",
    "FlushReport",
    "GateSettings",
    "Guarantee",
    "ImpactReport",
    "InvalidStateError",
    "ManifestError",
    "ModelLineage",
    "Node",
    "NotFoundError",
    "PictureSettings",
    "Project",
    "ProjectLineage",
    "Proposal",
    "ProposalStatus",
    "PublishResult",
    "RegisterOutcome",
    "Registration",
    "RegistrationSource",
    "Registry",
    "RegistryError",
    "RegistryUnavailableError",
    "Schema",
    "SchemaError",
    "SyncReport",
    "TesseraError",
    "Type",
    "UnknownDialectError",
    "acknowledge",
    "analyze_project",
    "analyze_query",
    "assets_from_project",
    "build_picture",
    "check_dialect",
    "check_impact",
    "check_removal",
    "contract_nodes",
    "dialect_for_adapter",
    "diff",
    "flush_after_write",
    "flush_if_configured",
    "flush_notifications",
    "force_publish",
    "live_source_schema",
    "load_manifest",
    "load_notify_config",
    "node_schema",
    "normalize_name",
    "open_registry",
    "parse_data_type",
    "proposal_dict",
    "publish",
    "read_json_schema",
    "read_schema_file",
    "registrations_from_lineage",
    "relation_fqn",
    "render_dot",
    "render_github_annotations",
    "render_html",
    "render_junit",
    "render_markdown",
    "render_mermaid",
    "render_report",
    "schema_from_dbt",
    "sync_registrations",
    "table",
    "to_json_schema",
    "verify_signature",
    "withdraw",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tessera_core' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from tessera_core.compat.changes import Change, ChangeKind
    from tessera_core.compat.diff import diff
    from tessera_core.contracts import contract_nodes, live_source_schema, node_schema
    from tessera_core.dialects import check_dialect, dialect_for_adapter
    from tessera_core.errors import (
        ConflictError,
        InvalidStateError,
        ManifestError,
        NotFoundError,
        RegistryError,
        RegistryUnavailableError,
        SchemaError,
        TesseraError,
        UnknownDialectError,
    )
    from tessera_core.gate import (
        Decision,
        GateSettings,
        ImpactReport,
        PublishResult,
        acknowledge,
        check_impact,
        check_removal,
        force_publish,
        proposal_dict,
        publish,
        withdraw,
    )
    from tessera_core.lineage.project import ModelLineage, ProjectLineage, analyze_project
    from tessera_core.lineage.query import analyze_query
    from tessera_core.manifest import Node, Project, load_manifest
    from tessera_core.notify.config import load_notify_config
    from tessera_core.notify.deliver import (
        FlushReport,
        flush_after_write,
        flush_if_configured,
        flush_notifications,
    )
    from tessera_core.notify.webhook import verify_signature
    from tessera_core.registry import DEFAULT_PATH, open_registry
    from tessera_core.registry.base import (
        AckResponse,
        AffectedConsumer,
        Asset,
        ColumnFlow,
        CompatibilityMode,
        ConsumerKind,
        Contract,
        DependencyType,
        Proposal,
        ProposalStatus,
        RegisterOutcome,
        Registration,
        RegistrationSource,
        Registry,
    )
    from tessera_core.report.ci import render_github_annotations, render_junit
    from tessera_core.report.markdown import render_markdown
    from tessera_core.report.picture import PictureSettings, build_picture
    from tessera_core.report.picture_dot import render_dot
    from tessera_core.report.picture_html import render_html
    from tessera_core.report.picture_mermaid import render_mermaid
    from tessera_core.report.table import table
    from tessera_core.report.text import render_report
    from tessera_core.schema.dbt import schema_from_dbt
    from tessera_core.schema.export import to_json_schema
    from tessera_core.schema.files import read_schema_file
    from tessera_core.schema.jsonschema import read_json_schema
    from tessera_core.schema.model import Family, Field, Guarantee, Schema, Type
    from tessera_core.schema.names import normalize_name, relation_fqn
    from tessera_core.schema.types import parse_data_type
    from tessera_core.sync import (
        SyncReport,
        assets_from_project,
        registrations_from_lineage,
        sync_registrations,
    )
