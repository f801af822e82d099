"""Roll marks: one defect class recurring at a constant pitch along the strip, the print of a damaged roll.

A roll with a dent, a pick-up or a crack marks the strip once per turn, so the same defect class comes back every
``p = π·D`` metres (``D``: the roll's diameter). Finding ``p`` names the roll to change: :func:`find_roll_marks`
looks for it in the positions along a coil (``DefectEvent.coil_m``), per class; :class:`RollMarkDetector` does the
same live, one event at a time, and raises a :class:`RollMarkAlarm` once per coil, class and pitch.

How, per class (positions ``x`` in metres along the coil, sorted; events closer together than the tolerance are
one *place*, as one mark boxed twice is one turn of the roll):

1. **candidate pitches** — the autocorrelation of the event train, computed exactly as the histogram of distances
   between events (up to ``max_pitch_m``, in bins of ``tolerance_m``): a roll at pitch ``p`` piles distances up at
   ``p`` (and ``2p``, ``3p``…); random positions spread them evenly. The fullest bins are the candidates.
2. **chains** — for each candidate, from an event, step to the event nearest ``current + p`` (within
   ``± tolerance_m``); up to ``max_missed`` marks in a row may lack an event (too faint to be detected). Each event
   found re-anchors the next step, so position jitter does not add up; the pitch is then refined by least squares
   (position against turn number) and the chain rebuilt with it. The chain's events are the pattern's evidence.
3. **significance** — how many chains this good would random positions give? Without a damaged roll the class's
   events fall at random, at the density ``λ`` seen where the chain lies (every event of the class there, the
   chain's own included: *given* that many events, how likely is it that they line up?) or over the whole coil,
   whichever is higher — so a chain picked out of a dense bad stretch is judged against that stretch. A predicted
   turn then finds an event within the tolerance by chance with probability ``q = 1 − exp(−2·tolerance·λ)``. The
   first step is free: any pair of places a possible pitch apart can start a chain, so the expected number of
   chance chains with at least this many hits is ``pairs · P[Binomial(marks − 2, q) ≥ hits − 2]``; the **score**
   is ``−log10`` of it. A pattern is reported when it has at least ``min_repeats`` places and a score of at least
   ``min_score`` (default 2: chance would give one on about 1 class-coil in 100; the tests check that random
   positions, dense bad stretches and other classes stay below).

Pitches that are whole multiples of a reported one (the same roll seen every other turn) are not reported again;
the places of a reported pattern are taken out and the search repeated, so two rolls marking one class are two
findings. Positions must be metres along *one* coil: they restart at 0 with each coil (:mod:`grace_core.coil`).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass(frozen=True)
class RollMarkSettings:
    """What counts as a roll mark. Pitches ``min_pitch_m`` … ``max_pitch_m`` (rolls of ~0.1 to ~3 m diameter);
    ``tolerance_m``: how far an event may lie from where the pattern puts it (raise it where positions come from
    the line speed rather than an encoder or a strip camera)."""

    min_pitch_m: float = 0.3
    max_pitch_m: float = 10.0
    tolerance_m: float = 0.1
    min_repeats: int = 4  # events that fit the pattern, at least
    max_missed: int = 2  # marks in a row a chain may miss
    min_score: float = 2.0  # −log10(expected chance chains at least this good)
    max_candidates: int = 20  # pitches tried per class (the fullest bins of the distance histogram)
    max_per_class: int = 3  # different rolls marking one class

    def __post_init__(self) -> None:
        if not self.tolerance_m > 0:
            raise ValueError(f"roll marks: the tolerance must be more than 0 m, got {self.tolerance_m}")
        if not 2 * self.tolerance_m < self.min_pitch_m < self.max_pitch_m:
            raise ValueError(
                "roll marks: need 2 × tolerance < min pitch < max pitch, got "
                f"tolerance {self.tolerance_m} m, pitches {self.min_pitch_m}–{self.max_pitch_m} m"
            )
        if self.min_repeats < 3 or self.max_missed < 0:
            raise ValueError(
                f"roll marks: need min_repeats >= 3 and max_missed >= 0, got {self.min_repeats}, {self.max_missed}"
            )

    def to_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class RollMark:
    """A repeating defect: ``class_name`` every ``pitch_m`` metres from ``start_m`` to ``end_m`` along ``coil``.

    ``events``: turns of the roll with an event of the class (events closer than the tolerance count once), out of
    ``marks`` turns from the first to the last (on the others the mark was not detected); ``diameter_m`` =
    pitch / π is the roll to look at. ``score``: see the module doc. ``positions``: the places that fit.
    """

    class_name: str
    pitch_m: float
    events: int
    marks: int
    start_m: float
    end_m: float
    score: float
    positions: tuple[float, ...] = field(repr=False)
    coil: str | None = None
    class_id: int | None = None

    @property
    def diameter_m(self) -> float:
        return self.pitch_m / math.pi

    def describe(self) -> str:
        """One line for people."""
        where = f" on coil {self.coil}" if self.coil else ""
        return (
            f"{self.class_name} repeats every {self.pitch_m:.3f} m{where} (roll diameter ≈ {self.diameter_m:.3f} m): "
            f"{self.events} of {self.marks} turns from {self.start_m:.1f} m to {self.end_m:.1f} m"
        )

    def to_record(self) -> dict[str, Any]:
        return {
            "coil": self.coil,
            "class_id": self.class_id,
            "class_name": self.class_name,
            "pitch_m": round(self.pitch_m, 4),
            "diameter_m": round(self.diameter_m, 4),
            "events": self.events,
            "marks": self.marks,
            "start_m": round(self.start_m, 3),
            "end_m": round(self.end_m, 3),
            "score": round(self.score, 2),
        }


@dataclass(frozen=True)
class _Chain:
    indices: tuple[int, ...]  # into the sorted positions
    turns: tuple[int, ...]  # turn number of each (0 for the first)
    pitch: float
    score: float

    @property
    def marks(self) -> int:
        return self.turns[-1] + 1


def find_roll_marks(
    positions: Sequence[float],
    class_name: str = "",
    settings: RollMarkSettings | None = None,
    coil_length_m: float | None = None,
    coil: str | None = None,
    class_id: int | None = None,
) -> list[RollMark]:
    """The repeating patterns in one class's positions along one coil (metres), best first.

    ``coil_length_m``: how much strip was inspected (default: the span of the positions) — random defects on a long
    coil are sparser than the same defects' own span suggests, which makes a real pattern stand out more.
    """
    settings = settings or RollMarkSettings()
    x = _places([p for p in positions if p is not None and math.isfinite(p)], settings.tolerance_m)
    found: list[RollMark] = []
    left = x
    while len(found) < settings.max_per_class and len(left) >= settings.min_repeats:
        chain = _best_chain(left, settings, _observed(left, coil_length_m))
        if chain is None:
            break
        if not any(_same_roll(chain.pitch, mark.pitch_m, settings) for mark in found):
            found.append(_mark(left, chain, class_name, coil, class_id))
        left = np.delete(left, list(chain.indices))
    return sorted(found, key=lambda mark: -mark.score)


def find_roll_marks_by_class(
    events: Iterable[Any], settings: RollMarkSettings | None = None, coil_length_m: float | None = None
) -> list[RollMark]:
    """Roll marks in one coil's events (``DefectEvent``, :class:`~grace_core.coil_report.CoilDefect` or event
    records: anything with a class name and a position along the coil), every class, best first."""
    by_class: dict[str, list[float]] = {}
    ids: dict[str, int | None] = {}
    coils: set[str | None] = set()
    for event in events:
        name, position, class_id, coil = _fields(event)
        if position is None:
            continue
        by_class.setdefault(name, []).append(position)
        ids.setdefault(name, class_id)
        coils.add(coil)
    if len(coils) > 1:
        raise ValueError(
            f"roll marks are found on one coil at a time; these events come from {sorted(map(str, coils))}"
        )
    coil = next(iter(coils), None)
    marks = [
        mark
        for name, positions in by_class.items()
        for mark in find_roll_marks(positions, name, settings, coil_length_m, coil, ids[name])
    ]
    return sorted(marks, key=lambda mark: -mark.score)


@dataclass(frozen=True)
class RollMarkAlarm:
    """Raised by :class:`RollMarkDetector` when a class's events first show a roll's pitch on a coil."""

    mark: RollMark
    at_m: float  # where along the coil the event that completed the evidence lies
    event_id: str | None = None

    @property
    def message(self) -> str:
        return f"Roll mark: {self.mark.describe()}. Check the roll of that diameter."


class RollMarkDetector:
    """Live roll-mark watch: :meth:`add` every closed defect event; it returns an alarm once per coil, class and
    pitch, at the event that makes the evidence enough (see the module doc), and None otherwise.

    Only events with a position along a coil count. Positions are remembered per class over the last ``memory_m``
    metres of the current coil; a new coil starts afresh (its positions restart at 0) and may alarm again for the
    same roll — it is still damaged. Not thread-safe: call it from one thread (the sink's or the GUI's).
    """

    def __init__(
        self,
        settings: RollMarkSettings | None = None,
        memory_m: float = 500.0,
        statuses: Sequence[str] = ("defect", "uncertain"),
    ) -> None:
        self.settings = settings or RollMarkSettings()
        self.memory_m = float(memory_m)
        self.statuses = frozenset(statuses)
        self._coil: str | None = None
        self._positions: dict[str, list[float]] = {}
        self._class_ids: dict[str, int | None] = {}
        self._farthest = 0.0
        self._alarms: list[RollMarkAlarm] = []

    @property
    def alarms(self) -> tuple[RollMarkAlarm, ...]:
        """The alarms raised on the current coil, oldest first."""
        return tuple(self._alarms)

    @property
    def coil(self) -> str | None:
        return self._coil

    def reset(self, coil: str | None = None) -> None:
        """Forget everything: ``coil`` is on the line now."""
        self._coil, self._positions, self._class_ids, self._farthest, self._alarms = coil, {}, {}, 0.0, []

    def add(self, event: Any) -> RollMarkAlarm | None:
        """Note one closed event; the alarm it completes, if any."""
        name, position, class_id, coil = _fields(event)
        if position is None or _get(event, "status", "defect") not in self.statuses:
            return None
        if coil != self._coil:
            self.reset(coil)
        self._farthest = max(self._farthest, position)
        positions = self._positions.setdefault(name, [])
        self._class_ids.setdefault(name, class_id)
        bisect.insort(positions, position)
        while positions and positions[0] < self._farthest - self.memory_m:
            positions.pop(0)
        if len(positions) < self.settings.min_repeats:
            return None
        return self._check(name, position, _get(event, "event" if isinstance(event, dict) else "id"))

    def current_marks(self) -> list[RollMark]:
        """Every pattern in the remembered positions of the current coil, best first (what a coil map shows)."""
        marks = [
            mark
            for name, positions in self._positions.items()
            for mark in find_roll_marks(
                positions, name, self.settings, self._observed(), self._coil, self._class_ids.get(name)
            )
        ]
        return sorted(marks, key=lambda mark: -mark.score)

    def _observed(self) -> float:
        return max(min(self._farthest, self.memory_m), 1e-9)

    def _check(self, name: str, position: float, event_id: str | None) -> RollMarkAlarm | None:
        """A chain through the new event (chains without it did not change, but for the density) that is enough,
        at a pitch not alarmed yet for this class."""
        x = _places(self._positions[name], self.settings.tolerance_m)
        # walk back from the new event: the same search on the mirrored positions, anchored at its place
        mirrored = -x[::-1]
        anchor = len(x) - 1 - int(np.argmin(np.abs(x - position)))
        chain = _best_chain(mirrored, self.settings, self._observed(), anchors=[anchor])
        if chain is None:
            return None
        if any(
            alarm.mark.class_name == name and _same_roll(chain.pitch, alarm.mark.pitch_m, self.settings)
            for alarm in self._alarms
        ):
            return None
        mirrored_mark = _mark(mirrored, chain, name, self._coil, self._class_ids.get(name))
        positions = tuple(sorted(-p for p in mirrored_mark.positions))
        mark = replace(mirrored_mark, start_m=positions[0], end_m=positions[-1], positions=positions)
        alarm = RollMarkAlarm(mark, position, event_id)
        self._alarms.append(alarm)
        return alarm


# -- the search -----------------------------------------------------------------------------------------------------


def _places(positions: Sequence[float], tolerance: float) -> np.ndarray:
    """Sorted positions with events closer than ``tolerance`` to the first of their group merged into one place
    (their mean): one mark the model boxed twice, or two segments' views of it, is one turn of the roll, and must
    not count as a denser background either."""
    x = np.sort(np.asarray(positions, dtype=np.float64))
    if len(x) < 2:
        return x
    places, group = [], [x[0]]
    for value in x[1:]:
        if value - group[0] <= tolerance:
            group.append(value)
        else:
            places.append(sum(group) / len(group))
            group = [value]
    places.append(sum(group) / len(group))
    return np.asarray(places)


def _fields(event: Any) -> tuple[str, float | None, int | None, str | None]:
    """(class name, metres along the coil, class id, coil) of an event object or an event record (dict)."""
    position = _get(event, "coil_m")
    name = _get(event, "class_name") or str(_get(event, "class_id"))
    return str(name), None if position is None else float(position), _get(event, "class_id"), _get(event, "coil")


def _get(event: Any, key: str, default: Any = None) -> Any:
    return event.get(key, default) if isinstance(event, dict) else getattr(event, key, default)


def _observed(x: np.ndarray, coil_length_m: float | None) -> float:
    span = float(x[-1] - x[0]) if len(x) else 0.0
    return max(span, coil_length_m or 0.0, 1e-9)


def _same_roll(pitch: float, other: float, settings: RollMarkSettings) -> bool:
    """Whether two pitches are one roll: equal, or one a whole multiple of the other (every other turn seen)."""
    low, high = sorted((pitch, other))
    turns = round(high / low)
    return turns >= 1 and abs(high - turns * low) <= settings.tolerance_m * turns


def _candidates(x: np.ndarray, settings: RollMarkSettings) -> tuple[list[float], int]:
    """The pitches whose distance-histogram bins are fullest (see the module doc), each the mean of its distances;
    and how many pairs of events lie a possible pitch apart (the chains' possible first steps)."""
    distances = []
    for lag in range(1, len(x)):
        d = x[lag:] - x[:-lag]
        d = d[d <= settings.max_pitch_m + settings.tolerance_m]
        if not len(d):
            break
        distances.append(d[d >= settings.min_pitch_m - settings.tolerance_m])
    if not distances:
        return [], 0
    d = np.concatenate(distances)
    width = settings.tolerance_m
    edges = np.arange(settings.min_pitch_m - width, settings.max_pitch_m + 2 * width, width)
    counts, _ = np.histogram(d, edges)
    smooth = counts + np.concatenate([counts[1:], [0]])  # two bins: a pitch on a bin edge is not split in halves
    picked: list[float] = []
    for index in np.argsort(-smooth, kind="stable"):
        if smooth[index] < settings.min_repeats - 1 or len(picked) >= settings.max_candidates:
            break
        centre = edges[index + 1]
        near = d[np.abs(d - centre) <= width]
        if not len(near):  # the bins' distances lie on their outer edges, a rounding error away from the centre
            continue
        pitch = float(near.mean())
        if settings.min_pitch_m <= pitch <= settings.max_pitch_m and all(abs(pitch - p) > width for p in picked):
            picked.append(pitch)
    pairs = int(np.count_nonzero((d >= settings.min_pitch_m) & (d <= settings.max_pitch_m)))
    return picked, pairs


def _best_chain(
    x: np.ndarray, settings: RollMarkSettings, observed_m: float, anchors: Sequence[int] | None = None
) -> _Chain | None:
    """The highest-scoring chain over the candidate pitches (from every event, or from ``anchors`` only) that is
    enough to report; None if there is none."""
    best: _Chain | None = None
    points = x.tolist()  # plain floats: the walk does scalar look-ups, which numpy makes slow
    pitches, pairs = _candidates(x, settings)
    for pitch in pitches:
        covered: set[int] = set()
        for start in range(len(points)) if anchors is None else anchors:
            if start in covered:
                continue
            chain = _refined(points, start, pitch, settings)
            covered.update(chain[0])
            if len(chain[0]) < settings.min_repeats:
                continue
            scored = _Chain(*chain, _score(x, chain, settings, observed_m, pairs))
            if best is None or scored.score > best.score:
                best = scored
    if best is None or best.score < settings.min_score:
        return None
    return best


def _refined(x: list[float], start: int, pitch: float, settings: RollMarkSettings) -> tuple[tuple, tuple, float]:
    """The chain from ``start`` at ``pitch``; when it is long enough to matter, again at the pitch its events fit
    best (least squares), which keeps it on track where the candidate's pitch was a little off."""
    indices, turns = _walk(x, start, pitch, settings)
    if len(indices) < settings.min_repeats - 1:
        return indices, turns, pitch
    fitted = _slope(turns, [x[i] for i in indices])
    if settings.min_pitch_m <= fitted <= settings.max_pitch_m:
        again = _walk(x, start, fitted, settings)
        if len(again[0]) >= len(indices):
            indices, turns = again
    return indices, turns, _slope(turns, [x[i] for i in indices])


def _slope(turns: Sequence[int], positions: Sequence[float]) -> float:
    """Least-squares metres per turn."""
    n = len(turns)
    mean_t, mean_x = sum(turns) / n, sum(positions) / n
    spread = sum((t - mean_t) ** 2 for t in turns)
    return sum((t - mean_t) * (p - mean_x) for t, p in zip(turns, positions, strict=True)) / spread


def _walk(x: list[float], start: int, pitch: float, settings: RollMarkSettings) -> tuple[tuple, tuple]:
    """Step from ``start`` to the event nearest each next predicted mark (see the module doc)."""
    indices, turns = [start], [0]
    current, turn, tol, last = x[start], 0, settings.tolerance_m, start
    while True:
        for step in range(1, settings.max_missed + 2):
            target = current + step * pitch
            right = bisect.bisect_left(x, target, lo=last + 1)
            near = [j for j in (right - 1, right) if last < j < len(x) and abs(x[j] - target) <= tol]
            if near:
                last = min(near, key=lambda k: abs(x[k] - target))
                break
        else:
            return tuple(indices), tuple(turns)
        turn += step
        indices.append(last)
        turns.append(turn)
        current = x[last]


def _score(
    x: np.ndarray, chain: tuple[tuple, tuple, float], settings: RollMarkSettings, observed_m: float, pairs: int
) -> float:
    """−log10 of the chance chains at least as good (see the module doc).

    The density is the higher of: every event of the class where the chain lies (its span, half a pitch either
    side — the chain's own events included: *given* that many events there, how likely is it that they line up?)
    and the class's other events over the whole coil. So a chain picked out of a dense bad stretch is judged
    against that stretch, and one on a clean coil against the clean coil."""
    indices, turns, pitch = chain
    hits, marks = len(indices), turns[-1] + 1
    start, end = float(x[indices[0]]), float(x[indices[-1]])
    local = int(np.count_nonzero((x >= start - pitch / 2) & (x <= end + pitch / 2))) / (end - start + pitch)
    density = max((len(x) - hits) / observed_m, local, 1.0 / observed_m)
    q = -math.expm1(-2 * settings.tolerance_m * density)
    expected = math.log10(max(pairs, 1)) + _log10_binomial_tail(hits - 2, marks - 2, q)
    return -expected


def _log10_binomial_tail(k: int, n: int, q: float) -> float:
    """log10 P[Binomial(n, q) ≥ k], in logs (tails far below 1e-300 are common for long chains)."""
    if k <= 0:
        return 0.0
    if q <= 0:
        return -math.inf
    if q >= 1:
        return 0.0
    terms = np.arange(k, n + 1)
    logs = (
        np.array([math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in terms])
        + terms * math.log(q)
        + (n - terms) * math.log1p(-q)
    )
    top = float(logs.max())
    return (top + math.log(float(np.exp(logs - top).sum()))) / math.log(10)


def _mark(x: np.ndarray, chain: _Chain, class_name: str, coil: str | None, class_id: int | None) -> RollMark:
    positions = tuple(float(x[i]) for i in chain.indices)
    return RollMark(
        class_name=class_name,
        pitch_m=float(chain.pitch),
        events=len(positions),
        marks=chain.marks,
        start_m=positions[0],
        end_m=positions[-1],
        score=float(chain.score),
        positions=positions,
        coil=coil,
        class_id=class_id,
    )
