"""The defect alarm: audible and visual, until the operator acknowledges it.

**Rule** (:func:`alarm_hits`, pure): a *defect* — a shown detection at or above its class's flag threshold —
whose score reaches its class's alarm threshold raises the alarm. A class's alarm threshold defaults to its flag
threshold; a higher one makes the class alarm only when the model is surer (:class:`AlarmThresholds`). Hidden
classes never alarm. The worker thread applies the rule to every inspected frame, so a frame the screen skipped
still raises it.

**State** (:class:`Alarm`): raised → it sounds at once and every ``REPEAT_S`` seconds while unacknowledged, unless
muted (``QApplication.beep()``: the system bell, no sound file, nothing downloaded; every sound also emits
``sounded``, which tests and a plant's own sounder can listen to). Further hits while it is raised are counted,
not re-raised. The operator acknowledges it (button or F8); the live tab writes that to the review store's audit
log. Defects already acknowledged do not raise it again while they stay in view (the same classes and places,
:meth:`grace_core.flagging.FlaggedScene.matches`); anything else does.

**Roll marks** (:class:`RollMarkHit`): the session's roll-mark watch (:mod:`grace_core.rollmarks`) reports each
repeating defect once per coil, class and pitch; :meth:`Alarm.raise_roll_mark` raises the alarm with it — even over
a defect alarm already up, since a damaged roll marks every metre of strip until someone checks it. It is shown
first, names the class, the pitch, the roll diameter it implies and the coil, and is acknowledged like any alarm.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from grace_core.flagging import REPEAT_WINDOW_S, FlagDecision, FlaggedScene, Thresholds
from grace_core.rollmarks import RollMarkAlarm

REPEAT_S = 4.0  # seconds between sounds while the alarm is unacknowledged
ALARM_ACKNOWLEDGED = "alarm_acknowledged"  # audit actions (the review store's audit log)
ALARM_SOUND_MUTED = "alarm_sound_muted"


@dataclass(frozen=True)
class AlarmHit:
    """One defect that raised (or kept up) the alarm."""

    class_id: int
    class_name: str
    score: float
    xyxy: tuple[float, float, float, float]
    source_id: str
    frame_index: int
    captured_at: float

    def describe(self) -> str:
        return f"{self.class_name} {self.score:.2f}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "class": self.class_name,
            "score": round(self.score, 4),
            "xyxy": [round(v, 1) for v in self.xyxy],
            "source": self.source_id,
            "frame": self.frame_index,
            "captured_at": self.captured_at,
        }


@dataclass(frozen=True)
class RollMarkHit(AlarmHit):
    """A roll mark found on the coil (``score`` 1: it outranks any single defect). ``xyxy`` is unused."""

    pitch_m: float = 0.0
    diameter_m: float = 0.0
    coil: str | None = None
    events: int = 0  # turns with an event of the class …
    marks: int = 0  # … out of the turns from the first to the last
    start_m: float = 0.0
    end_m: float = 0.0
    record: dict[str, Any] | None = None  # the core's own record of the mark (RollMark.to_record), for the audit

    @classmethod
    def from_alarm(
        cls, alarm: RollMarkAlarm, source_id: str = "", frame_index: int = -1, captured_at: float = 0.0
    ) -> RollMarkHit:
        mark = alarm.mark
        return cls(
            class_id=-1 if mark.class_id is None else int(mark.class_id),
            class_name=mark.class_name,
            score=1.0,
            xyxy=(0.0, 0.0, 0.0, 0.0),
            source_id=source_id,
            frame_index=frame_index,
            captured_at=captured_at,
            pitch_m=float(mark.pitch_m),
            diameter_m=float(mark.diameter_m),
            coil=mark.coil,
            events=int(mark.events),
            marks=int(mark.marks),
            start_m=float(mark.start_m),
            end_m=float(mark.end_m),
            record=mark.to_record(),
        )

    @property
    def key(self) -> tuple[str | None, str, float]:
        """One alarm per coil, class and pitch (to the millimetre)."""
        return self.coil, self.class_name, round(self.pitch_m, 3)

    def describe(self) -> str:
        coil = f", coil {self.coil}" if self.coil else ""
        return f"ROLL MARK {self.class_name} every {self.pitch_m:.3f} m, roll Ø {self.diameter_m:.3f} m{coil}"

    def advice(self) -> str:
        """What to do, in words (the live tab's banner)."""
        coil = f" on coil {self.coil}" if self.coil else ""
        return (
            f"Roll mark{coil}: {self.class_name} repeats every {self.pitch_m:.3f} m ({self.events} of {self.marks} "
            f"turns, {self.start_m:.1f}–{self.end_m:.1f} m) — a roll of ≈ {self.diameter_m * 1000:.0f} mm diameter "
            "is marking the strip. Check that roll, then acknowledge (F8)."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "roll_mark": {"class": self.class_name, **(self.record or {})},
            "source": self.source_id,
            "frame": self.frame_index,
            "captured_at": self.captured_at,
        }


@dataclass(frozen=True)
class AlarmThresholds:
    """Per-class alarm thresholds; a class not named (or named below its flag threshold) alarms at its flag
    threshold — never below it: only a defect alarms."""

    by_class: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        values = {str(k): float(v) for k, v in self.by_class.items()}
        for name, value in values.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"alarm threshold for {name!r} must be in [0, 1], got {value}")
        object.__setattr__(self, "by_class", values)

    def for_class(self, name: str, flag: float) -> float:
        return max(float(flag), self.by_class.get(name, 0.0))

    def to_dict(self) -> dict[str, float]:
        return dict(sorted(self.by_class.items()))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> AlarmThresholds:
        return cls({str(k): float(v) for k, v in (data or {}).items()})


def alarm_hits(
    decision: FlagDecision,
    class_names: Sequence[str],
    thresholds: Thresholds,
    alarm: AlarmThresholds,
    source_id: str = "",
    frame_index: int = -1,
    captured_at: float = 0.0,
) -> tuple[AlarmHit, ...]:
    """The frame's defects at or above their class's alarm threshold, strongest first."""
    defects = decision.defects
    hits = []
    for box, score, class_id in zip(defects.xyxy, defects.confidence, defects.class_id, strict=True):
        name = class_names[int(class_id)]
        if float(score) >= np.float32(alarm.for_class(name, thresholds.flag_for(name))):
            xyxy = tuple(float(v) for v in box)
            hits.append(AlarmHit(int(class_id), name, float(score), xyxy, source_id, frame_index, captured_at))
    return tuple(sorted(hits, key=lambda h: -h.score))


def _scene(hits: Sequence[AlarmHit]) -> FlaggedScene:
    return FlaggedScene(
        xyxy=np.array([h.xyxy for h in hits], dtype=np.float32).reshape(-1, 4),
        class_id=np.array([h.class_id for h in hits], dtype=np.int32),
        defect=np.ones(len(hits), dtype=bool),
        timestamp=max((h.captured_at for h in hits), default=0.0),
    )


class Alarm(QObject):
    """The alarm's state (see the module doc). ``offer`` the hits of each frame; ``acknowledge`` when the
    operator does."""

    raised = Signal(object)  # tuple[AlarmHit, ...]: the hits that raised it
    changed = Signal()  # raised, acknowledged, more hits, muted or unmuted
    sounded = Signal()  # one alarm sound (muted: never)
    acknowledged = Signal(object)  # dict: what was acknowledged (the audit row's details)

    def __init__(self, parent: QObject | None = None, repeat_s: float = REPEAT_S) -> None:
        super().__init__(parent)
        self.active = False
        self.muted = False
        self.hits: tuple[AlarmHit, ...] = ()
        self.raised_at: float | None = None
        self.frames = 0  # frames with hits since it was raised
        self.sounds = 0
        self._acknowledged: FlaggedScene | None = None
        self._acknowledged_source = ""
        self._timer = QTimer(self, interval=int(repeat_s * 1000), timeout=self._sound)

    def offer(self, hits: Sequence[AlarmHit]) -> bool:
        """A frame's hits; True when they raised the alarm."""
        if not hits:
            return False
        if self.active:
            self.frames += 1
            defects = self.defect_hits
            if not defects or hits[0].score > defects[0].score:
                self.hits = (*self.roll_marks, *hits)  # a roll mark stays first until acknowledged
            self.changed.emit()
            return False
        if self._already_acknowledged(hits):
            return False
        self.active, self.hits, self.raised_at, self.frames = True, tuple(hits), time.time(), 1
        self._sound()
        self._timer.start()
        self.raised.emit(self.hits)
        self.changed.emit()
        return True

    def raise_roll_mark(self, hit: RollMarkHit) -> bool:
        """A roll mark found: raise the alarm with it first (over a defect alarm already up); False when this roll
        mark (coil, class, pitch) is already up."""
        if self.active and any(mark.key == hit.key for mark in self.roll_marks):
            return False
        if self.active:
            self.hits = (hit, *self.roll_marks, *self.defect_hits)
        else:
            self.hits, self.frames = (hit,), 0
        self.active, self.raised_at = True, time.time()
        self._sound()
        self._timer.start()
        self.raised.emit(self.hits)
        self.changed.emit()
        return True

    @property
    def roll_marks(self) -> tuple[RollMarkHit, ...]:
        """The roll marks in the alarm now (newest first)."""
        return tuple(h for h in self.hits if isinstance(h, RollMarkHit))

    @property
    def defect_hits(self) -> tuple[AlarmHit, ...]:
        return tuple(h for h in self.hits if not isinstance(h, RollMarkHit))

    def acknowledge(self) -> dict[str, Any] | None:
        """The operator has seen it: silence it and return what was acknowledged (None when nothing was up)."""
        if not self.active:
            return None
        self._timer.stop()
        now = time.time()
        details = {
            "hits": [h.to_dict() for h in self.hits],
            "frames": self.frames,
            "raised_at": self.raised_at,
            "acknowledged_at": now,
            "seconds_to_acknowledge": round(now - (self.raised_at or now), 1),
            "muted": self.muted,
        }
        defects = self.defect_hits
        if defects:  # a roll mark alone leaves the defects acknowledged before as they were
            self._acknowledged, self._acknowledged_source = _scene(defects), defects[0].source_id
        self.active, self.frames = False, 0
        self.acknowledged.emit(details)
        self.changed.emit()
        return details

    def set_muted(self, muted: bool) -> None:
        if muted != self.muted:
            self.muted = muted
            self.changed.emit()

    def _already_acknowledged(self, hits: Sequence[AlarmHit]) -> bool:
        """The acknowledged defects, still in view: kept acknowledged (and the memory refreshed) while they stay."""
        if self._acknowledged is None or hits[0].source_id != self._acknowledged_source:
            return False
        scene = _scene(hits)
        recent = 0 <= scene.timestamp - self._acknowledged.timestamp < REPEAT_WINDOW_S
        if recent and scene.matches(self._acknowledged):
            self._acknowledged = scene
            return True
        return False

    def _sound(self) -> None:
        if self.muted or not self.active:
            return
        QApplication.beep()
        self.sounds += 1
        self.sounded.emit()
