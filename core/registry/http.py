"""The registry on a shared Tessera server, over its REST API (``/api/v1``) with ``requests``.

``HttpRegistry`` implements ``Registry`` with the same meaning as the embedded
``SqliteRegistry``; the gate decides, the registry stores. The server is the
shared truth for teams, assets, contracts, team registrations, proposals,
acknowledgments and the audit log; what it has no field for is kept in the
JSON it stores unchanged (see ``http_codec``) or beside the client in a small
SQLite side store (see ``http_store``; ``store_path``, default
``.tessera/server-side.db``).

How the server's behaviour is bridged:

- **Registrations follow the asset across versions.** The server ties a
  registration to one contract version, so a consumer registered on 1.0.0
  stops counting once 1.1.0 publishes. Reads count a team registered
  (active or migrating) on *any* version of the asset; after every publish
  through this client, every known consumer team is registered again on the
  new contract; before a team answers a proposal, it is registered on the
  current contract (the server refuses answers from others with 403). The
  server lets only the team itself or an admin key register a team, so
  re-registration by a producer's key may be refused: that is logged, and the
  team still counts here.
- **Column scopes, flows and evidence** live in the side store; the server
  holds one registration per (team, contract). A team registered on the
  server with no details here reads as consumer ``server:<team>`` of every
  column (fail-safe).
- **Publishing.** The server decides breaking itself and would turn a change
  it sees as breaking into a proposal. ``publish_contract`` is called only
  when the gate decided the change may publish, so it publishes with the
  server's ``force=true`` and a ``force_reason`` that says so (the caller's
  ``forced_reason`` when given); the server logs the override. The server
  keeps the version we send.
- **Proposals.** ``open_proposal`` publishes without force, so the server
  opens its proposal (409 ``DUPLICATE_PROPOSAL`` is mapped to the pending
  proposal for the same schema, or ``ConflictError``). When the server would
  publish the change at once (it does not see a widened warehouse type or a
  break in a downstream enforced contract), the proposal is kept by this
  client only (id ``local-…``). An open proposal's status follows our rule
  (approved once every *affected* team approved), not the server's (every
  team registered on the asset). Publishing an approved proposal that the
  server still holds as pending force-approves it on the server first (which
  needs an admin key), with the reason logged.
- **Answers.** The server keeps a team's first answer: answering again with
  the same response is a no-op, a different one raises ``ConflictError``.
  ``blocked`` rejects the proposal on the server (status ``rejected`` here).
  A team affected only through lineage (not registered on the asset) cannot
  answer on the server; its answer is kept in the side store.
- **Withdraw** of a proposal the server already approved (the server
  withdraws pending ones only) is kept in the side store.
- **Unknown outcomes.** A 5xx or a dropped connection on a write is settled
  by reading the state back before anything is sent again (see
  ``http_transport``); e.g. the server's 500 on a duplicate registration.

Not supported by the server, so not here: an asset without an owner team,
unsetting an asset's owner, changing a team's answer, forcing without an
admin key, and transitive compatibility modes on the server side (sent as
their non-transitive base; the gate still applies them).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any
from uuid import UUID

import requests

from tessera_core.compat.changes import Change
from tessera_core.errors import ConflictError, InvalidStateError, NotFoundError, RegistryError
from tessera_core.registry.base import (
    Acknowledgment,
    AckResponse,
    AffectedConsumer,
    Asset,
    AuditEvent,
    CompatibilityMode,
    Contract,
    Proposal,
    ProposalStatus,
    RegisterOutcome,
    Registration,
    Team,
)
from tessera_core.registry.http_codec import (
    ASSET_KEY,
    SERVER_CONSUMER,
    SERVER_MODES,
    SERVER_STATUSES,
    asset_block,
    asset_from,
    audit_from,
    canonical,
    contract_from,
    proposal_from,
    resource_type,
    same_schema,
    schema_document,
    with_answer,
)
from tessera_core.registry.http_store import SideStore
from tessera_core.registry.http_transport import Transport, segment
from tessera_core.registry.rules import (
    MIN_FORCED_REASON,
    OPEN_STATUSES,
)
from tessera_core.registry.rules import (
    check_change_class as _check_change_class,
)
from tessera_core.registry.rules import (
    check_forced_reason as _check_forced_reason,
)
from tessera_core.registry.rules import (
    member as _member,
)
from tessera_core.registry.rules import (
    now as _now,
)
from tessera_core.registry.rules import (
    require as _require,
)
from tessera_core.registry.rules import (
    require_open as _require_open,
)
from tessera_core.registry.rules import (
    shown as _shown,
)
from tessera_core.schema.export import to_json_schema
from tessera_core.schema.model import Schema

log = logging.getLogger("tessera.registry.http")

DEFAULT_STORE = Path(".tessera") / "server-side.db"
UNOWNED_TEAM = "unowned"  # the server requires an owner team; assets without one are parked here
LOCAL_PREFIX = "local-"
ACTIVE = ("active", "migrating")  # server registration statuses that still read the asset
OPEN = OPEN_STATUSES
SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
GATE_REASON = (
    "tessera gate decided this change may publish: compatible for its readers, breaking only for "
    "columns no consumer outside the owning team reads, or compatibility mode none"
)


@dataclass(frozen=True, slots=True)
class _ServerConsumer:
    """A team registered on some contract version of an asset."""

    team_id: str
    registration_id: str
    version: str
    pinned: str | None


class HttpRegistry:
    """A ``Registry`` on a Tessera server.

    ``base_url``: the server (``https://tessera.example.com``). ``api_key``:
    sent as ``Authorization: Bearer`` to that URL only; callers read it from
    ``TESSERA_API_KEY`` or their secret store. ``timeout`` (seconds) applies to
    every request; ``retries`` and ``backoff`` bound the retries (see
    ``http_transport``). ``verify``: TLS verification (a CA bundle path, or
    ``False`` to disable it, which you should not). ``session``: a
    ``requests.Session`` to reuse (its adapters, proxies); closed by the
    caller. ``store_path``: the SQLite side store (default
    ``.tessera/server-side.db``).
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        verify: bool | str = True,
        session: requests.Session | None = None,
        store_path: str | Path | None = None,
    ) -> None:
        self._http = Transport(
            base_url,
            api_key=api_key,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            verify=verify,
            session=session,
        )
        self.base_url = self._http.origin
        self._store = SideStore(store_path if store_path is not None else DEFAULT_STORE, scope=self.base_url)
        self._team_ids: dict[str, str] = {}
        self._team_names: dict[str, str] = {}
        self._asset_ids: dict[str, str] = {}
        self._registered: set[tuple[str, str]] = set()  # (contract id, team id) known to be registered

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HttpRegistry:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"HttpRegistry({self.base_url!r})"

    # teams

    def ensure_team(self, name: str) -> Team:
        _require(name, "team name")
        found = self._find_team(name)
        if found is not None:
            return found
        reply = self._http.write(
            "POST",
            "/api/v1/teams",
            body={"name": name},
            accept=(409,),
            happened=lambda: self._find_team(name) is not None,
        )
        if reply is not None and reply.ok:
            return self._team(reply.json_object())
        found = self._find_team(name)  # created meanwhile (409 DUPLICATE_TEAM) or the answer was lost
        if found is None:
            detail = f" ({reply.code}: {reply.message})" if reply is not None else ""
            raise ConflictError(
                f"POST /api/v1/teams on {self.base_url} refused team {name!r}{detail}, yet no team of that "
                "name is listed; the name may differ only in case from an existing team"
            )
        return found

    def teams(self) -> list[Team]:
        return sorted((self._team(row) for row in self._http.pages("/api/v1/teams")), key=lambda t: t.name)

    def _team(self, row: Mapping[str, Any]) -> Team:
        team = Team(str(row["name"]), str(row["id"]))
        assert team.id is not None
        self._team_ids[team.name] = team.id
        self._team_names[team.id] = team.name
        return team

    def _find_team(self, name: str) -> Team | None:
        for row in self._http.pages("/api/v1/teams", {"name": name}):
            team = self._team(row)
            if team.name == name:
                return team
        return None

    def _team_id(self, name: str) -> str:
        """The server id of team ``name``, created when missing."""
        if name not in self._team_ids:
            team = self.ensure_team(name)
            assert team.id is not None
            return team.id
        return self._team_ids[name]

    def _team_name(self, team_id: Any) -> str | None:
        if team_id is None:
            return None
        key = str(team_id)
        if key not in self._team_names:
            self.teams()
        return self._team_names.get(key, key)

    # assets

    def upsert_asset(self, asset: Asset) -> Asset:
        """Create or update the asset; the server requires an owner team for a new one.

        Mode, kind, dialect and metadata are kept under ``metadata.tessera``
        (other keys of the server's metadata are left alone); the owner and
        the server's ``resource_type`` follow the asset. The server cannot
        unset an owner: ``owner_team=None`` keeps the current one.
        """
        _require(asset.fqn, "asset fqn")
        mode = _member(
            CompatibilityMode, asset.compatibility_mode, f"compatibility mode of asset {asset.fqn}"
        )
        try:
            block = json.loads(canonical(asset_block(replace(asset, compatibility_mode=mode))))
        except (TypeError, ValueError) as error:
            raise RegistryError(
                f"metadata of asset {asset.fqn} is not JSON-serializable ({error}); store strings, numbers, "
                "lists, dicts"
            ) from error
        row = self._asset_row(asset.fqn)
        owner_id = self._team_id(asset.owner_team) if asset.owner_team else None
        if row is None:
            if owner_id is None:  # the server needs an owner for every asset: park it with "unowned"
                log.warning(
                    "tessera: asset %s has no owner team; registering it on the server under %r",
                    asset.fqn,
                    UNOWNED_TEAM,
                )
                owner_id = self._team_id(UNOWNED_TEAM)
            fqn = asset.fqn
            reply = self._http.write(
                "POST",
                "/api/v1/assets",
                body={
                    "fqn": fqn,
                    "owner_team_id": owner_id,
                    "resource_type": resource_type(asset.kind),
                    "metadata": {ASSET_KEY: block},
                },
                happened=lambda: self._asset_row(fqn) is not None,
            )
            return self._asset(
                reply.json_object() if reply is not None else self._require_asset(fqn, "reading")
            )
        changes: dict[str, Any] = {}
        metadata = dict(row.get("metadata") or {})
        if canonical(metadata.get(ASSET_KEY)) != canonical(block):
            metadata[ASSET_KEY] = block
            changes["metadata"] = metadata
        if owner_id is not None and owner_id != row.get("owner_team_id"):
            changes["owner_team_id"] = owner_id
        if resource_type(asset.kind) != row.get("resource_type"):
            changes["resource_type"] = resource_type(asset.kind)
        if not changes:
            return self._asset(row)
        reply = self._http.call(
            "PATCH", f"/api/v1/assets/{segment(row['id'])}", body=changes, idempotent=True
        )
        return self._asset(reply.json_object())

    def get_asset(self, fqn: str) -> Asset | None:
        row = self._asset_row(fqn)
        return self._asset(row) if row is not None else None

    def assets(self) -> list[Asset]:
        rows = [row for row in self._http.pages("/api/v1/assets") if isinstance(row, dict)]
        return sorted((self._asset(row) for row in rows), key=lambda a: a.fqn)

    def _asset(self, row: Mapping[str, Any]) -> Asset:
        owner = row.get("owner_team_name") or self._team_name(row.get("owner_team_id"))
        return asset_from(row, owner)

    def _asset_row(self, fqn: str) -> dict[str, Any] | None:
        """The server's asset ``fqn`` (its ``fqn`` filter is a case-insensitive pattern: match exactly)."""
        for row in self._http.pages("/api/v1/assets", {"fqn": fqn}):
            if isinstance(row, dict) and row.get("fqn") == fqn:
                self._asset_ids[fqn] = str(row["id"])
                return row
        return None

    def _asset_id(self, fqn: str) -> str | None:
        """The server id of asset ``fqn`` (ids never change, so a found one is remembered)."""
        if fqn not in self._asset_ids:
            self._asset_row(fqn)
        return self._asset_ids.get(fqn)

    def _require_asset(self, fqn: str, doing: str) -> dict[str, Any]:
        row = self._asset_row(fqn)
        if row is None:
            raise NotFoundError(
                f"asset {fqn} is not on the Tessera server at {self.base_url}, which {doing} needs; create "
                f"it first with upsert_asset(Asset({fqn!r}, owner_team=...)) (gate.publish does)"
            )
        return row

    # contracts

    def current_contract(self, fqn: str) -> Contract | None:
        asset_id = self._asset_id(fqn)
        current = self._current_row(asset_id) if asset_id is not None else None
        return self._contract(fqn, current) if current is not None else None

    def contract_history(self, fqn: str) -> list[Contract]:
        asset_id = self._asset_id(fqn)
        if asset_id is None:
            return []
        return [self._contract(fqn, c) for c in self._contract_rows(asset_id)]

    def publish_contract(
        self,
        fqn: str,
        schema: Schema,
        version: str,
        *,
        change_class: str,
        published_by: str | None = None,
        expected_current: str | None = None,
        forced_reason: str | None = None,
    ) -> Contract:
        """Publish ``version``; ConflictError when the current version is not ``expected_current``.

        Sent with the server's ``force`` (see the module doc): the gate
        decided; a change the server sees as breaking is logged as overridden.
        """
        _require(fqn, "asset fqn")
        _require(version, f"contract version for {fqn}")
        _check_change_class(change_class, fqn)
        if forced_reason is not None:
            _check_forced_reason(forced_reason, f"publishing {version} of {fqn}")
        return self._publish(
            fqn,
            schema,
            version,
            change_class=change_class,
            by=published_by,
            expected_current=expected_current,
            forced_reason=forced_reason,
        )

    def _publish(
        self,
        fqn: str,
        schema: Schema,
        version: str,
        *,
        change_class: str,
        by: str | None,
        expected_current: str | None,
        forced_reason: str | None,
        proposal_id: str | None = None,
    ) -> Contract:
        row = self._require_asset(fqn, f"publishing {version}")
        asset_id = str(row["id"])
        contracts = self._contract_rows(asset_id)
        _check_version_free(contracts, fqn, version)
        _check_current(contracts, fqn, version, expected_current)
        facts = {
            "change_class": change_class,
            "published_by": by,
            "forced_reason": forced_reason,
            "proposal_id": proposal_id,
        }
        document = schema_document(schema, contract={k: v for k, v in facts.items() if v is not None})
        reason = (forced_reason or GATE_REASON)[:500]
        path = f"/api/v1/assets/{segment(asset_id)}/publish"
        reply = self._http.write(
            "POST",
            path,
            params={"published_by": str(row["owner_team_id"]), "force": True, "force_reason": reason},
            body={
                "schema": document,
                "compatibility_mode": SERVER_MODES[self._asset(row).compatibility_mode],
                "version": version,
            },
            happened=lambda: self._version_row(asset_id, version) is not None,
        )
        if reply is None:
            published = self._version_row(asset_id, version)
            assert published is not None
            if canonical(published.get("schema_def")) != canonical(document):
                raise ConflictError(
                    f"version {version} of {fqn} was published meanwhile with another schema; re-read the "
                    "current contract, check compatibility again and retry"
                )
        else:
            data = reply.json_object()
            action, published = data.get("action"), data.get("contract")
            if action not in ("published", "force.published") or not isinstance(published, dict):
                raise RegistryError(
                    f"POST {path} on {self.base_url} answered {action!r} where a published contract was "
                    f"expected for {version} of {fqn}: {data.get('message', '')}; check the asset's "
                    "semver mode on the server (tessera sends the version it computed)"
                )
            if action == "force.published":
                said = "; ".join(str(c.get("message")) for c in data.get("breaking_changes") or ())
                log.warning(
                    "tessera: the Tessera server judged %s %s breaking (%s); published over its verdict "
                    "with force_reason %r",
                    fqn,
                    version,
                    said,
                    reason,
                )
        self._carry_forward(fqn, asset_id, str(published["id"]), contracts)
        return self._contract(fqn, published)

    def _contract(self, fqn: str, row: Mapping[str, Any]) -> Contract:
        publisher = row.get("published_by_team_name") or self._team_name(row.get("published_by"))
        return contract_from(
            fqn, row, publisher=publisher, notes=self._store.note("contract", str(row["id"]))
        )

    def _contract_rows(self, asset_id: str) -> list[dict[str, Any]]:
        """Every contract of the asset, oldest first."""
        rows = [
            r
            for r in self._http.pages(f"/api/v1/assets/{segment(asset_id)}/contracts")
            if isinstance(r, dict)
        ]
        return sorted(reversed(rows), key=lambda r: str(r.get("published_at") or ""))

    def _current_row(self, asset_id: str) -> dict[str, Any] | None:
        for row in self._http.pages(f"/api/v1/assets/{segment(asset_id)}/contracts"):
            if isinstance(row, dict) and row.get("status") == "active":
                return row
        return None

    def _version_row(self, asset_id: str, version: str) -> dict[str, Any] | None:
        for row in self._http.pages(f"/api/v1/assets/{segment(asset_id)}/contracts"):
            if isinstance(row, dict) and row.get("version") == version:
                return row
        return None

    # registrations

    def register(self, registration: Registration) -> RegisterOutcome:
        """Keep the registration in full beside the client; register its team on the current contract.

        An asset not on the server yet, or without a contract, gets its server
        registration when a contract is published through this client.
        """
        reg = registration
        _require(reg.asset_fqn, "registration asset fqn")
        _require(reg.team, f"team of the registration of {reg.consumer} on {reg.asset_fqn}")
        _require(reg.consumer, f"consumer of a registration on {reg.asset_fqn}")
        where = f"registration of {reg.consumer} ({reg.team}) on {reg.asset_fqn}"
        if reg.retired:
            raise RegistryError(f"{where} is marked retired; call retire() to retire it, register() adds")
        self._store.check(reg)
        asset_id = self._asset_id(reg.asset_fqn)
        current = self._current_row(asset_id) if asset_id is not None else None
        if current is not None:
            self._ensure_registered(str(current["id"]), self._team_id(reg.team), reg.pinned_version)
        return self._store.register(reg)

    def retire(self, fqn: str, team: str, consumer: str) -> bool:
        """Retire the registration; the team's server registrations go inactive with its last consumer."""
        active = self._store.registrations(fqn, team=team)
        if not any(r.consumer == consumer for r in active):
            return consumer == f"{SERVER_CONSUMER}{team}" and self._deactivate(fqn, team)
        if len(active) == 1:
            self._deactivate(fqn, team)
        return self._store.retire(fqn, team, consumer)

    def registrations(
        self,
        fqn: str | None = None,
        *,
        team: str | None = None,
        consumer: str | None = None,
        include_retired: bool = False,
    ) -> list[Registration]:
        """Registrations kept here, plus teams registered on the server (any version) with none here."""
        out = self._store.registrations(fqn, team=team, consumer=consumer, include_retired=include_retired)
        covered = {(r.asset_fqn, r.team) for r in self._store.registrations(fqn)}
        for asset_fqn, consumers in self._server_teams(fqn).items():
            for name, found in consumers.items():
                if (asset_fqn, name) in covered or (team is not None and name != team):
                    continue
                reg = Registration(
                    asset_fqn,
                    name,
                    f"{SERVER_CONSUMER}{name}",
                    pinned_version=found.pinned,
                    evidence=(
                        f"{name} is registered on the Tessera server (version {found.version}); "
                        "the columns it reads are not known here",
                    ),
                    id=found.registration_id,
                )
                if consumer is None or consumer == reg.consumer:
                    out.append(reg)
        return out

    def _server_teams(self, fqn: str | None) -> dict[str, dict[str, _ServerConsumer]]:
        """Per asset, the teams registered (active or migrating) on any of its versions."""
        if fqn is not None:
            asset_id = self._asset_id(fqn)
            return (
                {fqn: self._server_consumers(self._contract_rows(asset_id))} if asset_id is not None else {}
            )
        contracts = {str(c["id"]): c for c in self._http.pages("/api/v1/contracts") if isinstance(c, dict)}
        found: dict[str, dict[str, _ServerConsumer]] = {}
        rows = [r for r in self._http.pages("/api/v1/registrations") if isinstance(r, dict)]
        for reg in sorted(
            rows, key=lambda r: str(contracts.get(str(r.get("contract_id")), {}).get("published_at"))
        ):
            contract = contracts.get(str(reg.get("contract_id")))
            name = self._team_name(reg.get("consumer_team_id"))
            if contract is None or name is None or reg.get("status") not in ACTIVE:
                continue
            found.setdefault(str(contract.get("asset_fqn")), {})[name] = _consumer(reg, contract)
        return found

    def _server_consumers(self, contracts: Sequence[Mapping[str, Any]]) -> dict[str, _ServerConsumer]:
        found: dict[str, _ServerConsumer] = {}
        for contract in contracts:  # oldest first: the newest registration of a team wins
            for reg in self._registrations_of(str(contract["id"])):
                name = reg.get("consumer_team_name") or self._team_name(reg.get("consumer_team_id"))
                if name is not None and reg.get("status") in ACTIVE:
                    found[str(name)] = _consumer(reg, contract)
        return found

    def _registrations_of(self, contract_id: str) -> list[dict[str, Any]]:
        path = f"/api/v1/contracts/{segment(contract_id)}/registrations"
        return [r for r in self._http.pages(path) if isinstance(r, dict)]

    def _ensure_registered(self, contract_id: str, team_id: str, pinned: str | None) -> None:
        """Team ``team_id`` registered (active) on contract ``contract_id``."""
        if (contract_id, team_id) in self._registered:
            return
        rows = {str(r.get("consumer_team_id")): r for r in self._registrations_of(contract_id)}
        row = rows.get(team_id)
        if row is not None and row.get("status") not in ACTIVE:
            self._http.call(
                "PATCH",
                f"/api/v1/registrations/{segment(row['id'])}",
                body={"status": "active"},
                idempotent=True,
            )
        elif row is None:
            body = {"consumer_team_id": team_id, "contract_id": contract_id}
            if pinned and SEMVER.match(pinned):
                body["pinned_version"] = pinned
            self._http.write(
                "POST",
                "/api/v1/registrations",
                body=body,
                happened=lambda: any(
                    str(r.get("consumer_team_id")) == team_id for r in self._registrations_of(contract_id)
                ),
            )
        self._registered.add((contract_id, team_id))

    def _carry_forward(
        self, fqn: str, asset_id: str, contract_id: str, contracts: Sequence[Mapping[str, Any]] | None
    ) -> None:
        """Register every known consumer team of ``fqn`` on its new contract; refusals are logged."""
        try:
            consumers = self._server_consumers(
                contracts if contracts is not None else self._contract_rows(asset_id)
            )
        except RegistryError as error:
            log.warning("tessera: could not list the consumers of %s to re-register them: %s", fqn, error)
            return
        pinned = {name: found.pinned for name, found in consumers.items()}
        for reg in self._store.registrations(fqn):
            pinned.setdefault(reg.team, reg.pinned_version)
        missed = []
        for name in sorted(pinned):
            try:
                team_id = consumers[name].team_id if name in consumers else self._team_id(name)
                self._ensure_registered(contract_id, team_id, pinned[name])
            except RegistryError as error:
                missed.append(f"{name} ({error})")
        if missed:
            log.warning(
                "tessera: could not register %s on the new contract of %s; they still count for the gate "
                "(it reads registrations across versions), and their next tessera run registers them",
                "; ".join(missed),
                fqn,
            )

    def _deactivate(self, fqn: str, team: str) -> bool:
        """Set the team's server registrations on every version of ``fqn`` inactive."""
        asset_id = self._asset_id(fqn)
        if asset_id is None:
            return False
        changed = False
        for contract in self._contract_rows(asset_id):
            for reg in self._registrations_of(str(contract["id"])):
                name = reg.get("consumer_team_name") or self._team_name(reg.get("consumer_team_id"))
                if name != team or reg.get("status") not in ACTIVE:
                    continue
                self._http.call(
                    "PATCH",
                    f"/api/v1/registrations/{segment(reg['id'])}",
                    body={"status": "inactive"},
                    idempotent=True,
                )
                self._registered.discard((str(contract["id"]), str(reg.get("consumer_team_id"))))
                changed = True
        return changed

    # proposals

    def open_proposal(
        self,
        fqn: str,
        schema: Schema,
        changes: Sequence[Change],
        affected: Sequence[AffectedConsumer],
        *,
        proposed_by: str | None = None,
        base_version: str | None = None,
    ) -> tuple[Proposal, bool]:
        """Open a proposal, or return the open one for the same schema (created=False).

        A different open proposal on the asset raises ConflictError, and so
        does a ``base_version`` that is not the current version.
        """
        _require(fqn, "asset fqn")
        row = self._require_asset(fqn, "opening a proposal")
        asset_id = str(row["id"])
        for found in self._open(fqn, asset_id):
            if same_schema(found.schema, schema):
                return found, False
            raise ConflictError(
                f"asset {fqn} already has open proposal {found.id} ({found.status.value}) for a different "
                f"schema; withdraw it (withdraw({found.id!r})) or get it acknowledged and published first"
            )
        contracts = self._contract_rows(asset_id)
        current = _active(contracts)
        current_version = str(current["version"]) if current is not None else None
        if current_version != base_version:
            raise ConflictError(
                f"cannot open a proposal on {fqn} based on version {_shown(base_version)}: the current "
                f"version is {_shown(current_version)}; diff against the current contract and propose again"
            )
        notes = {
            "changes": [c.to_dict() for c in changes],
            "affected": [a.to_dict() for a in affected],
            "base_version": base_version,
            "proposed_by": proposed_by,
        }
        if current is not None:
            self._carry_forward(fqn, asset_id, str(current["id"]), contracts)
            if not self._server_would_publish(asset_id, schema):
                return self._propose_on_server(fqn, row, current, schema, notes)
        proposal = Proposal(
            id=f"{LOCAL_PREFIX}{secrets.token_hex(6)}",
            asset_fqn=fqn,
            schema=schema,
            changes=tuple(changes),
            affected=tuple(affected),
            status=ProposalStatus.PENDING if affected else ProposalStatus.APPROVED,
            proposed_by=proposed_by,
            proposed_at=_now(),
            base_version=base_version,
        )
        self._store.add_proposal(proposal)
        log.warning(
            "tessera: the Tessera server at %s would publish this change to %s at once (it does not see "
            "what blocks it here), so proposal %s is kept by this client only (%s); answer it through "
            "tessera with this side store",
            self.base_url,
            fqn,
            proposal.id,
            self._store.path,
        )
        return proposal, True

    def _server_would_publish(self, asset_id: str, schema: Schema) -> bool:
        reply = self._http.call(
            "POST", f"/api/v1/assets/{segment(asset_id)}/impact", body=to_json_schema(schema), idempotent=True
        )
        return reply.json_object().get("safe_to_publish") is True

    def _propose_on_server(
        self,
        fqn: str,
        row: Mapping[str, Any],
        current: Mapping[str, Any],
        schema: Schema,
        notes: dict[str, Any],
    ) -> tuple[Proposal, bool]:
        asset_id = str(row["id"])
        document = schema_document(schema, proposal=notes)
        path = f"/api/v1/assets/{segment(asset_id)}/publish"
        reply = self._http.write(
            "POST",
            path,
            params={"published_by": str(row["owner_team_id"])},
            body={"schema": document, "compatibility_mode": current.get("compatibility_mode", "backward")},
            accept=(409,),
            happened=lambda: self._pending_for(asset_id, document) is not None,
        )
        if reply is None:
            detail = self._pending_for(asset_id, document)
            assert detail is not None
            return self._proposal(detail), True
        if reply.status == 409:  # DUPLICATE_PROPOSAL: another client opened one meanwhile
            for found in self._open(fqn, asset_id):
                if same_schema(found.schema, schema):
                    return found, False
            raise ConflictError(
                f"{reply.call} on {self.base_url} answered 409 {reply.code}: {reply.message}; withdraw the "
                "pending proposal or get it acknowledged and published first"
            )
        data = reply.json_object()
        proposal = data.get("proposal")
        if data.get("action") != "proposal.created" or not isinstance(proposal, dict):
            version = (data.get("contract") or {}).get("version")
            raise RegistryError(
                f"POST {path} on {self.base_url} answered {data.get('action')!r} instead of opening a "
                f"proposal for {fqn} (published version {version}): the server judged the change "
                "compatible after all. Check the asset's contracts and compatibility mode on the server"
            )
        return self.get_proposal(str(proposal["id"])), True

    def _pending_for(self, asset_id: str, document: Mapping[str, Any]) -> dict[str, Any] | None:
        wanted = canonical(document)
        for item in self._http.pages("/api/v1/proposals", {"asset_id": asset_id, "status": "pending"}):
            detail = self._detail(str(item["id"]))
            if canonical(detail.get("proposed_schema")) == wanted:
                return detail
        return None

    def _open(self, fqn: str, asset_id: str) -> list[Proposal]:
        """Open proposals (pending or approved by our rule) on the asset, the server's and ours."""
        found = []
        for status in ("pending", "approved"):
            for item in self._http.pages("/api/v1/proposals", {"asset_id": asset_id, "status": status}):
                proposal = self._proposal(self._detail(str(item["id"])))
                if proposal.status in OPEN:
                    found.append(proposal)
        return found + [p for p in self._store.proposals(fqn) if p.status in OPEN]

    def get_proposal(self, proposal_id: str) -> Proposal:
        if proposal_id.startswith(LOCAL_PREFIX):
            found = self._store.proposal(proposal_id)
            if found is None:
                raise NotFoundError(
                    f"proposal {proposal_id!r} is not in the side store {self._store.path} of "
                    f"{self.base_url}; list the proposals with proposals()"
                )
            return found
        return self._proposal(self._detail(proposal_id))

    def proposals(self, fqn: str | None = None, *, status: ProposalStatus | None = None) -> list[Proposal]:
        wanted = _member(ProposalStatus, status, "proposal status filter") if status is not None else None
        params: dict[str, str] = {}
        if fqn is not None:
            asset_id = self._asset_id(fqn)
            if asset_id is None:
                return self._local(fqn, wanted)
            params["asset_id"] = asset_id
        items: list[Any] = []
        for server_status in SERVER_STATUSES[wanted] if wanted is not None else (None,):
            query = {**params, "status": server_status} if server_status else params
            items.extend(self._http.pages("/api/v1/proposals", query))
        found = [self._proposal(self._detail(str(item["id"]))) for item in items if isinstance(item, dict)]
        found = [p for p in found if wanted is None or p.status is wanted] + self._local(fqn, wanted)
        return sorted(found, key=lambda p: str(p.proposed_at or ""))

    def _local(self, fqn: str | None, status: ProposalStatus | None) -> list[Proposal]:
        return [p for p in self._store.proposals(fqn) if status is None or p.status is status]

    def _detail(self, proposal_id: str) -> dict[str, Any]:
        if not _is_uuid(proposal_id):
            raise NotFoundError(
                f"proposal {proposal_id!r} is not on the Tessera server at {self.base_url} (its proposal ids "
                f"are UUIDs; this client's own start with {LOCAL_PREFIX!r}); list them with proposals()"
            )
        return self._http.get(f"/api/v1/proposals/{segment(proposal_id)}").json_object()

    def _proposal(self, detail: Mapping[str, Any]) -> Proposal:
        pid = str(detail.get("proposal_id") or detail.get("id"))
        notes = self._store.note("proposal", pid)
        version = None
        if detail.get("status") == "published" and not notes.get("published_version"):
            version = self._published_as(detail)
        return proposal_from(detail, notes=notes, published_version=version)

    def _published_as(self, detail: Mapping[str, Any]) -> str | None:
        """The version a proposal another client published became: the contract with its document."""
        wanted = canonical(detail.get("proposed_schema"))
        for row in self._http.pages(f"/api/v1/assets/{segment(detail['asset_id'])}/contracts"):
            if isinstance(row, dict) and canonical(row.get("schema_def")) == wanted:
                return str(row["version"])
        return None

    def acknowledge(
        self,
        proposal_id: str,
        team: str,
        response: AckResponse,
        *,
        note: str | None = None,
        by: str | None = None,
    ) -> Proposal:
        """Record a team's answer; the proposal is approved once every affected team approved.

        The server keeps a team's first answer (see the module doc); a team
        affected only through lineage answers in the side store.
        """
        answer = _member(AckResponse, response, f"response of team {team} to proposal {proposal_id}")
        if proposal_id.startswith(LOCAL_PREFIX):

            def record(p: Proposal) -> Proposal:
                _require_open(p, f"acknowledge proposal {proposal_id} for team {team}")
                _require_affected(p, team)
                return with_answer(p, Acknowledgment(team, answer, note, by, _now()))

            self.get_proposal(proposal_id)
            return self._store.update_proposal(proposal_id, record)
        detail = self._detail(proposal_id)
        proposal = self._proposal(detail)
        _require_open(proposal, f"acknowledge proposal {proposal_id} for team {team}")
        _require_affected(proposal, team)
        if not self._can_answer_on_server(proposal, team, str(detail["asset_id"])):
            answer_note = {"response": answer.value, "note": note, "by": by, "at": _now()}
            self._store.annotate("proposal", proposal_id, {"acks": {team: answer_note}})
            return self.get_proposal(proposal_id)
        body = {"consumer_team_id": self._team_id(team), "response": answer.value}
        if note is not None:
            body["notes"] = note
        reply = self._http.write(
            "POST",
            f"/api/v1/proposals/{segment(proposal_id)}/acknowledge",
            body=body,
            accept=(400, 409),
            happened=lambda: self._server_answer(proposal_id, team) is not None,
        )
        if reply is not None and not reply.ok:
            earlier = self._server_answer(proposal_id, team)
            if earlier is None:
                raise InvalidStateError(
                    f"{reply.call} on {self.base_url} answered {reply.status} {reply.code}: {reply.message}; "
                    f"proposal {proposal_id} on {proposal.asset_fqn} no longer takes answers on the server"
                )
            if earlier != answer.value:
                raise ConflictError(
                    f"team {team} already answered {earlier!r} to proposal {proposal_id} on "
                    f"{proposal.asset_fqn}; the Tessera server keeps a team's first answer and refuses a "
                    f"change ({reply.status} {reply.code}). Withdraw the proposal and open it again to ask "
                    "anew"
                )
        if by is not None:
            self._store.annotate("proposal", proposal_id, {"ack_by": {team: by}})
        return self.get_proposal(proposal_id)

    def _can_answer_on_server(self, proposal: Proposal, team: str, asset_id: str) -> bool:
        """Is ``team`` a direct consumer of the asset? If so, it is registered on the current contract."""
        contracts = self._contract_rows(asset_id)
        consumers = self._server_consumers(contracts)
        direct = (
            team in consumers
            or any(a.team == team and a.depth == 0 for a in proposal.affected)
            or bool(self._store.registrations(proposal.asset_fqn, team=team))
        )
        current = _active(contracts)
        if direct and current is not None:
            team_id = consumers[team].team_id if team in consumers else self._team_id(team)
            self._ensure_registered(str(current["id"]), team_id, None)
        return direct

    def _server_answer(self, proposal_id: str, team: str) -> str | None:
        for item in self._detail(proposal_id).get("acknowledgments") or ():
            if item.get("consumer_team_name") == team:
                return str(item.get("response"))
        return None

    def withdraw(self, proposal_id: str, *, by: str | None = None, reason: str | None = None) -> Proposal:
        if proposal_id.startswith(LOCAL_PREFIX):
            self.get_proposal(proposal_id)
            return self._store.update_proposal(
                proposal_id,
                lambda p: _withdrawn(p, f"withdraw proposal {proposal_id}", reason),
            )
        detail = self._detail(proposal_id)
        proposal = self._proposal(detail)
        _require_open(proposal, f"withdraw proposal {proposal_id}")
        notes: dict[str, Any] = {"reason": reason, "by": by, "resolved_at": _now()}
        if detail.get("status") == "pending":
            self._http.write(
                "POST",
                f"/api/v1/proposals/{segment(proposal_id)}/withdraw",
                happened=lambda: self._detail(proposal_id).get("status") == "withdrawn",
            )
        else:
            log.warning(
                "tessera: proposal %s on %s is approved on the Tessera server, which withdraws only pending "
                "proposals; it is withdrawn for this client (side store %s)",
                proposal_id,
                proposal.asset_fqn,
                self._store.path,
            )
            notes["withdrawn"] = True
        self._store.annotate("proposal", proposal_id, notes)
        return self.get_proposal(proposal_id)

    def publish_proposal(
        self,
        proposal_id: str,
        version: str,
        *,
        change_class: str = "major",
        by: str | None = None,
        forced_reason: str | None = None,
    ) -> tuple[Proposal, Contract]:
        """Publish an approved proposal (or force a pending one with ``forced_reason``) exactly once."""
        _require(version, f"contract version for proposal {proposal_id}")
        _check_change_class(change_class, f"proposal {proposal_id}")
        if forced_reason is not None:
            _check_forced_reason(forced_reason, f"forcing proposal {proposal_id}")
        if proposal_id.startswith(LOCAL_PREFIX):
            return self._publish_local(proposal_id, version, change_class, by, forced_reason)
        detail = self._detail(proposal_id)
        proposal = self._proposal(detail)
        _require_publishable(proposal, forced_reason)
        fqn = proposal.asset_fqn
        row = self._require_asset(fqn, f"publishing proposal {proposal_id}")
        asset_id = str(row["id"])
        contracts = self._contract_rows(asset_id)
        _check_version_free(contracts, fqn, version)
        if proposal.base_version is not None:
            _check_stale(proposal, contracts, version)
        owner = str(row["owner_team_id"])
        if detail.get("status") == "pending":
            self._force_on_server(detail, owner, forced_reason)
        path = f"/api/v1/proposals/{segment(proposal_id)}/publish"
        reply = self._http.write(
            "POST",
            path,
            body={"version": version, "published_by": owner},
            happened=lambda: self._version_row(asset_id, version) is not None,
        )
        published = reply.json_object().get("contract") if reply is not None else None
        if not isinstance(published, dict):
            published = self._version_row(asset_id, version)
            if published is None:
                raise RegistryError(f"{path} on {self.base_url} answered without the contract it published")
        facts = {"change_class": change_class, "published_by": by, "forced_reason": forced_reason}
        self._store.annotate("contract", str(published["id"]), {**facts, "proposal_id": proposal_id})
        done: dict[str, Any] = {"published_version": version, "forced": forced_reason is not None, "by": by}
        if forced_reason is not None:
            done["reason"] = forced_reason
        self._store.annotate("proposal", proposal_id, done)
        self._carry_forward(fqn, asset_id, str(published["id"]), contracts)
        return self.get_proposal(proposal_id), self._contract(fqn, published)

    def _force_on_server(self, detail: Mapping[str, Any], owner: str, forced_reason: str | None) -> None:
        """Approve a proposal the server still holds as pending (admin scope); the reason is logged."""
        pid = str(detail.get("proposal_id") or detail.get("id"))
        waiting = sorted(str(c.get("team_name")) for c in detail.get("pending_consumers") or ())
        why = forced_reason or (
            "every affected team approved; the server also waits for "
            f"{', '.join(waiting) or 'no registered team'}, which the change does not reach"
        )
        log.warning("tessera: force-approving proposal %s on the Tessera server: %s", pid, why)
        self._http.write(
            "POST",
            f"/api/v1/proposals/{segment(pid)}/force",
            params={"actor_id": owner},
            happened=lambda: self._detail(pid).get("status") != "pending",
        )
        self._store.annotate("proposal", pid, {"server_forced": why})

    def _publish_local(
        self, proposal_id: str, version: str, change_class: str, by: str | None, forced_reason: str | None
    ) -> tuple[Proposal, Contract]:
        proposal = self.get_proposal(proposal_id)
        _require_publishable(proposal, forced_reason)
        try:
            contract = self._publish(
                proposal.asset_fqn,
                proposal.schema,
                version,
                change_class=change_class,
                by=by,
                expected_current=proposal.base_version,
                forced_reason=forced_reason,
                proposal_id=proposal_id,
            )
        except ConflictError as error:
            raise ConflictError(
                f"proposal {proposal_id} is stale: {error}. Withdraw it and propose against the current "
                "contract"
            ) from error
        status = ProposalStatus.FORCED if forced_reason is not None else ProposalStatus.PUBLISHED
        done = self._store.update_proposal(
            proposal_id,
            lambda p: replace(
                p,
                status=status,
                resolved_at=_now(),
                published_version=version,
                reason=forced_reason if forced_reason is not None else p.reason,
            ),
        )
        return done, contract

    # audit

    def audit(self, fqn: str | None = None, *, limit: int | None = None) -> list[AuditEvent]:
        """The server's audit events, oldest first; ``limit`` keeps the newest ``limit``.

        For ``fqn``: events on the asset, its contracts and its proposals.
        """
        if limit is not None and limit < 0:
            raise RegistryError(f"audit limit must be 0 or more, got {limit}; pass None for every event")
        related: set[str] | None = None
        if fqn is not None:
            asset_id = self._asset_id(fqn)
            if asset_id is None:
                return []
            related = {asset_id} | {str(c["id"]) for c in self._contract_rows(asset_id)}
            related |= {str(p["id"]) for p in self._http.pages("/api/v1/proposals", {"asset_id": asset_id})}
        picked: list[tuple[int, dict[str, Any]]] = []
        seen, total, offset = 0, None, 0
        while limit is None or len(picked) < limit:
            results, page_total = self._http.page("/api/v1/audit/events", None, offset)
            total = total if total is not None else page_total
            for item in results:
                seen += 1
                if isinstance(item, dict) and (related is None or _mentions(item, related, fqn)):
                    picked.append((seen, item))
                    if limit is not None and len(picked) >= limit:
                        break
            offset += len(results)
            if not results or (total is not None and offset >= total):
                break
        count = total if total is not None else seen
        events = [
            audit_from(count - index + 1, item, fqn=fqn, actor=self._team_name(item.get("actor_id")))
            for index, item in picked
        ]
        return list(reversed(events))

    # the server's own views, where they save round trips

    def server_impact(self, fqn: str, schema: Schema) -> dict[str, Any]:
        """The server's impact verdict for ``schema`` (``POST /assets/{id}/impact``), as it answers it."""
        row = self._require_asset(fqn, "an impact check")
        path = f"/api/v1/assets/{segment(row['id'])}/impact"
        return self._http.call("POST", path, body=to_json_schema(schema), idempotent=True).json_object()

    def dbt_diff(self, manifest: Mapping[str, Any], *, fail_on_breaking: bool = True) -> dict[str, Any]:
        """What uploading ``manifest`` would change, per model (``POST /sync/dbt/diff``); read-only."""
        body = {"manifest": dict(manifest), "fail_on_breaking": fail_on_breaking}
        return self._http.call("POST", "/api/v1/sync/dbt/diff", body=body, idempotent=True).json_object()

    def dbt_impact(self, manifest: Mapping[str, Any], *, owner_team: str) -> dict[str, Any]:
        """The server's breaking-change check of every model in ``manifest`` (``POST /sync/dbt/impact``)."""
        body = {"manifest": dict(manifest), "owner_team_id": self._team_id(owner_team)}
        return self._http.call("POST", "/api/v1/sync/dbt/impact", body=body, idempotent=True).json_object()

    def dbt_upload(
        self,
        manifest: Mapping[str, Any],
        *,
        owner_team: str,
        conflict_mode: str = "ignore",
        auto_publish_contracts: bool = False,
        auto_create_proposals: bool = False,
    ) -> dict[str, Any]:
        """Sync ``manifest`` into the server (``POST /sync/dbt/upload``) under the *server's* rules.

        This bypasses the gate (the server publishes or proposes by its own
        verdict); its outcome is not retried when unknown. A 207 (partial
        success) comes back as the server's report.
        """
        body = {
            "manifest": dict(manifest),
            "owner_team_id": self._team_id(owner_team),
            "conflict_mode": conflict_mode,
            "auto_publish_contracts": auto_publish_contracts,
            "auto_create_proposals": auto_create_proposals,
        }
        return self._http.call("POST", "/api/v1/sync/dbt/upload", body=body).json_object()


def _consumer(reg: Mapping[str, Any], contract: Mapping[str, Any]) -> _ServerConsumer:
    pinned = reg.get("pinned_version")
    return _ServerConsumer(
        str(reg.get("consumer_team_id")),
        str(reg.get("id")),
        str(contract.get("version")),
        str(pinned) if pinned is not None else None,
    )


def _active(contracts: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    current = None
    for row in contracts:  # oldest first: the last active one is current
        if row.get("status") == "active":
            current = row
    return current


def _check_version_free(contracts: Iterable[Mapping[str, Any]], fqn: str, version: str) -> None:
    if any(row.get("version") == version for row in contracts):
        raise ConflictError(f"version {version} of {fqn} is already published; publish a new version number")


def _check_current(
    contracts: Sequence[Mapping[str, Any]], fqn: str, version: str, expected: str | None
) -> None:
    current = _active(contracts)
    found = str(current["version"]) if current is not None else None
    if found != expected:
        raise ConflictError(
            f"cannot publish {version} of {fqn}: expected the current version to be {_shown(expected)} "
            f"but it is {_shown(found)} (someone published meanwhile); re-read the current contract, "
            "check compatibility again and retry"
        )


def _check_stale(proposal: Proposal, contracts: Sequence[Mapping[str, Any]], version: str) -> None:
    try:
        _check_current(contracts, proposal.asset_fqn, version, proposal.base_version)
    except ConflictError as error:
        raise ConflictError(
            f"proposal {proposal.id} is stale: {error}. Withdraw it and propose against the current contract"
        ) from error


def _mentions(item: Mapping[str, Any], related: set[str], fqn: str | None) -> bool:
    payload = item.get("payload")
    payload = payload if isinstance(payload, dict) else {}
    return (
        str(item.get("entity_id")) in related
        or str(payload.get("asset_id")) in related
        or (fqn is not None and fqn in (payload.get("asset_fqn"), payload.get("fqn")))
    )


def _withdrawn(proposal: Proposal, doing: str, reason: str | None) -> Proposal:
    _require_open(proposal, doing)
    return replace(proposal, status=ProposalStatus.WITHDRAWN, resolved_at=_now(), reason=reason)


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True


def _require_affected(proposal: Proposal, team: str) -> None:
    if team not in proposal.affected_teams:
        raise InvalidStateError(
            f"team {team!r} is not affected by proposal {proposal.id} on {proposal.asset_fqn}; only "
            f"{', '.join(proposal.affected_teams) or 'no team'} may acknowledge it"
        )


def _require_publishable(proposal: Proposal, forced_reason: str | None) -> None:
    _require_open(proposal, f"publish proposal {proposal.id}")
    if forced_reason is None and proposal.status is not ProposalStatus.APPROVED:
        raise InvalidStateError(
            f"proposal {proposal.id} on {proposal.asset_fqn} is {proposal.status.value}: waiting for "
            f"{', '.join(proposal.awaiting)} to approve; wait for their acknowledgments "
            f"or publish with forced_reason (at least {MIN_FORCED_REASON} characters)"
        )


__all__ = ["DEFAULT_STORE", "HttpRegistry"]
