"""The live tab switching to a stream that never connects: the previous source's picture is not passed off as the
new one's, the banner says "Cannot connect" (not "Connection lost"), it keeps retrying, and no password shows."""

from __future__ import annotations

from helpers.local_streams import closed_port

WAIT_MS = 60_000  # model load + first frames on a busy 2-core CI machine
SECRET = "S3cretPW"


def test_switching_to_a_dead_stream_drops_the_old_picture_and_says_cannot_connect(qtbot, make_window, monkeypatch):
    import grace_core.sources as sources

    real_open, opened = sources.open_source, []

    def fast_retry_open(spec, **options):
        """The real source, with a short backoff so many reconnects happen within the test."""
        fast = {} if spec == "demo" else {"backoff_initial": 0.02, "backoff_max": 0.05}
        source = real_open(spec, **fast, **options)
        opened.append(source)
        return source

    monkeypatch.setattr(sources, "open_source", fast_retry_open)
    window = make_window()
    live = window.live
    live.start()
    qtbot.waitUntil(lambda: live.last_result is not None and live.view.has_frame, timeout=WAIT_MS)

    url = f"rtsp://admin:{SECRET}@127.0.0.1:{closed_port()}/line1"
    live.open_source(url)  # what choosing a stream in the picker does
    watchdog = ("Cannot connect", "Connection lost", "Cannot open")
    qtbot.waitUntil(lambda: any(text in live.banner.text() for text in watchdog), timeout=WAIT_MS)
    banner = live.banner.text()
    assert banner.startswith("Cannot connect to Stream rtsp://admin:***@127.0.0.1") and "retrying" in banner
    assert live.banner.level == "error"
    assert not live.view.has_frame and live.last_result is None  # the demo's last frame is gone
    assert live.view.boxes == [] and live.table.rowCount() == 0
    assert "Waiting for the first frame from Stream rtsp://admin:***@" in live.view.placeholder

    stream = opened[-1]
    qtbot.waitUntil(lambda: stream.stats()["reconnects"] >= 12, timeout=WAIT_MS)  # the app has no retry limit
    assert live.controller.running and "Cannot connect to" in live.banner.text()
    shown = [live.banner.text(), live.view.placeholder, live.source_picker.currentText(), window.windowTitle()]
    assert all(SECRET not in text for text in shown), shown
    assert live.source_picker.spec() == url  # the spec itself keeps the password: it is needed to reconnect
