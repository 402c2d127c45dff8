"""Registry backends behind one interface; ``open_registry`` picks one from a single setting."""

from __future__ import annotations

from pathlib import Path

from tessera_core.registry.base import Registry

DEFAULT_PATH = Path(".tessera") / "registry.db"


def open_registry(spec: str | Path | None = None, *, api_key: str | None = None) -> Registry:
    """A SQLite path (the default ``.tessera/registry.db``) or a Tessera server URL."""
    text = str(spec) if spec else str(DEFAULT_PATH)
    if text.startswith(("http://", "https://")):
        from tessera_core.registry.http import HttpRegistry

        remote: Registry = HttpRegistry(text, api_key=api_key)
        return remote
    from tessera_core.registry.sqlite import SqliteRegistry

    path = Path(text.removeprefix("sqlite:///").removeprefix("sqlite://"))
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteRegistry(path)


__all__ = ["DEFAULT_PATH", "Registry", "open_registry"]
