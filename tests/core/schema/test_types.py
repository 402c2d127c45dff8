import pytest
from hypothesis import given
from hypothesis import strategies as st

from tessera_core.errors import SchemaError, UnknownDialectError
from tessera_core.schema.model import ANY, Family, Field, Type
from tessera_core.schema.types import parse_data_type

INT = Type(Family.INTEGER, name="INT", bits=32)
BIGINT = Type(Family.INTEGER, name="BIGINT", bits=64)
SMALLINT = Type(Family.INTEGER, name="SMALLINT", bits=16)
TINYINT = Type(Family.INTEGER, name="TINYINT", bits=8)
FLOAT = Type(Family.FLOAT, name="FLOAT", bits=32)
DOUBLE = Type(Family.FLOAT, name="DOUBLE", bits=64)
TEXT = Type(Family.STRING, name="TEXT")
BINARY = Type(Family.BINARY, name="BINARY")
BOOLEAN = Type(Family.BOOLEAN, name="BOOLEAN")


def varchar(length: int) -> Type:
    return Type(Family.STRING, name="VARCHAR", length=length)


def char(length: int | None) -> Type:
    return Type(Family.STRING, name="CHAR", length=length)


def decimal(precision: int | None = None, scale: int | None = None, *, name: str = "DECIMAL") -> Type:
    return Type(Family.DECIMAL, name=name, precision=precision, scale=scale)


def timestamp(precision: int | None, *, timezone: bool = False, name: str | None = None) -> Type:
    name = name or ("TIMESTAMPTZ" if timezone else "TIMESTAMP")
    return Type(Family.TIMESTAMP, name=name, precision=precision, timezone=timezone)


def array(items: Type, *, item_nullable: bool = True) -> Type:
    return Type(Family.ARRAY, name="ARRAY", items=items, item_nullable=item_nullable)


def parse(text: str, dialect: str) -> Type:
    return parse_data_type(text, dialect=dialect)


SYNONYMS = [
    # (dialect, spellings that are one type, that type)
    ("postgres", ["int4", "integer", "int", "INT", "serial"], INT),
    ("postgres", ["int8", "bigint", "bigserial"], BIGINT),
    ("postgres", ["int2", "smallint", "smallserial"], SMALLINT),
    ("postgres", ["float4", "real", "float(24)", "float(1)"], FLOAT),
    ("postgres", ["float8", "double precision", "float", "float(25)", "float(53)"], DOUBLE),
    ("postgres", ["numeric", "decimal"], decimal()),
    ("postgres", ["numeric(10,2)", "decimal(10, 2)", "NUMERIC(10,2)"], decimal(10, 2)),
    ("postgres", ["numeric(12)", "decimal(12,0)"], decimal(12, 0)),
    ("postgres", ["text", "varchar", "character varying"], TEXT),
    ("postgres", ["varchar(20)", "character varying(20)", "VARCHAR( 20 )"], varchar(20)),
    ("postgres", ["char(3)", "character(3)", "bpchar(3)", "nchar(3)"], char(3)),
    ("postgres", ["char", "character"], char(1)),
    ("postgres", ["bytea"], BINARY),
    ("postgres", ["bool", "boolean"], BOOLEAN),
    ("postgres", ["timestamp", "timestamp without time zone", "timestamp(6)"], timestamp(6)),
    (
        "postgres",
        ["timestamptz", "timestamp with time zone", "timestamp(6) with time zone"],
        timestamp(6, timezone=True),
    ),
    ("postgres", ["uuid"], Type(Family.UUID, name="UUID")),
    ("postgres", ["interval", "interval(3)"], Type(Family.INTERVAL, name="INTERVAL")),
    ("postgres", ["date"], Type(Family.DATE, name="DATE")),
    ("postgres", ["int[]", "integer[]", "int4[]"], array(INT)),
    (
        "snowflake",
        [
            "number",
            "number(38,0)",
            "numeric",
            "decimal",
            "int",
            "integer",
            "bigint",
            "smallint",
            "tinyint",
            "byteint",
        ],
        decimal(38, 0),
    ),
    ("snowflake", ["number(10,2)", "decimal(10,2)", "numeric(10, 2)"], decimal(10, 2)),
    ("snowflake", ["float", "float4", "float8", "double", "double precision", "real"], DOUBLE),
    ("snowflake", ["varchar", "varchar(16777216)", "varchar(134217728)", "text", "string"], TEXT),
    ("snowflake", ["varchar(10)", "char(10)", "character(10)", "text(10)", "string(10)"], varchar(10)),
    ("snowflake", ["char", "character", "varchar(1)"], varchar(1)),
    ("snowflake", ["binary", "varbinary", "binary(8388608)"], BINARY),
    ("snowflake", ["timestamp", "timestamp_ntz", "datetime", "timestamp_ntz(9)"], timestamp(9)),
    ("snowflake", ["timestamp_tz", "timestamp_tz(9)"], timestamp(9, timezone=True)),
    ("snowflake", ["timestamp_ltz"], timestamp(9, timezone=True, name="TIMESTAMPLTZ")),
    ("snowflake", ["boolean"], BOOLEAN),
    ("snowflake", ["variant"], Type(Family.JSON, name="VARIANT")),
    ("bigquery", ["int64", "int", "integer", "bigint", "smallint", "tinyint", "byteint"], BIGINT),
    ("bigquery", ["float64"], DOUBLE),
    ("bigquery", ["numeric", "decimal", "numeric(38,9)", "decimal(38, 9)"], decimal(38, 9)),
    ("bigquery", ["bignumeric", "bigdecimal", "bignumeric(76,38)"], decimal(76, 38, name="BIGDECIMAL")),
    ("bigquery", ["numeric(10)"], decimal(10, 0)),
    ("bigquery", ["string"], TEXT),
    ("bigquery", ["string(10)"], varchar(10)),
    ("bigquery", ["bytes"], BINARY),
    ("bigquery", ["bool", "boolean"], BOOLEAN),
    ("bigquery", ["timestamp"], timestamp(6, timezone=True)),
    ("bigquery", ["datetime"], timestamp(6)),
    ("bigquery", ["json"], Type(Family.JSON, name="JSON")),
    ("duckdb", ["integer", "int", "int4", "signed"], INT),
    ("duckdb", ["bigint", "int8", "long"], BIGINT),
    ("duckdb", ["hugeint"], Type(Family.INTEGER, name="INT128", bits=128)),
    ("duckdb", ["tinyint", "int1"], TINYINT),
    ("duckdb", ["float", "float4", "real"], FLOAT),
    ("duckdb", ["double", "float8"], DOUBLE),
    ("duckdb", ["decimal", "numeric", "decimal(18,3)"], decimal(18, 3)),
    ("duckdb", ["varchar", "varchar(10)", "text", "string", "char(3)", "bpchar"], TEXT),
    ("duckdb", ["blob", "bytea", "binary", "varbinary"], BINARY),
    ("duckdb", ["timestamp", "datetime", "timestamp without time zone"], timestamp(6)),
    ("duckdb", ["timestamptz", "timestamp with time zone"], timestamp(6, timezone=True)),
    ("duckdb", ["timestamp_ms"], timestamp(3)),
    ("duckdb", ["timestamp_ns"], timestamp(9)),
    ("duckdb", ["timestamp_s"], timestamp(0)),
    ("duckdb", ["int[]", "integer[]", "list(int)"], array(INT)),
    ("redshift", ["varchar", "text", "varchar(256)", "character varying(256)", "nvarchar"], varchar(256)),
    ("redshift", ["varchar(max)", "varchar(65535)"], varchar(65535)),
    ("redshift", ["char", "character", "char(1)", "nchar"], char(1)),
    ("redshift", ["bpchar", "char(256)"], char(256)),
    ("redshift", ["decimal", "numeric", "decimal(18)", "numeric(18,0)"], decimal(18, 0)),
    ("redshift", ["int", "int4", "integer"], INT),
    ("redshift", ["int8", "bigint"], BIGINT),
    ("redshift", ["float4", "real"], FLOAT),
    ("redshift", ["float", "float8", "double precision"], DOUBLE),
    ("redshift", ["timestamp", "timestamp without time zone"], timestamp(6)),
    ("redshift", ["timestamptz", "timestamp with time zone"], timestamp(6, timezone=True)),
    ("redshift", ["super"], Type(Family.JSON, name="SUPER")),
    ("redshift", ["varbyte(10)", "varbinary(10)"], Type(Family.BINARY, name="BINARY", length=10)),
    ("databricks", ["int", "integer"], INT),
    ("databricks", ["bigint", "long"], BIGINT),
    ("databricks", ["smallint", "short"], SMALLINT),
    ("databricks", ["tinyint", "byte"], TINYINT),
    ("databricks", ["float", "real"], FLOAT),
    ("databricks", ["double"], DOUBLE),
    ("databricks", ["decimal", "dec", "numeric", "decimal(10,0)", "decimal(10)"], decimal(10, 0)),
    ("databricks", ["string"], TEXT),
    ("databricks", ["varchar(10)"], varchar(10)),
    ("databricks", ["binary"], BINARY),
    ("databricks", ["timestamp", "timestamp_ltz"], timestamp(6, timezone=True)),
    ("databricks", ["timestamp_ntz"], timestamp(6)),
    ("databricks", ["void"], Type(Family.NULL, name="NULL")),
    ("databricks", ["variant"], Type(Family.JSON, name="VARIANT")),
    ("trino", ["timestamp", "timestamp(3)"], timestamp(3)),
    ("trino", ["timestamp(6) with time zone"], timestamp(6, timezone=True)),
    ("trino", ["time", "time(3)"], Type(Family.TIME, name="TIME", precision=3, timezone=False)),
    ("tsql", ["bit"], BOOLEAN),
    ("tsql", ["datetime2", "datetime2(7)"], timestamp(7)),
    ("tsql", ["datetime", "datetime2(3)"], timestamp(3)),
    ("tsql", ["smalldatetime", "datetime2(0)"], timestamp(0)),
    ("tsql", ["datetimeoffset"], timestamp(7, timezone=True)),
    ("tsql", ["nvarchar(max)", "varchar(max)", "ntext"], TEXT),
    ("tsql", ["uniqueidentifier"], Type(Family.UUID, name="UUID")),
    ("mysql", ["int", "int(11)", "integer"], INT),
    ("mysql", ["int unsigned"], Type(Family.INTEGER, name="UINT", bits=32)),
    ("mysql", ["decimal", "decimal(10,0)"], decimal(10, 0)),
    ("mysql", ["datetime", "datetime(0)"], timestamp(0)),
    ("mysql", ["timestamp"], timestamp(0, timezone=True)),
    ("oracle", ["number(*,0)", "number(38)"], decimal(38, 0)),
    ("oracle", ["varchar2(100)", "varchar2(100 byte)", "nvarchar2(100)"], varchar(100)),
    ("clickhouse", ["Int32", "Nullable(Int32)"], INT),
    ("clickhouse", ["String", "LowCardinality(String)"], TEXT),
    ("clickhouse", ["Decimal64(4)", "Decimal(18, 4)"], decimal(18, 4)),
    ("clickhouse", ["DateTime64(3, 'UTC')"], timestamp(3, timezone=True)),
]


@pytest.mark.parametrize(
    ("dialect", "spellings", "expected"), SYNONYMS, ids=[f"{d}-{s[0]}" for d, s, _ in SYNONYMS]
)
def test_synonyms_normalize_to_one_type(dialect: str, spellings: list[str], expected: Type) -> None:
    assert {spelling: parse(spelling, dialect) for spelling in spellings} == dict.fromkeys(
        spellings, expected
    )


@pytest.mark.parametrize(
    ("dialect", "first", "second"),
    [
        ("postgres", "varchar(20)", "varchar(21)"),
        ("postgres", "varchar(20)", "text"),
        ("postgres", "char(3)", "varchar(3)"),  # blank-padded: the name keeps them apart
        ("postgres", "json", "jsonb"),
        ("postgres", "timestamp", "timestamptz"),
        ("postgres", "timestamp(3)", "timestamp"),
        ("postgres", "numeric(10,2)", "numeric(10,3)"),
        ("postgres", "int", "bigint"),
        ("postgres", "numeric(10,0)", "int"),  # integer-like decimals stay decimals outside Snowflake
        ("snowflake", "timestamp_tz", "timestamp_ltz"),
        ("snowflake", "timestamp_ntz", "timestamp_tz"),
        ("snowflake", "number(10,0)", "int"),
        ("bigquery", "numeric", "bignumeric"),
        ("bigquery", "timestamp", "datetime"),
        ("duckdb", "timestamp", "timestamp_ns"),
        ("duckdb", "int", "hugeint"),
        ("duckdb", "int", "uinteger"),
        ("databricks", "timestamp", "timestamp_ntz"),
        ("trino", "timestamp", "timestamp(6)"),
        ("tsql", "datetime", "datetime2"),
    ],
)
def test_different_types_stay_different(dialect: str, first: str, second: str) -> None:
    assert parse(first, dialect) != parse(second, dialect)


def test_type_name_is_the_canonical_name_not_the_spelling() -> None:
    assert parse("int8", "postgres").name == "BIGINT"
    assert parse("int4", "postgres").name == "INT"
    assert parse("character varying(10)", "postgres").name == "VARCHAR"
    assert parse("double precision", "postgres").name == "DOUBLE"
    assert parse("timestamp with time zone", "postgres").name == "TIMESTAMPTZ"


@given(precision=st.integers(1, 38), data=st.data())
def test_decimal_precision_and_scale_are_kept(precision: int, data: st.DataObject) -> None:
    scale = data.draw(st.integers(0, precision))
    dialect = data.draw(
        st.sampled_from(["postgres", "snowflake", "bigquery", "duckdb", "redshift", "databricks"])
    )
    assert parse(f"decimal({precision},{scale})", dialect) == decimal(precision, scale)


@given(length=st.integers(1, 65535), dialect=st.sampled_from(["postgres", "redshift", "databricks", "trino"]))
def test_varchar_length_is_kept(length: int, dialect: str) -> None:
    assert parse(f"varchar({length})", dialect) == varchar(length)


@given(length=st.integers(1, 10_000_000))
def test_snowflake_varchar_length_is_kept_below_the_maximum(length: int) -> None:
    assert parse(f"varchar({length})", "snowflake") == varchar(length)


@given(digits=st.integers(0, 9), dialect=st.sampled_from(["postgres", "snowflake", "trino", "duckdb"]))
def test_fractional_second_precision_is_kept(digits: int, dialect: str) -> None:
    assert parse(f"timestamp({digits})", dialect).precision == digits
    assert parse(f"time({digits})", dialect).precision == digits


@pytest.mark.parametrize(
    ("dialect", "text", "timezone"),
    [
        ("postgres", "timestamp", False),
        ("postgres", "timestamptz", True),
        ("postgres", "time with time zone", True),
        ("postgres", "timetz", True),
        ("postgres", "time", False),
        ("snowflake", "timestamp_ntz", False),
        ("snowflake", "timestamp_ltz", True),
        ("snowflake", "timestamp_tz", True),
        ("bigquery", "timestamp", True),
        ("bigquery", "datetime", False),
        ("databricks", "timestamp", True),
        ("databricks", "timestamp_ntz", False),
        ("duckdb", "timestamp with time zone", True),
        ("redshift", "timestamp without time zone", False),
        ("trino", "timestamp(3) with time zone", True),
        ("tsql", "datetimeoffset", True),
        ("mysql", "timestamp", True),
        ("mysql", "datetime", False),
        ("clickhouse", "DateTime", False),
        ("clickhouse", "DateTime('Europe/Oslo')", True),
    ],
)
def test_timezones(dialect: str, text: str, timezone: bool) -> None:
    assert parse(text, dialect).timezone is timezone


def test_postgres_nested_arrays() -> None:
    assert parse("text[][]", "postgres") == array(array(TEXT))


def test_bigquery_struct_inside_array() -> None:
    parsed = parse("ARRAY<STRUCT<id INT64, tags ARRAY<STRING>>>", "bigquery")
    record = Type(
        Family.OBJECT,
        name="STRUCT",
        fields=(Field("id", BIGINT), Field("tags", array(TEXT, item_nullable=False))),
    )
    assert parsed == array(record, item_nullable=False)


@pytest.mark.parametrize(
    ("dialect", "text"),
    [
        ("bigquery", "STRUCT<a INT64, b STRING>"),
        ("databricks", "struct<a: bigint, b: string>"),
        ("databricks", "struct<a bigint, b string>"),
        ("duckdb", "STRUCT(a BIGINT, b VARCHAR)"),
        ("trino", "row(a bigint, b varchar)"),
        ("clickhouse", "Tuple(a Nullable(Int64), b Nullable(String))"),
    ],
)
def test_records_in_every_spelling(dialect: str, text: str) -> None:
    parsed = parse(text, dialect)
    assert parsed.family is Family.OBJECT
    assert parsed.fields == (Field("a", BIGINT), Field("b", TEXT))


def test_record_member_names_fold_like_columns_unless_quoted() -> None:
    parsed = parse('STRUCT(CustomerId INT, "OrderId" INT)', "duckdb")
    assert [f.name for f in parsed.fields] == ["customerid", "OrderId"]


def test_record_member_not_null_makes_it_non_nullable() -> None:
    parsed = parse("STRUCT<a INT64 NOT NULL, b INT64>", "bigquery")
    assert [(f.name, f.nullable) for f in parsed.fields] == [("a", False), ("b", True)]


def test_unnamed_record_members_are_numbered() -> None:
    parsed = parse("row(integer, varchar)", "trino")
    assert parsed.fields == (Field("_1", INT), Field("_2", TEXT))


def test_clickhouse_members_are_not_null_unless_wrapped_in_nullable() -> None:
    parsed = parse("Tuple(a Int32, b Nullable(Int32))", "clickhouse")
    assert [(f.name, f.nullable) for f in parsed.fields] == [("a", False), ("b", True)]


@pytest.mark.parametrize(
    ("dialect", "text"),
    [
        ("duckdb", "MAP(VARCHAR, INTEGER)"),
        ("databricks", "map<string, int>"),
        ("trino", "map(varchar, integer)"),
        ("clickhouse", "Map(String, Nullable(Int32))"),
        ("materialize", "map[text=>int]"),
    ],
)
def test_maps_in_every_spelling(dialect: str, text: str) -> None:
    assert parse(text, dialect) == Type(Family.MAP, name="MAP", keys=TEXT, items=INT)


def test_snowflake_structured_types() -> None:
    number = decimal(38, 0)
    assert parse("ARRAY(INT)", "snowflake") == array(number)
    assert parse("MAP(VARCHAR, INT)", "snowflake") == Type(Family.MAP, name="MAP", keys=TEXT, items=number)
    assert parse("OBJECT(a INT, b VARCHAR)", "snowflake").fields == (Field("a", number), Field("b", TEXT))


def test_snowflake_semi_structured_object_and_array() -> None:
    assert parse("OBJECT", "snowflake") == Type(Family.OBJECT, name="OBJECT")
    assert parse("ARRAY", "snowflake") == array(ANY)


def test_bigquery_arrays_never_hold_null() -> None:
    assert parse("ARRAY<INT64>", "bigquery").item_nullable is False
    assert parse("int[]", "postgres").item_nullable is True


def test_clickhouse_array_elements_are_nullable_only_when_declared() -> None:
    assert parse("Array(Int32)", "clickhouse").item_nullable is False
    assert parse("Array(Nullable(Int32))", "clickhouse").item_nullable is True


@pytest.mark.parametrize(
    ("dialect", "text", "name"),
    [
        ("snowflake", "geography", "GEOGRAPHY"),
        ("bigquery", "GEOGRAPHY", "GEOGRAPHY"),
        ("postgres", "inet", "INET"),
        ("postgres", "citext", "CITEXT"),  # a user-defined (extension) type
        ("postgres", "my_schema.money_range", "MY_SCHEMA.MONEY_RANGE"),
        ("postgres", "USER-DEFINED", "USER-DEFINED"),  # what information_schema reports for enums
        ("duckdb", "ENUM('a', 'b')", "ENUM"),
        ("duckdb", "UNION(a INT, b VARCHAR)", "UNION"),
    ],
)
def test_other_types_are_any_with_their_name(dialect: str, text: str, name: str) -> None:
    assert parse(text, dialect) == Type(Family.ANY, name=name)


@pytest.mark.parametrize(
    ("dialect", "text"),
    [
        ("postgres", "varchar("),
        ("postgres", "decimal(10,2"),
        ("postgres", "int int"),
        ("postgres", "array<int"),
        ("postgres", "varchar(abc)"),
        ("postgres", "numeric(10.5)"),
        ("postgres", "decimal(1,2,3)"),
        ("postgres", "varchar(10, 2)"),
        ("postgres", "123"),
        ("postgres", "not a type"),
        ("postgres", ""),
        ("postgres", "   "),
        ("snowflake", "citext"),  # Snowflake has no user-defined types
        ("snowflake", "timestamp(x)"),
        ("bigquery", "STRUCT<>"),
    ],
)
def test_malformed_types_raise_schema_error(dialect: str, text: str) -> None:
    with pytest.raises(SchemaError):
        parse(text, dialect)


def test_schema_error_names_column_source_and_dialect() -> None:
    with pytest.raises(SchemaError) as caught:
        parse_data_type("decimal(18,", dialect="postgres", column="amount", source="model.shop.orders")
    error = caught.value
    assert error.source == "model.shop.orders"
    assert error.location == "column amount"
    message = str(error)
    assert message.startswith("model.shop.orders at column amount: ")
    assert "'decimal(18,'" in message and "postgres" in message


def test_unknown_dialect_raises_unknown_dialect_error() -> None:
    with pytest.raises(UnknownDialectError, match="'postgre'"):
        parse_data_type("int", dialect="postgre")


def test_dialect_name_is_case_insensitive() -> None:
    assert parse("int8", "Postgres") == parse("int8", "postgres")


def test_parses_are_cached() -> None:
    assert parse("numeric(18,4)", "postgres") is parse("numeric(18,4)", "postgres")
    assert parse(" numeric(18,4) ", "postgres") is parse("numeric(18,4)", "postgres")


@pytest.mark.parametrize(
    ("dialect", "text"),
    [
        ("postgres", "numeric(18,4)"),
        ("bigquery", "ARRAY<STRUCT<a INT64 NOT NULL, b STRING>>"),
        ("duckdb", "MAP(VARCHAR, INTEGER[])"),
        ("snowflake", "timestamp_ltz(3)"),
        ("redshift", "varchar"),
    ],
)
def test_parsed_types_survive_the_json_round_trip(dialect: str, text: str) -> None:
    parsed = parse(text, dialect)
    assert Type.from_dict(parsed.to_dict()) == parsed
