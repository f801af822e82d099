"""What the operator reads at a glance: the OK / NG / UNCERTAIN verdict, the alarm (sound, mute, acknowledge, audit),
the heatmap legend in words, and flagged frames saved once per unchanged scene. Real widgets; the shipped model."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.live.alarm import ALARM_ACKNOWLEDGED, ALARM_SOUND_MUTED, Alarm, AlarmHit, AlarmThresholds
from grace_core.store import ReviewStore

WAIT_MS = 60_000


def set_all_thresholds(live, uncertain: float, flag: float) -> None:
    for name in live.thresholds_panel.class_names:
        live.thresholds_panel.slider(name).setValue((uncertain, flag))


def test_the_verdict_follows_the_decision_on_screen(qtbot, make_window):
    window = make_window()
    live = window.live
    assert live.verdict.text() == "—"  # no frame yet
    live.start()
    qtbot.waitUntil(lambda: len(live.view.boxes) > 0, timeout=WAIT_MS)
    live.set_paused(True)
    qtbot.waitUntil(lambda: live.last_result is not None and live.decision is not None, timeout=WAIT_MS)
    set_all_thresholds(live, 0.99, 1.0)
    assert live.decision.status == "clear" and live.verdict.text() == "OK" and "#1e7d32" in live.verdict.styleSheet()
    set_all_thresholds(live, 0.01, 1.0)
    assert live.decision.status == "uncertain" and live.verdict.text() == "UNCERTAIN"
    set_all_thresholds(live, 0.01, 0.02)
    assert live.decision.status == "defect" and live.verdict.text() == "NG" and "#b3261e" in live.verdict.styleSheet()
    live.stop()
    assert live.verdict.text() == "NOT LIVE"  # a verdict over a picture nobody is inspecting would mislead


def test_an_alarm_sounds_until_acknowledged_can_be_muted_and_is_audited(qtbot, make_window, tmp_path):
    root = tmp_path / "store"
    window = make_window(store_root=root)
    live = window.live
    with qtbot.waitSignal(live.alarm.sounded, timeout=WAIT_MS):  # the demo strip has defects: default = flag
        live.start()
    live.set_paused(True)
    assert live.alarm.active and live.glance.alarm_strip.isVisible() and live.glance.alarm_strip.flashing
    assert "ALARM" in live.glance.alarm_strip.text.text() and window.alarm_label.isVisible()
    assert live.alarm.hits[0].score >= live.settings.thresholds_value().flag_for(live.alarm.hits[0].class_name)

    window.mute_action.trigger()  # Ctrl+M (or the sound button above the picture)
    assert live.alarm.muted and live.glance.sound_button.isChecked() and live.settings.alarm_muted
    sounds = live.alarm.sounds
    with qtbot.assertNotEmitted(live.alarm.sounded):
        live.alarm._timer.timeout.emit()  # the repeat timer fires: muted, no sound
    assert live.alarm.sounds == sounds and live.alarm.active  # the visual alarm stays

    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    with qtbot.waitSignal(live.alarm.acknowledged, timeout=5_000):
        qtbot.keyClick(window, Qt.Key.Key_F8)
    assert not live.alarm.active and not live.glance.alarm_strip.isVisible() and not window.alarm_label.isVisible()
    live.stop()
    with ReviewStore.open(root) as store:
        log = {row.action: row for row in store.audit_log(limit=20)}
    assert ALARM_ACKNOWLEDGED in log and ALARM_SOUND_MUTED in log
    details = log[ALARM_ACKNOWLEDGED].details
    assert details["hits"] and details["hits"][0]["class"] in live.engine_info.class_names
    assert details["muted"] is True and details["seconds_to_acknowledge"] >= 0 and details["model"]


NEU_DET = ("crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches")


def test_alarm_thresholds_above_the_flag_threshold_keep_it_quiet(qtbot, make_window):
    window = make_window(alarm={name: 1.0 for name in NEU_DET})  # only a certain defect would alarm
    live = window.live
    live.start()
    qtbot.waitUntil(lambda: live.engine_info is not None, timeout=WAIT_MS)
    assert live.alarm_panel.box("scratches").value() == 1.0 and "6 above flag" in live.sections["alarm"].header.text()
    qtbot.waitUntil(lambda: live.last_result is not None and live.last_result.frame.index >= 8, timeout=WAIT_MS)
    assert not live.alarm.active and len(live.view.boxes) > 0  # defects on screen, no alarm
    live.alarm_panel.box("scratches").setValue(0.0)  # back to "= flag"
    assert live.settings.alarm == {name: 1.0 for name in NEU_DET if name != "scratches"}


def hit(x: float, score: float = 0.9, source: str = "camera:0", t: float = 100.0) -> AlarmHit:
    return AlarmHit(2, "scratches", score, (x, 10.0, x + 40.0, 60.0), source, 1, t)


def test_the_alarm_is_raised_once_acknowledged_once_and_not_re_raised_by_the_same_defect(qtbot):
    alarm = Alarm()
    with qtbot.waitSignal(alarm.raised), qtbot.waitSignal(alarm.sounded):
        assert alarm.offer((hit(10),))
    assert not alarm.offer((hit(11, 0.95),)) and alarm.frames == 2 and alarm.hits[0].score == 0.95
    details = alarm.acknowledge()
    assert details["frames"] == 2 and details["hits"][0]["score"] == 0.95 and not alarm.active
    assert alarm.acknowledge() is None
    assert not alarm.offer((hit(12, t=101.0),)) and not alarm.active  # the same defect, still in view
    assert alarm.offer((hit(300, t=102.0),)) and alarm.active  # a new one
    alarm.acknowledge()
    alarm.set_muted(True)
    with qtbot.assertNotEmitted(alarm.sounded):
        assert alarm.offer((hit(600, t=103.0),))  # raised and shown, silently
    assert AlarmThresholds().for_class("scratches", 0.5) == 0.5


def test_the_legend_speaks_of_attention_not_numbers(qtbot, make_window):
    live = make_window().live
    live.legend.set_range((6.164, 15.94))
    strong, none = live.legend.labels()
    assert (strong, none) == ("strong", "none") and not re.search(r"\d", strong + none)
    assert "6.164" in live.legend.toolTip() and "15.94" in live.legend.toolTip()  # numbers only on demand
    assert live.legend.isVisible()  # above the picture, not folded away in the side panel


def static_scene(tmp_path: Path, copies: int) -> Path:
    """A folder of the same steel image ``copies`` times: a camera looking at a line that has stopped."""
    folder = tmp_path / "static"
    folder.mkdir()
    image = cv2.imread(str(sorted(Path("resources/demo").glob("scratches_*.jpg"))[0]))
    for i in range(copies):
        cv2.imwrite(str(folder / f"{i:03d}.png"), image)
    return folder


@pytest.mark.parametrize(("window_s", "saved"), [(30.0, 1), (0.0, 6)])
def test_an_unchanged_scene_is_saved_once_not_once_per_frame(qtbot, make_window, tmp_path, window_s, saved):
    root = tmp_path / "store"
    window = make_window(store_root=root, source=str(static_scene(tmp_path, 6)), repeat_window_s=window_s)
    live = window.live
    assert live.repeat_window.value() == window_s
    set_all_thresholds(live, 0.01, 0.02)  # before the classes are known: applied once the model has loaded
    live.settings.thresholds = {"default_flag": 0.02, "default_uncertain": 0.01}
    live.start()
    with qtbot.waitSignal(live.controller.stopped, timeout=WAIT_MS):  # after the last save is counted
        qtbot.waitUntil(lambda: "ended" in live.banner.text(), timeout=WAIT_MS)
    text = live.status.flagged.text()
    assert text.startswith(f"6 flagged, {saved} saved"), text
    assert ("5 repeats of an unchanged scene not saved" in text) == (saved == 1)
    with ReviewStore.open(root) as store:
        assert store.count() == saved
