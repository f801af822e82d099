"""The live tab's coil side (issue 19): the coil entry, the live coil map, the roll-mark alarm and the golden check,
driven through real widgets (the demo strip and the shipped model where inspection is needed)."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.imaging import qcolor_for_class
from app.workers.inspection import DisplayUpdate
from grace_core.events import DefectEvent
from grace_core.flagging import Thresholds
from grace_core.golden import GOLDEN_CHECK, last_golden_check
from grace_core.inspection import InspectionUpdate, LiveStats
from grace_core.rollmarks import RollMarkDetector
from grace_core.sources.types import SourceState
from grace_core.store import ReviewStore

WAIT_MS = 90_000  # model load + line-scan frames (16 tiles each) on a busy 2-core machine
NEU_DET = ("crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches")


def apply_coil(qtbot, live, coil: str) -> None:
    """Type the coil id as an operator does and press Enter."""
    bar = live.coil_panel.bar
    bar.edit.clear()
    qtbot.keyClicks(bar.edit, coil)
    qtbot.keyClick(bar.edit, Qt.Key.Key_Return)


def painted_class_pixels(widget) -> int:
    """Pixels of the widget painted in one of the six classes' colours (the map's dots)."""
    image = widget.grab().toImage()
    colours = {qcolor_for_class(i).rgb() & 0xFFFFFF for i in range(len(NEU_DET))}
    return sum((image.pixel(x, y) & 0xFFFFFF) in colours for y in range(image.height()) for x in range(image.width()))


def test_a_coil_applied_while_inspecting_is_carried_by_the_sessions_events_and_fills_the_coil_map(qtbot, make_window):
    window = make_window()  # the default source: the demo strip, a line-scan camera that knows metres
    live = window.live
    closed: list[DefectEvent] = []
    live.controller.update.connect(lambda item: closed.extend(item.events))
    live.start()
    qtbot.waitUntil(lambda: live.last_result is not None, timeout=WAIT_MS)
    apply_coil(qtbot, live, "C4711-T")
    assert live.controller.session.coil_clock.coil == "C4711-T"  # applied to the running session at once
    assert live.coil_track.coil == "C4711-T" and live.coil_track.events == 0
    before = len(closed)

    qtbot.waitUntil(lambda: len(live.coil_track.defects) >= 3, timeout=WAIT_MS)
    mine = [e for e in closed[before:] if e.coil == "C4711-T"]
    assert mine, "the session's own events carry the coil applied in the field"
    assert all(e.coil_m is not None and e.coil_m >= 0 for e in mine)
    map_view = live.coil_panel.map_view
    map_view.flush()
    coil_map = map_view.coil_map
    assert coil_map.coil == "C4711-T" and len(coil_map.defects) >= 3
    assert {d.event for d in coil_map.defects} <= {e.id for e in mine}  # every dot is one of its events, once
    assert len({d.event for d in coil_map.defects}) == len(coil_map.defects)
    position = live.coil_track.position_m
    assert position is not None and all(d.coil_m <= position + 0.5 for d in coil_map.defects)  # where the strip is
    assert all(d.across_mm is not None and 0 <= d.across_mm <= 300 for d in coil_map.defects)  # a 300 mm strip
    assert painted_class_pixels(map_view) > 0, "the dots are painted in the classes' colours"
    text = live.coil_panel.bar.position.text()
    assert text.startswith("C4711-T · ") and " m · " in text and "event" in text

    apply_coil(qtbot, live, "C4712-T")  # the next coil: its map starts empty
    assert live.coil_track.coil == "C4712-T" and map_view.coil_map is None
    assert all(d.coil == "C4712-T" for d in live.coil_track.defects)
    assert painted_class_pixels(map_view) == 0

    live.start()  # a restart keeps the coil applied
    assert live.controller.session.coil_clock.coil == "C4712-T"
    live.stop()


def _status_update(item_roll_marks=(), coil: str | None = None) -> DisplayUpdate:
    stats = LiveStats(frames=1, fps=0.0, latency_p50_ms=None, latency_p95_ms=None, dropped=0, flagged=0, saving=None)
    update = InspectionUpdate(SourceState.LIVE, 0.0, stats, None)
    return DisplayUpdate(update, None, None, roll_marks=tuple(item_roll_marks), coil=coil)


def _roll_mark_alarm(coil: str, pitch: float = 0.8):
    """The real detector, fed scratches every ``pitch`` metres on ``coil``: the alarm it raises."""
    detector = RollMarkDetector()
    for turn in range(12):
        event = DefectEvent(
            id=uuid.uuid4().hex[:12], class_id=5, class_name="scratches", status="defect", confidence=0.9,
            box=(0, 0, 1, 1), first_seen=1000.0 + turn, last_seen=1000.0 + turn, sightings=1, source_id="demo",
            coil=coil, coil_m=2.0 + turn * pitch + 0.01 * ((turn * 7) % 3 - 1),  # a little jitter, as real ones have
        )  # fmt: skip
        alarm = detector.add(event)
        if alarm is not None:
            return alarm
    raise AssertionError("the detector raised no roll-mark alarm")


def test_a_roll_mark_raises_the_alarm_once_naming_class_pitch_diameter_and_coil(qtbot, make_window, tmp_path):
    root = tmp_path / "review"
    window = make_window(store_root=root)
    live = window.live
    apply_coil(qtbot, live, "C9")
    found = _roll_mark_alarm("C9")
    raised: list = []
    live.alarm.raised.connect(raised.append)

    live.controller.update.emit(_status_update([found], "C9"))  # what the worker delivers
    assert live.alarm.active and len(raised) == 1 and live.alarm.sounds == 1
    strip = window.live.glance.alarm_strip
    text = strip.text.text()
    assert "ROLL MARK" in text and "scratches" in text and "C9" in text
    assert f"{found.mark.pitch_m:.3f} m" in text and f"Ø {found.mark.diameter_m:.3f} m" in text
    assert abs(found.mark.pitch_m - 0.8) < 0.02
    assert live.banner.isVisible() and "Check that roll" in live.banner.text()
    assert f"{found.mark.diameter_m * 1000:.0f} mm diameter" in live.banner.text()
    assert live.coil_panel.map_view.marks and live.coil_panel.map_view.marks[0].class_name == "scratches"

    for _ in range(3):  # the same alarm delivered again (or frames without one): not raised again
        live.controller.update.emit(_status_update([found], "C9"))
        live.controller.update.emit(_status_update((), "C9"))
    assert len(raised) == 1 and live.alarm.sounds == 1 and len(live.alarm.roll_marks) == 1

    assert live.acknowledge_alarm()
    with ReviewStore.open(root) as store:
        row = store.audit_log(limit=1, action="alarm_acknowledged")[0]
    assert row.details["hits"][0]["roll_mark"]["class"] == "scratches"
    assert row.details["hits"][0]["roll_mark"]["coil"] == "C9"
    live.controller.update.emit(_status_update([found], "C9"))
    assert not live.alarm.active and len(raised) == 1  # acknowledged: that roll mark does not alarm again
    assert "Check that roll" not in live.banner.text()


def test_run_golden_check_records_it_and_shows_pass_then_a_failure_in_red(qtbot, make_window, tmp_path):
    root = tmp_path / "review"
    window = make_window(store_root=root)
    live = window.live
    golden = live.coil_panel.golden
    qtbot.waitUntil(lambda: "never run" in golden.label.text(), timeout=WAIT_MS)
    assert last_golden_check(root) is None

    golden.run_button.click()
    assert not golden.run_button.isEnabled() and "running" in golden.label.text()
    qtbot.waitUntil(lambda: golden.run_button.isEnabled(), timeout=WAIT_MS)
    assert golden.level == "pass" and golden.label.text().startswith("Golden check passed"), golden.label.text()
    last = last_golden_check(root)
    assert last is not None and last.passed
    assert last.detail["model"].endswith("grace-neu-det.onnx") and last.detail["backend"] == "onnxruntime"
    assert last.detail["thresholds"] == live.settings.thresholds_value().to_dict()  # the live thresholds

    live.set_thresholds(Thresholds(default_uncertain=0.25, default_flag=1.0))  # no known defect is a defect now
    golden.run_button.click()
    qtbot.waitUntil(lambda: golden.run_button.isEnabled(), timeout=WAIT_MS)
    assert golden.level == "fail" and "FAILED" in golden.label.text()
    assert "reach the flag threshold" in golden.label.text()  # the reason, in words
    assert "#b3261e" in golden.label.styleSheet()  # red
    with ReviewStore.open(root) as store:
        rows = store.audit_log(limit=10, action=GOLDEN_CHECK)
    assert [r.details["passed"] for r in rows] == [False, True]  # both recorded, newest first

    live.refresh_golden()  # what the store says now (as the tab re-reads it): the failure, still red
    qtbot.waitUntil(lambda: not any(j.running for j in live._oneshots), timeout=WAIT_MS)
    QApplication.processEvents()
    assert golden.level == "fail"


def test_the_live_tabs_saved_frames_carry_the_coil_and_where_on_it_they_lie(tmp_path):
    """The live tab saves through its FlagSaver (not the session's writer): the frame's coil goes with it."""
    from helpers.central_station import flagged

    from app.workers.flag_saver import FlagSaver
    from grace_core.inspection import FrameResult

    root = tmp_path / "review"
    saver = FlagSaver(lambda: ReviewStore.open(root))
    try:
        for index, metres in ((0, 4.5), (1, None)):
            frame, decision, prediction, info, thresholds = flagged(index, "line-1")
            result = FrameResult(frame, prediction, decision, thresholds, False, coil="C4711-T", coil_m=metres)
            assert saver.offer(result, info)
    finally:
        assert saver.close(timeout=30)
    with ReviewStore.open(root) as store:
        rows = sorted(store.list_frames(), key=lambda r: r.frame_index)
    assert [(r.coil, r.coil_m) for r in rows] == [("C4711-T", 4.5), ("C4711-T", None)]
