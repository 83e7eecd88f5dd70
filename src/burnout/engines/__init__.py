"""Connections to the data: DuckDB files, PostgreSQL and Spark, chosen by the source's form."""

from burnout.engines.connect import connect_source, is_database_url, is_postgres_url

__all__ = ["connect_source", "is_database_url", "is_postgres_url"]
