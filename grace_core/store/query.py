"""Frame filters for the review tab, turned into one indexed ``WHERE`` clause.

The clause uses ``?`` placeholders, the store's one placeholder style for both engines: the PostgreSQL side of the
seam (:mod:`grace_core.store.postgres`) turns them into psycopg's ``%s``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grace_core.store.records import VERDICTS

# Newest first; id breaks ties and, being the rowid, keeps the captured_at indexes usable for the ORDER BY.
ORDER_NEWEST_FIRST = "ORDER BY f.captured_at DESC, f.id DESC"


@dataclass(frozen=True)
class FrameFilter:
    """All given criteria must hold; None means "any".

    ``class_name``: frames with a (not deleted) box of that class. ``status``: 'defect' or 'uncertain'
    (``status="uncertain"`` is the uncertain-only view). ``reviewed``: True / False. ``since`` (inclusive) and
    ``until`` (exclusive) bound ``captured_at`` (unix seconds). ``station``: frames flagged by that station;
    ``coil``: frames flagged while that coil was on the line.
    """

    class_name: str | None = None
    verdict: str | None = None
    status: str | None = None
    reviewed: bool | None = None
    since: float | None = None
    until: float | None = None
    source_id: str | None = None
    model_id: str | None = None
    station: str | None = None
    coil: str | None = None

    def __post_init__(self) -> None:
        if self.verdict is not None and self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if self.status is not None and self.status not in ("defect", "uncertain"):
            raise ValueError(f"status must be 'defect' or 'uncertain', got {self.status!r}")

    def where(self) -> tuple[str, list[Any]]:
        """``("WHERE …", params)`` over ``frames AS f`` (an empty string when nothing is filtered)."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.reviewed is not None:  # first: the (reviewed, captured_at) index serves it and the ORDER BY
            clauses.append("f.reviewed = ?")
            params.append(int(self.reviewed))
        if self.since is not None:
            clauses.append("f.captured_at >= ?")
            params.append(float(self.since))
        if self.until is not None:
            clauses.append("f.captured_at < ?")
            params.append(float(self.until))
        for column in ("verdict", "status", "source_id", "model_id", "station", "coil"):
            value = getattr(self, column)
            if value is not None:
                clauses.append(f"f.{column} = ?")
                params.append(value)
        if self.class_name is not None:
            clauses.append("f.id IN (SELECT d.frame_id FROM detections d WHERE d.class_name = ? AND d.deleted = 0)")
            params.append(self.class_name)
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), params
