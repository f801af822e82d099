"""Per-coil reports: the coil map (defects by metres along × millimetres across, class, confidence), rates per
100 m, the worst stretches and repeating defects (roll marks, :mod:`grace_core.rollmarks`), written as CSV tables
and a self-contained HTML page. See ``docs/coils.md``.

The app's coil view uses the same pieces: :func:`from_events` (live DefectEvents) or :func:`load_events`
(``events.jsonl`` files) → :func:`build_coil_map` → :class:`CoilMap` (``defects``, ``density``, ``per_100m``,
``worst_stretches``) and :func:`coil_report` for everything the report shows.
"""

from grace_core.coil_report.coil_map import CoilMap, Density, Stretch, build_coil_map
from grace_core.coil_report.defects import CoilDefect, CoilEvents, from_events, load_events
from grace_core.coil_report.report import CoilReport, coil_report, coil_reports, file_stem, write_report

__all__ = [
    "CoilDefect",
    "CoilEvents",
    "CoilMap",
    "CoilReport",
    "Density",
    "Stretch",
    "build_coil_map",
    "coil_report",
    "coil_reports",
    "file_stem",
    "from_events",
    "load_events",
    "write_report",
]
