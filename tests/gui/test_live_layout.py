"""The live tab at the default window size, its shortcuts, full screen, the dark theme and Help → About."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from app.settings import load_live_settings
from app.theme import apply_theme
from grace_core import __version__
from grace_core.detections import Detections
from grace_core.flagging import Thresholds, decide

NEU_DET = ("crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches")
WAIT_MS = 60_000


def filled_window(make_window):
    """A 1400×900 window whose side panel shows a six-class model and long, real-looking readouts."""
    window = make_window()
    window.resize(1400, 900)
    live = window.live
    live.thresholds_panel.set_classes(NEU_DET, Thresholds())
    live.alarm_panel.set_classes(NEU_DET, live._alarm_value())
    live.status.show_model("grace-neu-det.onnx@6d6aab5669cc on onnxruntime")
    live.status.flagged.setText("1234 flagged, 1200 saved, 34 repeats of an unchanged scene not saved")
    live.status.storage.setText("1843.2 MB of 2.0 GB")
    live.status.quota_forecast.setText("quota lasts ≈ 6 h at the current rate (12 saved/min)")
    live.status.picture.setText("8192 × 1024 px, sliced into 84 tiles")
    QApplication.processEvents()
    return window, live


def test_at_1400_by_900_the_side_panel_shows_source_status_and_thresholds_without_scrolling(qtbot, make_window):
    _, live = filled_window(make_window)
    viewport = live.side_scroll.viewport()
    assert live.side_scroll.horizontalScrollBar().maximum() == 0
    assert live.side_scroll.widget().minimumSizeHint().width() <= viewport.width(), "nothing cut off at the side"
    assert live.side_scroll.verticalScrollBar().value() == 0
    for name in ("source", "status", "thresholds", "picture"):
        section = live.sections[name]
        assert section.expanded
        bottom = section.mapTo(viewport, QPoint(0, section.height())).y()
        assert bottom <= viewport.height(), f"the {name} section runs off the screen"
    slider = live.thresholds_panel.slider("scratches")
    assert slider.mapTo(viewport, QPoint(0, slider.height())).y() <= viewport.height()
    assert not live.sections["model"].expanded and "shipped model" in live.sections["model"].header.text()


def test_folded_sections_are_remembered(qtbot, make_window):
    window, live = filled_window(make_window)
    live.sections["thresholds"].header.click()
    live.sections["model"].header.click()
    assert not live.sections["thresholds"].frame.isVisible() and live.sections["model"].expanded
    window.close()
    restored = load_live_settings()
    assert restored.sections["thresholds"] is False and restored.sections["model"] is True
    again = make_window(**vars(restored)).live
    assert not again.sections["thresholds"].expanded and again.sections["model"].expanded


def test_the_detections_table_shows_whole_class_names_and_the_trend_legend_sits_beside_its_plot(qtbot, make_window):
    _, live = filled_window(make_window)
    boxes = Detections(np.array([[10, 10, 90, 90], [100, 10, 180, 90]], np.float32), [0.9, 0.4], [4, 1])
    live.table.show_decision(decide(boxes, NEU_DET, Thresholds()), NEU_DET)
    QApplication.processEvents()
    metrics = live.table.fontMetrics()
    assert live.table.columnWidth(0) >= metrics.horizontalAdvance("rolled-in_scale") + 16  # + the colour swatch
    assert [row[0] for row in live.table.row_values()] == ["rolled-in_scale", "inclusion"]
    live.trend.set_classes(NEU_DET)
    QApplication.processEvents()
    assert live.trend.legend.isVisible()
    assert not live.trend.legend.geometry().intersects(live.trend.plot.geometry())  # never over the lines


def test_f11_space_and_ctrl_q(qtbot, make_window):
    window = make_window()
    live = window.live
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    qtbot.keyClick(window, Qt.Key.Key_F11)
    qtbot.waitUntil(window.isFullScreen, timeout=5_000)
    assert window.fullscreen_action.isChecked()
    qtbot.keyClick(window, Qt.Key.Key_F11)
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=5_000)

    assert not window.pause_action.isEnabled()  # nothing inspects yet: Space does nothing
    live.start()
    qtbot.waitUntil(lambda: live.last_result is not None, timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert live.pause_button.isChecked() and live.controller.session.paused
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not live.pause_button.isChecked() and not live.controller.session.paused
    window.tabs.setCurrentWidget(window.review)
    assert not window.pause_action.isEnabled() and not window.start_action.isEnabled()  # Space is the review's
    window.tabs.setCurrentWidget(live)
    assert window.pause_action.isEnabled()

    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)
    assert not live.controller.running


def test_the_dark_theme_is_chosen_in_the_view_menu_and_remembered(qtbot, make_window):
    app = QApplication.instance()
    try:
        window = make_window()
        light = app.palette().window().color().lightness()
        window.dark_action.trigger()
        assert window.settings.dark_theme and app.palette().window().color().lightness() < 60 < light
        window.close()
        restored = load_live_settings()
        assert restored.dark_theme
        again = make_window(**vars(restored))
        assert again.dark_action.isChecked() and app.palette().window().color().lightness() < 60
        again.dark_action.trigger()
        assert app.palette().window().color().lightness() == light and not again.settings.dark_theme
    finally:
        apply_theme(app, False)  # the QApplication outlives this test


def test_help_about_names_the_version_the_model_and_the_licence(qtbot, make_window):
    window = make_window()
    box = window.show_about()
    try:
        text = box.text()
        assert __version__ in text and "AGPL-3.0-or-later" in text and "shipped" in text
    finally:
        box.close()
    shortcuts = window.show_shortcuts()
    try:
        assert all(key in shortcuts.text() for key in ("F11", "Space", "F8", "Ctrl+Q"))
    finally:
        shortcuts.close()
