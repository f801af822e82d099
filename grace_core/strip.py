"""Strip (line-scan) inspection: frames are consecutive segments of a moving strip.

A line-scan camera delivers the strip as segments, one after another. A defect cut by a segment edge must be found
once, whole, with its position along the strip. :class:`StripStitcher` keeps the last ``overlap`` rows of each
segment and puts them above the next one, so the inspected image (*combined*) shows every defect that crosses the
edge, and decides which detections of the combined image are *new*:

* a detection touching the combined image's bottom edge may go on in the next segment: it is **deferred** and
  reported from the next combined image, which shows it together with its continuation;
* a detection lying wholly in the carried-over rows (ending ``margin`` rows above their end) was reported with the
  previous segment: it is **skipped**;
* everything else is **reported** — and a deferred piece of the same class that the new detection overlaps is folded
  into it (their union), so a defect longer than the overlap still comes out as one box; a deferred piece that no
  new detection covers is reported as it was, so nothing is lost;
* except that a detection — or a deferred piece — lying mostly (``repeat_ios``) on a defect of its class reported
  with an earlier segment is that defect seen again: a model's boxes of one defect differ a little from segment to
  segment, so a box that just missed the bottom edge last time must not make the same defect count twice. Reported
  defects are remembered as far back as a waiting piece reaches, since folding it into a later box takes that box
  back up to the piece's first row.

Positions are strip rows (counted from the first row the stitcher saw, or the source's ``meta["strip_row"]`` when it
knows better, e.g. from an encoder) and, through the pixel scale, millimetres along and across the strip.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from grace_core.detections import Detections
from grace_core.engine.merging import intersection_over_smaller
from grace_core.types import Frame

STRIP_ROW = "strip_row"  # Frame.meta key: the strip row of the frame's first row


@dataclass(frozen=True)
class StripScale:
    """Millimetres per pixel along the strip (rows) and across it (columns); None where unknown."""

    mm_per_px_along: float | None = None
    mm_per_px_across: float | None = None


@dataclass(frozen=True)
class StripDefect:
    """A detection reported for the strip: its box in strip pixels (x across, y along) and position."""

    class_id: int
    confidence: float
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in strip pixels
    along_m: float | None  # centre, metres from the start of the strip (None without a pixel scale)
    across_mm: float | None  # centre, millimetres from the strip's left edge in the image

    def to_record(self, class_names) -> dict:
        return {
            "class_id": self.class_id,
            "class_name": class_names[self.class_id],
            "confidence": round(self.confidence, 4),
            "strip_xyxy": [round(v, 1) for v in self.box],
            "along_m": None if self.along_m is None else round(self.along_m, 4),
            "across_mm": None if self.across_mm is None else round(self.across_mm, 1),
        }


@dataclass(frozen=True)
class StripReport:
    """What a combined image added to the strip: ``new`` (indices into its detections) and the defects reported."""

    row0: int  # strip row of the combined image's first row
    carried_rows: int  # rows at its top that came from the previous segment
    new: np.ndarray  # bool mask over the combined image's detections: reported now
    defects: tuple[StripDefect, ...] = field(default_factory=tuple)


def continues(earlier: np.ndarray, later: np.ndarray, margin: float) -> bool:
    """Whether box ``later`` continues box ``earlier`` along the strip: their rows overlap or meet (within
    ``margin``) and their columns overlap by half the narrower one."""
    rows_meet = later[1] <= earlier[3] + margin and earlier[1] <= later[3] + margin
    overlap = min(earlier[2], later[2]) - max(earlier[0], later[0])
    narrower = min(earlier[2] - earlier[0], later[2] - later[0])
    return bool(rows_meet and overlap >= 0.5 * max(narrower, 1e-6))


class StripStitcher:
    """See the module doc. ``overlap``: rows carried into the next combined image (at least the longest defect
    expected along the strip — a tile of the model is a good default); ``margin``: rows within which a box counts
    as touching an edge."""

    def __init__(
        self, overlap: int = 224, scale: StripScale | None = None, margin: float = 2.0, repeat_ios: float = 0.5
    ) -> None:
        if overlap < 0:
            raise ValueError(f"overlap must be 0 or more rows, got {overlap}")
        self.overlap, self.scale, self.margin = int(overlap), scale or StripScale(), float(margin)
        self.repeat_ios = repeat_ios
        self._recent: list[tuple[int, float, np.ndarray]] = []  # reported defects the next segments can still see
        self._tail: np.ndarray | None = None
        self._next_row = 0  # strip row that follows the last segment
        self._deferred: list[tuple[int, float, np.ndarray]] = []  # (class, confidence, strip box)

    def assemble(self, frame: Frame) -> Frame:
        """The image to inspect for this segment: the previous segment's last rows above it (when contiguous)."""
        row = int(frame.meta.get(STRIP_ROW, self._next_row))
        contiguous = self._tail is not None and row == self._next_row and self._tail.shape[1:] == frame.image.shape[1:]
        carried = self._tail if contiguous else frame.image[:0]
        image = np.concatenate([carried, frame.image], axis=0) if len(carried) else frame.image
        self._tail = frame.image[-self.overlap :] if self.overlap else frame.image[:0]
        self._next_row = row + frame.image.shape[0]
        meta = {**frame.meta, STRIP_ROW: row - len(carried), "carried_rows": len(carried), "contiguous": contiguous}
        return replace(frame, image=image, meta=meta)

    def report(self, combined: Frame, detections: Detections, final: bool = False) -> StripReport:
        """Decide which of the combined image's detections are new (see the module doc); ``final`` at the end of
        the strip reports what would otherwise wait for a next segment."""
        row0, carried = int(combined.meta[STRIP_ROW]), int(combined.meta.get("carried_rows", 0))
        height = combined.image.shape[0]
        # Not contiguous with what came before (the first segment, or frames were dropped): what waited will not come.
        earlier = [] if combined.meta.get("contiguous") else self._flush()
        y2 = detections.xyxy[:, 3]
        skipped = (y2 <= carried - self.margin) if carried else np.zeros(len(detections), bool)
        deferred = (y2 >= height - self.margin) & ~skipped if not final else np.zeros(len(detections), bool)
        new = ~skipped & ~deferred
        offset = np.array([0, row0, 0, row0], np.float32)
        boxes = detections.xyxy + offset
        # Pieces deferred last time are folded into what continues them: reported now, or deferred again (a defect
        # longer than a segment grows until it ends); pieces nothing continues are reported as they were.
        candidates = np.flatnonzero(new | deferred)
        items = {
            i: self._fold(int(detections.class_id[i]), float(detections.confidence[i]), boxes[i]) for i in candidates
        }
        repeated = {i for i in candidates if new[i] and self._seen_before(items[i])}
        new = new & ~np.isin(np.arange(len(new)), list(repeated))
        # A waiting piece nothing continued is reported as it was — unless it lies on a defect already reported.
        waiting = [item for item in earlier + self._flush() if not self._seen_before(item)]
        reported = waiting + [items[i] for i in candidates if new[i]]
        self._deferred = [items[i] for i in candidates if deferred[i]]
        self._remember(reported, row0)
        return StripReport(row0, carried, new, tuple(self._defect(*item) for item in reported))

    def finish(self) -> tuple[StripDefect, ...]:
        """Report what is still waiting (the strip ended)."""
        return tuple(self._defect(*item) for item in self._flush())

    # -- internals ---------------------------------------------------------------------------------------------

    def _fold(self, class_id: int, confidence: float, box: np.ndarray) -> tuple[int, float, np.ndarray]:
        """Fold into ``box`` every deferred piece of its class that it overlaps (they were one defect)."""
        for item in list(self._deferred):
            other_class, other_confidence, other = item
            if other_class == class_id and continues(other, box, self.margin):
                box = np.concatenate([np.minimum(box[:2], other[:2]), np.maximum(box[2:], other[2:])])
                confidence = max(confidence, other_confidence)
                self._deferred = [d for d in self._deferred if d is not item]
        return class_id, confidence, box

    def _seen_before(self, item: tuple[int, float, np.ndarray]) -> bool:
        class_id, _, box = item
        same = [other for c, _, other in self._recent if c == class_id]
        return bool(same) and float(intersection_over_smaller(box[None], np.array(same)).max()) >= self.repeat_ios

    def _remember(self, reported: list[tuple[int, float, np.ndarray]], row0: int) -> None:
        """Keep the reported defects a later report can still overlap: those reaching into this combined image's
        rows, or above them as far as a deferred piece reaches — a piece folded into a later detection takes that
        detection's box back up to its own first row, over defects reported meanwhile."""
        horizon = min([row0, *(float(box[1]) for _, _, box in self._deferred)])
        self._recent = [item for item in self._recent + reported if item[2][3] >= horizon]

    def _flush(self) -> list[tuple[int, float, np.ndarray]]:
        waiting, self._deferred = self._deferred, []
        return waiting

    def _defect(self, class_id: int, confidence: float, box: np.ndarray) -> StripDefect:
        along, across = self.scale.mm_per_px_along, self.scale.mm_per_px_across
        cy, cx = float(box[1] + box[3]) / 2, float(box[0] + box[2]) / 2
        return StripDefect(
            class_id=class_id,
            confidence=confidence,
            box=tuple(float(v) for v in box),
            along_m=None if along is None else cy * along / 1000.0,
            across_mm=None if across is None else cx * across,
        )
