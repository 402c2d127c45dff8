"""Registry backends behind one interface; ``open_registry`` picks one from a single setting."""

from __future__ import annotations

from pathlib import Path

from tessera_core.errors import RegistryUnavailableError
from tessera_core.registry.base import Registry

DEFAULT_PATH = Path(".tessera") / "registry.db"


def open_registry(
    spec: str | Path | None = None, *, api_key: str | None = None, side_store: str | Path | None = None
) -> Registry:
    """A SQLite path (the default ``.tessera/registry.db``) or a Tessera server URL.

    ``side_store``: where the server backend keeps what the server has no field
    for (default ``.tessera/server-side.db``). A registry that cannot be opened
    raises RegistryUnavailableError naming it, so the gate fails closed.
    """
    text = str(spec) if spec else str(DEFAULT_PATH)
    if text.startswith(("http://", "https://")):
        from tessera_core.registry.http import HttpRegistry

        remote: Registry = HttpRegistry(text, api_key=api_key, store_path=side_store)
        return remote
    from tessera_core.registry.sqlite import SqliteRegistry

    path = Path(text.removeprefix("sqlite:///").removeprefix("sqlite://"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RegistryUnavailableError(
            f"cannot create the folder of the registry {path}: {exc.strerror}; set TESSERA_REGISTRY to a "
            "writable path or a Tessera server URL"
        ) from exc
    return SqliteRegistry(path)


__all__ = ["DEFAULT_PATH", "Registry", "open_registry"]
