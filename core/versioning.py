"""Semantic versions of contracts: the bump follows the class of change."""

from __future__ import annotations

from tessera_core.errors import TesseraError

INITIAL_VERSION = "1.0.0"


def parse_version(version: str) -> tuple[int, int, int]:
    try:
        major, minor, patch = (int(p) for p in version.split("."))
    except ValueError:
        raise TesseraError(f"contract version {version!r} is not MAJOR.MINOR.PATCH") from None
    return major, minor, patch


def bump(version: str | None, change_class: str) -> str:
    """``1.4.2`` + major -> ``2.0.0``; + minor -> ``1.5.0``; + patch -> ``1.4.3``; no version -> ``1.0.0``."""
    if version is None:
        return INITIAL_VERSION
    major, minor, patch = parse_version(version)
    if change_class == "major":
        return f"{major + 1}.0.0"
    if change_class == "minor":
        return f"{major}.{minor + 1}.0"
    if change_class in ("patch", "none"):
        return f"{major}.{minor}.{patch + 1}"
    raise TesseraError(f"unknown change class {change_class!r}: expected major, minor or patch")
