import pytest

from tessera_core.dialects import check_dialect, dialect_for_adapter, known_dialects
from tessera_core.errors import UnknownDialectError


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("snowflake", "snowflake"), ("Snowflake", "snowflake"), (" DuckDB ", "duckdb"), ("TSQL", "tsql")],
)
def test_check_dialect_is_case_insensitive_and_canonical(name: str, canonical: str) -> None:
    assert check_dialect(name) == canonical


def test_unknown_dialect_names_it_and_lists_the_known_ones() -> None:
    with pytest.raises(UnknownDialectError) as caught:
        check_dialect("snowflak")
    message = str(caught.value)
    assert "'snowflak'" in message
    assert "snowflake" in message and "postgres" in message and "tsql" in message


@pytest.mark.parametrize(
    "name", ["", "   ", "../postgres", "postgres; drop", "mysql, normalization_strategy=x"]
)
def test_check_dialect_rejects_names_that_are_not_plain_dialect_names(name: str) -> None:
    with pytest.raises(UnknownDialectError):
        check_dialect(name)


def test_known_dialects_are_sorted_loadable_names() -> None:
    names = known_dialects()
    assert list(names) == sorted(names)
    assert "" not in names
    assert {"postgres", "snowflake", "bigquery", "duckdb", "redshift", "databricks", "tsql"} <= set(names)


@pytest.mark.parametrize(
    ("adapter", "dialect"),
    [
        ("postgres", "postgres"),
        ("redshift", "redshift"),
        ("snowflake", "snowflake"),
        ("bigquery", "bigquery"),
        ("databricks", "databricks"),
        ("spark", "spark"),
        ("duckdb", "duckdb"),
        ("trino", "trino"),
        ("athena", "athena"),
        ("clickhouse", "clickhouse"),
        ("mysql", "mysql"),
        ("oracle", "oracle"),
        ("sqlserver", "tsql"),
        ("synapse", "tsql"),
        ("fabric", "fabric"),
        ("fabricspark", "spark"),
        ("materialize", "materialize"),
        ("glue", "spark"),
        ("mariadb", "mysql"),
        ("SQLServer", "tsql"),
        ("Snowflake", "snowflake"),
    ],
)
def test_dialect_for_adapter(adapter: str, dialect: str) -> None:
    assert dialect_for_adapter(adapter) == dialect


@pytest.mark.parametrize(
    "adapter",
    [
        "sqlserver",
        "synapse",
        "azuresynapse",
        "fabricspark",
        "glue",
        "impala",
        "mariadb",
        "tidb",
        "greenplum",
        "yellowbrick",
        "motherduck",
        "materialize",
        "risingwave",
        "teradata",
        "exasol",
        "dremio",
        "starrocks",
    ],
)
def test_every_adapter_maps_to_a_dialect_sqlglot_loads(adapter: str) -> None:
    dialect = dialect_for_adapter(adapter)
    assert check_dialect(dialect) == dialect


def test_unknown_adapter_names_it_and_says_to_set_the_dialect() -> None:
    with pytest.raises(UnknownDialectError) as caught:
        dialect_for_adapter("firebolt")
    message = str(caught.value)
    assert "'firebolt'" in message
    assert "Set the dialect explicitly" in message
    assert "postgres" in message
