"""Where box labels go so that no two overlap: greedy, in priority order. Pure geometry, no Qt.

Each label tries, in turn: above its box, below it, inside its top edge — left-aligned, then right-aligned — and
takes the first place that lies within the visible area and touches no label placed before it. A label with no
such place is skipped (its box is still drawn): an unreadable pile of labels is worse than a box without text,
and the detections table lists every box. Callers pass labels most important first (defects, then by score).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def intersects(self, other: Rect) -> bool:
        """Overlapping with a positive area (touching edges do not overlap)."""
        return self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom

    def contains(self, other: Rect) -> bool:
        return self.x <= other.x and self.y <= other.y and other.right <= self.right and other.bottom <= self.bottom


def candidates(box: Rect, width: float, height: float) -> list[Rect]:
    """The places a ``width × height`` label may take for ``box``, best first."""
    left, right = box.x, box.right - width
    above, below, inside = box.y - height, box.bottom, box.y + 1.0
    return [Rect(x, y, width, height) for y in (above, below, inside) for x in (left, right)]


def place_labels(boxes: Sequence[Rect], sizes: Sequence[tuple[float, float]], bounds: Rect) -> list[Rect | None]:
    """A place for each box's label (``sizes``: width, height), or None where none fits; in the order given."""
    placed: list[Rect] = []
    result: list[Rect | None] = []
    for box, (width, height) in zip(boxes, sizes, strict=True):
        spot = next(
            (
                option
                for option in (_shifted_into(c, bounds) for c in candidates(box, width, height))
                if bounds.contains(option) and not any(option.intersects(other) for other in placed)
            ),
            None,
        )
        if spot is not None:
            placed.append(spot)
        result.append(spot)
    return result


def _shifted_into(rect: Rect, bounds: Rect) -> Rect:
    """``rect`` moved sideways (only) to lie within ``bounds``, where it is narrow enough to."""
    x = min(max(rect.x, bounds.x), bounds.right - rect.w)
    return Rect(x, rect.y, rect.w, rect.h)
