"""One root error; each subclass names what went wrong and where.

Every message names the file, model, asset or column at fault and, where it can,
what to do next.
"""

from __future__ import annotations


class TesseraError(Exception):
    """Root of every error this package raises on purpose."""


class SchemaError(TesseraError):
    """A schema document could not be read. Nothing was registered from it.

    ``source`` names the file (or a caller-given label) and ``location`` the
    place inside it (a JSON pointer, an Avro path, a line:column).
    """

    def __init__(self, message: str, *, source: str | None = None, location: str | None = None) -> None:
        self.source = source
        self.location = location
        where = ""
        if source:
            where = source
        if location:
            where = f"{where} at {location}" if where else f"at {location}"
        super().__init__(f"{where}: {message}" if where else message)


class UnknownDialectError(TesseraError):
    """A SQL dialect name that sqlglot does not know."""


class ManifestError(TesseraError):
    """A dbt manifest or catalog that cannot be read."""


class RegistryError(TesseraError):
    """The registry refused an operation or could not be reached."""


class RegistryUnavailableError(RegistryError):
    """The registry could not be reached; the gate fails closed unless told otherwise."""


class NotFoundError(RegistryError):
    """An asset, contract, proposal or team that the registry does not have."""


class ConflictError(RegistryError):
    """The operation conflicts with the registry's state (e.g. another pending proposal)."""


class InvalidStateError(RegistryError):
    """The operation is not allowed in the current state (e.g. ack on a published proposal)."""
