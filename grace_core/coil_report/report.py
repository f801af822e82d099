"""``coil_report``: what one coil carries — its defect map, rates per 100 m, worst stretches and roll marks.

Writing it (CSV tables and a self-contained HTML page) is in ``report_csv`` / ``report_html``; :func:`write_report`
writes both into a folder, named after the coil.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grace_core.coil_report.coil_map import CoilMap, Stretch, build_coil_map
from grace_core.coil_report.defects import CoilEvents
from grace_core.errors import GraceError
from grace_core.rollmarks import RollMark, RollMarkSettings, find_roll_marks_by_class

WINDOW_M = 10.0  # the worst stretches' length
TOP_STRETCHES = 5
SECTION_M = 100.0  # the rate table's sections


@dataclass(frozen=True)
class CoilReport:
    """The figures of one coil (see the module doc); ``sources``: the events files it was made from."""

    map: CoilMap
    window_m: float
    stretches: tuple[Stretch, ...]
    roll_marks: tuple[RollMark, ...]
    roll_settings: RollMarkSettings
    section_m: float
    generated_at: float
    sources: tuple[str, ...] = ()

    @property
    def coil(self) -> str | None:
        return self.map.coil

    def to_dict(self) -> dict[str, object]:
        sections = self.map.sections(self.section_m)
        return {
            "coil": self.coil,
            "length_m": self.map.length_m,
            "length_known": self.map.length_known,
            "events": len(self.map.defects),
            "unplaced": self.map.unplaced,
            "counts": self.map.counts(),
            "per_100m": {name: round(rate, 3) for name, rate in self.map.per_100m().items()},
            "sections": {
                "section_m": sections.bin_m,
                "starts": list(sections.starts),
                "per_class": {k: list(v) for k, v in sections.per_class.items()},
            },
            "window_m": self.window_m,
            "worst_stretches": [stretch.to_record() for stretch in self.stretches],
            "roll_marks": [mark.to_record() for mark in self.roll_marks],
            "generated_at": self.generated_at,
            "sources": list(self.sources),
        }


def coil_report(
    coil_map: CoilMap,
    window_m: float = WINDOW_M,
    top: int = TOP_STRETCHES,
    roll_settings: RollMarkSettings | None = None,
    section_m: float = SECTION_M,
    sources: Sequence[str] = (),
) -> CoilReport:
    """The report of one coil's map: its ``top`` worst ``window_m`` stretches and the roll marks among its defects."""
    roll_settings = roll_settings or RollMarkSettings()
    marks = find_roll_marks_by_class(coil_map.defects, roll_settings, coil_length_m=coil_map.length_m or None)
    return CoilReport(
        map=coil_map,
        window_m=float(window_m),
        stretches=tuple(coil_map.worst_stretches(window_m, top)),
        roll_marks=tuple(marks),
        roll_settings=roll_settings,
        section_m=float(section_m),
        generated_at=time.time(),
        sources=tuple(sources),
    )


def coil_reports(
    events: CoilEvents,
    coil: str | None = None,
    all_coils: bool = False,
    length_m: float | None = None,
    class_names: Sequence[str] | None = None,
    **options,
) -> list[CoilReport]:
    """One report per coil: ``coil`` only, or (``all_coils``) every coil in ``events`` including events recorded
    without one. Raises GraceError when ``coil`` is not among them. ``options``: those of :func:`coil_report`."""
    found = events.coils()
    if all_coils:
        wanted = found
    elif coil not in found:
        known = ", ".join(str(c) if c is not None else "(no coil)" for c in found) or "none"
        raise GraceError(f"coil {coil!r} is not in the events read (coils there: {known})")
    else:
        wanted = [coil]
    reports = []
    for name in wanted:
        coil_map = build_coil_map(events.defects, name, length_m, class_names, events.unplaced.get(name, 0))
        reports.append(coil_report(coil_map, sources=events.sources, **options))
    return reports


def file_stem(coil: str | None) -> str:
    """The coil's name for files: letters, digits, ``-``, ``_`` and ``.`` kept, the rest ``_``; ``no-coil``
    for events recorded without one."""
    if coil is None:
        return "no-coil"
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", coil).strip(".") or "coil"
    return stem[:100]


def write_report(report: CoilReport, folder: str | Path) -> list[Path]:
    """Write ``COIL.html`` and the ``COIL_*.csv`` tables into ``folder`` (created); returns the paths."""
    from grace_core.coil_report.report_csv import write_csv
    from grace_core.coil_report.report_html import write_html

    folder = Path(folder)
    stem = file_stem(report.coil)
    return [write_html(report, folder / f"{stem}.html"), *write_csv(report, folder / stem)]
