"""An in-memory Tessera server: the recorded exchanges' shapes, status codes and error bodies.

A small state machine over teams, assets, contracts, registrations,
proposals, acknowledgments and audit events, following the server's rules
as recorded (``/work/shared/tessera-api``) and as its source reads
(``ashita-ai/tessera`` 588e2a7): registrations belong to one contract
version; a breaking publish opens a proposal unless forced; a proposal is
approved once every team registered on the current contract answered; a
``blocked`` answer rejects it. ``test_fake_conformance`` replays every
recorded request against it and compares the answers.

``handle(method, path, query, body, headers)`` returns ``(status, body)``.
The dbt sync endpoints answer the recorded responses (no state).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

EXCHANGES_PATH = Path("/work/shared/tessera-api/exchanges.json")
EXCHANGES: list[dict[str, Any]] = json.loads(EXCHANGES_PATH.read_text())
RECORDED = {e["name"]: e for e in EXCHANGES}

BACKWARD_BREAKING = {
    "property_removed",
    "property_renamed",
    "type_changed",
    "type_narrowed",
    "required_added",
    "enum_values_removed",
    "constraint_tightened",
    "default_removed",
    "nullable_removed",
}
FORWARD_BREAKING = {
    "property_added",
    "property_renamed",
    "type_changed",
    "type_widened",
    "required_removed",
    "enum_values_added",
    "constraint_relaxed",
    "default_added",
    "nullable_added",
}
BREAKING = {
    "backward": BACKWARD_BREAKING,
    "forward": FORWARD_BREAKING,
    "full": BACKWARD_BREAKING | FORWARD_BREAKING,
    "none": set(),
}
ADDITIONS = {"property_added", "enum_values_added", "nullable_added", "default_added"}
RESOURCE_TYPES = {
    "api_endpoint",
    "graphql_query",
    "grpc_service",
    "model",
    "source",
    "seed",
    "snapshot",
    "other",
}
ACK_RESPONSES = ("approved", "blocked", "migrating")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Invalid(Exception):
    """A request validation error (422, FastAPI's ``detail`` list)."""

    def __init__(self, *items: dict[str, Any]) -> None:
        super().__init__(items)
        self.items = list(items)


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """The server's schema diff, for top-level properties, their ``type`` and ``required``."""
    changes: list[dict[str, Any]] = []
    before, after = old.get("properties", {}), new.get("properties", {})
    for name, node in before.items():
        if name not in after:
            changes.append(
                _change(
                    "property_removed", f"properties.{name}", f"Property '{name}' was removed", node, None
                )
            )
    for name, node in after.items():
        if name not in before:
            changes.append(
                _change("property_added", f"properties.{name}", f"Property '{name}' was added", None, node)
            )
    for name, node in before.items():
        if name in after and node.get("type") != after[name].get("type"):
            old_type, new_type = node.get("type"), after[name].get("type")
            changes.append(
                _change(
                    "type_changed",
                    f"properties.{name}.type",
                    f"Type changed from '{old_type}' to '{new_type}'",
                    old_type,
                    new_type,
                )
            )
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    for name in sorted(new_required - old_required):
        changes.append(_change("required_added", "required", f"Field '{name}' is now required", None, name))
    for name in sorted(old_required - new_required):
        changes.append(
            _change("required_removed", "required", f"Field '{name}' is no longer required", name, None)
        )
    return changes


def _change(kind: str, path: str, message: str, old: Any, new: Any) -> dict[str, Any]:
    return {"type": kind, "path": path, "message": message, "old_value": old, "new_value": new}


def change_type(changes: list[dict[str, Any]]) -> str:
    kinds = {c["type"] for c in changes}
    if kinds & BACKWARD_BREAKING:
        return "major"
    return "minor" if kinds & ADDITIONS else "patch"


def bump(version: str, kind: str) -> str:
    major, minor, patch = (int(p) for p in version.split("."))
    if kind == "major":
        return f"{major + 1}.0.0"
    if kind == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


class FakeTessera:
    """The server's state; ``api_key`` (if set) is required as a Bearer token; ``admin``: may force."""

    def __init__(self, *, api_key: str | None = None, admin: bool = True) -> None:
        self.api_key = api_key
        self.admin = admin
        self.teams: dict[str, dict[str, Any]] = {}
        self.assets: dict[str, dict[str, Any]] = {}
        self.contracts: dict[str, dict[str, Any]] = {}
        self.registrations: dict[str, dict[str, Any]] = {}
        self.proposals: dict[str, dict[str, Any]] = {}
        self.acks: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self._clock = datetime(2026, 11, 25, 0, 2, 22)
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., tuple[int, Any]]]] = [
            ("POST", re.compile(r"/api/v1/teams"), self.create_team),
            ("GET", re.compile(r"/api/v1/teams"), self.list_teams),
            ("POST", re.compile(r"/api/v1/assets"), self.create_asset),
            ("GET", re.compile(r"/api/v1/assets"), self.list_assets),
            ("GET", re.compile(r"/api/v1/assets/([^/]+)/preflight"), self.preflight),
            ("GET", re.compile(r"/api/v1/assets/([^/]+)"), self.get_asset),
            ("PATCH", re.compile(r"/api/v1/assets/([^/]+)"), self.update_asset),
            ("POST", re.compile(r"/api/v1/assets/([^/]+)/publish"), self.publish),
            ("GET", re.compile(r"/api/v1/assets/([^/]+)/contracts"), self.list_asset_contracts),
            ("GET", re.compile(r"/api/v1/assets/([^/]+)/contracts/history"), self.history),
            ("POST", re.compile(r"/api/v1/assets/([^/]+)/impact"), self.impact),
            ("GET", re.compile(r"/api/v1/contracts"), self.list_contracts),
            ("GET", re.compile(r"/api/v1/contracts/([^/]+)/registrations"), self.contract_registrations),
            ("POST", re.compile(r"/api/v1/registrations"), self.register),
            ("GET", re.compile(r"/api/v1/registrations"), self.list_registrations),
            ("PATCH", re.compile(r"/api/v1/registrations/([^/]+)"), self.update_registration),
            ("GET", re.compile(r"/api/v1/proposals"), self.list_proposals),
            ("GET", re.compile(r"/api/v1/proposals/pending/([^/]+)"), self.pending_for_team),
            ("GET", re.compile(r"/api/v1/proposals/([^/]+)"), self.proposal_status),
            ("GET", re.compile(r"/api/v1/proposals/([^/]+)/status"), self.proposal_status),
            ("POST", re.compile(r"/api/v1/proposals/([^/]+)/acknowledge"), self.acknowledge),
            ("POST", re.compile(r"/api/v1/proposals/([^/]+)/withdraw"), self.withdraw),
            ("POST", re.compile(r"/api/v1/proposals/([^/]+)/force"), self.force),
            ("POST", re.compile(r"/api/v1/proposals/([^/]+)/publish"), self.publish_proposal),
            ("GET", re.compile(r"/api/v1/audit/events"), self.audit_events),
            ("POST", re.compile(r"/api/v1/sync/dbt/upload"), self.dbt_upload),
            (
                "POST",
                re.compile(r"/api/v1/sync/dbt/diff"),
                self.dbt_recorded("dbt diff with breaking change"),
            ),
            (
                "POST",
                re.compile(r"/api/v1/sync/dbt/impact"),
                self.dbt_recorded("dbt impact with breaking change"),
            ),
        ]

    # dispatch

    def handle(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        if self.api_key is not None and (headers or {}).get("authorization") != f"Bearer {self.api_key}":
            return self._error(
                ApiError(
                    401, "UNAUTHORIZED", "Missing Authorization header. Use 'Authorization: Bearer <api_key>'"
                )
            )
        for verb, pattern, action in self.routes:
            found = pattern.fullmatch(path)
            if verb == method and found:
                try:
                    return action(*found.groups(), query=query, body=body)
                except ApiError as error:
                    return self._error(error)
                except Invalid as error:
                    return 422, {"detail": error.items}
        return 404, {"detail": "Not Found"}

    def act(self, method: str, path: str, body: Any = None, **query: str) -> Any:
        """What another (authenticated) client does; the answer, which must be a success."""
        headers = {"authorization": f"Bearer {self.api_key}"}
        status, answer = self.handle(method, path, dict(query), body, headers)
        assert status < 300, (status, answer)
        return answer

    def _error(self, error: ApiError) -> tuple[int, Any]:
        return error.status, {
            "error": {
                "code": error.code,
                "message": error.message,
                "request_id": str(uuid.uuid4()),
                "timestamp": self._now() + "+00:00",
            }
        }

    def _now(self) -> str:
        self._clock += timedelta(microseconds=7919)
        return self._clock.isoformat()

    def _event(
        self, entity_type: str, entity_id: str, action: str, actor: str | None, payload: dict[str, Any]
    ) -> None:
        self.events.append(
            {
                "id": str(uuid.uuid4()),
                "entity_type": entity_type,
                "entity_id": entity_id,
                "action": action,
                "actor_id": actor,
                "actor_type": "human",
                "payload": payload,
                "occurred_at": self._now(),
            }
        )

    @staticmethod
    def _page(items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
        limit, offset = _int(query, "limit", 50, 1, 100), _int(query, "offset", 0, 0, None)
        return {
            "results": items[offset : offset + limit],
            "total": len(items),
            "limit": limit,
            "offset": offset,
        }

    # teams

    def create_team(self, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        name = _field(body, "name", str)
        if any(t["name"] == name for t in self.teams.values()):
            raise ApiError(409, "DUPLICATE_TEAM", f"Team with name '{name}' already exists")
        team = {
            "id": str(uuid.uuid4()),
            "name": name,
            "metadata": {},
            "created_at": self._now(),
            "updated_at": None,
        }
        self.teams[team["id"]] = team
        self._event("team", team["id"], "team.created", None, {"name": name})
        return 201, dict(team)

    def list_teams(self, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        pattern = query.get("name", "").lower()
        rows = [
            {
                **{k: t[k] for k in ("id", "name", "metadata", "created_at")},
                "asset_count": self._asset_count(t["id"]),
            }
            for t in sorted(self.teams.values(), key=lambda t: t["name"])
            if pattern in t["name"].lower()
        ]
        return 200, self._page(rows, query)

    def _asset_count(self, team_id: str) -> int:
        return sum(1 for a in self.assets.values() if a["owner_team_id"] == team_id)

    def _team(self, team_id: Any, what: str = "Team not found") -> dict[str, Any]:
        team = self.teams.get(str(team_id))
        if team is None:
            raise ApiError(404, "TEAM_NOT_FOUND", what)
        return team

    # assets

    def create_asset(self, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        fqn = _field(body, "fqn", str)
        if len(fqn) < 3:
            raise Invalid(
                {
                    "type": "string_too_short",
                    "loc": ["body", "fqn"],
                    "msg": "String should have at least 3 characters",
                    "input": fqn,
                    "ctx": {"min_length": 3},
                }
            )
        owner = self._team(_field(body, "owner_team_id", str), "Owner team not found")
        if any(a["fqn"] == fqn for a in self.assets.values()):
            raise ApiError(409, "DUPLICATE_ASSET", f"Asset with FQN '{fqn}' already exists")
        asset = {
            "id": str(uuid.uuid4()),
            "fqn": fqn,
            "description": body.get("description"),
            "owner_team_id": owner["id"],
            "owner_user_id": None,
            "service_id": None,
            "environment": body.get("environment", "production"),
            "resource_type": _choice(body, "resource_type", RESOURCE_TYPES, "other"),
            "guarantee_mode": "notify",
            "semver_mode": "auto",
            "metadata": body.get("metadata") or {},
            "tags": body.get("tags") or [],
            "created_at": self._now(),
            "updated_at": None,
        }
        self.assets[asset["id"]] = asset
        self._event("asset", asset["id"], "asset.created", owner["id"], {"fqn": fqn})
        return 201, dict(asset)

    def list_assets(self, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        pattern = query.get("fqn", "").lower()
        rows = []
        for asset in sorted(self.assets.values(), key=lambda a: a["fqn"]):
            if pattern not in asset["fqn"].lower():
                continue
            current = self._current(asset["id"])
            rows.append(
                {
                    **{
                        k: asset[k]
                        for k in (
                            "id",
                            "fqn",
                            "owner_team_id",
                            "environment",
                            "resource_type",
                            "guarantee_mode",
                            "semver_mode",
                            "created_at",
                            "metadata",
                            "tags",
                            "owner_user_id",
                        )
                    },
                    "owner_team_name": self.teams[asset["owner_team_id"]]["name"],
                    "owner_user_name": None,
                    "owner_user_email": None,
                    "service_id": None,
                    "active_contract_version": current["version"] if current else None,
                }
            )
        return 200, self._page(rows, query)

    def _asset(self, asset_id: str) -> dict[str, Any]:
        asset = self.assets.get(asset_id)
        if asset is None:
            raise ApiError(404, "ASSET_NOT_FOUND", "Asset not found")
        return asset

    def get_asset(self, asset_id: str, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        return 200, dict(self._asset(asset_id))

    def update_asset(self, asset_id: str, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        asset = self._asset(asset_id)
        if body.get("owner_team_id") is not None:
            asset["owner_team_id"] = self._team(body["owner_team_id"], "Owner team not found")["id"]
        if body.get("resource_type") is not None:
            asset["resource_type"] = _choice(body, "resource_type", RESOURCE_TYPES, "other")
        if body.get("metadata") is not None:
            asset["metadata"] = body["metadata"]
        asset["updated_at"] = self._now()
        self._event("asset", asset_id, "asset.updated", asset["owner_team_id"], {"fqn": asset["fqn"]})
        return 200, dict(asset)

    def preflight(self, fqn: str, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        asset = next((a for a in self.assets.values() if a["fqn"] == fqn), None)
        if asset is None:
            raise ApiError(404, "ASSET_NOT_FOUND", "Asset not found")
        current = self._current(asset["id"])
        return 200, {
            "asset_fqn": fqn,
            "asset_id": asset["id"],
            "contract_version": current["version"] if current else None,
            "compatibility_mode": current["compatibility_mode"] if current else None,
            "schema_format": current["schema_format"] if current else None,
            "fresh": None,
            "freshness_sla": None,
            "guarantees": None,
            "last_audit_status": None,
            "last_audit_at": None,
            "caveats": [],
        }

    # contracts

    def _current(self, asset_id: str) -> dict[str, Any] | None:
        active = [c for c in self.contracts.values() if c["asset_id"] == asset_id and c["status"] == "active"]
        return active[-1] if active else None

    def _contracts_of(self, asset_id: str) -> list[dict[str, Any]]:
        return [c for c in reversed(self.contracts.values()) if c["asset_id"] == asset_id]

    def _new_contract(
        self,
        asset: dict[str, Any],
        version: str,
        schema: dict[str, Any],
        mode: str,
        publisher: str,
        kind: str,
        breaking: int,
    ) -> dict[str, Any]:
        current = self._current(asset["id"])
        if current is not None:
            current["status"] = "deprecated"
        contract = {
            "version": version,
            "schema_def": schema,
            "schema_format": "json_schema",
            "compatibility_mode": mode,
            "guarantees": None,
            "id": str(uuid.uuid4()),
            "asset_id": asset["id"],
            "field_descriptions": {},
            "field_tags": {},
            "status": "active",
            "published_at": self._now(),
            "published_by": publisher,
            "published_by_user_id": None,
            "updated_at": None,
            "_change_type": kind,
            "_breaking": breaking,
        }
        self.contracts[contract["id"]] = contract
        self._event("contract", contract["id"], "contract.published", publisher, {"version": version})
        return contract

    @staticmethod
    def _contract_json(contract: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in contract.items() if not k.startswith("_")}

    def publish(self, asset_id: str, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        force = query.get("force", "false").lower() == "true"
        reason = query.get("force_reason")
        if reason is not None and not 10 <= len(reason) <= 500:
            raise Invalid(
                {
                    "type": "string_too_short",
                    "loc": ["query", "force_reason"],
                    "msg": "String should have at least 10 characters",
                    "input": reason,
                    "ctx": {"min_length": 10},
                }
            )
        publisher_id = query.get("published_by")
        if publisher_id is None:
            raise Invalid(
                {"type": "missing", "loc": ["query", "published_by"], "msg": "Field required", "input": None}
            )
        schema = _field(body, "schema", dict)
        if force and not reason:
            raise ApiError(
                400,
                "INVALID_INPUT",
                "force_reason is required when force=True. Explain why this breaking change must bypass "
                "consumer acknowledgment.",
            )
        asset = self._asset(asset_id)
        publisher = self._team(publisher_id, "Publisher team not found")
        given = body.get("version")
        if given is not None and any(
            c["version"] == given for c in self.contracts.values() if c["asset_id"] == asset_id
        ):
            raise ApiError(409, "VERSION_EXISTS", f"Contract version {given} already exists for this asset")
        mode = _choice(body, "compatibility_mode", set(BREAKING), "backward")
        current = self._current(asset_id)
        auto = {"version_auto_generated": True} if given is None else {}
        if current is None:
            contract = self._new_contract(
                asset, given or "1.0.0", schema, mode, publisher["id"], "initial", 0
            )
            return 201, {"action": "published", "contract": self._contract_json(contract), **auto}
        changes = diff(current["schema_def"], schema)
        breaking = [c for c in changes if c["type"] in BREAKING[mode]]
        kind = change_type(changes)
        version = given or bump(current["version"], "major" if breaking else kind)
        if not breaking:
            contract = self._new_contract(asset, version, schema, mode, publisher["id"], kind, 0)
            return 201, {
                "action": "published",
                "contract": self._contract_json(contract),
                "change_type": kind,
                **auto,
            }
        if force:
            contract = self._new_contract(asset, version, schema, mode, publisher["id"], kind, len(breaking))
            self.events[-1]["payload"].update({"force": True, "force_reason": reason})
            return 201, {
                "action": "force.published",
                "contract": self._contract_json(contract),
                "change_type": kind,
                "breaking_changes": breaking,
                "warning": "Breaking change was force-published. Consumers may be affected.",
                **auto,
            }
        pending = [
            p for p in self.proposals.values() if p["asset_id"] == asset_id and p["status"] == "pending"
        ]
        if pending:
            raise ApiError(
                409,
                "DUPLICATE_PROPOSAL",
                f"Asset already has a pending proposal (ID: {pending[0]['id']}). Resolve the existing "
                "proposal before creating a new one.",
            )
        proposal = {
            "proposed_schema": schema,
            "id": str(uuid.uuid4()),
            "asset_id": asset_id,
            "change_type": kind,
            "breaking_changes": breaking,
            "status": "pending",
            "proposed_by": publisher["id"],
            "proposed_by_user_id": None,
            "proposed_at": self._now(),
            "resolved_at": None,
            "expires_at": None,
            "auto_expire": False,
            "updated_at": None,
            "affected_teams": [],
            "affected_assets": [],
            "objections": [],
            "has_objections": False,
        }
        self.proposals[proposal["id"]] = proposal
        self._event("proposal", proposal["id"], "proposal.created", publisher["id"], {"asset_id": asset_id})
        return 201, {
            "action": "proposal.created",
            "proposal": dict(proposal),
            "change_type": kind,
            "breaking_changes": breaking,
            "message": "Breaking change detected. Proposal created for consumer acknowledgment.",
            **auto,
        }

    def list_asset_contracts(self, asset_id: str, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        rows = [
            {
                **{
                    k: c[k]
                    for k in (
                        "id",
                        "asset_id",
                        "version",
                        "schema_def",
                        "schema_format",
                        "compatibility_mode",
                        "status",
                        "published_at",
                        "published_by",
                        "published_by_user_id",
                        "guarantees",
                        "field_descriptions",
                        "field_tags",
                    )
                },
                "published_by_team_name": self.teams[c["published_by"]]["name"],
                "published_by_user_name": None,
            }
            for c in self._contracts_of(asset_id)
        ]
        return 200, self._page(rows, query)

    def history(self, asset_id: str, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        asset = self._asset(asset_id)
        return 200, {
            "asset_id": asset_id,
            "asset_fqn": asset["fqn"],
            "contracts": [
                {
                    "id": c["id"],
                    "version": c["version"],
                    "status": c["status"],
                    "published_at": c["published_at"],
                    "published_by": c["published_by"],
                    "compatibility_mode": c["compatibility_mode"],
                    "change_type": c["_change_type"],
                    "breaking_changes_count": c["_breaking"],
                }
                for c in self._contracts_of(asset_id)
            ],
        }

    def impact(self, asset_id: str, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        self._asset(asset_id)
        current = self._current(asset_id)
        if current is None:
            return 200, {
                "change_type": "minor",
                "breaking_changes": [],
                "impacted_consumers": [],
                "impacted_assets": [],
                "safe_to_publish": True,
                "traversal_depth": 5,
            }
        changes = diff(current["schema_def"], body)
        breaking = [c for c in changes if c["type"] in BREAKING[current["compatibility_mode"]]]
        consumers = [
            {
                "team_id": r["consumer_team_id"],
                "team_name": self.teams[r["consumer_team_id"]]["name"],
                "status": r["status"],
                "pinned_version": r["pinned_version"],
                "depth": 0,
            }
            for r in self._registered_on(current["id"])
        ]
        return 200, {
            "change_type": change_type(changes),
            "breaking_changes": breaking,
            "impacted_consumers": consumers,
            "impacted_assets": [],
            "safe_to_publish": not breaking,
            "traversal_depth": 5,
        }

    def list_contracts(self, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        rows = [
            {
                **self._contract_json(c),
                "asset_fqn": self.assets[c["asset_id"]]["fqn"],
                "publisher_name": self.teams[c["published_by"]]["name"],
            }
            for c in reversed(self.contracts.values())
            if query.get("asset_id") in (None, c["asset_id"])
        ]
        return 200, self._page(rows, query)

    # registrations

    def _registered_on(self, contract_id: str) -> list[dict[str, Any]]:
        return [
            r
            for r in self.registrations.values()
            if r["contract_id"] == contract_id and r["status"] == "active"
        ]

    def register(self, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        team = self._team(_field(body, "consumer_team_id", str))
        contract_id = body.get("contract_id") or query.get("contract_id")
        if contract_id not in self.contracts:
            raise ApiError(404, "CONTRACT_NOT_FOUND", "Contract not found")
        if any(
            r["contract_id"] == contract_id and r["consumer_team_id"] == team["id"]
            for r in self.registrations.values()
        ):
            raise ApiError(500, "INTERNAL_ERROR", "An unexpected error occurred")
        reg = {
            "pinned_version": body.get("pinned_version"),
            "id": str(uuid.uuid4()),
            "contract_id": contract_id,
            "consumer_team_id": team["id"],
            "status": "active",
            "registered_at": self._now(),
            "acknowledged_at": None,
            "updated_at": None,
        }
        self.registrations[reg["id"]] = reg
        self._event(
            "registration", reg["id"], "registration.created", team["id"], {"contract_id": contract_id}
        )
        return 201, dict(reg)

    def contract_registrations(
        self, contract_id: str, *, query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        rows = [
            {**r, "consumer_team_name": self.teams[r["consumer_team_id"]]["name"]}
            for r in reversed(self.registrations.values())
            if r["contract_id"] == contract_id
        ]
        return 200, self._page(rows, query)

    def list_registrations(self, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        rows = [
            dict(r)
            for r in self.registrations.values()
            if query.get("contract_id") in (None, r["contract_id"])
            and query.get("consumer_team_id") in (None, r["consumer_team_id"])
            and query.get("status") in (None, r["status"])
        ]
        return 200, self._page(rows, query)

    def update_registration(
        self, registration_id: str, *, query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        reg = self.registrations.get(registration_id)
        if reg is None:
            raise ApiError(404, "REGISTRATION_NOT_FOUND", "Registration not found")
        if body.get("status") is not None:
            reg["status"] = _choice(body, "status", {"active", "migrating", "inactive"}, "active")
        if "pinned_version" in body:
            reg["pinned_version"] = body["pinned_version"]
        reg["updated_at"] = self._now()
        return 200, dict(reg)

    # proposals

    def _proposal(self, proposal_id: str) -> dict[str, Any]:
        try:
            uuid.UUID(proposal_id)
        except ValueError:
            raise Invalid(
                {
                    "type": "uuid_parsing",
                    "loc": ["path", "proposal_id"],
                    "msg": "Input should be a valid UUID",
                    "input": proposal_id,
                }
            ) from None
        proposal = self.proposals.get(proposal_id)
        if proposal is None:
            raise ApiError(404, "PROPOSAL_NOT_FOUND", "Proposal not found")
        return proposal

    def _acks_of(self, proposal_id: str) -> list[dict[str, Any]]:
        return [a for a in self.acks if a["proposal_id"] == proposal_id]

    def list_proposals(self, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        rows = []
        for p in sorted(self.proposals.values(), key=lambda p: p["proposed_at"], reverse=True):
            if query.get("asset_id") not in (None, p["asset_id"]) or query.get("status") not in (
                None,
                p["status"],
            ):
                continue
            current = self._current(p["asset_id"])
            rows.append(
                {
                    "id": p["id"],
                    "asset_id": p["asset_id"],
                    "asset_fqn": self.assets[p["asset_id"]]["fqn"],
                    "status": p["status"],
                    "change_type": p["change_type"],
                    "breaking_changes_count": len(p["breaking_changes"]),
                    "proposed_by": p["proposed_by"],
                    "proposed_at": p["proposed_at"],
                    "acknowledgment_count": len(self._acks_of(p["id"])),
                    "total_consumers": len(self._registered_on(current["id"])) if current else 0,
                }
            )
        return 200, self._page(rows, query)

    def pending_for_team(self, team_id: str, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        self._team(team_id)
        rows = []
        for p in self.proposals.values():
            current = self._current(p["asset_id"])
            registered = self._registered_on(current["id"]) if current else []
            if p["status"] != "pending" or team_id not in {r["consumer_team_id"] for r in registered}:
                continue
            rows.append(
                {
                    "proposal_id": p["id"],
                    "asset_id": p["asset_id"],
                    "asset_fqn": self.assets[p["asset_id"]]["fqn"],
                    "proposed_by_team": self.teams[p["proposed_by"]]["name"],
                    "proposed_at": p["proposed_at"],
                    "expires_at": None,
                    "breaking_changes_summary": [c["message"] for c in p["breaking_changes"]],
                    "total_consumers": len(registered),
                    "acknowledged_count": len(self._acks_of(p["id"])),
                    "your_team_status": "AWAITING_RESPONSE",
                }
            )
        page = self._page(rows, query)
        return 200, {"pending_proposals": page.pop("results"), **page}

    def proposal_status(self, proposal_id: str, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        p = self._proposal(proposal_id)
        current = self._current(p["asset_id"])
        registered = self._registered_on(current["id"]) if current else []
        acks = self._acks_of(proposal_id)
        answered = {a["consumer_team_id"] for a in acks}
        pending = [r for r in registered if r["consumer_team_id"] not in answered]
        return 200, {
            "proposal_id": p["id"],
            "status": p["status"],
            "asset_id": p["asset_id"],
            "asset_fqn": self.assets[p["asset_id"]]["fqn"],
            "change_type": p["change_type"],
            "breaking_changes": p["breaking_changes"],
            "proposed_by": {
                "team_id": p["proposed_by"],
                "team_name": self.teams[p["proposed_by"]]["name"],
                "user_id": None,
                "user_name": None,
            },
            "proposed_at": p["proposed_at"],
            "resolved_at": p["resolved_at"],
            "expires_at": None,
            "auto_expire": False,
            "proposed_schema": p["proposed_schema"],
            "affected_teams": [],
            "affected_assets": [],
            "objections": [],
            "has_objections": False,
            "consumers": {
                "total": len(registered),
                "acknowledged": len(acks),
                "pending": len(pending),
                "blocked": sum(1 for a in acks if a["response"] == "blocked"),
            },
            "acknowledgments": [
                {
                    "consumer_team_id": a["consumer_team_id"],
                    "consumer_team_name": self.teams[a["consumer_team_id"]]["name"],
                    "acknowledged_by_user_id": None,
                    "acknowledged_by_user_name": None,
                    "response": a["response"],
                    "responded_at": a["responded_at"],
                    "notes": a["notes"],
                }
                for a in acks
            ],
            "pending_consumers": [
                {
                    "team_id": r["consumer_team_id"],
                    "team_name": self.teams[r["consumer_team_id"]]["name"],
                    "registered_at": r["registered_at"],
                }
                for r in pending
            ],
            "audit_status": None,
            "warnings": [],
        }

    def acknowledge(self, proposal_id: str, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        response = body.get("response") if isinstance(body, dict) else None
        if response not in ACK_RESPONSES:
            expected = "'approved', 'blocked' or 'migrating'"
            raise Invalid(
                {
                    "type": "enum",
                    "loc": ["body", "response"],
                    "msg": f"Input should be {expected}",
                    "input": response,
                    "ctx": {"expected": expected},
                }
            )
        team_id = _field(body, "consumer_team_id", str)
        p = self._proposal(proposal_id)
        if p["status"] != "pending":
            raise ApiError(400, "PROPOSAL_NOT_PENDING", "Proposal is not pending")
        team = self._team(team_id, "Consumer team not found")
        if any(a["consumer_team_id"] == team["id"] for a in self._acks_of(proposal_id)):
            raise ApiError(409, "DUPLICATE_ACKNOWLEDGMENT", "Already acknowledged by this team")
        current = self._current(p["asset_id"])
        registered = {r["consumer_team_id"] for r in self._registered_on(current["id"])} if current else set()
        if current is not None and team["id"] not in registered:
            raise ApiError(403, "UNAUTHORIZED_TEAM", "Only registered consumers can acknowledge proposals")
        ack = {
            "response": response,
            "migration_deadline": body.get("migration_deadline"),
            "notes": body.get("notes"),
            "id": str(uuid.uuid4()),
            "proposal_id": proposal_id,
            "consumer_team_id": team["id"],
            "acknowledged_by_user_id": None,
            "responded_at": self._now(),
        }
        self.acks.append(ack)
        self._event("proposal", proposal_id, "proposal.acknowledged", team["id"], {"response": response})
        if response == "blocked":
            p["status"], p["resolved_at"] = "rejected", self._now()
            self._event("proposal", proposal_id, "proposal.rejected", team["id"], {})
        elif registered <= {a["consumer_team_id"] for a in self._acks_of(proposal_id)}:
            p["status"], p["resolved_at"] = "approved", self._now()
            self._event("proposal", proposal_id, "proposal.approved", None, {})
        return 201, dict(ack)

    def withdraw(self, proposal_id: str, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        p = self._proposal(proposal_id)
        if p["status"] != "pending":
            raise ApiError(400, "PROPOSAL_NOT_PENDING", "Proposal is not pending")
        p["status"], p["resolved_at"], p["updated_at"] = "withdrawn", self._now(), self._now()
        self._event(
            "proposal", proposal_id, "proposal.withdrawn", p["proposed_by"], {"asset_id": p["asset_id"]}
        )
        return 200, dict(p)

    def force(self, proposal_id: str, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        actor = query.get("actor_id")
        if actor is None:
            raise Invalid(
                {"type": "missing", "loc": ["query", "actor_id"], "msg": "Field required", "input": None}
            )
        if not self.admin:
            raise ApiError(403, "FORBIDDEN", "This operation requires admin scope")
        p = self._proposal(proposal_id)
        if p["status"] != "pending":
            raise ApiError(400, "PROPOSAL_NOT_PENDING", "Proposal is not pending")
        p["status"], p["resolved_at"], p["updated_at"] = "approved", self._now(), self._now()
        self._event("proposal", proposal_id, "proposal.force_approved", actor, {})
        return 200, dict(p)

    def publish_proposal(self, proposal_id: str, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        version = _field(body, "version", str)
        publisher = self._team(_field(body, "published_by", str), "Publisher team not found")
        p = self._proposal(proposal_id)
        if p["status"] == "published":
            raise ApiError(
                400, "PROPOSAL_NOT_PENDING", "This proposal has already been published as a contract."
            )
        if p["status"] != "approved":
            raise ApiError(
                400,
                "PROPOSAL_NOT_PENDING",
                f"Cannot publish from proposal with status '{p['status']}'. Proposal must be approved first.",
            )
        if any(c["version"] == version for c in self.contracts.values() if c["asset_id"] == p["asset_id"]):
            raise ApiError(
                409,
                "DUPLICATE_CONTRACT_VERSION",
                f"Contract version '{version}' already exists for this asset",
            )
        asset = self._asset(p["asset_id"])
        current = self._current(asset["id"])
        mode = current["compatibility_mode"] if current else "backward"
        contract = self._new_contract(
            asset,
            version,
            p["proposed_schema"],
            mode,
            publisher["id"],
            p["change_type"],
            len(p["breaking_changes"]),
        )
        p["status"], p["resolved_at"] = "published", self._now()
        self._event("proposal", proposal_id, "proposal.published", publisher["id"], {"version": version})
        return 200, {
            "action": "published",
            "proposal_id": proposal_id,
            "contract": self._contract_json(contract),
            "deprecated_contract_id": current["id"] if current else None,
        }

    # audit and dbt

    def audit_events(self, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        rows = [
            e
            for e in reversed(self.events)
            if query.get("entity_id") in (None, e["entity_id"]) and query.get("action") in (None, e["action"])
        ]
        return 200, self._page(rows, query)

    def dbt_upload(self, *, query: dict[str, str], body: Any) -> tuple[int, Any]:
        manifest = body.get("manifest") if isinstance(body, dict) else None
        if not isinstance(manifest, dict) or not isinstance(manifest.get("nodes", {}), dict):
            raise ApiError(500, "INTERNAL_ERROR", "An unexpected error occurred")
        name = "dbt upload with breaking change" if body.get("conflict_mode") == "overwrite" else "dbt upload"
        return RECORDED[name]["status"], RECORDED[name]["response"]

    @staticmethod
    def dbt_recorded(name: str) -> Callable[..., tuple[int, Any]]:
        def answer(*, query: dict[str, str], body: Any) -> tuple[int, Any]:
            return RECORDED[name]["status"], RECORDED[name]["response"]

        return answer


def _field(body: Any, name: str, kind: type) -> Any:
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, kind):
        raise Invalid({"type": "missing", "loc": ["body", name], "msg": "Field required", "input": body})
    return value


def _choice(body: dict[str, Any], name: str, allowed: set[str], default: str) -> str:
    value = body.get(name, default)
    if value not in allowed:
        expected = ", ".join(sorted(allowed))
        raise Invalid(
            {
                "type": "enum",
                "loc": ["body", name],
                "msg": f"Input should be one of {expected}",
                "input": value,
            }
        )
    return str(value)


def _int(query: dict[str, str], name: str, default: int, low: int, high: int | None) -> int:
    try:
        value = int(query.get(name, default))
    except ValueError:
        value = low - 1
    if value < low or (high is not None and value > high):
        raise Invalid(
            {
                "type": "less_than_equal",
                "loc": ["query", name],
                "msg": f"Input out of range for {name}",
                "input": query.get(name),
            }
        )
    return value
