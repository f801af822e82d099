"""A :class:`CoilReport` as CSV tables beside each other, all named ``STEM_<table>.csv``:

* ``_defects``: one row per defect event — ``event, coil_m, across_mm, class_id, class_name, status, confidence,
  first_seen``;
* ``_classes``: one row per class — ``class_id, class_name, events, defect, uncertain, per_100m``;
* ``_sections``: one row per section of coil (100 m) — ``start_m, end_m, events``, then one column per class;
* ``_stretches``: the worst stretches — ``rank, start_m, end_m, events``, then one column per class;
* ``_roll_marks``: one row per repeating defect — ``class_id, class_name, pitch_m, diameter_m, events, marks,
  start_m, end_m, score``.

Metres and millimetres as plain numbers (``.`` decimal point), so a spreadsheet in any locale reads them the same.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from grace_core.errors import GraceError

if TYPE_CHECKING:
    from grace_core.coil_report.report import CoilReport

DEFECT_COLUMNS = ("event", "coil_m", "across_mm", "class_id", "class_name", "status", "confidence", "first_seen")
ROLL_MARK_COLUMNS = ("class_id", "class_name", "pitch_m", "diameter_m", "events", "marks", "start_m", "end_m", "score")


def write_csv(report: CoilReport, stem: str | Path) -> list[Path]:
    """Write the five tables as ``STEM_defects.csv`` … ``STEM_roll_marks.csv``; returns their paths."""
    stem = Path(stem)
    coil_map = report.map
    names = list(coil_map.class_names)
    ids = {d.class_name: d.class_id for d in coil_map.defects}
    defects = coil_map.counts("defect")
    uncertain = coil_map.counts("uncertain")
    rates = coil_map.per_100m()
    sections = coil_map.sections(report.section_m)
    tables: dict[str, tuple[Sequence[str], Iterable[Sequence[object]]]] = {
        "defects": (
            DEFECT_COLUMNS,
            ([d.to_record()[k] if k != "first_seen" else d.time for k in DEFECT_COLUMNS] for d in coil_map.defects),
        ),
        "classes": (
            ("class_id", "class_name", "events", "defect", "uncertain", "per_100m"),
            (
                [ids.get(name, ""), name, count, defects[name], uncertain[name], round(rates[name], 3)]
                for name, count in coil_map.counts().items()
            ),
        ),
        "sections": (
            ("start_m", "end_m", "events", *names),
            (
                [
                    start,
                    min(start + sections.bin_m, coil_map.length_m),
                    sections.total[i],
                    *(sections.per_class[name][i] for name in names),
                ]
                for i, start in enumerate(sections.starts)
            ),
        ),
        "stretches": (
            ("rank", "start_m", "end_m", "events", *names),
            (
                [rank, round(s.start_m, 3), round(s.end_m, 3), s.count, *(s.per_class.get(name, 0) for name in names)]
                for rank, s in enumerate(report.stretches, 1)
            ),
        ),
        "roll_marks": (ROLL_MARK_COLUMNS, ([m.to_record()[k] for k in ROLL_MARK_COLUMNS] for m in report.roll_marks)),
    }
    written = []
    for table, (header, rows) in tables.items():
        path = stem.with_name(f"{stem.name}_{table}.csv")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8", newline="") as file:
                writer = csv.writer(file)
                writer.writerow(header)
                writer.writerows(["" if value is None else value for value in row] for row in rows)
        except OSError as error:
            raise GraceError(f"cannot write the coil report to {path}: {error.strerror or error}") from None
        written.append(path)
    return written
