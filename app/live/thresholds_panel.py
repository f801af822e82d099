"""Per-class thresholds: visibility, and one two-handle slider per class — uncertain (left) and flag (right).

Each row is one line: the values are the editable labels at the slider's ends (uncertain left, flag right), not
labels over the handles, so every class fits on screen at 1400×900.

The widget only edits a :class:`~grace_core.flagging.Thresholds` value; what the thresholds mean is decided in
``grace_core.flagging``. The mouse wheel moves a slider or the IoU box only once it has been clicked (focused):
scrolling the side panel over them scrolls the panel (:mod:`app.wheel_guard`).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QGridLayout, QHBoxLayout, QLabel, QWidget
from superqt import QLabeledDoubleRangeSlider
from superqt.sliders._labeled import EdgeLabelMode, LabelPosition

from app.imaging import qcolor_for_class
from app.wheel_guard import guard_wheel
from grace_core.flagging import Thresholds


class ThresholdsPanel(QWidget):
    changed = Signal(object)  # Thresholds

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._names: tuple[str, ...] = ()
        self._sliders: dict[str, QLabeledDoubleRangeSlider] = {}
        self._visible: dict[str, QCheckBox] = {}
        self._base = Thresholds()
        self.iou = QDoubleSpinBox()
        self.iou.setRange(0.05, 0.95)
        self.iou.setSingleStep(0.05)
        self.iou.setDecimals(2)
        self.iou.setToolTip("NMS IoU threshold: boxes of one class overlapping more than this are merged")
        self.iou.valueChanged.connect(self._emit)
        self._building = False

    @property
    def class_names(self) -> tuple[str, ...]:
        return self._names

    def slider(self, name: str) -> QLabeledDoubleRangeSlider:
        return self._sliders[name]

    def visibility(self, name: str) -> QCheckBox:
        return self._visible[name]

    def set_classes(self, names: tuple[str, ...], thresholds: Thresholds) -> None:
        """Rebuild the rows for a model's classes, showing ``thresholds`` (other classes' values are kept)."""
        self._building = True
        try:
            while self._layout.count():
                widget = self._layout.takeAt(0).widget()
                if widget is not None and widget is not self.iou:
                    widget.deleteLater()
            self._names, self._base = tuple(names), thresholds
            self._sliders.clear()
            self._visible.clear()
            explain = (
                "A detection at or above the right handle flags the frame as a defect; between the handles it is "
                "flagged as uncertain and routed to review; below the left handle it is ignored."
            )
            ends = QWidget()  # over the slider: its left value is the uncertain threshold, its right one the flag
            ends_layout = QHBoxLayout(ends)
            ends_layout.setContentsMargins(0, 0, 0, 0)
            ends_layout.addWidget(QLabel("uncertain"))
            ends_layout.addStretch(1)
            ends_layout.addWidget(QLabel("flag"))
            for column, header in enumerate((QLabel("class"), ends)):
                header.setToolTip(explain)
                self._layout.addWidget(header, 0, column)
            for row, name in enumerate(names, start=1):
                check = QCheckBox(name)
                check.setChecked(thresholds.is_visible(name))
                color = qcolor_for_class(row - 1).name()
                check.setStyleSheet(f"QCheckBox {{ border-left: 6px solid {color}; padding-left: 4px; }}")
                check.setToolTip(f"show and flag {name}")
                check.toggled.connect(self._emit)
                slider = QLabeledDoubleRangeSlider(Qt.Orientation.Horizontal)
                slider.setRange(0.0, 1.0)
                slider.setSingleStep(0.01)
                slider.setDecimals(2)
                slider.setHandleLabelPosition(LabelPosition.NoLabel)
                slider.setEdgeLabelMode(EdgeLabelMode.LabelIsValue)  # the ends show (and edit) the two values
                slider.setToolTip(f"{name}: left value uncertain, right value flag")
                slider.setValue((thresholds.uncertain_for(name), thresholds.flag_for(name)))
                slider.valueChanged.connect(self._emit)
                self._layout.addWidget(check, row, 0)
                self._layout.addWidget(slider, row, 1)
                self._visible[name], self._sliders[name] = check, slider
            row = len(names) + 1
            self._layout.addWidget(QLabel("NMS IoU"), row, 0)
            self._layout.addWidget(self.iou, row, 1)
            self.iou.setValue(thresholds.iou)
            guard_wheel(self)  # the rows are new widgets
        finally:
            self._building = False

    def thresholds(self) -> Thresholds:
        flag = dict(self._base.flag)
        uncertain = dict(self._base.uncertain)
        for name, slider in self._sliders.items():
            low, high = slider.value()
            uncertain[name], flag[name] = round(float(low), 4), round(float(high), 4)
        hidden = {name for name, check in self._visible.items() if not check.isChecked()}
        previously_visible = self._base.visible
        if previously_visible is None:
            visible = None if not hidden else frozenset(n for n in self._names if n not in hidden)
        else:  # keep what the saved set says about classes this model does not have
            visible = frozenset((previously_visible - hidden) | {n for n in self._names if n not in hidden})
        return Thresholds(
            flag=flag,
            uncertain=uncertain,
            default_flag=self._base.default_flag,
            default_uncertain=self._base.default_uncertain,
            iou=round(self.iou.value(), 4),
            visible=visible,
        )

    def _emit(self, *_: object) -> None:
        if not self._building:
            self.changed.emit(self.thresholds())
