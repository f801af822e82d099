"""A :class:`CoilReport` as one self-contained HTML file: inline CSS and inline SVG pictures, no external asset."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from grace_core.coil_report.svg import density_svg, hex_color, map_svg, nice_step
from grace_core.errors import GraceError
from grace_core.review.times import show_time

if TYPE_CHECKING:
    from grace_core.coil_report.report import CoilReport

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 64em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
p.meta, p.note { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.4em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f0f0f0; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; border-radius: 50%; margin-right: 0.4em; }
.empty { color: #777; font-style: italic; }
.alarm { color: #a00; font-weight: bold; }
"""


def write_html(report: CoilReport, path: str | Path) -> Path:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_html(report), encoding="utf-8")
    except OSError as error:
        raise GraceError(f"cannot write the coil report to {path}: {error.strerror or error}") from None
    return path


def render_html(report: CoilReport) -> str:
    coil_map = report.map
    coil = coil_map.coil or "(no coil)"
    ids = {d.class_name: d.class_id for d in coil_map.defects}
    counts, rates = coil_map.counts(), coil_map.per_100m()
    defects, uncertain = coil_map.counts("defect"), coil_map.counts("uncertain")
    names = list(coil_map.class_names)
    sections = coil_map.sections(report.section_m)
    bin_m = max(1.0, nice_step(coil_map.length_m, 100))
    length = f"{coil_map.length_m:g} m" + ("" if coil_map.length_known else " (up to the farthest defect)")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Coil report {escape(coil)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Coil report {escape(coil)}</h1>",
        f'<p class="meta">Length {escape(length)}; {len(coil_map.defects)} defect events on the map. '
        f"Generated {escape(show_time(report.generated_at))}"
        + (f" from {escape(', '.join(report.sources))}" if report.sources else "")
        + ".</p>",
    ]
    if coil_map.unplaced:
        parts.append(
            f'<p class="note">{coil_map.unplaced} more events of this coil have no position along it (no line '
            "speed, encoder or strip camera) and are not on the map or in the rates.</p>"
        )
    if report.roll_marks:
        parts.append(f'<p class="alarm">{len(report.roll_marks)} repeating defect(s): a damaged roll? See below.</p>')
    parts += [
        "<h2>Defects per class</h2>",
        _table(
            ["class", "events", "defect", "uncertain", "per 100 m"],
            [
                [_Swatch(name, ids.get(name, 0)), counts[name], defects[name], uncertain[name], f"{rates[name]:.2f}"]
                for name in names
            ],
            "no defect events",
        ),
        "<h2>Defect map</h2>",
        '<p class="note">Dots: defects (hollow: uncertain); shaded and numbered: the worst stretches; ringed: events '
        "of a repeating defect. Hover for details.</p>",
        map_svg(coil_map, report.stretches, report.roll_marks, tolerance_m=report.roll_settings.tolerance_m),
        "<h2>Defects along the coil</h2>",
        density_svg(coil_map, bin_m),
        f"<h2>Defects per {report.section_m:g} m</h2>",
        _table(
            ["from (m)", "to (m)", "events", *names],
            [
                [
                    f"{start:g}",
                    f"{min(start + sections.bin_m, coil_map.length_m):g}",
                    sections.total[i],
                    *(sections.per_class[name][i] for name in names),
                ]
                for i, start in enumerate(sections.starts)
            ],
            "no sections",
        ),
        f"<h2>The {len(report.stretches)} worst {report.window_m:g} m stretches</h2>",
        _table(
            ["#", "from (m)", "to (m)", "events", "classes"],
            [
                [
                    rank,
                    f"{s.start_m:.1f}",
                    f"{s.end_m:.1f}",
                    s.count,
                    ", ".join(f"{name} {n}" for name, n in s.per_class.items()),
                ]
                for rank, s in enumerate(report.stretches, 1)
            ],
            "no defects",
        ),
        "<h2>Repeating defects (roll marks)</h2>",
        _roll_note(report),
        _table(
            ["class", "pitch (m)", "roll diameter (m)", "events / turns", "from (m)", "to (m)", "score"],
            [
                [
                    _Swatch(m.class_name, ids.get(m.class_name, 0)),
                    f"{m.pitch_m:.3f}",
                    f"{m.diameter_m:.3f}",
                    f"{m.events} / {m.marks}",
                    f"{m.start_m:.1f}",
                    f"{m.end_m:.1f}",
                    f"{m.score:.1f}",
                ]
                for m in report.roll_marks
            ],
            "none found",
        ),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


@dataclass(frozen=True)
class _Swatch:
    """A class name shown with its colour dot."""

    name: str
    class_id: int


def _roll_note(report: CoilReport) -> str:
    s = report.roll_settings
    return (
        f'<p class="note">One class recurring every <i>p</i> metres is the print of a roll of diameter <i>p</i>/π. '
        f"Searched: pitches {s.min_pitch_m:g}–{s.max_pitch_m:g} m, events within ±{s.tolerance_m:g} m of the "
        f"pattern, at least {s.min_repeats} events, up to {s.max_missed} turns in a row without one; score: how "
        f"many orders of magnitude the pattern is beyond chance (at least {s.min_score:g}).</p>"
    )


def _table(header: Sequence[str], rows: Iterable[Sequence[object]], empty: str = "none") -> str:
    rows = list(rows)
    if not rows:
        return f'<p class="empty">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(str(cell))}</th>" for cell in header)
    body = "\n".join("<tr>" + "".join(_cell(cell) for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def _cell(value: object) -> str:
    if isinstance(value, _Swatch):
        dot = f'<span class="swatch" style="background:{hex_color(value.class_id)}"></span>'
        return f"<td>{dot}{escape(value.name)}</td>"
    if isinstance(value, int):
        return f'<td class="n">{value}</td>'
    return f"<td>{escape(str(value))}</td>"
