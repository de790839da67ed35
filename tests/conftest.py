"""Shared fixtures: a throwaway PostgreSQL server holding the demo export under platform names."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import adbc_driver_postgresql.dbapi as adbc
import pytest

from pgserver import NATIVE, Server, bin_dir, load_native, running_server

DEMO_EXPORT = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "demo" / "export"
READER = "auditor"  # a login that may read every table but shop.sales_order
_clones = itertools.count()


@dataclass(frozen=True)
class NativeDatabase:
    """The demo export loaded under the platform's names, and the mapping back to the contract."""

    server: Server
    database: str
    mapping: Path

    def url(self, **kwargs: str) -> str:
        return self.server.url(database=self.database, **kwargs)


def admin(server: Server, sql: str) -> None:
    """Run one statement outside a transaction (CREATE DATABASE cannot run inside one)."""
    with adbc.connect(server.url(), autocommit=True) as connection, connection.cursor() as cursor:
        cursor.execute(sql)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    if bin_dir() is None:
        message = "no PostgreSQL server binaries: scripts/setup installs Debian's postgresql as root"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must run these tests, not skip them
        pytest.skip(message)
    with running_server() as server:
        yield server


@pytest.fixture(scope="session")
def native_db(pg_server: Server, tmp_path_factory: pytest.TempPathFactory) -> NativeDatabase:
    admin(pg_server, "CREATE DATABASE demo")
    admin(pg_server, f"CREATE ROLE {READER} LOGIN PASSWORD '{pg_server.password}'")
    database = NativeDatabase(pg_server, "demo", tmp_path_factory.mktemp("native") / "mapping.yaml")
    database.mapping.write_text(load_native(database.url(), DEMO_EXPORT))
    with adbc.connect(database.url()) as connection, connection.cursor() as cursor:
        for schema in ("public", *{n.split(".")[0] for n in NATIVE.values()}):
            cursor.execute(f"GRANT USAGE ON SCHEMA {schema} TO {READER}")
            cursor.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {READER}")
        cursor.execute(f"REVOKE SELECT ON shop.sales_order FROM {READER}")
        connection.commit()
    return database


@pytest.fixture
def fresh_db(native_db: NativeDatabase) -> Iterator[NativeDatabase]:
    """A copy of the native database that a test may change; dropped afterwards."""
    name = f"demo_{next(_clones)}"
    admin(native_db.server, f"CREATE DATABASE {name} TEMPLATE demo")
    yield NativeDatabase(native_db.server, name, native_db.mapping)
    admin(native_db.server, f"DROP DATABASE {name} WITH (FORCE)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """With pytest-xdist's ``--dist loadgroup``, a module's tests stay on one worker (its module
    fixtures — a rendered report, a Spark session, a generated export — are built once), except
    the rule cases: hundreds of independent tiny audits, spread over every worker."""
    for item in items:
        if item.path.name != "test_rule_cases.py":
            item.add_marker(pytest.mark.xdist_group(item.path.stem))
