"""How the app starts a ``grace`` command (training, validation, export) as a child process.

From source the child is ``python -m grace_core.cli.main …``. A frozen app has no Python and no ``.py`` files to
launch, so its executable re-invokes itself with :data:`WORKER_FLAG` first; the app's entry point hands such a call
to the CLI before anything imports Qt (:func:`dispatch_worker`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

WORKER_FLAG = "--grace-worker"


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def worker_command(cli_args: Sequence[str]) -> list[str]:
    """The argv that runs ``grace <cli_args>`` in a child process: program first."""
    if is_frozen():
        return [sys.executable, WORKER_FLAG, *cli_args]
    return [sys.executable, "-m", "grace_core.cli.main", *cli_args]


def dispatch_worker(argv: Sequence[str]) -> int | None:
    """If ``argv`` (without the program) starts with :data:`WORKER_FLAG`, run the CLI on the rest and return its
    exit code; otherwise None (not a worker call)."""
    if not argv or argv[0] != WORKER_FLAG:
        return None
    from grace_core.cli.main import main

    return main(list(argv[1:]))
