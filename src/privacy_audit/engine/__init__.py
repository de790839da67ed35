"""The one small interface between the audit and the SQL engine that runs it."""

from privacy_audit.engine.base import Engine

__all__ = ["Engine", "make_engine"]


def make_engine(name: str = "duckdb", **options: object) -> Engine:
    """Build the engine called ``name``; options are engine settings (threads, memory limit…)."""
    if name == "duckdb":
        from privacy_audit.engine.duckdb import DuckDBEngine

        return DuckDBEngine(**options)
    if name == "spark":
        from privacy_audit.engine.spark import SparkEngine

        return SparkEngine(**options)
    raise ValueError(f"unknown engine {name!r}: expected duckdb or spark")
