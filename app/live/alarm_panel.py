"""Per-class alarm thresholds: one box per class, "= flag" (the default) or a higher score.

Only defects alarm, so a value below the class's flag threshold means the flag threshold (see
:class:`app.live.alarm.AlarmThresholds`). The mouse wheel changes a box only once it has been clicked
(:mod:`app.wheel_guard`).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QLabel, QWidget

from app.live.alarm import AlarmThresholds
from app.wheel_guard import guard_wheel

AT_FLAG = "= flag"


class AlarmThresholdsPanel(QWidget):
    changed = Signal(object)  # AlarmThresholds

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QFormLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._boxes: dict[str, QDoubleSpinBox] = {}
        self._base = AlarmThresholds()
        self._building = False

    def box(self, name: str) -> QDoubleSpinBox:
        return self._boxes[name]

    def set_classes(self, names: tuple[str, ...], alarm: AlarmThresholds) -> None:
        self._building = True
        try:
            while self._layout.rowCount():
                self._layout.removeRow(0)
            self._boxes.clear()
            self._base = alarm
            note = QLabel("Sound and flash on a defect scoring at least:")
            note.setWordWrap(True)
            self._layout.addRow(note)
            for name in names:
                box = QDoubleSpinBox()
                box.setRange(0.0, 1.0)
                box.setSingleStep(0.05)
                box.setDecimals(2)
                box.setSpecialValueText(AT_FLAG)
                box.setToolTip(f"{name}: alarm at this score or above; '{AT_FLAG}': at its flag threshold")
                box.setValue(alarm.by_class.get(name, 0.0))
                box.valueChanged.connect(self._emit)
                self._layout.addRow(name, box)
                self._boxes[name] = box
            guard_wheel(self)
        finally:
            self._building = False

    def thresholds(self) -> AlarmThresholds:
        values = dict(self._base.by_class)
        for name, box in self._boxes.items():
            if box.value() > 0.0:
                values[name] = round(box.value(), 4)
            else:
                values.pop(name, None)
        return AlarmThresholds(values)

    def _emit(self, *_: object) -> None:
        if not self._building:
            self.changed.emit(self.thresholds())
