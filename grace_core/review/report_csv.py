"""A :class:`ShiftReport` as two CSV files: counts per class, and flagged frames per time bin.

``PATH`` (one row per class): ``class_id, class_name, boxes, frames, reviewer_boxes, confirmed_frames,
false_alarm_frames``. ``PATH_timeline.csv`` beside it (one row per bin): ``bin_start, bin_end`` (local time, ISO 8601
with the UTC offset), ``flagged_frames``, then one column per class (frames with a box of that class).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from grace_core.errors import ReviewError
from grace_core.review.times import iso_local

if TYPE_CHECKING:
    from grace_core.review.report import ShiftReport

CLASS_COLUMNS: tuple[str, ...] = (
    "class_id",
    "class_name",
    "boxes",
    "frames",
    "reviewer_boxes",
    "confirmed_frames",
    "false_alarm_frames",
)


def timeline_path(path: str | Path) -> Path:
    """``shift.csv`` → ``shift_timeline.csv``."""
    path = Path(path)
    return path.with_name(f"{path.stem}_timeline.csv")


def write_csv(report: ShiftReport, path: str | Path) -> list[Path]:
    """Write the per-class CSV at ``path`` and the per-bin CSV beside it; returns both paths."""
    path = Path(path)
    timeline = report.timeline
    class_names = list(timeline.per_class)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(CLASS_COLUMNS)
            for row in report.classes:
                writer.writerow([getattr(row, column) for column in CLASS_COLUMNS])
        bins = timeline_path(path)
        with bins.open("w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["bin_start", "bin_end", "flagged_frames", *class_names])
            for index, start in enumerate(timeline.starts):
                per_class = [timeline.per_class[name][index] for name in class_names]
                writer.writerow(
                    [iso_local(start), iso_local(start + timeline.bin_s), timeline.total[index], *per_class]
                )
    except OSError as error:
        raise ReviewError(f"cannot write the report to {error.filename or path}: {error.strerror or error}") from None
    return [path, bins]
