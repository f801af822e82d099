"""open_source dispatch: cameras stay ints, "0" is a path, streams use FFmpeg with timeouts, clear errors."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from grace_core.errors import GraceError, SourceError
from grace_core.sources import (
    CameraSource,
    DemoSource,
    FolderSource,
    StreamSource,
    VideoSource,
    open_source,
)
from grace_core.sources.stream import redact_url


class RecordingCapture:
    """Stands in for ``cv2.VideoCapture``: records its arguments, never opens."""

    calls: list[tuple[object, ...]]

    def __init__(self, *args: object) -> None:
        RecordingCapture.calls.append(args)

    def isOpened(self) -> bool:  # OpenCV's name
        return False

    def read(self) -> tuple[bool, None]:
        return False, None

    def release(self) -> None:
        pass

    def get(self, prop: int) -> float:
        return 0.0

    def set(self, prop: int, value: float) -> bool:
        return False


@pytest.fixture
def recorder(monkeypatch) -> type[RecordingCapture]:
    RecordingCapture.calls = []
    monkeypatch.setattr(cv2, "VideoCapture", RecordingCapture)
    return RecordingCapture


@pytest.mark.parametrize("spec", [0, "camera:0", "CAMERA: 0"])
def test_camera_index_reaches_opencv_as_an_int(spec, recorder, until):
    with open_source(spec, backoff_initial=0.01, backoff_max=0.02) as source:
        assert isinstance(source, CameraSource)
        assert until(lambda: recorder.calls)
    index, backend = recorder.calls[0]
    assert type(index) is int and index == 0 and backend == cv2.CAP_ANY
    assert source.source_id == "camera:0"


def test_a_bare_zero_is_a_path_not_a_camera(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SourceError, match=r"no such file or folder.*write camera:0"):
        open_source("0")
    (tmp_path / "0").mkdir()
    cv2.imwrite(str(tmp_path / "0" / "a.png"), np.zeros((4, 4, 3), np.uint8))
    with open_source("0") as source:
        assert isinstance(source, FolderSource)


def test_camera_rejects_string_indices_and_bad_specs():
    with pytest.raises(TypeError):
        CameraSource("0")  # type: ignore[arg-type]
    with pytest.raises(SourceError, match="camera:N"):
        open_source("camera:front")
    with pytest.raises(SourceError):
        open_source(True)  # type: ignore[arg-type]
    with pytest.raises(SourceError, match="0 or more"):
        open_source(-1)


def test_stream_uses_ffmpeg_with_open_and_read_timeouts(recorder, until):
    url = "rtsp://admin:secret@10.0.0.5:554/line1"
    with open_source(url, open_timeout=3, read_timeout=2, backoff_initial=0.01) as source:
        assert isinstance(source, StreamSource)
        assert until(lambda: recorder.calls)
        assert "secret" not in source.source_id + source.info.description
    assert recorder.calls[0] == (
        url,
        cv2.CAP_FFMPEG,
        [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 3000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 2000],
    )


def test_http_is_a_stream_and_unknown_schemes_are_refused(recorder):
    with open_source("http://cam.local/mjpeg") as source:
        assert isinstance(source, StreamSource)
    with pytest.raises(SourceError, match="unknown source type 'ftp://'"):
        open_source("ftp://host/file.avi")


def test_redact_url_hides_only_the_password():
    assert redact_url("rtsp://u:p@h:554/x") == "rtsp://u:***@h:554/x"
    assert redact_url("rtsp://u@h/x") == "rtsp://u@h/x"
    assert redact_url("http://h/x?a=b@c") == "http://h/x?a=b@c"


def test_paths_dispatch_by_kind(tmp_path: Path):
    folder = tmp_path / "images"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), np.zeros((4, 4, 3), np.uint8))
    with open_source(folder) as source:
        assert isinstance(source, FolderSource)
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (16, 16))
    writer.write(np.zeros((16, 16, 3), np.uint8))
    writer.release()
    with open_source(str(video)) as source:
        assert isinstance(source, VideoSource)
    with open_source("demo") as source:
        assert isinstance(source, DemoSource)


def test_a_single_image_is_a_source_of_one_frame(tmp_path: Path):
    (tmp_path / "other.jpg").write_bytes(b"")  # a sibling is not part of it
    image = tmp_path / "one.png"
    cv2.imwrite(str(image), np.full((40, 60, 3), 7, np.uint8))
    with open_source(image) as source:
        frames = list(source)
    assert len(frames) == 1 and frames[0].image.shape == (40, 60, 3) and source.info.length == 1


def test_helpful_errors(tmp_path: Path):
    with pytest.raises(SourceError, match=r"missing\.mp4'.*no such file"):
        open_source(str(tmp_path / "missing.mp4"))
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(SourceError, match="unknown source type"):
        open_source(notes)
    with pytest.raises(SourceError, match="no source given"):
        open_source("  ")
    assert issubclass(SourceError, GraceError)
