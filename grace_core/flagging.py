"""Flagging: per-class dual thresholds (flag / uncertain band) and the per-frame decision. Pure logic, no I/O.

A detection scoring at or above its class's ``flag`` threshold is a defect; one in ``[uncertain, flag)`` is
*uncertain* and routes the frame to review rather than reject; anything lower is ignored. Hidden classes never
flag and are never shown. Scores and thresholds are both compared as float32, so a score equal to a threshold
(as the engine reports it) is on the threshold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from grace_core.detections import Detections

Status = Literal["defect", "uncertain", "clear"]
STATUSES: tuple[Status, ...] = ("defect", "uncertain", "clear")


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


def decide(detections: Detections, class_names: Sequence[str], thresholds: Thresholds) -> FlagDecision:
    """Classify a frame's detections against per-class thresholds; see the module docstring for the rules."""
    ids = detections.class_id
    if len(ids) and (ids.min() < 0 or ids.max() >= len(class_names)):
        raise ValueError(f"class id out of range for {len(class_names)} class names: {sorted(set(ids.tolist()))}")
    flag, uncertain = thresholds.for_classes(class_names)
    visible = thresholds.visible_mask(class_names)[ids]
    score = detections.confidence
    is_defect = visible & (score >= flag[ids])
    is_uncertain = visible & ~is_defect & (score >= uncertain[ids])
    status: Status = "defect" if is_defect.any() else "uncertain" if is_uncertain.any() else "clear"
    return FlagDecision(
        status=status,
        defects=detections[is_defect],
        uncertain=detections[is_uncertain],
        shown=detections[is_defect | is_uncertain],
    )
