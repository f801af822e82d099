"""Give the progress protocol the process's stdout to itself; everything else that writes to stdout goes to stderr."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from typing import TextIO

_lock = threading.Lock()
_protocol_stream: TextIO | None = None


def _fd_is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _point_at_devnull(fd: int) -> None:
    null = os.open(os.devnull, os.O_WRONLY)
    if null != fd:  # os.open returns the lowest free descriptor, which may already be ``fd`` itself
        os.dup2(null, fd)
        os.close(null)


def redirect_stdout_for_protocol() -> TextIO:
    """Return a line-buffered UTF-8 stream on the real stdout for protocol events, and send all other stdout to stderr.

    Call this BEFORE ultralytics (or anything that binds a handler to ``sys.stdout`` at import) is imported: after
    it, ``sys.stdout`` is ``sys.stderr`` and file descriptor 1 is a duplicate of descriptor 2, so ``print``, logging
    handlers and C code writing to fd 1 all land on stderr. Text that Python or C buffered for stdout before the call
    is flushed later, so it lands on stderr too.

    A process without a usable stdout or stderr (a windowed frozen app: ``sys.stdout``/``sys.stderr`` are None and
    the descriptors closed) gets ``os.devnull`` in their place instead of a crash. Idempotent: a second call returns
    the same stream. On Windows this redirects the C runtime's descriptor 1, not the Win32 standard output handle.
    """
    global _protocol_stream
    with _lock:
        if _protocol_stream is not None:
            return _protocol_stream
        had_stdout = _fd_is_open(1)
        for fd in (1, 2):  # make both descriptors valid first, so that nothing opened below lands on them
            if not _fd_is_open(fd):
                _point_at_devnull(fd)
        protocol_fd = os.dup(1) if had_stdout else os.open(os.devnull, os.O_WRONLY)
        os.dup2(2, 1)
        if sys.stderr is None:
            sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)  # noqa: SIM115
        sys.stdout = sys.stderr
        # newline="\n": no CRLF translation on Windows; the writer already escapes anything UTF-8 cannot carry.
        _protocol_stream = open(  # noqa: SIM115 (lives as long as the process)
            protocol_fd, "w", encoding="utf-8", errors="backslashreplace", newline="\n", buffering=1
        )
        return _protocol_stream


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """While inside, everything written to stdout — ``print``, logging handlers bound to ``sys.stdout`` at import
    (ultralytics'), progress bars, C code on descriptor 1 — lands on stderr; stdout is restored on the way out.

    For commands whose stdout is their result (``grace val`` prints a table): the chatter of the libraries they call
    must not mix with it. Streams bound to descriptor 1 are flushed before it is restored, so nothing leaks back.
    """
    previous = sys.stdout
    streams = [s for s in (previous, sys.__stdout__) if s is not None]
    for stream in streams:
        stream.flush()
    saved = os.dup(1) if _fd_is_open(1) and _fd_is_open(2) else None
    if saved is not None:
        os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        for stream in streams:
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        sys.stdout = previous
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)
