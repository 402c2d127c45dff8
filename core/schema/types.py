"""Warehouse data types -> the normalized ``Type``, read by sqlglot's type parser in the caller's dialect.

Spellings are never compared as strings: the text goes through sqlglot, and the
parsed type is folded into a ``Family`` plus the parameters that decide
compatibility, so that synonyms come out equal (``==``):

- integers: ``INTEGER`` with ``bits`` (Postgres ``int2``/``int4``/``int8`` = 16/32/64, ``tinyint`` 8,
  DuckDB ``hugeint`` 128; serials are their integers). Display widths (MySQL ``int(11)``) are ignored.
  Unsigned types keep their width and their name (``UINT``).
- approximate numbers: ``FLOAT`` with ``bits`` 32 (``real``, ``float4``) or 64 (``double``, ``float8``,
  ``float(p)`` with p > 24). Snowflake and BigQuery have only 64-bit floats.
- exact numbers: ``DECIMAL`` with ``precision`` / ``scale``. ``decimal(p)`` has scale 0; a bare
  ``decimal`` takes the dialect's default (Snowflake (38,0), Redshift and T-SQL (18,0), BigQuery
  ``NUMERIC`` (38,9) and ``BIGNUMERIC`` (76,38), DuckDB (18,3), Spark/Databricks and MySQL (10,0)),
  or no precision where the dialect's bare decimal is unconstrained (Postgres, Oracle).
- integer-like decimals: ``DECIMAL(p,0)`` stays ``DECIMAL`` and ``INT`` stays ``INTEGER`` (they are
  different families; whether one widens into the other is the compatibility rules' call), except in
  Snowflake, where every integer type *is* ``NUMBER(38,0)``: there ``INT`` = ``BIGINT`` = ``NUMBER`` =
  ``DECIMAL(38,0)``, all ``DECIMAL`` precision 38 scale 0.
- strings: ``STRING`` with ``length`` (``None``: unbounded). ``varchar(n)`` / ``char(n)`` have length n;
  ``text``, ``string`` and a bare ``varchar`` are unbounded, except where the dialect says otherwise
  (Redshift: ``varchar`` / ``text`` = ``varchar(256)``, ``varchar(max)`` = 65535; a bare ``char`` is
  ``char(1)``). Snowflake's maximum lengths mean "unbounded" (``VARCHAR`` = ``VARCHAR(16777216)`` =
  ``TEXT`` = ``STRING``). DuckDB ignores lengths. ``name`` is ``CHAR`` for blank-padded strings,
  ``VARCHAR`` for bounded and ``TEXT`` for unbounded ones.
- ``BINARY`` (binary, varbinary, bytes, bytea, blob) with ``length``; ``DATE``; ``TIME`` and
  ``TIMESTAMP`` with ``timezone`` and ``precision`` (fractional-second digits, the dialect's default when
  not written: Postgres 6, Snowflake 9, Trino 3, ...). ``timestamp`` / ``datetime`` /
  ``timestamp_ntz`` have no time zone; ``timestamptz``, ``timestamp with time zone``,
  ``timestamp_tz`` / ``timestamp_ltz`` and BigQuery's and Spark's ``TIMESTAMP`` do (BigQuery
  ``DATETIME`` does not). Names: ``TIMESTAMP``, ``TIMESTAMPTZ``, and ``TIMESTAMPLTZ`` where a local
  time zone timestamp is its own type (Snowflake, Oracle).
- ``INTERVAL``, ``BOOLEAN`` (and T-SQL ``bit``), ``UUID``; ``JSON`` for semi-structured values
  (``json``, ``jsonb``, ``variant``, ``super``; ``name`` tells them apart).
- nested: ``ARRAY<T>`` / ``T[]`` / ``LIST(T)`` -> ``ARRAY`` with ``items`` (``ANY`` when the element type
  is not written, as in Snowflake's semi-structured ``ARRAY``; BigQuery arrays never hold NULL);
  ``STRUCT<a T>`` / ``STRUCT(a T)`` / ``ROW(a T)`` / ``OBJECT(a T)`` -> ``OBJECT`` with ``fields``
  (names normalized like columns; unnamed members are ``_1``, ``_2``, ...); Snowflake's
  semi-structured ``OBJECT`` is an ``OBJECT`` without fields; ``MAP<K,V>`` -> ``MAP`` with ``keys`` and
  ``items``.
- everything else (geography, inet, enum, vector, user-defined types such as Postgres ``citext``) is
  ``ANY`` carrying its upper-case ``name``, the only thing that tells two such types apart. A bare
  name sqlglot does not know is such a user-defined type in dialects that have them (Postgres, DuckDB,
  T-SQL, Oracle) and an error elsewhere.

Known gap: sqlglot reads T-SQL ``float`` (64-bit) and ``real`` (32-bit) as one type, so both come out
32-bit; write ``float(53)`` to say 64.

``Type.name`` is sqlglot's canonical upper-case name of the normalized type (``BIGINT`` for Postgres
``int8``), so it never splits synonyms. Parses are cached per (text, dialect).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError

from tessera_core.dialects import check_dialect
from tessera_core.errors import SchemaError
from tessera_core.schema.model import ANY, Family, Field, Type
from tessera_core.schema.names import normalize_name

DType = exp.DType


@dataclass(frozen=True, slots=True)
class _Conventions:
    """What one dialect means by the types it lets you write without parameters."""

    decimal: tuple[int, int] | None = None  # DECIMAL / NUMERIC without precision
    big_decimal: tuple[int, int] | None = None  # BigQuery BIGNUMERIC without precision
    integers_are_decimal: bool = False  # Snowflake: every integer type is NUMBER(38,0)
    integer_bits: int | None = None  # BigQuery: every integer type is INT64
    float_bits: int | None = None  # Snowflake, BigQuery: every float is 64-bit
    varchar_length: int | None = None  # VARCHAR / TEXT without a length
    char_length: int | None = 1  # CHAR without a length
    bpchar_length: int | None = None  # BPCHAR without a length
    max_varchar: int | None = None  # VARCHAR(MAX); None: unbounded
    max_char: int | None = None  # CHAR(MAX)
    unbounded_string_lengths: frozenset[int] = frozenset()  # lengths that mean "no limit"
    unbounded_binary_lengths: frozenset[int] = frozenset()
    padded_char: bool = True  # CHAR(n) is blank-padded (False: a synonym of VARCHAR(n))
    fraction_digits: int | None = None  # TIME / TIMESTAMP without a precision
    fraction_digits_by_type: Mapping[DType, int] = field(default_factory=dict, hash=False)
    ltz_is_tz: bool = False  # TIMESTAMP_LTZ is the dialect's TIMESTAMP WITH TIME ZONE
    bit_is_boolean: bool = False  # T-SQL BIT
    array_items_nullable: bool = True  # may an array element be NULL


_POSTGRES = _Conventions(fraction_digits=6)
_SPARK = _Conventions(decimal=(10, 0), fraction_digits=6, ltz_is_tz=True)
_TRINO = _Conventions(fraction_digits=3)
_MYSQL = _Conventions(decimal=(10, 0), fraction_digits=0)
_TSQL = _Conventions(
    decimal=(18, 0),
    fraction_digits=7,
    fraction_digits_by_type={DType.DATETIME: 3, DType.SMALLDATETIME: 0},
    bit_is_boolean=True,
)

_CONVENTIONS: dict[str, _Conventions] = {
    "postgres": _POSTGRES,
    "materialize": _POSTGRES,
    "risingwave": _POSTGRES,
    "redshift": _Conventions(
        decimal=(18, 0),
        varchar_length=256,
        bpchar_length=256,
        max_varchar=65535,
        max_char=4096,
        fraction_digits=6,
    ),
    "snowflake": _Conventions(
        decimal=(38, 0),
        integers_are_decimal=True,
        float_bits=64,
        unbounded_string_lengths=frozenset({16_777_216, 134_217_728}),
        unbounded_binary_lengths=frozenset({8_388_608, 67_108_864}),
        padded_char=False,
        fraction_digits=9,
    ),
    "bigquery": _Conventions(
        decimal=(38, 9),
        big_decimal=(76, 38),
        integer_bits=64,
        float_bits=64,
        fraction_digits=6,
        array_items_nullable=False,
    ),
    "duckdb": _Conventions(decimal=(18, 3), char_length=None, fraction_digits=6),
    "databricks": _SPARK,
    "spark": _SPARK,
    "spark2": _SPARK,
    "hive": _Conventions(decimal=(10, 0), fraction_digits=9),
    "trino": _TRINO,
    "presto": _TRINO,
    "athena": _TRINO,
    "mysql": _MYSQL,
    "singlestore": _MYSQL,
    "tsql": _TSQL,
    "fabric": _Conventions(decimal=(18, 0), fraction_digits=6, bit_is_boolean=True),
    "oracle": _Conventions(fraction_digits=6),
    "clickhouse": _Conventions(fraction_digits=0),
}
_DEFAULT = _Conventions()

_INTEGER_BITS: dict[DType, int] = {
    DType.TINYINT: 8,
    DType.UTINYINT: 8,
    DType.SMALLINT: 16,
    DType.USMALLINT: 16,
    DType.SMALLSERIAL: 16,
    DType.MEDIUMINT: 24,
    DType.UMEDIUMINT: 24,
    DType.INT: 32,
    DType.UINT: 32,
    DType.SERIAL: 32,
    DType.BIGINT: 64,
    DType.UBIGINT: 64,
    DType.BIGSERIAL: 64,
    DType.INT128: 128,
    DType.UINT128: 128,
    DType.INT256: 256,
    DType.UINT256: 256,
}
_SIGNED_INTEGER_NAMES = {
    8: "TINYINT",
    16: "SMALLINT",
    24: "MEDIUMINT",
    32: "INT",
    64: "BIGINT",
    128: "INT128",
}
_FLOAT_BITS: dict[DType, int] = {DType.FLOAT: 32, DType.DOUBLE: 64, DType.UDOUBLE: 64}
_FIXED_PRECISION_DECIMALS: dict[DType, int] = {  # ClickHouse DecimalN(scale)
    DType.DECIMAL32: 9,
    DType.DECIMAL64: 18,
    DType.DECIMAL128: 38,
    DType.DECIMAL256: 76,
}
_OTHER_DECIMALS = {
    DType.DECIMAL,
    DType.UDECIMAL,
    DType.BIGDECIMAL,
    DType.MONEY,
    DType.SMALLMONEY,
    DType.DECFLOAT,
}
_VARIABLE_STRINGS = {
    DType.VARCHAR,
    DType.NVARCHAR,
    DType.TEXT,
    DType.NAME,
    DType.TINYTEXT,
    DType.MEDIUMTEXT,
    DType.LONGTEXT,
}
_FIXED_STRINGS = {DType.CHAR, DType.NCHAR, DType.BPCHAR, DType.FIXEDSTRING}
_BINARIES = {
    DType.BINARY,
    DType.VARBINARY,
    DType.BLOB,
    DType.TINYBLOB,
    DType.MEDIUMBLOB,
    DType.LONGBLOB,
    DType.IMAGE,
}
_DATES = {DType.DATE, DType.DATE32}
_TIMES = {DType.TIME: False, DType.TIME_NS: False, DType.TIMETZ: True}
_TIMESTAMPS = {
    DType.TIMESTAMP: False,
    DType.TIMESTAMPNTZ: False,
    DType.DATETIME: False,
    DType.DATETIME2: False,
    DType.DATETIME64: False,
    DType.SMALLDATETIME: False,
    DType.TIMESTAMP_S: False,
    DType.TIMESTAMP_MS: False,
    DType.TIMESTAMP_NS: False,
    DType.TIMESTAMPTZ: True,
    DType.TIMESTAMPLTZ: True,
}
_FRACTION_DIGITS_OF_TYPE = {
    DType.TIMESTAMP_S: 0,
    DType.TIMESTAMP_MS: 3,
    DType.TIMESTAMP_NS: 9,
    DType.TIME_NS: 9,
}
_SEMI_STRUCTURED = {DType.JSON, DType.JSONB, DType.VARIANT, DType.SUPER, DType.DYNAMIC}
_ARRAYS = {DType.ARRAY, DType.LIST}
_RECORDS = {DType.STRUCT, DType.OBJECT}
_WRAPPERS = {DType.LOWCARDINALITY}  # ClickHouse LowCardinality(T) is a T

# A bare (possibly dotted or quoted) name: what a user-defined type looks like in dialects that allow them.
_USER_TYPE = re.compile(r'(?:[A-Za-z_][\w$]*|"[^"]+")(?:\.(?:[A-Za-z_][\w$]*|"[^"]+"))*')


class _Unreadable(ValueError):
    """A data type that sqlglot cannot parse or whose parameters make no sense."""


def parse_data_type(
    data_type: str, *, dialect: str, column: str | None = None, source: str | None = None
) -> Type:
    """The normalized ``Type`` of a warehouse data type written in ``dialect``.

    ``column`` and ``source`` (a model, file or catalog label) only make error messages precise.
    Raises ``UnknownDialectError`` for a dialect sqlglot does not know and ``SchemaError`` for text that
    is not a type in that dialect.
    """
    canonical = check_dialect(dialect)
    text = data_type.strip() if isinstance(data_type, str) else ""
    try:
        if not text:
            raise _Unreadable("it is empty")
        return _parse(text, canonical)
    except _Unreadable as reason:
        raise SchemaError(
            f"data_type {data_type!r} is not a {canonical} type: {reason}. Spell it as {canonical} does "
            "(e.g. varchar(50), decimal(18,2), timestamp), or check that the dialect is right.",
            source=source,
            location=f"column {column}" if column else None,
        ) from None


@lru_cache(maxsize=8192)
def _parse(text: str, dialect: str) -> Type:
    try:
        node = sqlglot.parse_one(text, read=dialect, into=exp.DataType)
    except ParseError as error:
        if Dialect.get_or_raise(dialect).SUPPORTS_USER_DEFINED_TYPES and _USER_TYPE.fullmatch(text):
            return Type(Family.ANY, name=text if '"' in text else text.upper())
        raise _Unreadable(f"sqlglot's {dialect} type parser rejects it ({_first_line(error)})") from None
    return _convert(node, _CONVENTIONS.get(dialect, _DEFAULT))


def _first_line(error: ParseError) -> str:
    details = [e.get("description") for e in error.errors if e.get("description")]
    return str(details[0]) if details else "no type found"


def _convert(node: exp.Expr, conv: _Conventions) -> Type:
    if not isinstance(node, exp.DataType):
        return Type(Family.ANY, name=node.sql().upper())
    kind = node.this
    if isinstance(kind, exp.Interval):
        return Type(Family.INTERVAL, name="INTERVAL")
    if not isinstance(kind, DType):  # ObjectIdentifier, PseudoType: the name is the type
        return Type(Family.ANY, name=str(kind).upper())
    if kind in _WRAPPERS and node.expressions:
        return _convert(node.expressions[0], conv)
    if kind in _INTEGER_BITS:
        return _integer(kind, conv)
    if kind in _FLOAT_BITS:
        return _float(node, kind, conv)
    if kind in _FIXED_PRECISION_DECIMALS or kind in _OTHER_DECIMALS:
        return _decimal(node, kind, conv)
    if kind in _VARIABLE_STRINGS or kind in _FIXED_STRINGS:
        return _string(node, kind, conv)
    if kind in _BINARIES:
        length = _length(node, unbounded=conv.unbounded_binary_lengths, at_max=None)
        return Type(Family.BINARY, name="BINARY", length=length)
    if kind is DType.BOOLEAN or (kind is DType.BIT and conv.bit_is_boolean):
        return Type(Family.BOOLEAN, name="BOOLEAN")
    if kind is DType.BIT:  # a bit string
        return Type(Family.BINARY, name="BIT", length=_length(node, unbounded=frozenset(), at_max=None))
    if kind in _DATES:
        return Type(Family.DATE, name="DATE")
    if kind in _TIMES or kind in _TIMESTAMPS:
        return _temporal(node, kind, conv)
    if kind is DType.INTERVAL:
        return Type(Family.INTERVAL, name="INTERVAL")
    if kind is DType.UUID:
        return Type(Family.UUID, name="UUID")
    if kind in _SEMI_STRUCTURED:
        return Type(Family.JSON, name=kind.value)
    if kind in _ARRAYS:
        return _array(node, conv)
    if kind in _RECORDS:
        return _record(node, kind, conv)
    if kind is DType.MAP:
        return _map(node, conv)
    if kind is DType.NULL:
        return Type(Family.NULL, name="NULL")
    if kind is DType.USERDEFINED and node.args.get("kind") is not None:
        udt = node.args["kind"]
        return Type(Family.ANY, name=(udt.sql() if isinstance(udt, exp.Expr) else str(udt)).upper())
    if kind is DType.UNKNOWN:
        return ANY
    return Type(Family.ANY, name=kind.value)


def _integer(kind: DType, conv: _Conventions) -> Type:
    if conv.integers_are_decimal:
        return Type(Family.DECIMAL, name="DECIMAL", precision=38, scale=0)
    if conv.integer_bits is not None:
        return Type(Family.INTEGER, name=_SIGNED_INTEGER_NAMES[conv.integer_bits], bits=conv.integer_bits)
    bits = _INTEGER_BITS[kind]
    unsigned = kind.value.startswith("U")
    name = kind.value if unsigned or bits not in _SIGNED_INTEGER_NAMES else _SIGNED_INTEGER_NAMES[bits]
    return Type(Family.INTEGER, name=name, bits=bits)


def _float(node: exp.DataType, kind: DType, conv: _Conventions) -> Type:
    bits = _FLOAT_BITS[kind]
    params = _params(node)
    if len(params) == 1:  # FLOAT(p): p binary digits of mantissa, the SQL standard's spelling
        bits = 32 if _int_param(params[0], "precision") <= 24 else 64
    if conv.float_bits is not None:
        bits = conv.float_bits
    return Type(Family.FLOAT, name="FLOAT" if bits == 32 else "DOUBLE", bits=bits)


def _decimal(node: exp.DataType, kind: DType, conv: _Conventions) -> Type:
    params = _params(node)
    if kind in _FIXED_PRECISION_DECIMALS:
        if len(params) > 1:
            raise _Unreadable(f"{kind.value} takes one parameter (the scale), not {len(params)}")
        scale = _int_param(params[0], "scale") if params else 0
        return Type(Family.DECIMAL, name="DECIMAL", precision=_FIXED_PRECISION_DECIMALS[kind], scale=scale)
    if len(params) > 2:
        raise _Unreadable(f"a decimal takes at most two parameters (precision, scale), not {len(params)}")
    name = "DECIMAL" if kind in (DType.DECIMAL, DType.UDECIMAL) else kind.value
    if params:
        precision = 38 if params[0] == "*" else _int_param(params[0], "precision")  # Oracle NUMBER(*, s)
        scale = _int_param(params[1], "scale") if len(params) == 2 else 0
        return Type(Family.DECIMAL, name=name, precision=precision, scale=scale)
    default = conv.big_decimal if kind is DType.BIGDECIMAL else conv.decimal
    if default is None or kind not in (DType.DECIMAL, DType.BIGDECIMAL):
        return Type(Family.DECIMAL, name=name)
    return Type(Family.DECIMAL, name=name, precision=default[0], scale=default[1])


def _string(node: exp.DataType, kind: DType, conv: _Conventions) -> Type:
    padded = kind is DType.FIXEDSTRING or (kind in _FIXED_STRINGS and conv.padded_char)
    if kind in _FIXED_STRINGS:
        at_max = conv.max_char
        default = conv.bpchar_length if kind is DType.BPCHAR else conv.char_length
    else:
        at_max = conv.max_varchar
        default = conv.varchar_length
    if _params(node):
        length = _length(node, unbounded=conv.unbounded_string_lengths, at_max=at_max)
    else:
        length = default
    name = "CHAR" if padded else "TEXT" if length is None else "VARCHAR"
    return Type(Family.STRING, name=name, length=length)


def _temporal(node: exp.DataType, kind: DType, conv: _Conventions) -> Type:
    is_time = kind in _TIMES
    timezone = _TIMES[kind] if is_time else _TIMESTAMPS[kind]
    precision: int | None = None
    for param in _params(node):
        if isinstance(param, int):
            precision = param
        elif param.startswith("'"):  # ClickHouse DateTime('UTC'): an instant shown in a zone
            timezone = True
        else:
            raise _Unreadable(f"{param} is not a fractional-second precision")
    if precision is None:
        precision = _FRACTION_DIGITS_OF_TYPE.get(
            kind, conv.fraction_digits_by_type.get(kind, conv.fraction_digits)
        )
    if is_time:
        name = "TIMETZ" if timezone else "TIME"
    elif not timezone:
        name = "TIMESTAMP"
    else:
        name = "TIMESTAMPLTZ" if kind is DType.TIMESTAMPLTZ and not conv.ltz_is_tz else "TIMESTAMPTZ"
    family = Family.TIME if is_time else Family.TIMESTAMP
    return Type(family, name=name, precision=precision, timezone=timezone)


def _array(node: exp.DataType, conv: _Conventions) -> Type:
    element = node.expressions[0] if node.expressions else None
    if not isinstance(element, exp.DataType):
        return Type(Family.ARRAY, name="ARRAY", items=ANY, item_nullable=conv.array_items_nullable)
    return Type(
        Family.ARRAY,
        name="ARRAY",
        items=_convert(element, conv),
        item_nullable=_nullable(element, default=conv.array_items_nullable),
    )


def _record(node: exp.DataType, kind: DType, conv: _Conventions) -> Type:
    members = tuple(
        _member(member, position, kind, conv) for position, member in enumerate(node.expressions, 1)
    )
    return Type(Family.OBJECT, name=kind.value, fields=members)


def _member(member: exp.Expr, position: int, kind: DType, conv: _Conventions) -> Field:
    if isinstance(member, exp.DataType):  # unnamed: Trino ROW(integer), BigQuery STRUCT<INT64>
        return Field(
            name=f"_{position}", type=_convert(member, conv), nullable=_nullable(member, default=True)
        )
    if not isinstance(member, exp.ColumnDef):
        raise _Unreadable(f"{member.sql()} is not a member of a {kind.value}")
    identifier = member.this
    quoted = isinstance(identifier, exp.Identifier) and bool(identifier.quoted)
    member_type = member.args.get("kind")
    constraints = member.args.get("constraints") or ()
    not_null = any(isinstance(c.args.get("kind"), exp.NotNullColumnConstraint) for c in constraints)
    return Field(
        name=normalize_name(member.name, quoted=quoted),
        type=_convert(member_type, conv) if isinstance(member_type, exp.DataType) else ANY,
        nullable=not not_null and _nullable(member_type, default=True),
    )


def _map(node: exp.DataType, conv: _Conventions) -> Type:
    if len(node.expressions) != 2:
        return Type(Family.MAP, name="MAP", keys=ANY, items=ANY)
    key, value = node.expressions
    return Type(
        Family.MAP,
        name="MAP",
        keys=_convert(key, conv),
        items=_convert(value, conv),
        item_nullable=_nullable(value, default=True),
    )


def _nullable(node: object, *, default: bool) -> bool:
    """ClickHouse spells nullability into the type (``Nullable(T)``); elsewhere the dialect decides."""
    declared = node.args.get("nullable") if isinstance(node, exp.DataType) else None
    return declared if isinstance(declared, bool) else default


def _params(node: exp.DataType) -> list[int | str]:
    """The type's parameters: integers as ``int``, anything else as upper-case SQL (``MAX``, ``'UTC'``)."""
    values: list[int | str] = []
    for param in node.expressions:
        inner = param.this if isinstance(param, exp.DataTypeParam) else param
        if isinstance(inner, exp.Literal) and not inner.is_string and inner.name.isdigit():
            values.append(int(inner.name))
        elif isinstance(inner, exp.Literal) and inner.is_string:
            values.append(inner.sql())
        else:
            values.append(inner.sql().upper())
    return values


def _int_param(value: int | str, what: str) -> int:
    if isinstance(value, int):
        return value
    raise _Unreadable(f"{value} is not a whole-number {what}")


def _length(node: exp.DataType, *, unbounded: frozenset[int], at_max: int | None) -> int | None:
    params = _params(node)
    if not params:
        return None
    if len(params) > 1:
        raise _Unreadable(f"a length is one parameter, not {len(params)}")
    if params[0] == "MAX":
        return at_max
    length = _int_param(params[0], "length")
    return None if length in unbounded else length


__all__ = ["parse_data_type"]
