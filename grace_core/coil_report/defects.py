"""A coil's defects as the coil map needs them: class, confidence and place (metres along, mm across), from the
``events.jsonl`` files ``grace detect … --coil C`` writes (:class:`~grace_core.sinks.files.EventsSink`) or from
:class:`~grace_core.events.DefectEvent` objects (the app, live).

An event without a position along its coil (a camera without line speed or encoder) cannot be placed: it is counted
per coil (``unplaced``) so the report can say how many are missing from the map, never silently dropped. A line of a
file that is not an event (cut off by a crash, edited by hand) is skipped and named in ``bad_lines``.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grace_core.errors import GraceError


@dataclass(frozen=True)
class CoilDefect:
    """One defect event placed on its coil. ``coil_m``: metres from the coil's start; ``across_mm``: from the
    strip's left edge in the image (None where the source does not know it: a camera over the line)."""

    coil: str | None
    coil_m: float
    across_mm: float | None
    class_id: int
    class_name: str
    confidence: float
    status: str  # "defect" or "uncertain"
    event: str = ""  # the event's id
    time: float | None = None  # when it was first seen (unix seconds)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> CoilDefect | None:
        """From an event record (a line of ``events.jsonl``, :meth:`DefectEvent.to_record`); None when it has no
        position along the coil. Raises KeyError/TypeError/ValueError when it is not an event record."""
        position = record.get("coil_m")
        if position is None:
            return None
        across = record.get("across_mm")
        coil_m = float(position)
        if not math.isfinite(coil_m):
            raise ValueError(f"coil_m is {position!r}")
        return cls(
            coil=_coil(record.get("coil")),
            coil_m=coil_m,
            across_mm=None if across is None else float(across),
            class_id=int(record["class_id"]),
            class_name=str(record["class_name"]),
            confidence=float(record["confidence"]),
            status=str(record.get("status", "defect")),
            event=str(record.get("event", "")),
            time=None if record.get("first_seen") is None else float(record["first_seen"]),
        )

    @classmethod
    def from_event(cls, event: Any) -> CoilDefect | None:
        """From a :class:`~grace_core.events.DefectEvent`; None when it has no position along the coil."""
        return cls.from_record(event.to_record())

    def to_record(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "coil": self.coil,
            "coil_m": round(self.coil_m, 3),
            "across_mm": None if self.across_mm is None else round(self.across_mm, 1),
            "class_id": self.class_id,
            "class_name": self.class_name,
            "status": self.status,
            "confidence": round(self.confidence, 4),
            "first_seen": self.time,
        }


@dataclass(frozen=True)
class CoilEvents:
    """Defects of one or more coils, with what could not be placed or read."""

    defects: tuple[CoilDefect, ...]
    unplaced: dict[str | None, int] = field(default_factory=dict)  # events without a position, per coil
    bad_lines: tuple[str, ...] = ()  # "file:line: why", for lines that are not events
    sources: tuple[str, ...] = ()  # the files read

    def coils(self) -> list[str | None]:
        """Every coil seen (placed or not), in order of first appearance; None for events without a coil."""
        seen = dict.fromkeys(d.coil for d in self.defects)
        seen.update(dict.fromkeys(self.unplaced))
        return list(seen)

    def of_coil(self, coil: str | None) -> tuple[CoilDefect, ...]:
        return tuple(d for d in self.defects if d.coil == coil)


def from_events(events: Iterable[Any]) -> CoilEvents:
    """:class:`CoilEvents` from DefectEvent objects, CoilDefects or event records (dicts), in any mix."""
    sorter = _Sorter()
    for item in events:
        if isinstance(item, CoilDefect):
            sorter.add_defect(item)
        else:
            sorter.add(item if isinstance(item, Mapping) else item.to_record())
    return CoilEvents(sorter.sorted(), dict(sorter.unplaced))


def load_events(paths: str | Path | Iterable[str | Path]) -> CoilEvents:
    """Read ``events.jsonl`` files (or folders holding one: a ``grace detect --save-dir``). An event in two files
    (the same file given twice) counts once. Raises GraceError when a file is missing, or when lines were read but
    none was an event (an empty file is fine: a run without defects)."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not paths:
        raise GraceError("no events file given: pass the events.jsonl that `grace detect … --coil C` wrote")
    sorter = _Sorter()
    bad: list[str] = []
    sources = []
    for path in map(_events_file, paths):
        sources.append(str(path))
        for number, record, error in _lines(path):
            if error is not None:
                bad.append(f"{path}:{number}: {error}")
                continue
            try:
                sorter.add(record)
            except (KeyError, TypeError, ValueError) as exc:
                bad.append(f"{path}:{number}: not a defect event ({type(exc).__name__}: {exc})")
    if not sorter.defects and not sorter.unplaced and bad:
        raise GraceError(f"no defect event could be read from {', '.join(sources)}: {bad[0]}")
    return CoilEvents(sorter.sorted(), dict(sorter.unplaced), tuple(bad), tuple(sources))


def _events_file(path: str | Path) -> Path:
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / "events.jsonl"
    if not path.is_file():
        raise GraceError(
            f"{path}: no such events file; give the events.jsonl in the --save-dir of `grace detect … --coil C`"
        )
    return path


def _lines(path: Path) -> Iterable[tuple[int, dict | None, str | None]]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise GraceError(f"cannot read {path}: {error.strerror or error}") from None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield number, None, f"not JSON ({error.msg}; a line cut off by a crash?)"
            continue
        if not isinstance(record, dict):
            yield number, None, "not a JSON object"
            continue
        yield number, record, None


def _coil(value: Any) -> str | None:
    return None if value is None or str(value) == "" else str(value)


class _Sorter:
    """Placed defects and unplaced counts, each event once (by coil and id: a file given twice, or a file and its
    folder, must not double the counts)."""

    def __init__(self) -> None:
        self.defects: list[CoilDefect] = []
        self.unplaced: Counter[str | None] = Counter()
        self._seen: set[tuple[str | None, str]] = set()

    def add(self, record: Mapping[str, Any]) -> None:
        """Raises KeyError/TypeError/ValueError when ``record`` is not an event record."""
        defect = CoilDefect.from_record(record)
        coil, event = _coil(record.get("coil")), str(record.get("event") or "")
        if self._repeated(coil, event):
            return
        if defect is None:
            self.unplaced[coil] += 1
        else:
            self.defects.append(defect)

    def add_defect(self, defect: CoilDefect) -> None:
        if not self._repeated(defect.coil, defect.event):
            self.defects.append(defect)

    def sorted(self) -> tuple[CoilDefect, ...]:
        """In order along their coils."""
        return tuple(sorted(self.defects, key=lambda d: (str(d.coil), d.coil_m)))

    def _repeated(self, coil: str | None, event: str) -> bool:
        if not event:
            return False
        key = (coil, event)
        seen = key in self._seen
        self._seen.add(key)
        return seen
