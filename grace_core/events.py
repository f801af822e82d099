"""Defect events: one physical defect, however many frames, tiles or strip segments show it.

A plant counts defects, not pictures: a static camera over a scratch would otherwise report it 10 times a second,
and a strip defect seen by two overlapping segments twice. :class:`DefectTracker` turns each frame's shown
detections into events:

* **strip sources** (:mod:`grace_core.strip`): the stitcher already reports each defect once, whole, at its strip
  position — each reported defect that passes its class's thresholds *is* an event, opened and closed at once;
* **other sources**: a shown detection that overlaps (IoU ≥ ``match_iou``) an open event of its class in the
  previous frames continues it; anything else opens a new event; an event not seen for ``patience`` frames closes.

An event keeps its best sighting (highest confidence) as evidence: the frame, the box, the score. It is a *defect*
once any sighting reached its class's flag threshold, *uncertain* otherwise.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from grace_core.detections import Detections
from grace_core.flagging import Thresholds, box_iou
from grace_core.strip import StripReport
from grace_core.types import Frame


@dataclass(frozen=True)
class DefectEvent:
    """One defect. ``box`` in the evidence frame's pixels; ``along_m`` / ``across_mm`` where the strip is known."""

    id: str
    class_id: int
    class_name: str
    status: str  # "defect" or "uncertain"
    confidence: float  # best score seen
    box: tuple[float, float, float, float]
    first_seen: float  # time.time() of the first sighting
    last_seen: float
    sightings: int
    source_id: str
    evidence: Any = field(default=None, repr=False, compare=False)  # the best sighting's frame (or frame result)
    along_m: float | None = None
    across_mm: float | None = None
    strip_box: tuple[float, float, float, float] | None = None  # in strip pixels, for strip sources
    coil: str | None = None  # the coil on the line when it was seen (grace_core/coil.py)
    coil_m: float | None = None  # metres from the start of that coil

    def to_record(self) -> dict:
        """JSON-ready, without the evidence image."""
        return {
            "event": self.id,
            "class_id": self.class_id,
            "class_name": self.class_name,
            "status": self.status,
            "confidence": round(self.confidence, 4),
            "box": [round(v, 1) for v in self.box],
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "sightings": self.sightings,
            "source_id": self.source_id,
            "along_m": None if self.along_m is None else round(self.along_m, 4),
            "across_mm": None if self.across_mm is None else round(self.across_mm, 1),
            "coil": self.coil,
            "coil_m": None if self.coil_m is None else round(self.coil_m, 3),
        }


@dataclass(frozen=True)
class EventUpdate:
    """What one frame changed: events ``opened`` by it and events ``closed`` (final) after it."""

    opened: tuple[DefectEvent, ...] = ()
    closed: tuple[DefectEvent, ...] = ()


class DefectTracker:
    """See the module doc. ``class_names`` and ``thresholds`` say what is shown and what is a defect."""

    def __init__(
        self,
        class_names: Sequence[str],
        match_iou: float = 0.3,
        patience: int = 3,
        sequence: bool = True,
        place: Callable[[DefectEvent, Frame], DefectEvent] | None = None,
    ) -> None:
        """``sequence`` False: the frames are unrelated images (a folder), so each detection is an event of its
        own, closed with its frame. ``place(event, frame)`` adds where a new event lies (coil, metres along it:
        :class:`grace_core.coil.CoilClock`)."""
        self.place = place or (lambda event, frame: event)
        self.class_names = list(class_names)
        self.match_iou, self.patience = match_iou, patience if sequence else 0
        self._open: list[tuple[DefectEvent, int]] = []  # (event, frames since last seen)

    @property
    def open_events(self) -> tuple[DefectEvent, ...]:
        return tuple(event for event, _ in self._open)

    def update(
        self,
        frame: Frame,
        shown: Detections,
        thresholds: Thresholds,
        strip: StripReport | None = None,
        evidence: Any = None,
    ) -> EventUpdate:
        """Events of one inspected frame. ``shown``: its detections at or above their uncertain threshold (the flag
        decision's ``shown``); for a strip source also the stitcher's report, whose defects are the events.
        ``evidence``: what an event keeps of its best sighting (default: the frame; the session gives the whole
        frame result, so the review store can save it)."""
        evidence = frame if evidence is None else evidence
        flag, _ = thresholds.for_classes(self.class_names)
        if strip is not None:
            return EventUpdate(closed=tuple(self._strip_events(frame, strip, thresholds, flag, evidence)))
        opened, seen = [], set()
        for box, score, class_id in zip(shown.xyxy, shown.confidence, shown.class_id, strict=True):
            index = self._match(box, int(class_id), seen)
            if index is None:
                event = self._new(frame, box, float(score), int(class_id), flag, evidence=evidence)
                self._open.append((event, 0))
                opened.append(event)
                seen.add(len(self._open) - 1)
            else:
                sighted = self._sighted(self._open[index][0], frame, box, float(score), flag, evidence)
                self._open[index] = (sighted, 0)
                seen.add(index)
        closed = []
        kept = []
        for index, (event, missed) in enumerate(self._open):
            missed = 0 if index in seen else missed + 1
            (closed if missed >= self.patience or self.patience == 0 else kept).append((event, missed))
        self._open = kept
        return EventUpdate(opened=tuple(opened), closed=tuple(event for event, _ in closed))

    def finish(self) -> tuple[DefectEvent, ...]:
        """Close every open event (the source ended or inspection stopped)."""
        closed, self._open = tuple(event for event, _ in self._open), []
        return closed

    # -- internals ---------------------------------------------------------------------------------------------

    def _match(self, box: np.ndarray, class_id: int, taken: set[int]) -> int | None:
        candidates = [i for i, (event, _) in enumerate(self._open) if event.class_id == class_id and i not in taken]
        if not candidates:
            return None
        boxes = np.array([self._open[i][0].box for i in candidates], dtype=np.float32)
        overlaps = box_iou(box[None].astype(np.float32), boxes)[0]
        best = int(np.argmax(overlaps))
        return candidates[best] if overlaps[best] >= self.match_iou else None

    def _new(
        self, frame: Frame, box, score: float, class_id: int, flag: np.ndarray, evidence: Any = None, **extra
    ) -> DefectEvent:
        event = DefectEvent(
            id=uuid.uuid4().hex[:12],
            class_id=class_id,
            class_name=self.class_names[class_id],
            status="defect" if score >= flag[class_id] else "uncertain",
            confidence=score,
            box=tuple(float(v) for v in box),
            first_seen=frame.timestamp,
            last_seen=frame.timestamp,
            sightings=1,
            source_id=frame.source_id,
            evidence=frame if evidence is None else evidence,
            **extra,
        )
        return self.place(event, frame)

    def _sighted(
        self, event: DefectEvent, frame: Frame, box, score: float, flag: np.ndarray, evidence: Any
    ) -> DefectEvent:
        better = score > event.confidence
        return replace(
            event,
            status="defect" if event.status == "defect" or score >= flag[event.class_id] else "uncertain",
            confidence=max(score, event.confidence),
            box=tuple(float(v) for v in box) if better else event.box,
            evidence=evidence if better else event.evidence,
            last_seen=frame.timestamp,
            sightings=event.sightings + 1,
        )

    def _strip_events(self, frame: Frame, strip: StripReport, thresholds: Thresholds, flag: np.ndarray, evidence):
        _, uncertain = thresholds.for_classes(self.class_names)
        visible = thresholds.visible_mask(self.class_names)
        row0 = strip.row0
        for defect in strip.defects:
            if not visible[defect.class_id] or defect.confidence < uncertain[defect.class_id]:
                continue
            x1, y1, x2, y2 = defect.box
            yield self._new(
                frame,
                (x1, y1 - row0, x2, y2 - row0),  # in the inspected image's pixels (may reach above it: deferred)
                defect.confidence,
                defect.class_id,
                flag,
                evidence=evidence,
                along_m=defect.along_m,
                across_mm=defect.across_mm,
                strip_box=defect.box,
            )
