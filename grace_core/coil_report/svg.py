"""The coil report's pictures as inline SVG text: the defect map (metres along × millimetres across) and defects
per stretch of coil. Vector, so a printed report stays sharp; text, so the HTML stays one self-contained file.
Class colours are the app's (:func:`grace_core.render.class_color`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from grace_core.coil_report.coil_map import CoilMap, Stretch
from grace_core.render import class_color
from grace_core.rollmarks import RollMark

LEFT, RIGHT, TOP, BOTTOM = 64, 16, 34, 42  # margins around the plot, in SVG units
UNKNOWN_BAND = 16  # above the plot: defects whose position across is unknown
STRETCH_FILL = "#f6dcdc"
AXIS = "#444"


def hex_color(class_id: int) -> str:
    """The class's colour as ``#rrggbb`` (``class_color`` is BGR, as OpenCV draws)."""
    b, g, r = class_color(class_id)
    return f"#{r:02x}{g:02x}{b:02x}"


def nice_step(span: float, most: int = 10) -> float:
    """A round tick step (1, 2 or 5 × 10ⁿ) giving at most ``most`` ticks over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / most
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def map_svg(
    coil_map: CoilMap,
    stretches: Sequence[Stretch] = (),
    roll_marks: Sequence[RollMark] = (),
    width: int = 960,
    height: int = 300,
    tolerance_m: float = 0.1,
) -> str:
    """Every defect as a dot at (along, across) in its class's colour (uncertain ones hollow), the worst stretches
    shaded and numbered, roll-mark events ringed (those within ``tolerance_m`` of a place the pattern fits).
    Defects without a position across sit in a band above."""
    length = max(coil_map.length_m, 1e-9)
    strip = coil_map.width_mm
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM

    def x(metres: float) -> float:
        return LEFT + metres / length * plot_w

    def y(across: float | None) -> float:
        if across is None:
            return TOP - UNKNOWN_BAND / 2 - 2
        return TOP + (across / strip * plot_h if strip else plot_h / 2)

    parts = [_open(width, height, f"defect map of coil {coil_map.coil or '(no coil)'}")]
    parts.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="{AXIS}"/>')
    for rank, stretch in enumerate(stretches, 1):
        x1, x2 = x(stretch.start_m), x(stretch.end_m)
        parts.append(
            f'<rect x="{x1:.1f}" y="{TOP}" width="{max(x2 - x1, 1.5):.1f}" height="{plot_h}" fill="{STRETCH_FILL}">'
            f"<title>{_stretch_title(rank, stretch)}</title></rect>"
            f'<text x="{(x1 + x2) / 2:.1f}" y="{TOP + 12}" font-size="11" text-anchor="middle" fill="#a33">{rank}'
            "</text>"
        )
    if any(d.across_mm is None for d in coil_map.defects):
        parts.append(
            f'<text x="{LEFT - 4}" y="{TOP - UNKNOWN_BAND / 2 + 2:.1f}" font-size="9" text-anchor="end" '
            'fill="#777">across ?</text>'
        )
    for defect in coil_map.defects:
        colour = hex_color(defect.class_id)
        fill = colour if defect.status == "defect" else "none"
        where = f"{defect.coil_m:.2f} m" + ("" if defect.across_mm is None else f", {defect.across_mm:.0f} mm")
        title = escape(f"{defect.class_name} ({defect.status}, {defect.confidence:.2f}) at {where}")
        parts.append(
            f'<circle cx="{x(defect.coil_m):.1f}" cy="{y(defect.across_mm):.1f}" r="3.2" fill="{fill}" '
            f'stroke="{colour}" stroke-width="1.4"><title>{title}</title></circle>'
        )
    for defect in coil_map.defects:
        if _in_roll_mark(defect, roll_marks, tolerance_m):
            parts.append(
                f'<circle cx="{x(defect.coil_m):.1f}" cy="{y(defect.across_mm):.1f}" r="6.5" fill="none" '
                'stroke="#000" stroke-width="1"/>'
            )
    parts += _x_axis(length, x, TOP + plot_h, "metres along the coil")
    if strip:
        step = nice_step(strip, 5)
        ticks = [i * step for i in range(int(strip // step) + 1)]
        for value in ticks:
            parts.append(
                f'<line x1="{LEFT - 4}" x2="{LEFT}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="{AXIS}"/>'
                f'<text x="{LEFT - 6}" y="{y(value) + 3:.1f}" font-size="10" text-anchor="end">{value:g}</text>'
            )
        parts.append(_y_label("mm across", TOP + plot_h / 2))
    else:
        parts.append(_y_label("across unknown", TOP + plot_h / 2))
    parts.append("</svg>")
    return "\n".join(parts)


def density_svg(coil_map: CoilMap, bin_m: float, width: int = 960, height: int = 220) -> str:
    """Defects per ``bin_m`` of coil as bars stacked by class (same colours as the map)."""
    density = coil_map.density(bin_m)
    length = max(coil_map.length_m, 1e-9)
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    top = max(density.total, default=0) or 1
    ids = {d.class_name: d.class_id for d in coil_map.defects}

    def x(metres: float) -> float:
        return LEFT + metres / length * plot_w

    parts = [_open(width, height, f"defects per {bin_m:g} m of coil {coil_map.coil or '(no coil)'}")]
    parts.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="{AXIS}"/>')
    for index, start in enumerate(density.starts):
        bottom = TOP + plot_h
        x1, x2 = x(start), x(min(start + bin_m, length))
        for name, counts in density.per_class.items():
            if not counts[index]:
                continue
            bar = counts[index] / top * plot_h
            bottom -= bar
            title = escape(f"{name}: {counts[index]} in {start:g}–{start + bin_m:g} m")
            parts.append(
                f'<rect x="{x1:.1f}" y="{bottom:.1f}" width="{max(x2 - x1 - 0.5, 0.8):.1f}" height="{bar:.1f}" '
                f'fill="{hex_color(ids.get(name, 0))}"><title>{title}</title></rect>'
            )
    step = max(1, round(nice_step(top, 4)))
    for value in range(0, top + 1, step):
        level = TOP + plot_h - value / top * plot_h
        parts.append(
            f'<line x1="{LEFT - 4}" x2="{LEFT}" y1="{level:.1f}" y2="{level:.1f}" stroke="{AXIS}"/>'
            f'<text x="{LEFT - 6}" y="{level + 3:.1f}" font-size="10" text-anchor="end">{value}</text>'
        )
    parts += _x_axis(length, x, TOP + plot_h, "metres along the coil")
    parts.append(_y_label(f"defects per {bin_m:g} m", TOP + plot_h / 2))
    parts.append("</svg>")
    return "\n".join(parts)


def _open(width: int, height: int, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(label)}" font-family="system-ui, sans-serif">'
    )


def _x_axis(length: float, x, baseline: float, label: str) -> list[str]:
    step = nice_step(length, 10)
    parts = []
    for i in range(int(length // step + 1e-9) + 1):
        value = i * step
        parts.append(
            f'<line x1="{x(value):.1f}" x2="{x(value):.1f}" y1="{baseline}" y2="{baseline + 4}" stroke="{AXIS}"/>'
            f'<text x="{x(value):.1f}" y="{baseline + 16}" font-size="10" text-anchor="middle">{value:g}</text>'
        )
    parts.append(
        f'<text x="{x(length / 2):.1f}" y="{baseline + 34}" font-size="11" text-anchor="middle">{escape(label)}</text>'
    )
    return parts


def _y_label(label: str, middle: float) -> str:
    return (
        f'<text x="14" y="{middle:.1f}" font-size="11" text-anchor="middle" '
        f'transform="rotate(-90 14 {middle:.1f})">{escape(label)}</text>'
    )


def _in_roll_mark(defect, roll_marks: Sequence[RollMark], tolerance_m: float) -> bool:
    return any(
        mark.class_name == defect.class_name and any(abs(p - defect.coil_m) <= tolerance_m for p in mark.positions)
        for mark in roll_marks
    )


def _stretch_title(rank: int, stretch: Stretch) -> str:
    classes = ", ".join(f"{name} {count}" for name, count in stretch.per_class.items())
    return escape(f"#{rank}: {stretch.count} defects in {stretch.start_m:.1f}–{stretch.end_m:.1f} m ({classes})")
