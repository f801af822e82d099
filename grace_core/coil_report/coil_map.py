"""The coil map: one coil's defects by position (metres along × millimetres across), class and confidence, with
counts per length of strip and the worst stretches. Pure data, no drawing: the report draws it as SVG, the app's
coil view draws the same :class:`CoilMap`.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from grace_core.coil_report.defects import CoilDefect


@dataclass(frozen=True)
class Density:
    """Defects per stretch of coil: bin ``i`` is ``[starts[i], starts[i] + bin_m)`` (the last bin also holds a
    defect lying exactly at the coil's end). ``per_class[name][i]``: that class's defects in bin ``i``."""

    bin_m: float
    starts: tuple[float, ...]
    total: tuple[int, ...]
    per_class: dict[str, tuple[int, ...]]

    def series(self, class_name: str | None = None) -> list[tuple[float, int]]:
        """``(bin_start_m, count)`` pairs for one class (None: every class)."""
        counts = self.total if class_name is None else self.per_class.get(class_name, (0,) * len(self.starts))
        return list(zip(self.starts, counts, strict=True))


@dataclass(frozen=True)
class Stretch:
    """A window of coil ``[start_m, end_m]`` and the defects in it."""

    start_m: float
    end_m: float
    count: int
    per_class: dict[str, int]

    def to_record(self) -> dict[str, object]:
        return {
            "start_m": round(self.start_m, 3),
            "end_m": round(self.end_m, 3),
            "count": self.count,
            "per_class": dict(self.per_class),
        }


@dataclass(frozen=True)
class CoilMap:
    """One coil's defects, in order along it. ``length_m``: the coil's inspected length — as given, or (when
    ``length_known`` is False) the farthest defect's position rounded up to the metre, a lower bound that makes
    rates per 100 m upper bounds. ``class_names``: the classes to report, in class-id order."""

    coil: str | None
    length_m: float
    length_known: bool
    defects: tuple[CoilDefect, ...]
    class_names: tuple[str, ...]
    unplaced: int = 0  # events of this coil without a position along it (not on the map)

    @property
    def width_mm(self) -> float | None:
        """The widest position across seen (None when no defect has one)."""
        across = [d.across_mm for d in self.defects if d.across_mm is not None]
        return max(across) if across else None

    def counts(self, status: str | None = None) -> dict[str, int]:
        """Defect events per class (only of ``status``, "defect" or "uncertain", when given)."""
        found = Counter(d.class_name for d in self.defects if status is None or d.status == status)
        return {name: found.get(name, 0) for name in self.class_names}

    def per_100m(self) -> dict[str, float]:
        """Events per 100 m of coil, per class (0 for a coil of no length)."""
        if self.length_m <= 0:
            return dict.fromkeys(self.class_names, 0.0)
        return {name: count * 100.0 / self.length_m for name, count in self.counts().items()}

    def density(self, bin_m: float = 1.0) -> Density:
        """Defects per ``bin_m`` metres along the coil (per metre by default), per class."""
        if not bin_m > 0:
            raise ValueError(f"a density bin must be longer than 0 m, got {bin_m}")
        bins = max(1, math.ceil(self.length_m / bin_m - 1e-9))
        total = [0] * bins
        per_class = {name: [0] * bins for name in self.class_names}
        for defect in self.defects:
            index = min(bins - 1, int(defect.coil_m // bin_m))
            total[index] += 1
            per_class[defect.class_name][index] += 1
        starts = tuple(i * bin_m for i in range(bins))
        return Density(float(bin_m), starts, tuple(total), {k: tuple(v) for k, v in per_class.items()})

    def sections(self, section_m: float = 100.0) -> Density:
        """Defects in each ``section_m`` of coil: 0–100 m, 100–200 m, … (the report's per-100 m table)."""
        return self.density(section_m)

    def in_stretch(self, start_m: float, end_m: float) -> tuple[CoilDefect, ...]:
        """The defects with ``start_m <= coil_m <= end_m``."""
        positions = [d.coil_m for d in self.defects]
        return self.defects[bisect.bisect_left(positions, start_m) : bisect.bisect_right(positions, end_m)]

    def worst_stretches(self, window_m: float = 10.0, count: int = 5) -> list[Stretch]:
        """The ``count`` windows of ``window_m`` metres holding the most defects, not overlapping, worst first
        (ties: nearer the coil's start first). Only windows with a defect are returned.

        The best window can always be slid to start at a defect, so those starts are the candidates (moved back to
        end at the coil's end where they would run past it)."""
        if not window_m > 0:
            raise ValueError(f"a stretch must be longer than 0 m, got {window_m}")
        positions = [d.coil_m for d in self.defects]
        latest = max(self.length_m - window_m, 0.0)
        starts = sorted({min(p, latest) for p in positions})
        scored = [(bisect.bisect_right(positions, s + window_m) - bisect.bisect_left(positions, s), s) for s in starts]
        scored.sort(key=lambda item: (-item[0], item[1]))
        chosen: list[tuple[int, float]] = []
        for hits, start in scored:
            if len(chosen) >= count:
                break
            if all(start >= other + window_m or other >= start + window_m for _, other in chosen):
                chosen.append((hits, start))
        return [self._stretch(start, start + window_m) for _, start in chosen]

    def _stretch(self, start: float, end: float) -> Stretch:
        inside = Counter(d.class_name for d in self.in_stretch(start, end))
        per_class = {name: inside[name] for name in self.class_names if inside[name]}
        return Stretch(start, end, sum(inside.values()), per_class)


def build_coil_map(
    defects: Iterable[CoilDefect],
    coil: str | None = None,
    length_m: float | None = None,
    class_names: Sequence[str] | None = None,
    unplaced: int = 0,
) -> CoilMap:
    """The map of ``coil`` from its defects (others are left out). ``length_m``: the coil's inspected length when
    known (from the plant's system or the line's counter), else the farthest defect's position. ``class_names``:
    every class the model has (so a class without defects still shows as 0); default: those found."""
    mine = sorted((d for d in defects if d.coil == coil), key=lambda d: d.coil_m)
    farthest = mine[-1].coil_m if mine else 0.0
    if length_m is not None:
        if length_m < farthest:
            raise ValueError(
                f"coil {coil}: the length given ({length_m:g} m) is shorter than where a defect lies ({farthest:g} m)"
            )
        length, known = float(length_m), True
    else:
        length, known = float(math.ceil(farthest)) if farthest > 0 else (1.0 if mine else 0.0), False
    ids = {d.class_name: d.class_id for d in mine}
    names = list(class_names) if class_names is not None else sorted(ids, key=lambda name: (ids[name], name))
    names += sorted(set(ids) - set(names), key=lambda name: (ids[name], name))  # a class the list lacks still shows
    return CoilMap(coil, length, known, tuple(mine), tuple(names), unplaced)
