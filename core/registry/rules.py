"""Argument and state rules both registry backends enforce, with the same messages."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from tessera_core.errors import InvalidStateError, RegistryError
from tessera_core.registry.base import Proposal, ProposalStatus

CHANGE_CLASSES = ("initial", "major", "minor", "patch")
MIN_FORCED_REASON = 10  # characters, as the Tessera server requires
OPEN_STATUSES = (ProposalStatus.PENDING, ProposalStatus.APPROVED)

_E = TypeVar("_E", bound=StrEnum)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def shown(version: str | None) -> str:
    return version if version is not None else "none (no contract yet)"


def require(value: str, what: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise RegistryError(f"{what} must be a non-empty string, got {value!r}")


def member(kind: type[_E], value: Any, what: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise RegistryError(f"{what} is {value!r}, which is not one of: {allowed}") from None


def check_change_class(change_class: str, where: str) -> None:
    if change_class not in CHANGE_CLASSES:
        raise RegistryError(
            f"change_class {change_class!r} for {where} is not one of: {', '.join(CHANGE_CLASSES)}"
        )


def check_forced_reason(reason: str, where: str) -> None:
    if len(reason.strip()) < MIN_FORCED_REASON:
        raise RegistryError(
            f"forced_reason for {where} is {reason!r}: explain why in at least {MIN_FORCED_REASON} characters"
        )


def require_open(proposal: Proposal, doing: str) -> None:
    if proposal.status in OPEN_STATUSES:
        return
    done = f" as version {proposal.published_version}" if proposal.published_version else ""
    raise InvalidStateError(
        f"cannot {doing}: it is already {proposal.status.value}{done} (on {proposal.asset_fqn}); "
        "only pending or approved proposals can change. Open a new proposal for a new change"
    )
