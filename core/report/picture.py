"""The impact picture: one graph of who a change breaks, built once and rendered three ways.

The graph runs left to right: the changed asset, its changed columns, the
consumers that read them, and the consumers of those consumers' own assets
(dbt models pass columns on), down to exposures. Nodes are grouped by team,
and each team carries its acknowledgment state when there is a proposal.

Readability rules, applied here so that every renderer draws the same thing:

- changed columns nobody reads collapse into one node;
- at most ``max_per_team`` consumers per team and ``max_teams`` teams are drawn;
  the rest fold into an "and N more" node that keeps the edges leading to it.

Renderers (``picture_mermaid``, ``picture_dot``, ``picture_html``) only draw
an ``ImpactPicture``; none of them decides what is in it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tessera_core.compat.changes import Change
from tessera_core.gate import Decision, ImpactReport
from tessera_core.registry.base import AckResponse, AffectedConsumer, ConsumerKind, Proposal, ProposalStatus
from tessera_core.report.picture_model import KIND_LABEL as KIND_LABEL
from tessera_core.report.picture_model import STATE_ORDER as STATE_ORDER
from tessera_core.report.picture_model import ImpactPicture as ImpactPicture
from tessera_core.report.picture_model import NodeKind as NodeKind
from tessera_core.report.picture_model import PictureEdge as PictureEdge
from tessera_core.report.picture_model import PictureNode as PictureNode
from tessera_core.report.picture_model import TeamGroup as TeamGroup
from tessera_core.report.picture_model import TeamState as TeamState
from tessera_core.report.picture_model import Verdict as Verdict

SCHEMA = ""  # the column key of a schema-level change (it touches every column)


@dataclass(frozen=True, slots=True)
class PictureSettings:
    """How much of the graph is drawn.

    ``max_per_team``: consumers drawn per team (default 6); the rest become "and N more" nodes
    (one per column, so folded models and folded dashboards stay apart).
    ``max_teams``: teams drawn besides the owner (default 8); the rest become one node.
    ``max_change_lines``: change descriptions shown on a column node (default 2).
    ``show_quiet_columns``: draw every changed column, also those nobody reads (default: one node).
    """

    max_per_team: int = 6
    max_teams: int = 8
    max_change_lines: int = 2
    show_quiet_columns: bool = False

    def __post_init__(self) -> None:
        if self.max_per_team < 1 or self.max_teams < 1 or self.max_change_lines < 1:
            raise ValueError("PictureSettings: max_per_team, max_teams and max_change_lines must be >= 1")


@dataclass(frozen=True, slots=True)
class _Subject:
    """What the picture is of: a check's report or a proposal, reduced to the same facts."""

    asset: str
    verdict: Verdict
    verdict_text: str
    mode: str | None
    version: str | None
    changes: tuple[Change, ...]
    affected: tuple[AffectedConsumer, ...]
    broken: dict[tuple[str, str], tuple[str, ...]]  # (team, consumer) whose enforced contract breaks: why
    owner: str | None
    proposal: Proposal | None
    awaiting: frozenset[str]
    notes: tuple[str, ...] = ()


def build_picture(
    source: ImpactReport | Proposal, *, settings: PictureSettings | None = None
) -> ImpactPicture:
    """The graph of who ``source`` breaks, capped and grouped by ``settings``."""
    settings = settings or PictureSettings()
    subject = _from_report(source) if isinstance(source, ImpactReport) else _from_proposal(source)
    return _Builder(subject, settings).build()


def _from_report(report: ImpactReport) -> _Subject:
    changes = [j.change for j in report.breaking]
    changes += [b.change for b in report.contract_breaks if b.change not in changes]
    affected = report.affected or (report.proposal.affected if report.proposal else ())
    version = None
    if report.next_version:
        version = f"{report.current_version or 'new'} → {report.next_version}"
    verdict, text = _DECISION[report.decision]
    return _Subject(
        asset=report.asset,
        verdict=verdict,
        verdict_text=text,
        mode=report.mode.value,
        version=version,
        changes=tuple(changes),
        affected=tuple(affected),
        broken=_broken(report),
        owner=report.owner_team,
        proposal=report.proposal,
        awaiting=frozenset(report.awaiting),
        notes=report.messages,
    )


def _broken(report: ImpactReport) -> dict[tuple[str, str], tuple[str, ...]]:
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    for b in report.contract_breaks:
        key = (b.consumer.team, b.consumer.consumer)
        found[key] = (*found.get(key, ()), b.message)
    return found


_DECISION = {
    Decision.PASS: (Verdict.PASS, "safe to publish"),
    Decision.BLOCKED: (Verdict.BLOCKED, "blocked"),
    Decision.NOTIFY: (Verdict.NOTIFY, "goes ahead, teams notified"),
}
_PROPOSAL = {
    ProposalStatus.PENDING: Verdict.BLOCKED,
    ProposalStatus.APPROVED: Verdict.PASS,
    ProposalStatus.PUBLISHED: Verdict.PASS,
    ProposalStatus.FORCED: Verdict.NOTIFY,
    ProposalStatus.REJECTED: Verdict.CLOSED,
    ProposalStatus.WITHDRAWN: Verdict.CLOSED,
    ProposalStatus.EXPIRED: Verdict.CLOSED,
}


def _from_proposal(proposal: Proposal) -> _Subject:
    version = None
    if proposal.base_version:
        version = f"{proposal.base_version} → {proposal.published_version or 'next major'}"
    return _Subject(
        asset=proposal.asset_fqn,
        verdict=_PROPOSAL[proposal.status],
        verdict_text=f"proposal {proposal.status.value}",
        mode=None,
        version=version,
        changes=proposal.changes,
        affected=proposal.affected,
        broken={},
        owner=None,
        proposal=proposal,
        awaiting=frozenset(proposal.awaiting),
    )


_ACK_STATE = {
    AckResponse.APPROVED: TeamState.APPROVED,
    AckResponse.MIGRATING: TeamState.MIGRATING,
    AckResponse.BLOCKED: TeamState.BLOCKED,
}

Key = tuple[str, str]  # (team, consumer): one box per consumer, however many paths reach it


@dataclass(frozen=True, slots=True)
class _Entry:
    """One affected-consumer record and the consumer whose asset it reads (``None``: the changed asset)."""

    key: Key
    consumer: AffectedConsumer
    parent: Key | None
    direct: bool


class _Builder:
    """Builds one picture; a class only to share the lookups between the steps of ``build``."""

    def __init__(self, subject: _Subject, settings: PictureSettings) -> None:
        self.subject = subject
        self.settings = settings
        self.column_changes: dict[str, list[Change]] = {}
        for change in subject.changes:
            self.column_changes.setdefault(change.column or SCHEMA, []).append(change)
        by_name: dict[str, list[AffectedConsumer]] = defaultdict(list)
        for a in subject.affected:
            by_name[a.consumer].append(a)
        self.entries: dict[Key, list[_Entry]] = defaultdict(list)
        for a in sorted(subject.affected, key=lambda a: a.depth):
            key = (a.team, a.consumer)
            direct = a.depth == 0 or a.asset_fqn == subject.asset
            parent = None if direct else _parent_of(a, by_name)
            self.entries[key].append(_Entry(key, a, parent if parent != key else None, direct))
        self.children: dict[Key, int] = defaultdict(int)
        for key in self.entries:
            for parent in self._parents(key):
                self.children[parent] += 1

    # ---- the steps, in order ------------------------------------------------------------

    def build(self) -> ImpactPicture:
        states = {team: self._state(team) for team in {k[0] for k in self.entries}}
        teams = sorted(states, key=lambda t: (STATE_ORDER[states[t]], t))
        others = [t for t in teams if t != self.subject.owner]  # the owner's group is always drawn
        drawn_teams = set(others[: self.settings.max_teams]) | {t for t in teams if t == self.subject.owner}
        layer = {key: 2 + min(e.consumer.depth for e in entries) for key, entries in self.entries.items()}
        order = self._path_order(layer)
        shown = self._capped(order, drawn_teams)

        canvas = _Canvas(home=self.subject.owner)
        columns = self._draw_asset(canvas)
        drawn = self._draw_consumers(canvas, order, shown, layer)
        drawn |= self._draw_folds(canvas, [k for k in order if k not in shown], layer, drawn_teams)
        self._draw_edges(canvas, order, shown, drawn, columns)

        groups: list[TeamGroup] = []
        for name in [canvas.home, *(t for t in teams if t in drawn_teams and t != canvas.home)]:
            if canvas.members.get(name):
                state = TeamState.OWNER if name == canvas.home or name is None else states[name]
                group_id = canvas.ids.make("g", ("g", name or ""))
                groups.append(TeamGroup(group_id, name, state, tuple(canvas.members[name]), self._note(name)))
        return ImpactPicture(
            asset=self.subject.asset,
            verdict=self.subject.verdict,
            verdict_text=self.subject.verdict_text,
            mode=self.subject.mode,
            version=self.subject.version,
            nodes=tuple(canvas.nodes),
            edges=_unique(canvas.edges),
            groups=tuple(groups),
            loose=tuple(canvas.loose),
            proposal=self._proposal_line(),
            consumers=len(self.entries),
            hidden=len(self.entries) - len(shown),
            changes=self.subject.changes,
            affected=self.subject.affected,
            team_states=tuple((t, states[t]) for t in teams),
            notes=self.subject.notes,
        )

    def _capped(self, order: list[Key], drawn_teams: set[str]) -> set[Key]:
        """The consumers drawn: in path order, up to ``max_per_team`` of each drawn team, and only
        those with a drawn way in (a consumer whose model is folded away folds with it)."""
        shown: set[Key] = set()
        per_team: dict[str, int] = defaultdict(int)
        for key in order:
            team = key[0]
            if team not in drawn_teams or per_team[team] >= self.settings.max_per_team:
                continue
            parents = self._parents(key)
            if parents and not self._direct_columns(key) and not any(p in shown for p in parents):
                continue
            shown.add(key)
            per_team[team] += 1
        return shown

    def _draw_asset(self, canvas: _Canvas) -> dict[str, str]:
        """The changed asset and its changed columns (the unread ones collapsed); column -> node id."""
        read = self._columns_read()
        for column in read:
            self.column_changes.setdefault(column, [])
        quiet = [c for c in self.column_changes if c not in read and c != SCHEMA]
        if self.settings.show_quiet_columns:
            quiet = []
        canvas.asset = canvas.add(
            None,
            PictureNode(
                canvas.ids.make("asset", ("asset",)),
                NodeKind.ASSET,
                self.subject.asset,
                self.subject.version or "",
            ),
            home=True,
        )
        column_id: dict[str, str] = {}
        for column in self.column_changes:
            if column not in quiet:
                column_id[column] = canvas.add(
                    None, self._column_node(canvas.ids.make("col", ("col", column)), column), home=True
                )
                canvas.edges.append(PictureEdge(canvas.asset, column_id[column]))
        if quiet:
            node = PictureNode(
                canvas.ids.make("quiet", ("quiet",)),
                NodeKind.QUIET,
                ", ".join(quiet) if len(quiet) <= 2 else f"{len(quiet)} more changed columns",
                "changed, nobody reads " + ("it" if len(quiet) == 1 else "them"),
                layer=1,
                tooltip=tuple(quiet),
            )
            canvas.edges.append(PictureEdge(canvas.asset, canvas.add(None, node, home=True), folded=True))
        return column_id

    def _draw_consumers(
        self, canvas: _Canvas, order: list[Key], shown: set[Key], layer: dict[Key, int]
    ) -> dict[Key, str]:
        drawn: dict[Key, str] = {}
        for key in order:
            if key in shown:
                node = self._consumer_node(canvas.ids.make("c", ("c", *key)), key, layer[key])
                drawn[key] = canvas.add(key[0], node)
        return drawn

    def _draw_folds(
        self, canvas: _Canvas, hidden: list[Key], layer: dict[Key, int], drawn_teams: set[str]
    ) -> dict[Key, str]:
        """One "and N more" node per drawn team and column, one for all the teams not drawn."""
        stand_in: dict[Key, str] = {}
        away = [k for k in hidden if k[0] not in drawn_teams]
        if away:
            names = sorted({k[0] for k in away})
            node = PictureNode(
                canvas.ids.make("more_teams", ("more_teams",)),
                NodeKind.MORE,
                f"and {len(names)} more team{_s(len(names))}",
                f"{len(away)} consumer{_s(len(away))}",
                layer=min(layer[k] for k in away),
                tooltip=tuple(names),
            )
            more_teams = canvas.add(None, node)
            stand_in.update((k, more_teams) for k in away)
        for team, at in sorted({(k[0], layer[k]) for k in hidden if k[0] in drawn_teams}):
            folded = [k for k in hidden if k[0] == team and layer[k] == at]
            node = PictureNode(
                canvas.ids.make("more", ("more", team, str(at))),
                NodeKind.MORE,
                f"and {len(folded)} more{self._kinds(folded)}",
                _preview(k[1] for k in folded),
                layer=at,
                tooltip=tuple(k[1] for k in folded),
            )
            more_id = canvas.add(team, node)
            stand_in.update((k, more_id) for k in folded)
        return stand_in

    def _draw_edges(
        self,
        canvas: _Canvas,
        order: list[Key],
        shown: set[Key],
        drawn: dict[Key, str],
        columns: dict[str, str],
    ) -> None:
        """Column -> reader, model -> reader of its asset (labelled with the columns that carry the
        change on); an edge that touches a folded node is ``folded``."""
        for key in order:
            target = drawn[key]
            folded = key not in shown
            for parent in self._parents(key):
                source = drawn.get(parent)
                if source is not None and source != target:
                    label = "" if folded else self._carried(key, parent)
                    canvas.edges.append(PictureEdge(source, target, label, folded or parent not in shown))
            for column in self._direct_columns(key):
                canvas.edges.append(PictureEdge(columns.get(column, canvas.asset), target, folded=folded))
            if any(not e.direct and e.parent is None for e in self.entries[key]):
                # Reached through a model that registered nothing: drawn straight from the asset.
                canvas.edges.append(PictureEdge(canvas.asset, target, self._carried(key, None), folded=True))

    def _path_order(self, layer: dict[Key, int]) -> list[Key]:
        """Consumers depth-first along the paths the change takes, most consequential first.

        Walking paths (a model, then what reads it) before siblings means the cap keeps whole
        paths down to the exposures rather than a wide first column and nothing behind it.
        """

        def rank(k: Key) -> tuple[int, int, bool, str, str]:
            return (layer[k], -self.children[k], k not in self.subject.broken, k[1], k[0])

        below: dict[Key, list[Key]] = defaultdict(list)
        for key in self.entries:
            for parent in self._parents(key):
                below[parent].append(key)
        roots = [k for k in self.entries if not self._parents(k) or self._direct_columns(k)]
        order: list[Key] = []
        seen: set[Key] = set()
        stack = sorted(roots, key=rank, reverse=True)
        while stack:
            key = stack.pop()
            if key in seen:
                continue
            seen.add(key)
            order.append(key)
            stack += sorted((c for c in below[key] if c not in seen), key=rank, reverse=True)
        return order + sorted((k for k in self.entries if k not in seen), key=rank)

    # ---- lookups ------------------------------------------------------------------------

    def _parents(self, key: Key) -> tuple[Key, ...]:
        found: list[Key] = []
        for e in self.entries[key]:
            if e.parent is not None and e.parent not in found:
                found.append(e.parent)
        return tuple(found)

    def _direct_columns(self, key: Key) -> list[str]:
        """The changed columns a consumer reads straight from the asset (``SCHEMA`` for all of them)."""
        columns: list[str] = []
        for e in self.entries[key]:
            if e.direct:
                columns += [c for c in e.consumer.columns or (SCHEMA,) if c not in columns]
        return columns

    def _columns_read(self) -> list[str]:
        read: list[str] = []
        for key in self.entries:
            read += [c for c in self._direct_columns(key) if c not in read]
        return read

    def _carried(self, key: Key, parent: Key | None) -> str:
        """The columns of the parent's asset that carry the change into ``key``."""
        columns: list[str] = []
        for e in self.entries[key]:
            if not e.direct and e.parent == parent:
                columns += [c for c in e.consumer.columns if c not in columns]
        return ", ".join(columns) if columns else "all columns"

    def _kinds(self, keys: Sequence[Key]) -> str:
        """`` dbt models`` when every folded consumer is of one kind, else nothing."""
        kinds = {self.entries[k][0].consumer.consumer_kind for k in keys}
        if len(kinds) != 1:
            return ""
        kind = kinds.pop()
        return f" {KIND_LABEL.get(kind, kind.value)}" + ("s" if len(keys) != 1 else "")

    def _state(self, team: str) -> TeamState:
        if team == self.subject.owner:
            return TeamState.OWNER
        proposal = self.subject.proposal
        if proposal is not None:
            ack = proposal.ack_of(team)
            return _ACK_STATE[ack.response] if ack else TeamState.WAITING
        return TeamState.WAITING if team in self.subject.awaiting else TeamState.NOTIFIED

    def _note(self, team: str | None) -> str | None:
        proposal = self.subject.proposal
        if team is None or proposal is None:
            return None
        ack = proposal.ack_of(team)
        return ack.note if ack else None

    def _proposal_line(self) -> str | None:
        p = self.subject.proposal
        if p is None:
            return None
        return f"proposal {p.id} {p.status.value}"

    # ---- nodes ----------------------------------------------------------------------------

    def _column_node(self, node_id: str, column: str) -> PictureNode:
        changes = self.column_changes.get(column, [])
        lines = [_describe(c) for c in changes]
        limit = self.settings.max_change_lines
        detail = lines[:limit] + ([f"+{len(lines) - limit} more"] if len(lines) > limit else [])
        return PictureNode(
            node_id,
            NodeKind.COLUMN,
            column or "whole schema",
            " · ".join(detail) if detail else "changed",
            layer=1,
            tooltip=tuple(c.message for c in changes),
        )

    def _consumer_node(self, node_id: str, key: Key, layer: int) -> PictureNode:
        entries = self.entries[key]
        kind = entries[0].consumer.consumer_kind
        broken = key in self.subject.broken
        detail = KIND_LABEL.get(kind, kind.value)
        if broken:
            detail += " · enforced contract breaks"
        tooltip = self.subject.broken.get(key, ()) + tuple(
            line for e in entries for line in (f"reads {e.consumer.asset_fqn}", *e.consumer.evidence)
        )
        passes_on = self.children[key] > 0 or kind is ConsumerKind.DBT_MODEL
        return PictureNode(
            node_id,
            NodeKind.MODEL if passes_on else NodeKind.CONSUMER,
            key[1],
            detail,
            layer=layer,
            consumer_kind=kind,
            breaks_contract=broken,
            tooltip=tooltip,
        )


def _parent_of(entry: AffectedConsumer, by_name: dict[str, list[AffectedConsumer]]) -> Key | None:
    """The model that produces ``entry.asset_fqn``, found the way ``impact`` wrote the path down.

    The first ``depth`` evidence lines are the hops ``"<model> <- <asset>.<columns>"`` that led
    here; the last of them names the model. Failing that, a shallower consumer named like the
    asset's last part (dbt names a model's relation after the model).
    """
    if 0 < entry.depth <= len(entry.evidence):
        model, arrow, rest = entry.evidence[entry.depth - 1].partition(" <- ")
        named = [a for a in by_name.get(model.strip(), ()) if a.depth < entry.depth] if arrow else []
        exact = [a for a in named if rest.startswith(a.asset_fqn)]
        if exact or named:
            best = min(exact or named, key=lambda a: a.depth)
            return (best.team, best.consumer)
    last = entry.asset_fqn.rsplit(".", 1)[-1]
    for name, found in by_name.items():
        if name.casefold() == last.casefold():
            shallower = [a for a in found if a.depth < entry.depth]
            if shallower:
                best = min(shallower, key=lambda a: a.depth)
                return (best.team, best.consumer)
    return None


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _describe(change: Change) -> str:
    what = change.kind.value.replace("_", " ")
    if isinstance(change.old, str | int | float) and isinstance(change.new, str | int | float):
        return f"{what}: {change.old} → {change.new}"
    if change.column and change.path != change.column:
        return f"{what}: {change.path}"
    return what


def _preview(names: Iterable[str], *, limit: int = 2) -> str:
    listed = list(names)
    head = ", ".join(listed[:limit])
    return head + (", …" if len(listed) > limit else "")


def _unique(edges: Sequence[PictureEdge]) -> tuple[PictureEdge, ...]:
    """Edges in order, one per (source, target); labels of repeats are merged."""
    merged: dict[tuple[str, str], PictureEdge] = {}
    for e in edges:
        before = merged.get((e.source, e.target))
        if before is None:
            merged[(e.source, e.target)] = e
        elif e.label and e.label not in before.label.split(", "):
            label = f"{before.label}, {e.label}" if before.label else e.label
            merged[(e.source, e.target)] = PictureEdge(e.source, e.target, label, before.folded and e.folded)
    return tuple(merged.values())


class _Canvas:
    """The nodes, edges and team memberships of a picture while it is being built."""

    def __init__(self, *, home: str | None) -> None:
        self.home = home  # the owner: the changed asset and its columns are drawn in its group
        self.ids = _Ids()
        self.nodes: list[PictureNode] = []
        self.edges: list[PictureEdge] = []
        self.members: dict[str | None, list[str]] = defaultdict(list)
        self.loose: list[str] = []
        self.asset = ""

    def add(self, team: str | None, node: PictureNode, *, home: bool = False) -> str:
        """Add ``node`` to ``team``'s group (the owner's if ``home``; no group if neither)."""
        self.nodes.append(node)
        if home:
            self.members[self.home].append(node.id)
        elif team is None:
            self.loose.append(node.id)
        else:
            self.members[team].append(node.id)
        return node.id


class _Ids:
    """Identifiers safe in every format: a prefix, a counter, nothing from the user's names."""

    def __init__(self) -> None:
        self.given: dict[tuple[str, ...], str] = {}

    def make(self, prefix: str, key: tuple[str, ...]) -> str:
        if key not in self.given:
            self.given[key] = f"{prefix}_{len(self.given)}"
        return self.given[key]
