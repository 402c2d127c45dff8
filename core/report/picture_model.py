"""The impact picture's graph: boxes, arrows and team groups, as frozen values.

``picture.build_picture`` decides what goes in; ``picture_mermaid``,
``picture_dot`` and ``picture_html`` draw it. Nothing here knows a report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from tessera_core.compat.changes import Change
from tessera_core.registry.base import AffectedConsumer, ConsumerKind


class NodeKind(StrEnum):
    ASSET = "asset"  # the asset whose contract changes
    COLUMN = "column"  # one changed column of it (or the whole schema)
    MODEL = "model"  # a consumer that produces an asset of its own and passes columns on
    CONSUMER = "consumer"  # a consumer at the end of the line: exposure, task, agent, ...
    MORE = "more"  # consumers (or teams) folded away by the cap
    QUIET = "quiet"  # changed columns nobody reads, collapsed into one node


class TeamState(StrEnum):
    OWNER = "owner"  # owns the changed asset: nothing to acknowledge
    WAITING = "waiting"  # has to acknowledge and has not
    APPROVED = "approved"
    MIGRATING = "migrating"
    BLOCKED = "blocked"
    NOTIFIED = "notified"  # affected, but nothing to acknowledge (mode none, or the change passes)

    @property
    def label(self) -> str:
        return STATE_LABEL[self]


STATE_LABEL = {
    TeamState.OWNER: "owner",
    TeamState.WAITING: "must acknowledge",
    TeamState.APPROVED: "approved",
    TeamState.MIGRATING: "migrating",
    TeamState.BLOCKED: "blocked",
    TeamState.NOTIFIED: "notified",
}
# Teams that hold the change up come first, so they are never the ones the cap folds away.
STATE_ORDER = {
    TeamState.BLOCKED: 0,
    TeamState.WAITING: 1,
    TeamState.MIGRATING: 2,
    TeamState.APPROVED: 3,
    TeamState.NOTIFIED: 4,
    TeamState.OWNER: 5,
}
KIND_LABEL = {
    ConsumerKind.DBT_MODEL: "dbt model",
    ConsumerKind.EXPOSURE: "exposure",
    ConsumerKind.DAGSTER_ASSET: "Dagster asset",
    ConsumerKind.AIRFLOW_TASK: "Airflow task",
    ConsumerKind.AGENT: "agent",
    ConsumerKind.OTHER: "consumer",
}


@dataclass(frozen=True, slots=True)
class PictureNode:
    """One box. ``id`` matches ``[a-z][a-z0-9_]*`` and is never a keyword of Mermaid or DOT.

    ``layer`` is the column it is drawn in, left to right: 0 the asset, 1 its
    columns, 2 + depth for consumers. ``tooltip`` holds what does not fit the box
    (the evidence path, the folded names).
    """

    id: str
    kind: NodeKind
    label: str
    detail: str = ""
    layer: int = 0
    consumer_kind: ConsumerKind | None = None
    breaks_contract: bool = False
    tooltip: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PictureEdge:
    """``source`` feeds ``target``; ``label`` names the columns that carry the change onward.

    ``folded``: the edge leads to (or comes from) an "and N more" node.
    """

    source: str
    target: str
    label: str = ""
    folded: bool = False


@dataclass(frozen=True, slots=True)
class TeamGroup:
    """The nodes drawn for one team. ``team`` is ``None`` for the changed asset of an unknown owner."""

    id: str
    team: str | None
    state: TeamState
    nodes: tuple[str, ...]
    note: str | None = None  # the acknowledgment's note, if any

    @property
    def title(self) -> str:
        name = self.team or "changed asset"
        return f"{name} · {self.state.label}"


class Verdict(StrEnum):
    """Where the change stands, for the colour of the headline."""

    BLOCKED = "blocked"  # waits for acknowledgments
    PASS = "pass"  # may publish (or did)
    NOTIFY = "notify"  # goes ahead over affected teams: mode none, or forced
    CLOSED = "closed"  # a proposal withdrawn, rejected or expired


@dataclass(frozen=True, slots=True)
class ImpactPicture:
    """Everything the renderers draw; ``loose`` nodes belong to no team.

    ``changes`` and ``affected`` are the full lists behind the graph (the cap
    applies to the graph only), for renderers that also print tables.
    """

    asset: str
    verdict: Verdict
    verdict_text: str  # "blocked", "safe to publish", "proposal withdrawn"
    nodes: tuple[PictureNode, ...]
    edges: tuple[PictureEdge, ...]
    groups: tuple[TeamGroup, ...]
    loose: tuple[str, ...] = ()
    mode: str | None = None
    version: str | None = None  # "1.0.0 → 2.0.0"
    proposal: str | None = None  # "proposal P-7f3a pending"
    consumers: int = 0  # affected consumers in total, drawn or not
    hidden: int = 0  # affected consumers folded into "and N more" nodes
    changes: tuple[Change, ...] = ()
    affected: tuple[AffectedConsumer, ...] = ()
    team_states: tuple[tuple[str, TeamState], ...] = ()  # every affected team, drawn or folded
    notes: tuple[str, ...] = field(default=())  # the report's messages

    @property
    def awaiting(self) -> tuple[str, ...]:
        """Teams that hold the change up: not approved yet, or blocking it."""
        holding = (TeamState.WAITING, TeamState.MIGRATING, TeamState.BLOCKED)
        return tuple(team for team, state in self.team_states if state in holding)

    @property
    def headline(self) -> str:
        """``"backward · 1.0.0 → 2.0.0 · blocked"``."""
        return " · ".join(part for part in (self.mode, self.version, self.verdict_text) if part)

    def node(self, node_id: str) -> PictureNode:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    @property
    def teams(self) -> tuple[str, ...]:
        return tuple(g.team for g in self.groups if g.team is not None)
