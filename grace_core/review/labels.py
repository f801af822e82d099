"""Which of a frame's boxes become training labels when the reviewer confirms it as a defect (D).

Every box not deleted becomes a label, except a **nested duplicate**: a model box of the same class lying at least
``NESTED_IOS`` inside a stronger box (the model fired twice on one defect), which D drops. A model box scoring
below its class's flag threshold (the thresholds the frame was flagged under) stays a label but is marked, so the
reviewer can drop all of them in one key (L) before confirming. Reviewers' boxes are always labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grace_core.engine.merging import drop_contained
from grace_core.flagging import Thresholds
from grace_core.store.records import DetectionRecord

NESTED_IOS = 0.8  # share of the smaller box inside the stronger one that makes it a duplicate
NESTED_DUPLICATE = "nested duplicate"
BELOW_FLAG = "below the flag threshold"


@dataclass(frozen=True)
class BoxLabel:
    """One box and what confirming the frame as a defect does with it."""

    box: DetectionRecord
    nested: bool  # a duplicate inside a stronger box of its class: D drops it
    flag: float | None  # the class's flag threshold when this model box scores below it (L drops it), else None

    @property
    def is_label(self) -> bool:
        return not self.nested

    @property
    def short(self) -> str:
        """What the review tab's "label" column says."""
        if self.nested:
            return "no: nested duplicate"
        return f"label, below flag {self.flag:.2f}" if self.flag is not None else "label"

    @property
    def note(self) -> str:
        """The same in a sentence (the column's tooltip)."""
        if self.nested:
            return f"not a label: it lies inside a stronger {self.box.class_name} box; D drops it"
        if self.flag is not None:
            name, flag = self.box.class_name, self.flag
            return f"a label, though it scores below the {name} flag threshold {flag:.2f}; L drops it"
        return "becomes a label when the frame is confirmed as a defect (D)"

    @property
    def reason(self) -> str:
        """Why the box is dropped, for the audit trail."""
        box = self.box
        if self.nested:
            return f"{NESTED_DUPLICATE}: lies ≥ {NESTED_IOS:.0%} inside a stronger {box.class_name} box"
        return f"{BELOW_FLAG}: score {box.confidence:.2f} < {box.class_name} flag {self.flag:.2f}"


def label_plan(boxes: Sequence[DetectionRecord], thresholds: Thresholds) -> list[BoxLabel]:
    """What D does with each of ``boxes`` (in their order) on a frame flagged under ``thresholds``."""
    nested = nested_duplicates(boxes)
    return [BoxLabel(box, box.id in nested, _flag_if_below(box, thresholds)) for box in boxes]


def nested_duplicates(boxes: Sequence[DetectionRecord]) -> set[int]:
    """Ids of the model boxes lying ≥ ``NESTED_IOS`` inside a stronger box of the same class."""
    live = [box for box in boxes if not box.deleted]
    if len(live) < 2:
        return set()
    order = sorted(live, key=lambda box: (-box.confidence, box.id))  # drop_contained wants falling confidence
    names = sorted({box.class_name for box in order})  # one class = one name (reviewers' boxes carry names)
    keep = drop_contained(
        np.array([box.xyxy for box in order], dtype=np.float64),
        np.array([box.confidence for box in order], dtype=np.float64),
        np.array([names.index(box.class_name) for box in order]),
        NESTED_IOS,
        droppable=np.array([box.origin == "model" for box in order]),
    )
    kept = {order[i].id for i in keep}
    return {box.id for box in order if box.id not in kept}


def below_flag(boxes: Sequence[DetectionRecord], thresholds: Thresholds) -> list[BoxLabel]:
    """The model boxes scoring below their class's flag threshold: what L drops."""
    return [plan for plan in label_plan(boxes, thresholds) if plan.flag is not None and not plan.nested]


def _flag_if_below(box: DetectionRecord, thresholds: Thresholds) -> float | None:
    flag = thresholds.flag_for(box.class_name)
    below = box.origin == "model" and np.float32(box.confidence) < np.float32(flag)  # compared as flagging does
    return flag if below else None
