"""``Detections``: a frozen set of boxes as numpy columns (the contract between engines, views and stores)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Detections:
    """``xyxy`` float32 (N, 4) in source-image pixels, ``confidence`` float32 (N,), ``class_id`` int32 (N,).

    Indexing with a boolean mask, integer array or slice returns a new ``Detections``.
    """

    xyxy: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        confidence = np.asarray(self.confidence, dtype=np.float32).reshape(-1)
        class_id = np.asarray(self.class_id, dtype=np.int32).reshape(-1)
        if not len(xyxy) == len(confidence) == len(class_id):
            raise ValueError(f"column lengths differ: {len(xyxy)} boxes, {len(confidence)} scores, {len(class_id)} ids")
        for array in (xyxy, confidence, class_id):
            array.setflags(write=False)
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "confidence", confidence)
        object.__setattr__(self, "class_id", class_id)

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4)), np.zeros(0), np.zeros(0))

    @classmethod
    def from_ultralytics(cls, result) -> Detections:
        """From an ultralytics ``Results`` object (its ``boxes``)."""
        boxes = result.boxes
        return cls(boxes.xyxy.cpu().numpy(), boxes.conf.cpu().numpy(), boxes.cls.cpu().numpy())

    def __len__(self) -> int:
        return len(self.confidence)

    def __getitem__(self, index: np.ndarray | slice | Sequence[int]) -> Detections:
        return Detections(self.xyxy[index], self.confidence[index], self.class_id[index])

    @property
    def area(self) -> np.ndarray:
        return (self.xyxy[:, 2] - self.xyxy[:, 0]) * (self.xyxy[:, 3] - self.xyxy[:, 1])

    def to_records(self, class_names: Sequence[str] | dict[int, str]) -> list[dict]:
        """One dict per detection (class name, score, box), for JSON lines and tables."""
        return [
            {
                "class_id": int(c),
                "class_name": class_names[int(c)],
                "confidence": round(float(s), 4),
                "xyxy": [round(float(v), 1) for v in box],
            }
            for box, s, c in zip(self.xyxy, self.confidence, self.class_id, strict=True)
        ]
