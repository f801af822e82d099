"""The training progress protocol: versioned JSON lines on the training process's stdout (docs/protocol.md).

Writer side (``grace train --events jsonl``): :class:`EventWriter` on the stream from
:func:`grace_core.training.stdio.redirect_stdout_for_protocol`. Reader side (the app): :class:`EventDecoder`, fed the
raw chunks of the child's stdout as they arrive. This module imports nothing heavy (no numpy, no Qt, no ultralytics).
"""

from __future__ import annotations

import codecs
import contextlib
import json
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO, TypeAlias

PROTOCOL_VERSION = 1

EVENT_TYPES = ("hello", "phase", "batch", "epoch", "checkpoint", "warning", "error", "done")

#: A decoder buffers at most this many characters of one line; the rest of an overlong line is dropped.
MAX_LINE_CHARS = 16 * 1024 * 1024

_RESERVED = ("v", "type")


# ---------------------------------------------------------------------------------------------------------- encoding


def _jsonable(value: Any) -> Any:
    """Plain JSON data from ``value``: non-finite floats → None, paths → str, numpy/torch values → Python values.

    Anything else unknown becomes ``str(value)``: a progress message must never crash training.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)  # the text of a str subclass (a str-mixin Enum's str() would be "Cls.NAME")
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {_key(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, os.PathLike):
        return _jsonable(os.fspath(value))
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    for method in ("tolist", "item"):  # numpy arrays and scalars, torch tensors — without importing either
        convert = getattr(value, method, None)
        if callable(convert):
            try:
                converted = convert()
            except (TypeError, ValueError, RuntimeError):
                continue  # e.g. .item() of a many-element array
            if converted is not value:
                return _jsonable(converted)
    return str(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return str.__str__(key)
    converted = _jsonable(key)
    return converted if isinstance(converted, str) else json.dumps(converted)  # 1 → "1", None → "null" as json does


def encode_event(event: Mapping[str, Any], *, ascii_only: bool = False) -> str:
    """One JSON line for ``event``, without the newline. Never contains NaN/Infinity (they become null).

    ``ascii_only`` escapes every non-ASCII character, for streams that cannot encode them.
    """
    data = _jsonable(event)
    line = json.dumps(data, separators=(",", ":"), ensure_ascii=ascii_only, allow_nan=False)
    if not ascii_only:
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates (undecodable file names): only \u escapes can carry them
            line = json.dumps(data, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return line


def make_event(type: str, **fields: Any) -> dict[str, Any]:
    """``{"v": PROTOCOL_VERSION, "type": type, "time": <unix seconds>, **fields}``; ``time`` may be given."""
    reserved = [name for name in _RESERVED if name in fields]
    if reserved:
        raise ValueError(f"event fields may not be named {', '.join(reserved)}")
    return {"v": PROTOCOL_VERSION, "type": type, "time": time.time(), **fields}


class EventWriter:
    """Writes events to ``stream``, one line each, flushed. Thread-safe.

    When the reader goes away (broken pipe, closed stream) it sets :attr:`reader_gone` and drops every later event
    instead of raising into training.
    """

    def __init__(
        self, stream: TextIO, clock: Callable[[], float] = time.monotonic, batch_interval: float = 0.5
    ) -> None:
        self._stream = stream
        self._clock = clock
        self.batch_interval = batch_interval
        self._lock = threading.RLock()
        self._last_batch: float | None = None
        self.reader_gone = False

    def emit(self, type: str, **fields: Any) -> None:
        """Write one event (``make_event(type, **fields)``)."""
        event = make_event(type, **fields)
        line = encode_event(event) + "\n"
        with self._lock:
            if self.reader_gone:
                return
            try:
                try:
                    self._stream.write(line)
                except UnicodeEncodeError:  # a stream in a legacy encoding; the text layer encodes before writing
                    self._stream.write(encode_event(event, ascii_only=True) + "\n")
                self._stream.flush()
            except (OSError, ValueError):  # BrokenPipeError, EINVAL on Windows pipes, "I/O operation on closed file"
                self._give_up()

    def _give_up(self) -> None:
        self.reader_gone = True
        with contextlib.suppress(Exception):  # drop what is still buffered: shutdown would fail on it again
            self._stream.close()

    def batch(self, **fields: Any) -> bool:
        """Emit a ``batch`` event unless one went out less than ``batch_interval`` s ago; returns whether it did.

        The last batch of an epoch (``batch == batches``) always goes out, so a plot ends each epoch exactly.
        """
        last_of_epoch = fields.get("batch") is not None and fields.get("batch") == fields.get("batches")
        with self._lock:
            now = self._clock()
            # 1e-9: clock readings like 1.4 - 0.9 fall a hair short of the interval they stand for
            if (
                not last_of_epoch
                and self._last_batch is not None
                and now - self._last_batch < self.batch_interval - 1e-9
            ):
                return False
            if self.reader_gone:
                return False
            self._last_batch = now
            self.emit("batch", **fields)
            return not self.reader_gone

    # Convenience wrappers: the fields of each type, as documented in docs/protocol.md.

    def hello(self, job: Mapping[str, Any], argv: Iterable[str] | None = None) -> None:
        from grace_core import __version__

        self.emit(
            "hello", pid=os.getpid(), version=__version__, argv=list(sys.argv[1:] if argv is None else argv), job=job
        )

    def phase(self, name: str, message: str | None = None) -> None:
        if message is None:
            self.emit("phase", name=name)
        else:
            self.emit("phase", name=name, message=message)

    def epoch(self, **fields: Any) -> None:
        self.emit("epoch", **fields)

    def checkpoint(self, path: str | os.PathLike[str], kind: str, epoch: int) -> None:
        self.emit("checkpoint", path=path, kind=kind, epoch=epoch)

    def warning(self, message: str) -> None:
        self.emit("warning", message=message)

    def error(self, message: str, traceback: str | None = None, kind: str = "internal") -> None:
        self.emit("error", message=message, traceback=traceback, kind=kind)

    def done(
        self,
        status: str,
        *,
        best: str | os.PathLike[str] | None = None,
        last: str | os.PathLike[str] | None = None,
        save_dir: str | os.PathLike[str] | None = None,
        metrics: Mapping[str, Any] | None = None,
        seconds: float = 0.0,
    ) -> None:
        self.emit(
            "done", status=status, best=best, last=last, save_dir=save_dir, metrics=dict(metrics or {}), seconds=seconds
        )


# ---------------------------------------------------------------------------------------------------------- decoding


@dataclass(frozen=True)
class Event:
    """One protocol event. ``data`` is the whole JSON object (``v``, ``type`` and ``time`` included)."""

    type: str
    v: int
    data: dict[str, Any]
    future: bool = False  # written by a newer protocol version than this reader knows: consumers may warn

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    @property
    def time(self) -> float | None:
        value = self.data.get("time")
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class LogLine:
    """A stdout line that is not a protocol event; the app shows it as log text."""

    text: str


Item: TypeAlias = Event | LogLine


def parse_line(line: str) -> Event | LogLine | None:
    """One line (no newline) → Event, LogLine, or None for a blank line."""
    if line.endswith("\r"):
        line = line[:-1]
    stripped = line.strip()
    if not stripped:
        return None
    if not stripped.startswith("{"):
        return LogLine(line)
    try:
        data = json.loads(stripped)
    except (ValueError, RecursionError):
        return LogLine(line)
    if not isinstance(data, dict):
        return LogLine(line)
    version, kind = data.get("v"), data.get("type")
    if type(version) is not int or version < 1 or not isinstance(kind, str):
        return LogLine(line)
    return Event(type=kind, v=version, data=data, future=version > PROTOCOL_VERSION)


class EventDecoder:
    """Incremental decoder for a reader that gets arbitrary chunks of the stream (QProcess ``readyRead``).

    ``feed`` returns the items of every line completed so far; the unfinished rest waits for the next chunk (or for
    ``close``). Bytes are decoded as UTF-8 incrementally (a character split across chunks is fine; invalid bytes
    become U+FFFD). Feed either bytes or str, not both.
    """

    def __init__(self, max_line_chars: int = MAX_LINE_CHARS) -> None:
        self.max_line_chars = max_line_chars
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._parts: list[str] = []
        self._length = 0
        self._skipping = False  # inside an overlong line: drop everything up to the next newline

    def feed(self, data: bytes | bytearray | memoryview | str) -> list[Item]:
        text = data if isinstance(data, str) else self._utf8.decode(bytes(data))
        items: list[Item] = []
        start = 0
        while True:
            newline = text.find("\n", start)
            if newline < 0:
                self._append(text[start:], items)
                return items
            self._append(text[start:newline], items)
            self._end_line(items)
            start = newline + 1

    def close(self) -> list[Item]:
        """The items of a final line without a newline (and of any bytes still held); the decoder is then reset."""
        items = self.feed(self._utf8.decode(b"", final=True))
        self._end_line(items)
        self._utf8.reset()
        return items

    def _append(self, piece: str, items: list[Item]) -> None:
        if not piece or self._skipping:
            return
        if self._length + len(piece) > self.max_line_chars:
            head = ("".join(self._parts) + piece)[:200]
            items.append(
                LogLine(f"[protocol: line longer than {self.max_line_chars} characters dropped; it began: {head!r}]")
            )
            self._parts.clear()
            self._length = 0
            self._skipping = True
            return
        self._parts.append(piece)
        self._length += len(piece)

    def _end_line(self, items: list[Item]) -> None:
        if self._skipping:
            self._skipping = False
            return
        if not self._parts:
            return
        line = "".join(self._parts)
        self._parts.clear()
        self._length = 0
        item = parse_line(line)
        if item is not None:
            items.append(item)
