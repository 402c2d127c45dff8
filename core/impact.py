"""Who a change reaches: column-scoped, transitive, with an evidence path per consumer.

A change to column X of an asset affects the registered consumers that read X
(or whose column scope is unknown: the fail-safe) and no one else. When such a
consumer produces an asset of its own (a dbt model) and X flows into its output
column Y, the consumers of Y are affected too, to any depth. Schema-level
changes (``Change.column is None``) reach every consumer.

Pure functions over two lookups, so that either registry backend can feed them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from tessera_core.compat.changes import Change, ChangeKind
from tessera_core.registry.base import AffectedConsumer, Registration
from tessera_core.schema.model import Schema

RegistrationsOf = Callable[[str], Sequence[Registration]]
ContractOf = Callable[[str], Schema | None]

TYPE_CHANGES = frozenset({ChangeKind.TYPE_CHANGED, ChangeKind.TYPE_WIDENED, ChangeKind.TYPE_NARROWED})
ALL = None  # every column


@dataclass(frozen=True, slots=True)
class ContractBreak:
    """A change that breaks one consumer's own enforced dbt contract, whatever the mode."""

    change: Change
    consumer: AffectedConsumer
    target_column: str

    @property
    def message(self) -> str:
        return (
            f"{self.consumer.consumer} passes {self.change.column} unchanged into its enforced contract "
            f"column {self.target_column}: the type change ({self.change.message}) fails its dbt build"
        )


def _touched(reg: Registration, columns: frozenset[str] | None) -> tuple[str, ...] | None:
    """Columns of ``columns`` that ``reg`` reads; ``()`` = all of them / unknown; ``None`` = none."""
    if columns is ALL:
        return tuple(sorted(reg.columns)) if reg.columns is not None else ()
    if reg.columns is None:
        return tuple(sorted(columns))
    hit = columns & reg.columns
    return tuple(sorted(hit)) if hit else None


def _evidence(reg: Registration, columns: Iterable[str]) -> tuple[str, ...]:
    wanted = set(columns)
    lines = []
    for item in reg.evidence:
        column = item.split(":", 1)[0].strip()
        if not wanted or column in wanted:
            lines.append(item)
    return tuple(lines)


def affected_consumers(
    asset: str,
    changes: Iterable[Change],
    registrations_of: RegistrationsOf,
    *,
    max_depth: int = 25,
) -> tuple[AffectedConsumer, ...]:
    """Every consumer that ``changes`` to ``asset`` reach, directly or through models that pass columns on."""
    changed: set[str] = set()
    whole = False
    for change in changes:
        if change.column is None:
            whole = True
        else:
            changed.add(change.column)
    if not whole and not changed:
        return ()
    start: frozenset[str] | None = ALL if whole else frozenset(changed)

    found: dict[tuple[str, str, str], AffectedConsumer] = {}
    seen: set[tuple[str, str | None]] = set()
    queue: deque[tuple[str, frozenset[str] | None, int, tuple[str, ...]]] = deque([(asset, start, 0, ())])
    while queue:
        current, columns, depth, trail = queue.popleft()
        marker: list[tuple[str, str | None]] = (
            [(current, c) for c in columns] if columns is not ALL else [(current, None)]
        )
        if all(m in seen for m in marker):
            continue
        seen.update(marker)
        for reg in registrations_of(current):
            if reg.retired:
                continue
            touched = _touched(reg, columns)
            if touched is None:
                continue
            step = _evidence(reg, touched)
            hop = f"{reg.consumer} <- {current}" + (f".{', '.join(touched)}" if touched else " (all columns)")
            evidence = (*trail, *(step or (hop,)))
            key = reg.key
            previous = found.get(key)
            if previous is None or previous.depth > depth:
                merged = tuple(sorted(set(touched) | set(previous.columns if previous else ())))
                found[key] = AffectedConsumer(
                    team=reg.team,
                    consumer=reg.consumer,
                    asset_fqn=current,
                    consumer_kind=reg.consumer_kind,
                    columns=merged,
                    evidence=evidence,
                    depth=depth,
                )
            if reg.consumer_asset and depth < max_depth:
                onward = _onward(reg, touched)
                queue.append((reg.consumer_asset, onward, depth + 1, (*trail, hop)))
    return tuple(sorted(found.values(), key=lambda a: (a.depth, a.team, a.consumer)))


def _onward(reg: Registration, touched: tuple[str, ...]) -> frozenset[str] | None:
    """Columns of the consumer's own asset that the touched columns flow into (ALL when unknown)."""
    if not reg.flows:
        return ALL
    if not touched:  # every column read is affected
        return frozenset(f.target for f in reg.flows)
    wanted = set(touched)
    return frozenset(f.target for f in reg.flows if f.source in wanted)


def contract_breaks(
    asset: str,
    changes: Iterable[Change],
    registrations_of: RegistrationsOf,
    contract_of: ContractOf,
) -> tuple[ContractBreak, ...]:
    """Type changes that a consumer copies unchanged into its own enforced dbt contract.

    dbt compares the declared type of a contracted model with what its SQL
    produces, so such a consumer's build fails for a widening as much as for a
    narrowing: it breaks whatever the compatibility mode says.
    """
    breaks: list[ContractBreak] = []
    type_changes = [
        c for c in changes if c.kind in TYPE_CHANGES and c.column is not None and "." not in c.path
    ]
    if not type_changes:
        return ()
    for reg in registrations_of(asset):
        if reg.retired or not reg.consumer_asset:
            continue
        contract = contract_of(reg.consumer_asset)
        if contract is None or not contract.contract_enforced:
            continue
        for change in type_changes:
            for flow in reg.flows:
                if flow.direct and flow.source == change.column and contract.field(flow.target) is not None:
                    consumer = AffectedConsumer(
                        team=reg.team,
                        consumer=reg.consumer,
                        asset_fqn=asset,
                        consumer_kind=reg.consumer_kind,
                        columns=(change.column,),
                        evidence=(
                            f"{reg.consumer_asset}.{flow.target} <- {asset}.{flow.source} (direct copy)",
                        ),
                    )
                    breaks.append(ContractBreak(change, consumer, flow.target))
    return tuple(breaks)
