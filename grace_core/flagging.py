"""Flagging: per-class dual thresholds (flag / uncertain band) and the per-frame decision. Pure logic, no I/O.

A detection scoring at or above its class's ``flag`` threshold is a defect; one in ``[uncertain, flag)`` is
*uncertain* and routes the frame to review rather than reject; anything lower is ignored. Hidden classes never
flag and are never shown. Scores and thresholds are both compared as float32, so a score equal to a threshold
(as the engine reports it) is on the threshold.

Nested boxes of one class survive NMS (a small box inside a large one has a small IoU with it): a box lying
``contained_ios`` inside a stronger box of its class is a duplicate of it and is neither drawn nor flagged — the
rule sliced frames already follow when tiles are merged (:func:`grace_core.engine.merging.drop_contained`).

:class:`RepeatFilter` decides whether a flagged frame is news: a static scene would otherwise flag every frame and
fill the review store's quota with copies of one picture.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from grace_core.detections import Detections
from grace_core.engine.merging import drop_contained

Status = Literal["defect", "uncertain", "clear"]
STATUSES: tuple[Status, ...] = ("defect", "uncertain", "clear")
CONTAINED_IOS = 0.8  # as sliced frames' merging: this much of a box inside a stronger one of its class → duplicate
REPEAT_IOU = 0.5  # boxes this close (IoU) are the same detection in two frames of an unchanged scene
REPEAT_WINDOW_S = 30.0  # an unchanged scene is flagged again after this long (evidence that it is still there)


@dataclass(frozen=True)
class Thresholds:
    """Per-class thresholds. Classes not named in ``flag`` / ``uncertain`` use the defaults.

    ``visible`` is the set of class names drawn and flagged; ``None`` means every class. ``iou`` is the NMS
    threshold the engine should use; it is kept here so a flagged frame records every setting that produced it.
    Raises ValueError unless ``0 <= uncertain <= flag <= 1`` for every class (named or default).
    """

    flag: dict[str, float] = field(default_factory=dict)
    uncertain: dict[str, float] = field(default_factory=dict)
    default_flag: float = 0.5
    default_uncertain: float = 0.25
    iou: float = 0.7
    visible: frozenset[str] | None = None

    def __post_init__(self) -> None:
        # Own copies, so a caller mutating its dict cannot change a frozen value behind our back.
        object.__setattr__(self, "flag", {str(k): float(v) for k, v in self.flag.items()})
        object.__setattr__(self, "uncertain", {str(k): float(v) for k, v in self.uncertain.items()})
        object.__setattr__(self, "default_flag", float(self.default_flag))
        object.__setattr__(self, "default_uncertain", float(self.default_uncertain))
        object.__setattr__(self, "iou", float(self.iou))
        if self.visible is not None:
            object.__setattr__(self, "visible", frozenset(str(name) for name in self.visible))
        self._validate()

    def _validate(self) -> None:
        _check_pair("classes without their own thresholds", self.default_uncertain, self.default_flag)
        for name in sorted(set(self.flag) | set(self.uncertain)):
            _check_pair(f"class {name!r}", self.uncertain_for(name), self.flag_for(name))
        if not 0.0 <= self.iou <= 1.0:
            raise ValueError(f"iou threshold must be in [0, 1], got {self.iou}")

    def flag_for(self, name: str) -> float:
        return self.flag.get(name, self.default_flag)

    def uncertain_for(self, name: str) -> float:
        return self.uncertain.get(name, self.default_uncertain)

    def is_visible(self, name: str) -> bool:
        return self.visible is None or name in self.visible

    def for_classes(self, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(flag, uncertain)`` as float32 arrays indexed by class id, for the given class names."""
        flag = np.array([self.flag_for(n) for n in names], dtype=np.float32)
        uncertain = np.array([self.uncertain_for(n) for n in names], dtype=np.float32)
        return flag, uncertain

    def visible_mask(self, names: Sequence[str]) -> np.ndarray:
        """Boolean array indexed by class id: which classes are visible."""
        return np.array([self.is_visible(n) for n in names], dtype=bool)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (settings file, and the record kept with each flagged frame)."""
        return {
            "flag": dict(sorted(self.flag.items())),
            "uncertain": dict(sorted(self.uncertain.items())),
            "default_flag": self.default_flag,
            "default_uncertain": self.default_uncertain,
            "iou": self.iou,
            "visible": None if self.visible is None else sorted(self.visible),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Thresholds:
        """Inverse of :meth:`to_dict`. Missing keys take their defaults; unknown keys are ignored (newer settings)."""
        visible = data.get("visible")
        return cls(
            flag=dict(data.get("flag") or {}),
            uncertain=dict(data.get("uncertain") or {}),
            default_flag=data.get("default_flag", 0.5),
            default_uncertain=data.get("default_uncertain", 0.25),
            iou=data.get("iou", 0.7),
            visible=None if visible is None else frozenset(_as_names(visible)),
        )


def _check_pair(what: str, uncertain: float, flag: float) -> None:
    if not (0.0 <= uncertain <= flag <= 1.0):
        raise ValueError(
            f"thresholds for {what}: need 0 <= uncertain <= flag <= 1, got uncertain={uncertain}, flag={flag}"
        )


def _as_names(values: Iterable[Any]) -> list[str]:
    if isinstance(values, str):
        raise ValueError(f"visible must be a list of class names, got the string {values!r}")
    return [str(v) for v in values]


@dataclass(frozen=True)
class FlagDecision:
    """One frame's verdict. ``shown`` = visible detections at or above their uncertain threshold (what to draw)."""

    status: Status
    defects: Detections
    uncertain: Detections
    shown: Detections

    @property
    def flagged(self) -> bool:
        """True when the frame belongs in the review store (defect or uncertain)."""
        return self.status != "clear"


def decide(
    detections: Detections,
    class_names: Sequence[str],
    thresholds: Thresholds,
    contained_ios: float | None = CONTAINED_IOS,
) -> FlagDecision:
    """Classify a frame's detections against per-class thresholds; see the module docstring for the rules.

    ``contained_ios``: drop a shown box lying this much (intersection over its own area) inside a stronger shown
    box of its class; None keeps every box.
    """
    ids = detections.class_id
    if len(ids) and (ids.min() < 0 or ids.max() >= len(class_names)):
        raise ValueError(f"class id out of range for {len(class_names)} class names: {sorted(set(ids.tolist()))}")
    flag, uncertain = thresholds.for_classes(class_names)
    visible = thresholds.visible_mask(class_names)[ids]
    score = detections.confidence
    shown = visible & (score >= uncertain[ids])
    if contained_ios is not None:
        shown &= ~contained_duplicates(detections, shown, contained_ios)
    is_defect = shown & (score >= flag[ids])
    is_uncertain = shown & ~is_defect
    status: Status = "defect" if is_defect.any() else "uncertain" if is_uncertain.any() else "clear"
    return FlagDecision(
        status=status,
        defects=detections[is_defect],
        uncertain=detections[is_uncertain],
        shown=detections[shown],
    )


def contained_duplicates(detections: Detections, among: np.ndarray, contained_ios: float = CONTAINED_IOS) -> np.ndarray:
    """Boolean mask: the boxes of ``among`` (a mask) lying ``contained_ios`` inside a stronger, larger box of their
    class from ``among``. Input order is kept; ties in score keep the earlier box."""
    index = np.flatnonzero(among)
    duplicate = np.zeros(len(detections), dtype=bool)
    if len(index) < 2:
        return duplicate
    order = index[np.argsort(-detections.confidence[index], kind="stable")]
    keep = drop_contained(
        detections.xyxy[order], detections.confidence[order], detections.class_id[order], contained_ios
    )
    duplicate[order] = True
    duplicate[order[keep]] = False
    return duplicate


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) intersection over union of boxes ``a`` (N, 4) and ``b`` (M, 4) in xyxy."""
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


@dataclass(frozen=True)
class FlaggedScene:
    """What a flagged frame showed: its shown boxes, their classes and whether each was a defect (else uncertain)."""

    xyxy: np.ndarray
    class_id: np.ndarray
    defect: np.ndarray
    timestamp: float

    @classmethod
    def of(cls, decision: FlagDecision, timestamp: float) -> FlaggedScene:
        defects, uncertain = decision.defects, decision.uncertain
        return cls(
            xyxy=np.concatenate([defects.xyxy, uncertain.xyxy]),
            class_id=np.concatenate([defects.class_id, uncertain.class_id]),
            defect=np.concatenate([np.ones(len(defects), bool), np.zeros(len(uncertain), bool)]),
            timestamp=float(timestamp),
        )

    def matches(self, other: FlaggedScene, iou: float = REPEAT_IOU) -> bool:
        """The same detections: as many boxes, each paired one-to-one with a box of the same class and kind
        (defect / uncertain) overlapping it by ``iou`` or more (greedy pairing, best overlap first)."""
        if len(self.class_id) != len(other.class_id) or not len(self.class_id):
            return False
        kind = self.class_id * 2 + self.defect
        other_kind = other.class_id * 2 + other.defect
        if sorted(kind.tolist()) != sorted(other_kind.tolist()):
            return False
        overlap = box_iou(self.xyxy, other.xyxy)
        overlap[kind[:, None] != other_kind[None, :]] = -1.0
        for _ in range(len(kind)):
            i, j = np.unravel_index(int(np.argmax(overlap)), overlap.shape)
            if overlap[i, j] < iou:
                return False
            overlap[i, :] = overlap[:, j] = -1.0
        return True


class RepeatFilter:
    """Whether a flagged frame is worth flagging (saving for review) or repeats an unchanged scene.

    A flagged frame repeats when its detections match (:meth:`FlaggedScene.matches`) those of the last frame
    flagged *from the same source* and it was captured less than ``window_s`` seconds after it. A repeat is not
    remembered: an unchanged scene is flagged again once ``window_s`` has passed since it was last flagged, so the
    store keeps evidence that the defect is still there without one copy per frame. ``window_s`` 0 flags every
    frame. Not thread-safe: one filter per inspection loop.
    """

    def __init__(self, window_s: float = REPEAT_WINDOW_S, iou: float = REPEAT_IOU) -> None:
        self.window_s, self.iou = float(window_s), float(iou)
        self._last: dict[str, FlaggedScene] = {}
        self.repeats = 0  # flagged frames judged repeats so far

    def admit(self, source_id: str, timestamp: float, decision: FlagDecision) -> bool:
        """True: flag this frame (it is remembered as the source's last flagged scene); False: a repeat, skip it.
        A frame that is not flagged is never admitted and changes nothing."""
        if not decision.flagged:
            return False
        scene = FlaggedScene.of(decision, timestamp)
        last = self._last.get(source_id)
        recent = last is not None and 0 <= timestamp - last.timestamp < self.window_s
        if recent and scene.matches(last, self.iou):
            self.repeats += 1
            return False
        self._last[source_id] = scene
        return True
