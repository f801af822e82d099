"""The central review store's side of the seam: :class:`Database` over one psycopg 3 connection to PostgreSQL.

The store's SQL is shared with SQLite (``?`` placeholders, the common subset of both dialects); this module turns
``?`` into psycopg's ``%s``, runs transactions explicitly (the connection is in autocommit mode, as the SQLite one
is), and turns driver errors into :class:`StoreError` — :class:`StoreUnavailable` when the server cannot be reached
or the connection broke, which the station's spool (:mod:`grace_core.store.spool`) waits out.

psycopg is imported only here, and only when a ``postgresql://`` store is opened: a station or desk that uses
local SQLite stores needs nothing more installed (``pip install 'grace-inspect[central]'`` brings the driver).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from grace_core.errors import StoreError
from grace_core.store import schema
from grace_core.store.database import Params, StoreUnavailable
from grace_core.store.location import redact

# Serialises concurrent schema creation and upgrades across stations (pg_advisory_xact_lock; "GRACE" in ASCII).
MIGRATION_LOCK = 0x4752414345
VERSION_KEY = "schema_version"

# Libpq settings a station needs to notice a dead server in seconds rather than minutes; the URL may override them.
CONNECT_DEFAULTS: dict[str, Any] = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 3,
    "keepalives_count": 3,
    "tcp_user_timeout": 15_000,  # ms: a write the server never acknowledges fails after 15 s
    "application_name": "grace-inspect",
}


def _driver() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise StoreError(
            "a postgresql:// review store needs the PostgreSQL driver, which is not installed: "
            "pip install 'grace-inspect[central]' (psycopg 3)"
        ) from exc
    return psycopg


class Row:
    """A result row that reads like ``sqlite3.Row``: by index, by column name, ``dict(row)`` and unpacking."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: dict[str, int], values: Sequence[Any]) -> None:
        self._index = index
        self._values = values

    def __getitem__(self, key: int | str) -> Any:
        return self._values[key] if isinstance(key, int) else self._values[self._index[key]]

    def keys(self) -> list[str]:
        return list(self._index)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._index, self._values, strict=True))})"


def _row_factory(cursor: Any) -> Callable[[Sequence[Any]], Row]:
    index = {column.name: i for i, column in enumerate(cursor.description or ())}
    return lambda values: Row(index, values)


@functools.lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """``?`` placeholders → ``%s`` (outside quoted literals), and a literal ``%`` doubled, as psycopg wants."""
    out: list[str] = []
    quote: str | None = None
    for char in sql:
        if char == "%":
            out.append("%%")
        elif quote is not None:
            out.append(char)
            if char == quote:
                quote = None
        elif char in ("'", '"'):
            quote = char
            out.append(char)
        elif char == "?":
            out.append("%s")
        else:
            out.append(char)
    return "".join(out)


class PostgresDatabase:
    """:class:`~grace_core.store.database.Database` over a psycopg connection (autocommit; explicit transactions)."""

    dialect = "postgresql"
    for_update = " FOR UPDATE"

    def __init__(self, conn: Any, url: str) -> None:
        self.conn = conn
        self.url = url
        self.location = redact(url)

    # -- statements -------------------------------------------------------------------------------------------

    def execute(self, sql: str, params: Params = (), binary: bool = False) -> Any:
        try:
            return self.conn.execute(to_pyformat(sql), tuple(params), binary=binary)
        except Exception as exc:
            raise self._translate(exc) from exc

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        if not rows:
            return
        try:
            with self.conn.cursor() as cursor:
                cursor.executemany(to_pyformat(sql), [tuple(row) for row in rows])
        except Exception as exc:
            raise self._translate(exc) from exc

    def insert(self, sql: str, params: Params = ()) -> int | None:
        row = self.execute(sql + " RETURNING id", params).fetchone()
        return int(row[0]) if row is not None else None

    # -- transactions -------------------------------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[PostgresDatabase]:
        """``BEGIN`` … ``COMMIT`` (``ROLLBACK`` on any error). Rows that must not change meanwhile are read with
        :attr:`for_update`; a commit whose answer never came (the server went away) raises StoreUnavailable, and
        the caller cannot know whether it landed: that is why every copy between stores is keyed by uid."""
        self.execute("BEGIN")
        try:
            yield self
            self.execute("COMMIT")
        except BaseException:
            self._rollback_quietly()
            raise

    @contextmanager
    def snapshot(self) -> Iterator[PostgresDatabase]:
        """A read-only ``REPEATABLE READ`` transaction: every statement in it sees the same snapshot."""
        if self.in_transaction:
            yield self
            return
        self.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            yield self
        finally:
            self._rollback_quietly()

    def _rollback_quietly(self) -> None:
        if self.conn.closed or self.conn.broken:
            return
        try:
            self.conn.execute("ROLLBACK")
        except Exception:  # the connection died meanwhile: the server rolls back by itself
            return

    @contextmanager
    def errors(self) -> Iterator[None]:
        try:
            yield
        except StoreError:
            raise
        except Exception as exc:
            if _is_driver_error(exc):
                raise self._translate(exc) from exc
            raise

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return bool(self.conn.info.transaction_status != TransactionStatus.IDLE)

    # -- dialect ------------------------------------------------------------------------------------------------

    def truncate(self, expression: str) -> str:
        return f"CAST(FLOOR({expression}) AS BIGINT)"  # PostgreSQL's CAST rounds; the bins want truncation

    def join_distinct(self, expression: str) -> str:
        return f"STRING_AGG(DISTINCT {expression}, ',')"

    def close(self) -> None:
        if not self.conn.closed:
            self.conn.close()

    @property
    def broken(self) -> bool:
        return bool(self.conn.closed or self.conn.broken)

    def _translate(self, exc: BaseException) -> BaseException:
        if not _is_driver_error(exc):
            return exc
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if self.broken or (isinstance(exc, _driver().OperationalError) and _lost(exc)):
            return StoreUnavailable(self.location, detail)
        return StoreError(f"the central review store {self.location} refused a request: {detail}")


def _is_driver_error(exc: BaseException) -> bool:
    try:
        import psycopg
    except ImportError:
        return False
    return isinstance(exc, psycopg.Error)


def _lost(exc: BaseException) -> bool:
    """An OperationalError that means the server or the connection went away (not a deadlock, not a timeout)."""
    sqlstate = getattr(exc, "sqlstate", None)
    return sqlstate is None or str(sqlstate).startswith(("08", "57P"))  # connection exception, operator intervention


def connect(url: str, readonly: bool = False) -> PostgresDatabase:
    """One connection to the server ``url`` names. Raises StoreUnavailable when it cannot be reached."""
    psycopg = _driver()
    from psycopg.conninfo import conninfo_to_dict

    try:
        settings = {**CONNECT_DEFAULTS, **conninfo_to_dict(url)}
    except psycopg.Error as exc:
        raise StoreError(f"cannot read the store URL {redact(url)}: {exc}") from exc
    try:
        conn = psycopg.connect(autocommit=True, row_factory=_row_factory, **settings)
    except psycopg.Error as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise StoreUnavailable(redact(url), detail) from exc
    database = PostgresDatabase(conn, url)
    if readonly:
        database.execute("SET default_transaction_read_only = on")
    return database


# -- schema ----------------------------------------------------------------------------------------------------


def tables(database: PostgresDatabase) -> set[str]:
    """The store's tables that exist in the connection's search path."""
    names = ("frames", "detections", "audit", "meta", "images")
    row = database.execute("SELECT " + ", ".join(f"to_regclass('{name}') IS NOT NULL" for name in names)).fetchone()
    return {name for name, present in zip(names, row, strict=True) if present}


def schema_version(database: PostgresDatabase) -> int:
    """0 for an empty database; else the version in ``meta`` (a ``frames`` table without it: not our database)."""
    found = tables(database)
    if "meta" not in found:
        if "frames" in found:
            raise StoreError(
                f"the database {database.location} has a frames table but is not a GRACE Inspect review store; "
                "give another database"
            )
        return 0
    row = database.execute("SELECT value FROM meta WHERE key = ?", (VERSION_KEY,)).fetchone()
    return int(row[0]) if row is not None else 0


def migrate(database: PostgresDatabase, target: int = schema.LATEST_VERSION) -> int:
    """Create or upgrade the schema to ``target`` in one transaction; returns the version found.

    The advisory lock makes a second station that opens the store at the same moment wait, then find the work done.
    PostgreSQL's DDL is transactional, like SQLite's: a failure leaves the old version.
    """
    with database.write():
        database.execute(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        found = schema_version(database)
        if found > schema.LATEST_VERSION:
            raise StoreError(schema.too_new_message(found, database.location))
        for step in schema.MIGRATIONS[found:target]:
            step(database.execute, database.dialect)
        if target > found:
            database.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (VERSION_KEY, str(int(target))),
            )
    return found


def wait_until_reachable(url: str, timeout_s: float, interval_s: float = 0.5) -> bool:
    """Try to connect until ``timeout_s`` has passed; True once the server answers."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            connect(url).close()
            return True
        except StoreUnavailable:
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval_s)
