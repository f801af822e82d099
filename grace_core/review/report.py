"""``shift_report``: what was flagged and reviewed over a period, from SQL aggregates on the review store.

Nothing here loads every frame: each figure is one ``GROUP BY`` query (see :class:`grace_core.store.Selection`), all
run in one read snapshot. Writing the report as CSV or HTML is in ``report_csv`` / ``report_html`` and re-exported
here (``write_csv``, ``write_html``).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

from grace_core.errors import ReviewError
from grace_core.review.report_csv import write_csv
from grace_core.review.report_html import write_html
from grace_core.review.times import bin_width, zone_name
from grace_core.store.query import FrameFilter
from grace_core.store.review_store import ReviewStore
from grace_core.store.selection import ClassCount, FrameHit, ModelCount, Selection, SourceCount

__all__ = ["ShiftReport", "Timeline", "shift_report", "write_csv", "write_html"]

TOP_FRAMES = 10


@dataclass(frozen=True)
class Timeline:
    """Flagged frames per time bin: bin ``i`` is ``[starts[i], starts[i] + bin_s)``.

    ``total`` counts every flagged frame; ``per_class[name]`` the frames with a (not deleted) box of that class.
    Bins start at multiples of ``bin_s`` since the Unix epoch, so 15-minute bins start on the quarter hour.
    """

    bin_s: float
    starts: tuple[float, ...]
    total: tuple[int, ...]
    per_class: dict[str, tuple[int, ...]]

    def series(self, class_name: str | None = None) -> list[tuple[float, int]]:
        """``(bin_start, count)`` pairs for one class (None: all flagged frames)."""
        counts = self.total if class_name is None else self.per_class.get(class_name, (0,) * len(self.starts))
        return list(zip(self.starts, counts, strict=True))


@dataclass(frozen=True)
class ShiftReport:
    """The figures of one period. ``since``/``until`` are as asked (None: open); ``first``/``last`` are the
    capture times of the first and last frame found. Times are unix seconds; ``timezone`` names the local zone the
    files show them in."""

    since: float | None
    until: float | None
    source_id: str | None
    first: float | None
    last: float | None
    generated_at: float
    timezone: str
    flagged: dict[str, int]  # total, defect, uncertain (the live decision)
    verdicts: dict[str, int]  # defect, false_alarm, unsure, unreviewed
    classes: tuple[ClassCount, ...]
    timeline: Timeline
    top_frames: tuple[FrameHit, ...]
    models: tuple[ModelCount, ...]
    sources: tuple[SourceCount, ...]

    @property
    def reviewed(self) -> int:
        return sum(count for verdict, count in self.verdicts.items() if verdict != "unreviewed")

    def to_dict(self) -> dict[str, object]:
        return {
            "since": self.since,
            "until": self.until,
            "source_id": self.source_id,
            "first": self.first,
            "last": self.last,
            "generated_at": self.generated_at,
            "timezone": self.timezone,
            "flagged": self.flagged,
            "reviewed": self.reviewed,
            "verdicts": self.verdicts,
            "classes": [asdict(row) for row in self.classes],
            "timeline": {
                "bin_s": self.timeline.bin_s,
                "starts": list(self.timeline.starts),
                "total": list(self.timeline.total),
                "per_class": {name: list(counts) for name, counts in self.timeline.per_class.items()},
            },
            "top_frames": [asdict(hit) for hit in self.top_frames],
            "models": [asdict(model) for model in self.models],
            "sources": [asdict(source) for source in self.sources],
        }


def shift_report(
    store: ReviewStore,
    since: float | None = None,
    until: float | None = None,
    source_id: str | None = None,
    top: int = TOP_FRAMES,
) -> ShiftReport:
    """The report for frames captured in ``[since, until)`` (either may be None: open), from one source or all.

    The bin width is chosen from the period (``until - since``, or the frames' own range where a bound is open):
    15 minutes for an 8-hour shift (see :func:`grace_core.review.times.bin_width`). A damaged or unreadable store
    raises StoreError.
    """
    if since is not None and until is not None and until <= since:
        raise ReviewError(f"the report period is empty: 'until' ({until}) is not after 'since' ({since})")
    selection = store.select(FrameFilter(since=since, until=until, source_id=source_id))
    with store.errors(), selection.snapshot():
        status = selection.status_counts()
        verdicts = selection.verdict_counts()
        classes = tuple(selection.class_counts())
        span = selection.time_range()
        timeline = _timeline(selection, since, until, span, [row.class_name for row in classes])
        top_frames = tuple(selection.top_frames(top))
        models = tuple(selection.models())
        sources = tuple(selection.sources())
    return ShiftReport(
        since=since,
        until=until,
        source_id=source_id,
        first=span[0] if span else None,
        last=span[1] if span else None,
        generated_at=time.time(),
        timezone=zone_name(),
        flagged={"total": sum(status.values()), **status},
        verdicts=verdicts,
        classes=classes,
        timeline=timeline,
        top_frames=top_frames,
        models=models,
        sources=sources,
    )


def _timeline(
    selection: Selection,
    since: float | None,
    until: float | None,
    span: tuple[float, float] | None,
    class_order: list[str],
) -> Timeline:
    low = since if since is not None else (span[0] if span else None)
    high = until if until is not None else (span[1] if span else None)
    if low is None or high is None:  # no frame and an open bound: nothing to draw
        return Timeline(float(bin_width(0)), (), (), {})
    width = bin_width(high - low)
    start = math.floor(low / width) * width
    # 'until' is exclusive; an open end is the last frame, which must fall inside the last bin
    n_bins = max(1, math.ceil((until - start) / width)) if until is not None else math.floor((high - start) / width) + 1
    total, per_class = selection.timeline(start, width, n_bins)
    ordered = {name: tuple(per_class[name]) for name in class_order if name in per_class}
    return Timeline(float(width), tuple(start + i * width for i in range(n_bins)), tuple(total), ordered)
