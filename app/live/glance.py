"""What the operator reads at a glance, above the picture: the frame's verdict, the alarm, the alarm sound and the
heatmap's legend.

* :class:`VerdictIndicator`: **OK** (green), **NG** (red), **UNCERTAIN** (amber) from the frame's flag decision
  (``FlagDecision.status``, re-decided at once when a threshold moves), **NOT LIVE** (grey) while the picture is
  stale or the source lost — a green OK over a dead camera would be a lie — and "—" before the first frame. The
  word is always there, so the colours are never the only cue.
* :class:`AlarmStrip`: while the alarm is up, a flashing red strip naming the defect (or the roll mark: class,
  pitch, roll diameter, coil), with *Acknowledge (F8)*.
* The sound button mutes or unmutes the alarm's sound (the visual alarm stays).
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from app.live.alarm import Alarm, RollMarkHit
from app.live.heat_legend import HeatLegend
from grace_core.flagging import Status

VERDICTS: dict[str, tuple[str, str, str]] = {  # status → (text, background, text colour)
    "clear": ("OK", "#1e7d32", "white"),
    "defect": ("NG", "#b3261e", "white"),
    "uncertain": ("UNCERTAIN", "#f2b705", "black"),
}
NOT_LIVE = ("NOT LIVE", "#616161", "white")
NO_VERDICT = ("—", "#424242", "#bdbdbd")
FLASH_MS = 500
ACK_KEY = "F8"


class VerdictIndicator(QLabel):
    """The current frame's verdict in large letters."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = QFont(self.font())
        font.setPointSize(20)
        font.setBold(True)
        self.setFont(font)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("UNCERTAIN") + 32)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.status: Status | None = None
        self.live = True
        self.show_status(None)

    def show_status(self, status: Status | None, live: bool = True) -> None:
        """The decision's status (None: no frame yet); ``live`` False greys it out as NOT LIVE."""
        self.status, self.live = status, live
        text, background, color = NO_VERDICT if status is None else NOT_LIVE if not live else VERDICTS[status]
        self.setText(text)
        self.setStyleSheet(f"QLabel {{ background:{background}; color:{color}; border-radius:4px; padding:2px 10px; }}")
        self.setToolTip(
            {
                None: "No frame inspected yet",
                "clear": "OK: nothing at or above the uncertain thresholds",
                "defect": "NG: a defect at or above its flag threshold",
                "uncertain": "UNCERTAIN: a detection between its uncertain and flag thresholds (sent to review)",
            }[status]
            if live
            else "The picture is not live (see the message above it): no verdict"
        )


class AlarmStrip(QFrame):
    """The raised alarm: what, when, and the button that acknowledges it. Hidden when no alarm is up."""

    acknowledge_clicked = Signal()

    def __init__(self, alarm: Alarm, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.alarm = alarm
        self.text = QLabel()
        self.text.setWordWrap(False)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        font = QFont(self.text.font())
        font.setBold(True)
        font.setPointSize(font.pointSize() + 2)
        self.text.setFont(font)
        self.text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.ack_button = QPushButton(f"Acknowledge ({ACK_KEY})")
        self.ack_button.setToolTip("Acknowledge the alarm (recorded in the audit log with your name)")
        self.ack_button.clicked.connect(self.acknowledge_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 4, 2)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.ack_button)
        self._flash_on = True
        self._flash = QTimer(self, interval=FLASH_MS, timeout=self._toggle_flash)
        alarm.changed.connect(self.refresh)
        self.refresh()

    @property
    def flashing(self) -> bool:
        return self._flash.isActive()

    def refresh(self) -> None:
        alarm = self.alarm
        if not alarm.active:
            self._flash.stop()
            self.hide()
            return
        first = alarm.hits[0]
        at = time.strftime("%H:%M:%S", time.localtime(alarm.raised_at or time.time()))
        more = f" +{len(alarm.hits) - 1}" if len(alarm.hits) > 1 else ""
        what = first.describe() if isinstance(first, RollMarkHit) else f"ALARM  {first.describe()}"
        self.text.setText(f"⚠ {what}{more}  {at}")
        frames = f"\n{alarm.frames} frames with alarming defects since it was raised" if alarm.frames > 1 else ""
        self.setToolTip(f"Raised at {at} by:\n" + "\n".join(h.describe() for h in alarm.hits) + frames)
        if not self._flash.isActive():
            self._flash_on = True
            self._apply_flash()
            self._flash.start()
        self.show()

    def _toggle_flash(self) -> None:
        self._flash_on = not self._flash_on
        self._apply_flash()

    def _apply_flash(self) -> None:
        background = "#d32f2f" if self._flash_on else "#6d1010"
        self.setStyleSheet(
            f"AlarmStrip {{ background:{background}; border-radius:4px; }} AlarmStrip > QLabel {{ color:white; }}"
        )


class GlanceBar(QWidget):
    """Verdict · alarm · legend · sound, in one row above the picture."""

    def __init__(self, alarm: Alarm, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.verdict = VerdictIndicator()
        self.alarm_strip = AlarmStrip(alarm)
        self.legend = HeatLegend()
        self.sound_button = QPushButton()
        self.sound_button.setCheckable(True)  # checked: muted
        self.sound_button.setToolTip("The alarm's sound: click (or Ctrl+M) to mute or unmute; the visual alarm stays")
        self.sound_button.toggled.connect(self.show_sound)
        self.show_sound(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 2)
        layout.addWidget(self.verdict)
        layout.addWidget(self.alarm_strip, 1)
        self._spacer = QWidget()
        self._spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        layout.addWidget(self._spacer, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.sound_button)
        alarm.changed.connect(lambda: self._spacer.setVisible(not alarm.active))
        self.setFixedHeight(self.verdict.sizeHint().height() + 10)

    def show_sound(self, muted: bool) -> None:
        self.sound_button.setText("Sound MUTED" if muted else "Sound on")
