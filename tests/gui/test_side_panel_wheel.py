"""The mouse wheel over the side panels scrolls them; it changes a setting only in a control the operator clicked into.

Real QWheelEvents are sent to the controls, as Qt delivers them to the widget under the pointer.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QWidget

from grace_core.flagging import Thresholds

NEU_DET = ("crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches")
DOWN, UP = -120, 120  # one notch of a mouse wheel (angle delta, eighths of a degree)


def wheel(widget: QWidget, delta: int = DOWN) -> None:
    """One wheel notch with the pointer over the middle of ``widget``."""
    local = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(
        local,
        QPointF(widget.mapToGlobal(local.toPoint())),
        QPoint(),
        QPoint(0, delta),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def live_window(qtbot, make_window):
    """A window small enough for the live side panel (with a model's six threshold rows) to scroll."""
    window = make_window()
    window.resize(1000, 420)
    live = window.live
    live.thresholds_panel.set_classes(NEU_DET, Thresholds())
    qtbot.waitUntil(lambda: live.side_scroll.verticalScrollBar().maximum() > 0, timeout=5_000)
    return window, live


def test_the_wheel_over_unfocused_controls_scrolls_the_panel_and_changes_nothing(qtbot, make_window):
    _, live = live_window(qtbot, make_window)
    bar = live.side_scroll.verticalScrollBar()
    slider = live.thresholds_panel.slider("scratches")
    range_slider = slider._slider  # the two-handle slider itself: the wheel lands on it, not on its frame
    before = {
        "quota": live.quota.value(),
        "opacity": live.opacity.value(),
        "scratches": slider.value(),
        "iou": live.thresholds_panel.iou.value(),
        "backend": live.backend.currentText(),
        "source": live.source_picker.currentIndex(),
    }
    for control in (live.quota, live.opacity, range_slider, live.thresholds_panel.iou, live.backend):
        live.side_scroll.ensureWidgetVisible(control, 0, 0)
        scrolled = bar.value()
        wheel(control, DOWN)
        assert bar.value() > scrolled or bar.value() == bar.maximum(), f"the panel did not scroll over {control}"
    wheel(live.source_picker, UP)
    after = {
        "quota": live.quota.value(),
        "opacity": live.opacity.value(),
        "scratches": slider.value(),
        "iou": live.thresholds_panel.iou.value(),
        "backend": live.backend.currentText(),
        "source": live.source_picker.currentIndex(),
    }
    assert after == before
    assert live.settings.quota_gb == 2.0 and live.settings.thresholds_value() == Thresholds()


def test_the_wheel_changes_a_control_the_operator_clicked_into(qtbot, make_window):
    window, live = live_window(qtbot, make_window)
    window.activateWindow()
    live.side_scroll.ensureWidgetVisible(live.quota)
    qtbot.mouseClick(live.quota, Qt.MouseButton.LeftButton)  # a click gives it focus (StrongFocus)
    qtbot.waitUntil(live.quota.hasFocus, timeout=5_000)
    bar = live.side_scroll.verticalScrollBar()
    scrolled = bar.value()
    wheel(live.quota, UP)
    assert live.quota.value() == 3.0 and bar.value() == scrolled  # the box took the wheel, the panel stayed put
    assert live.settings.quota_gb == 2.0 and live.quota_apply.isEnabled()  # shown, not used until Apply


def test_the_training_form_scrolls_under_the_wheel_too(qtbot, make_window):
    window = make_window()
    window.resize(1000, 420)
    tab = window.training
    window.tabs.setCurrentWidget(tab)
    epochs = tab.settings_panel.epochs
    scroll = tab.main_splitter.widget(0)
    qtbot.waitUntil(lambda: scroll.verticalScrollBar().maximum() > 0, timeout=5_000)
    scroll.ensureWidgetVisible(epochs, 0, 0)
    value, scrolled = epochs.value(), scroll.verticalScrollBar().value()
    wheel(epochs, DOWN)
    assert epochs.value() == value
    assert scroll.verticalScrollBar().value() > scrolled or scrolled == scroll.verticalScrollBar().maximum()
