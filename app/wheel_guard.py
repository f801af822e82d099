"""The mouse wheel scrolls a side panel; it changes a setting only in the control the operator clicked into.

Qt gives the wheel to whatever control is under the pointer, so scrolling a panel full of spin boxes, sliders and
combo boxes edits whichever one passes under it (the store quota went from 2 GB to 0.1 GB that way). Guarded
controls take focus only by click or Tab (``StrongFocus``) and, while they do not have it, pass the wheel on to
the scroll area around them, which scrolls as it would over empty space.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSlider, QAbstractSpinBox, QApplication, QComboBox, QWidget

GUARDED = (QAbstractSpinBox, QAbstractSlider, QComboBox)
_GUARD_PROPERTY = "graceWheelGuarded"


class WheelGuard(QObject):
    """Event filter: a wheel over an unfocused control goes to the enclosing scroll area instead."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, QWidget) or watched.hasFocus():
            return False
        _scroll_instead(watched, event)  # type: ignore[arg-type]
        return True  # the control itself never sees it


def _scroll_instead(control: QWidget, event: QWheelEvent) -> None:
    area = _scroll_area_of(control)
    if area is None:
        return
    viewport = area.viewport()
    position = viewport.mapFromGlobal(event.globalPosition().toPoint())
    forwarded = QWheelEvent(
        QPointF(position),
        event.globalPosition(),
        event.pixelDelta(),
        event.angleDelta(),
        event.buttons(),
        event.modifiers(),
        event.phase(),
        event.inverted(),
        event.source(),
    )
    QApplication.sendEvent(viewport, forwarded)


def _scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent


_guard: WheelGuard | None = None


def guard_wheel(root: QWidget) -> None:
    """Guard every spin box, slider and combo box inside ``root`` (and ``root`` itself). Idempotent: call it again
    after adding controls."""
    global _guard
    if _guard is None:
        _guard = WheelGuard(QApplication.instance())
    controls = [root] if isinstance(root, GUARDED) else []
    for kind in GUARDED:
        controls += root.findChildren(kind)
    for control in controls:
        if control.property(_GUARD_PROPERTY):
            continue
        control.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        control.installEventFilter(_guard)
        control.setProperty(_GUARD_PROPERTY, True)
