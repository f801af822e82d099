"""Find cameras lists GenICam cameras (model and serial) found through pylon, and choosing one inspects it: the live
tab against pylon's camera emulator. Only the emulator's transport layer is asked (no GigE discovery)."""

from __future__ import annotations

import functools

import pytest

pytest.importorskip(
    "pypylon.pylon",
    reason="!!! pypylon cannot be imported: the GenICam Find-cameras test did NOT run; pip install -e '.[dev]' !!!",
)

WAIT_MS = 60_000  # model load + first frames on a busy 2-core CI machine
EMU = "BaslerCamEmu"


def test_find_cameras_lists_genicam_cameras_and_one_can_be_inspected(qtbot, make_window, monkeypatch):
    import app.live.live_tab as live_tab
    import grace_core.sources as sources
    from grace_core.devices import probe_cameras
    from grace_core.sources import GenICamSource

    monkeypatch.setenv("PYLON_CAMEMU", "2")
    monkeypatch.setattr(live_tab, "probe_cameras", functools.partial(probe_cameras, genicam_device_class=EMU))
    real_open, opened = sources.open_source, []

    def emulator_only(spec, **options):
        source = real_open(spec, **({"device_class": EMU} if str(spec).startswith("genicam:") else {}), **options)
        opened.append(source)
        return source

    monkeypatch.setattr(sources, "open_source", emulator_only)
    window = make_window()
    live = window.live
    picker = live.source_picker

    qtbot.mouseClick(live.cameras_button, _left())
    qtbot.waitUntil(lambda: live.cameras_button.isEnabled(), timeout=WAIT_MS)
    specs = [picker.itemData(index) for index in range(picker.count())]
    assert "genicam:0815-0000" in specs and "genicam:0815-0001" in specs
    found = live.cameras_button.text()
    assert found.startswith("Find cameras (") and int(found.split("(")[1].split()[0]) >= 2
    entry = picker.findData("genicam:0815-0001")
    assert picker.itemText(entry) == "GenICam Basler Emulation (0815-0001)"

    picker.setCurrentIndex(entry)
    picker.activated.emit(entry)  # what choosing the entry does
    qtbot.waitUntil(lambda: live.last_result is not None and live.view.has_frame, timeout=WAIT_MS)
    camera = [source for source in opened if isinstance(source, GenICamSource)]
    assert camera and camera[-1].serial == "0815-0001" and camera[-1].stats()["frames"] >= 1
    assert live.settings.source == "genicam:0815-0001"  # remembered as the spec, reopened next start
    live.controller.stop()


def test_a_setting_the_camera_refuses_shows_its_reason_in_the_banner(qtbot, make_window, monkeypatch):
    import grace_core.sources as sources

    monkeypatch.setenv("PYLON_CAMEMU", "1")
    real_open = sources.open_source

    def misconfigured(spec, **options):
        return real_open(spec, device_class=EMU, pixel_format="Mono99", **options)

    monkeypatch.setattr(sources, "open_source", misconfigured)
    live = make_window().live
    live.open_source("genicam:0815-0000")
    qtbot.waitUntil(lambda: "Mono99" in live.banner.text(), timeout=WAIT_MS)
    banner = live.banner.text()
    assert "GenICam Basler Emulation (0815-0000): pixel format 'Mono99' is not offered by this camera" in banner
    assert live.banner.level == "error"
    live.controller.stop()


def _left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton
