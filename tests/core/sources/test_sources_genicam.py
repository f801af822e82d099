"""The GenICam source against pylon's own camera emulator (``PYLON_CAMEMU``): the real pypylon stack end to end —
enumeration, open by serial, node-map settings, grabbing, pixel-format conversion, software trigger, device removal
(pylon's removal callback), reconnect, staleness, close. Only pylon's emulator transport layer is used
(``device_class="BaslerCamEmu"``), so no GigE discovery leaves the machine."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from grace_core.devices import probe_cameras
from grace_core.errors import SourceError
from grace_core.sources import GenICamCamera, GenICamSource, SourceState, list_genicam_cameras, open_source

try:
    import pypylon.pylon  # noqa: F401

    PYLON_ERROR = ""
except ImportError as error:  # pragma: no cover - the dev extra installs pypylon
    PYLON_ERROR = str(error)

pytestmark = pytest.mark.skipif(
    bool(PYLON_ERROR),
    reason=f"!!! pypylon cannot be imported ({PYLON_ERROR}): the GenICam emulator tests did NOT run; "
    "install the dev extra (pip install -e '.[dev]') !!!",
)

S = SourceState
EMU = "BaslerCamEmu"
N_EMULATED = 2
FIRST, SECOND = "0815-0000", "0815-0001"  # the emulator's serials
SIZE = (1024, 1040)  # the emulator's default Mono8 picture (w, h)


def reader_threads(source: GenICamSource) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"grace-source-reader[{source.source_id}]"]


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Two emulated cameras (pylon reads PYLON_CAMEMU at every enumeration, so this works after import too)."""
    monkeypatch.setenv("PYLON_CAMEMU", str(N_EMULATED))
    return [camera.serial for camera in list_genicam_cameras(EMU)]


@pytest.fixture
def genicam(emulator):
    """Make GenICamSources on the emulator with fast backoff; all are closed at teardown."""
    made: list[GenICamSource] = []

    def make(serial: str | None = FIRST, **options) -> GenICamSource:
        options = {"device_class": EMU, "backoff_initial": 0.02, "backoff_max": 0.1, **options}
        source = GenICamSource(serial, **options)
        made.append(source)
        return source

    yield make
    for source in made:
        source.close()


def removed(source: GenICamSource) -> None:
    """What pylon does when a camera is unplugged: fire the device-removal callback (the emulator's own command)."""
    source.capture.camera.FirePnPCallback.Execute()


def test_the_emulator_lists_its_cameras(emulator):
    assert emulator == [FIRST, SECOND]
    cameras = list_genicam_cameras(EMU)
    assert cameras[0] == GenICamCamera(serial=FIRST, model="Emulation", vendor="Basler", device_class=EMU)
    assert cameras[0].spec == "genicam:0815-0000"
    assert cameras[0].label == "GenICam Basler Emulation (0815-0000)"


def test_connects_and_grabs_bgr_frames_with_the_cameras_meta(genicam, until):
    source = genicam(SECOND)
    frames = [source.read(timeout=5) for _ in range(3)]
    assert all(frame is not None for frame in frames)
    image = frames[0].image
    assert image.shape == (SIZE[1], SIZE[0], 3) and image.dtype == np.uint8 and image.flags.c_contiguous
    assert np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 1], image[..., 2])  # Mono8
    assert source.state is S.LIVE and source.info.size == SIZE and source.info.live
    assert source.info.fps == 100.0  # the emulator's ResultingFrameRate
    assert source.source_id == "genicam:0815-0001" and frames[0].source_id == "genicam:0815-0001"
    assert source.info.description == "GenICam Basler Emulation (0815-0001)"
    meta = frames[-1].meta
    assert meta["serial"] == SECOND and meta["pixel_format"] == "Mono8"
    assert {"block_id", "image_number", "skipped_images"} <= set(meta)
    numbers = [frame.meta["image_number"] for frame in frames]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3  # pylon's count: gaps are camera-side drops
    assert source.camera == GenICamCamera(serial=SECOND, model="Emulation", vendor="Basler", device_class=EMU)


def test_settings_are_written_and_read_back(genicam):
    features = {"AcquisitionFrameRateEnable": True, "AcquisitionFrameRate": 20.0}  # any node, by name, in order
    source = genicam(exposure_us=2500, gain=6.0, pixel_format="Mono8", features=features)
    assert source.read(timeout=5) is not None
    applied = source.camera_settings
    assert applied["exposure_us"] == pytest.approx(2500, abs=1)
    assert applied["gain"] == pytest.approx(6.0, abs=0.01)
    assert applied["pixel_format"] == "Mono8" and applied["trigger"] == "free-run"
    assert (applied["width"], applied["height"]) == SIZE
    assert applied["frame_rate"] == pytest.approx(20.0) and source.info.fps == pytest.approx(20.0)


@pytest.mark.parametrize("pixel_format", ["BayerRG8", "BayerBG12", "Mono12", "RGB8Packed"])
def test_every_pixel_format_arrives_as_bgr_uint8(genicam, pixel_format):
    source = genicam(pixel_format=pixel_format)
    frame = source.read(timeout=5)
    assert frame is not None and frame.meta["pixel_format"] == pixel_format
    assert frame.image.shape == (SIZE[1], SIZE[0], 3) and frame.image.dtype == np.uint8
    assert 100 < frame.image.mean() < 155  # the emulator's ramp (mean 127.5): high bits kept, not clipped
    if pixel_format.startswith("Bayer"):  # demosaiced: colour planes differ (a grey copy would be equal)
        assert not np.array_equal(frame.image[..., 0], frame.image[..., 1])


def test_software_trigger_takes_one_picture_per_trigger_and_goes_stale_between(genicam, until):
    source = genicam(trigger="software", stale_after=0.3)
    assert until(lambda: source.capture is not None and source.camera_settings.get("trigger") == "software")
    assert source.read(timeout=0.4) is None  # no trigger, no frame; and no reconnect for the quiet line
    assert source.stats()["reconnects"] == 0 and source.state is S.CONNECTING
    numbers = []
    for _ in range(3):
        assert source.trigger_software()
        frame = source.read(timeout=5)
        assert frame is not None
        numbers.append(frame.meta["image_number"])
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]
    assert source.state is S.LIVE
    assert until(lambda: source.state is S.STALE)  # nothing since the last trigger
    assert source.read(timeout=0.2) is None and source.stats()["frames"] == 3


def test_a_hardware_line_trigger_waits_without_reconnecting(genicam, until):
    source = genicam(trigger="hardware", trigger_activation="RisingEdge")
    assert until(lambda: source.camera_settings.get("trigger") == "Line1")
    assert source.grab_timeout is None  # a quiet line is not a lost camera
    assert not source.trigger_software()  # not in software mode
    assert source.read(timeout=0.5) is None
    assert source.stats()["reconnects"] == 0 and source.stats()["frames"] == 0


def test_a_removed_camera_reconnects_and_delivers_again(genicam, until):
    source = genicam()
    assert source.read(timeout=5) is not None
    first = source.capture
    removed(source)
    assert until(lambda: source.stats()["reconnects"] >= 1)
    assert first.closed and not first.camera.IsPylonDeviceAttached()  # the old pylon device was destroyed
    assert until(lambda: source.capture is not first and source.state is S.LIVE)
    source.read(timeout=0)  # drop a frame captured before the removal
    assert source.read(timeout=5) is not None


def test_a_camera_gone_for_a_while_is_waited_for_then_resumes(genicam, until, monkeypatch):
    source = genicam()
    assert source.read(timeout=5) is not None
    monkeypatch.setenv("PYLON_CAMEMU", "0")  # unplugged: the emulator lists no camera
    removed(source)
    assert until(lambda: source.stats()["reconnects"] >= 3)
    assert source.state is S.RECONNECTING and source.got_frames
    assert "no GenICam camera with serial 0815-0000 is visible" in source.hint
    monkeypatch.setenv("PYLON_CAMEMU", "1")  # plugged back in
    assert until(lambda: source.state is S.LIVE)
    source.read(timeout=0)
    assert source.read(timeout=5) is not None


def test_a_camera_that_stays_away_fails_with_connection_lost(genicam, until, monkeypatch):
    source = genicam(max_reconnects=2)
    assert source.read(timeout=5) is not None
    monkeypatch.setenv("PYLON_CAMEMU", "0")
    removed(source)
    assert until(lambda: source.state is S.FAILED)
    with pytest.raises(SourceError, match="connection lost") as error:
        for _ in range(2):  # a frame captured before the removal may still be delivered first
            source.read(timeout=1)
    message = str(error.value)
    assert "GenICam Basler Emulation (0815-0000)" in message and "serial 0815-0000 is visible" in message


def test_an_unknown_serial_cannot_connect_and_says_what_is_there(genicam, until):
    source = genicam("12345678", max_reconnects=1)
    assert until(lambda: source.state is S.FAILED)
    with pytest.raises(SourceError) as error:
        source.read(timeout=1)
    message = str(error.value)
    assert message.startswith("GenICam camera 12345678: cannot connect")
    assert "no GenICam camera with serial 12345678 is visible (found: 0815-0000 (Basler Emulation)" in message
    assert not source.got_frames


def test_a_camera_pylon_cannot_open_is_retried_with_pylons_reason(genicam, until, monkeypatch):
    from grace_core.sources import genicam as module

    def in_use(*args, **kwargs):
        raise RuntimeError("The device is controlled by another application. : RuntimeException thrown (file 'x.cpp')")

    monkeypatch.setattr(module.PylonCapture, "open", in_use)
    source = genicam()
    assert until(lambda: source.stats()["reconnects"] >= 2)
    assert source.state is S.RECONNECTING and not source.got_frames
    assert source.hint.endswith("pylon says: The device is controlled by another application.")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"pixel_format": "Mono99"}, "pixel format 'Mono99' is not offered by this camera; it offers Mono8, Mono10"),
        ({"gain": 1000.0}, "gain 1000 dB is outside what this camera allows (0 to 48 dB)"),
        ({"exposure_us": 5e7}, "exposure 5e+07 µs is outside what this camera allows (1 to 1e+07 µs)"),
        ({"trigger": "Line9"}, "trigger source 'Line9' is not offered by this camera"),
        ({"features": {"NoSuchNode": 1}}, "this camera has no node 'NoSuchNode'"),
    ],
)
def test_a_setting_the_camera_refuses_fails_for_good_with_the_reason(genicam, until, options, expected):
    source = genicam(**options)
    assert until(lambda: source.state is S.FAILED)
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"^GenICam Basler Emulation \(0815-0000\): ") as error:
        source.read(timeout=5)
    assert time.monotonic() - started < 1  # FAILED wakes the reader at once
    assert expected in str(error.value)
    assert source.stats()["reconnects"] == 0  # reopening cannot fix a setting: no retries
    source.close()
    assert source.state is S.FAILED and reader_threads(source) == []


def test_nonsense_settings_are_refused_before_any_camera_is_touched(emulator):
    with pytest.raises(SourceError, match="positive number of µs"):
        GenICamSource(FIRST, exposure_us=-5, device_class=EMU)
    with pytest.raises(SourceError, match="use 'free-run', 'software', or a hardware line"):
        GenICamSource(FIRST, trigger="when I say so", device_class=EMU)


def test_a_failed_buffer_is_one_failed_read_not_a_lost_camera(genicam):
    source = genicam()
    assert source.read(timeout=5) is not None
    camera = source.capture.camera
    camera.ForceFailedBufferCount.SetValue(1)
    camera.ForceFailedBuffer.Execute()
    for _ in range(5):
        assert source.read(timeout=5) is not None
    assert source.stats()["reconnects"] == 0 and source.capture.failed_buffers == 1


def test_close_releases_the_camera_and_leaves_no_thread_in_every_state(genicam, until):
    live = genicam()
    waiting = genicam(SECOND, trigger="software")
    missing = genicam("12345678")
    refused = genicam(SECOND, pixel_format="Mono99", source_id="refused")
    assert live.read(timeout=5) is not None
    assert until(lambda: waiting.capture is not None and refused.state is S.FAILED)
    assert until(lambda: missing.state is S.RECONNECTING)
    captures = [live.capture, waiting.capture]
    for source in (live, waiting, missing, refused):
        started = time.monotonic()
        source.close()
        source.close()  # idempotent
        assert time.monotonic() - started < 1.5, source
        assert reader_threads(source) == [], source
    assert all(capture.closed and not capture.camera.IsPylonDeviceAttached() for capture in captures)
    assert live.state is S.ENDED and live.read(timeout=0.1) is None
    assert not waiting.trigger_software()  # the camera is gone


def test_iterating_yields_frames_and_stops_on_close(genicam):
    source = genicam(FIRST)
    got = []
    for frame in source:
        got.append(frame.meta["image_number"])
        if len(got) == 3:
            source.close()
    assert len(got) == 3 and source.finished


# -- open_source and Find cameras ----------------------------------------------------------------------------


def test_open_source_parses_genicam_specs(genicam, until):
    made = []
    for spec, serial in [("genicam:0815-0001", SECOND), (" GenICam: 0815-0001 ", SECOND), ("genicam:", None)]:
        source = open_source(spec, device_class=EMU, live_options={"max_reconnects": 4})
        made.append(source)
        assert isinstance(source, GenICamSource) and source.serial == serial
        assert source._max_reconnects == 4  # live_options reach it like a camera's or a stream's
    try:
        first = open_source("genicam:0", device_class=EMU)
        made.append(first)
        assert first.serial is None and first.source_id == "genicam:0"
        assert first.read(timeout=5).meta["serial"] == FIRST  # the first camera pylon lists
    finally:
        for source in made:
            source.close()


def test_find_cameras_lists_genicam_cameras_after_the_opencv_ones(emulator):
    found = probe_cameras(max_index=0, genicam_device_class=EMU)
    assert [camera.spec for camera in found] == ["genicam:0815-0000", "genicam:0815-0001"]
    assert found[1].label == "GenICam Basler Emulation (0815-0001)"
