"""From review to training data and reports: export reviewed frames as a YOLO dataset, and shift reports.

No Qt: the review tab and ``grace review`` both call these. See ``docs/review-store.md`` ("Review: export and
reports") for the rules.
"""

from grace_core.review.export import ExportReport, export_reviewed
from grace_core.review.report import ShiftReport, Timeline, shift_report, write_csv, write_html
from grace_core.review.times import parse_time

__all__ = [
    "ExportReport",
    "ShiftReport",
    "Timeline",
    "export_reviewed",
    "parse_time",
    "shift_report",
    "write_csv",
    "write_html",
]
