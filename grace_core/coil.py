"""Which coil is on the line, and where on it a defect lies.

A plant judges inspection by what it tells the line: *which coil, where on the strip, what defect*. :class:`CoilClock`
keeps the coil id (typed by the operator, ``--coil``, or read from the plant's level-2 system through an OPC UA node
or an MQTT topic) and turns a defect's place into metres along that coil:

* a **strip** source knows how many metres of strip have passed (its rows × the pixel scale): the position is that
  count minus where the coil began;
* otherwise, from the **line speed** (m/min) and the time since the coil began;
* an **encoder** count in ``Frame.meta["encoder"]`` with ``metres_per_count`` overrides both.

Across the strip: the defect's column × the pixel scale (mm). Changing the coil restarts the count at 0.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from grace_core.events import DefectEvent
from grace_core.types import Frame


@dataclass(frozen=True)
class CoilStart:
    coil: str | None
    time: float  # time.time() when it began
    strip_m: float | None  # metres of strip already passed (strip sources)
    encoder: float | None  # encoder count at its start


class CoilClock:
    """Thread-safe: ``set_coil`` may be called from a GUI or a plant reader while inspection runs."""

    def __init__(
        self, coil: str | None = None, line_speed_m_min: float | None = None, metres_per_count: float | None = None
    ) -> None:
        self.line_speed = line_speed_m_min
        self.metres_per_count = metres_per_count
        self._lock = threading.Lock()
        self._start = CoilStart(coil, 0.0, None, None)
        self._pending_coil: str | None = coil
        self._last: tuple[float, float | None, float | None] = (0.0, None, None)  # time, strip m, encoder

    @property
    def coil(self) -> str | None:
        with self._lock:
            return self._start.coil

    def set_coil(self, coil: str | None) -> None:
        """A new coil begins now (at the last frame seen): positions restart at 0."""
        with self._lock:
            time, strip_m, encoder = self._last
            self._start = CoilStart(coil or None, time, strip_m, encoder)

    def observe(self, frame: Frame, strip_m: float | None) -> None:
        """Note where the line is at this frame (called for every inspected frame)."""
        with self._lock:
            encoder = frame.meta.get("encoder")
            self._last = (frame.timestamp, strip_m, None if encoder is None else float(encoder))
            if self._start.time == 0.0:  # the first frame: the coil given at start begins here
                self._start = replace(self._start, time=frame.timestamp, strip_m=strip_m, encoder=self._last[2])

    def position_m(self) -> float | None:
        """Metres of the current coil passed at the last frame seen (encoder, strip or line speed, as :meth:`place`
        measures); None before the first frame or where nothing measures the strip."""
        return self.reading()[1]

    def reading(self) -> tuple[str | None, float | None]:
        """The current coil and :meth:`position_m` on it, read together: a coil set from another thread in between
        would otherwise pair one coil's id with the other's position."""
        with self._lock:
            start, last = self._start, self._last
        return start.coil, self._metres(start, last)

    def _metres(self, start: CoilStart, last: tuple[float, float | None, float | None]) -> float | None:
        time, strip_m, encoder = last
        if time == 0.0:
            return None
        if encoder is not None and self.metres_per_count and start.encoder is not None:
            return max(0.0, (encoder - start.encoder) * self.metres_per_count)
        if strip_m is not None:
            return max(0.0, strip_m - (start.strip_m or 0.0))
        if self.line_speed:
            return max(0.0, (time - start.time) * self.line_speed / 60.0)
        return None

    def place(self, event: DefectEvent, frame: Frame) -> DefectEvent:
        """The event with its coil and its position along the coil (metres), where that can be known."""
        with self._lock:
            start = self._start
        along = None
        encoder = frame.meta.get("encoder")
        if encoder is not None and self.metres_per_count and start.encoder is not None:
            along = (float(encoder) - start.encoder) * self.metres_per_count
        elif event.along_m is not None:
            along = event.along_m - (start.strip_m or 0.0)
        elif self.line_speed:
            along = (event.first_seen - start.time) * self.line_speed / 60.0
        return replace(event, coil=start.coil, coil_m=None if along is None else max(0.0, along))
