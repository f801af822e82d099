"""A :class:`ShiftReport` as one self-contained HTML file: inline CSS, the chart as a base64 PNG, no external asset."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from grace_core.errors import ReviewError
from grace_core.review.report_plot import timeline_png
from grace_core.review.times import show_time

if TYPE_CHECKING:
    from grace_core.review.report import ShiftReport

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 64em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
p.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.4em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f0f0f0; }
img { max-width: 100%; }
.empty { color: #777; font-style: italic; }
"""

VERDICT_LABELS = {"defect": "defect", "false_alarm": "false alarm", "unsure": "unsure", "unreviewed": "not reviewed"}


def write_html(report: ShiftReport, path: str | Path) -> Path:
    """Write the report; the times are local, with the zone's name."""
    path = Path(path)
    text = render_html(report)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise ReviewError(f"cannot write the report to {path}: {error.strerror or error}") from None
    return path


def render_html(report: ShiftReport) -> str:
    png = base64.b64encode(timeline_png(report)).decode("ascii")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Shift report {escape(_period(report))}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Shift report</h1>",
        f'<p class="meta">{escape(_period(report))}; source: {escape(report.source_id or "all sources")}. '
        f"Generated {escape(show_time(report.generated_at))}. Times are local ({escape(report.timezone)}).</p>",
        "<h2>Flagged and reviewed frames</h2>",
        _table(
            ["frames", "count"],
            [
                ["flagged", report.flagged["total"]],
                ["… as defect", report.flagged["defect"]],
                ["… as uncertain", report.flagged["uncertain"]],
                ["reviewed", report.reviewed],
                *([f"… verdict {VERDICT_LABELS[k]}", v] for k, v in report.verdicts.items() if k != "unreviewed"),
                ["not reviewed", report.verdicts["unreviewed"]],
            ],
        ),
        "<h2>Flagged frames over time</h2>",
        f'<img alt="flagged frames per time bin, per class" src="data:image/png;base64,{png}">',
        "<h2>Detections per class</h2>",
        _table(
            ["class", "boxes", "frames", "drawn by a reviewer", "frames confirmed", "frames false alarm"],
            [
                [r.class_name, r.boxes, r.frames, r.reviewer_boxes, r.confirmed_frames, r.false_alarm_frames]
                for r in report.classes
            ],
            "no boxes",
        ),
        "<h2>Models</h2>",
        _table(
            ["model", "hash", "frames", "first frame", "last frame"],
            [[m.model_id, m.model_hash, m.frames, show_time(m.first), show_time(m.last)] for m in report.models],
            "no frames",
        ),
        "<h2>Sources</h2>",
        _table(["source", "kind", "frames"], [[s.source_id, s.source_kind, s.frames] for s in report.sources]),
        f"<h2>Top {len(report.top_frames)} flagged frames (highest model confidence)</h2>",
        _table(
            ["frame", "captured", "source", "classes", "confidence", "flagged as", "verdict"],
            [
                [
                    h.frame_id,
                    show_time(h.captured_at),
                    h.source_id,
                    ", ".join(h.classes),
                    f"{h.confidence:.3f}",
                    h.status,
                    VERDICT_LABELS.get(h.verdict or "unreviewed", h.verdict),
                ]
                for h in report.top_frames
            ],
            "no frames",
        ),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _period(report: ShiftReport) -> str:
    since = report.since if report.since is not None else report.first
    until = report.until if report.until is not None else report.last
    if since is None or until is None:
        return "no frames"
    return f"{show_time(since, seconds=False)} to {show_time(until, seconds=False)}"


def _table(header: Sequence[str], rows: Iterable[Sequence[object]], empty: str = "none") -> str:
    rows = list(rows)
    if not rows:
        return f'<p class="empty">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(str(cell))}</th>" for cell in header)
    body = "\n".join("<tr>" + "".join(_cell(cell) for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def _cell(value: object) -> str:
    if isinstance(value, int):
        return f'<td class="n">{value}</td>'
    return f"<td>{escape(str(value))}</td>"
