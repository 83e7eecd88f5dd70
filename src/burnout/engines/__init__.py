"""Connections to the data: DuckDB files, PostgreSQL and Spark, chosen by the source's form."""

from burnout.engines.connect import (
    connect_source,
    duckdb_in_memory,
    duckdb_store_path,
    duckdb_table_names,
    is_database_url,
    is_duckdb_url,
    is_postgres_url,
    sql_identifier,
    sql_text,
)

__all__ = [
    "connect_source",
    "duckdb_in_memory",
    "duckdb_store_path",
    "duckdb_table_names",
    "is_database_url",
    "is_duckdb_url",
    "is_postgres_url",
    "sql_identifier",
    "sql_text",
]
