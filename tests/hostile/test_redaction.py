"""Stream credentials never reach an output: ``redact_url`` on hostile URLs, the source's ids, errors and log lines,
the review store's ``source`` field and ``grace detect``'s files (issue 17: passwords leaked into summary.json)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.local_streams import MjpegCamera, closed_port

from grace_core.cli.main import main
from grace_core.errors import SourceError
from grace_core.sources import SourceState, open_source
from grace_core.sources.stream import redact_url

SHIPPED_ONNX = Path(__file__).resolve().parents[2] / "resources" / "models" / "grace-neu-det.onnx"
FAST_RETRY = ["--max-reconnects", "1", "--reconnect-delay", "0.05"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rtsp://admin:S3cretPW@10.0.0.5:554/stream1", "rtsp://admin:***@10.0.0.5:554/stream1"),
        # unencoded / ? # end the authority for a URL parser, so the password is split across netloc, path,
        # query and fragment; everything up to the last @ is still the password
        ("rtsp://admin:pa/ss?w#rd@host/path", "rtsp://admin:***@host/path"),
        ("rtsp://admin:p@ss@host/x", "rtsp://admin:***@host/x"),
        ("rtsp://admin:pa%2Fss%40@host/x", "rtsp://admin:***@host/x"),
        ("RTSP://Admin:S3cretPW@Host/x", "RTSP://Admin:***@Host/x"),
        ("rtsp:admin:S3cretPW@127.0.0.1:554/x", "rtsp:admin:***@127.0.0.1:554/x"),  # FFmpeg accepts it without //
        ("rtsp://:S3cretPW@host/x", "rtsp://:***@host/x"),
        ("http://cam/video.mjpg?user=admin&password=S3cretPW", "http://cam/video.mjpg?user=admin&password=***"),
        ("http://cam/x?pass=S3cretPW", "http://cam/x?pass=***"),
        ("http://cam/x?pwd=S3cretPW&fps=5", "http://cam/x?pwd=***&fps=5"),
        ("http://cam/x?fps=5&token=S3cretPW", "http://cam/x?fps=5&token=***"),
        ("http://cam/x?PassWord=S3cretPW", "http://cam/x?PassWord=***"),
        ("http://cam/x?token=S3c#retPW&fps=5", "http://cam/x?token=***&fps=5"),
        ("http://cam/x?access_token=S3cretPW;api_key=S3cretPW", "http://cam/x?access_token=***;api_key=***"),
        ("rtsp://admin:S3cretPW@host/x?password=S3cretPW", "rtsp://admin:***@host/x?password=***"),
    ],
)
def test_redact_url_hides_every_form_of_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert redact_url(shown) == shown  # idempotent: redacting twice changes nothing


@pytest.mark.parametrize(
    "text",
    [
        "rtsp://cam.local:554/line1",
        "rtsp://admin@cam.local/line1",
        "http://h/x?a=b@c",
        "http://cam/x?compass=north&passage=3",  # names that merely contain "pass" are not secrets
        "camera:0",
        "demo",
        "/data/images/strip_1",
        r"C:\images\coil:7@line",
    ],
)
def test_redact_url_leaves_what_is_not_a_secret(text: str) -> None:
    assert redact_url(text) == text


def assert_hidden(text: str, secrets: tuple[str, ...]) -> None:
    leaked = [secret for secret in secrets if secret in text]
    assert not leaked, f"secret {leaked} in {text!r}"


HOSTILE_SECRETS = ("S3cretPW", "pa/ss", "w#rd", "ss?w")


@pytest.mark.parametrize(
    "url",
    [
        "rtsp://admin:pa/ss?w#rd@127.0.0.1:{port}/path",
        "rtsp://127.0.0.1:{port}/x?password=S3cretPW",
        "rtsp:admin:S3cretPW@127.0.0.1:{port}/x",
    ],
)
def test_a_stream_source_never_shows_its_password(url: str, caplog) -> None:
    url = url.format(port=closed_port())
    caplog.set_level(logging.DEBUG, logger="grace_core")
    source = open_source(url, max_reconnects=0, backoff_initial=0.01, backoff_max=0.01, open_timeout=1.0)
    with source:
        with pytest.raises(SourceError) as failure:
            for _ in source:
                pass
        assert source.state is SourceState.FAILED
        shown = [source.source_id, source.info.description, repr(source), str(failure.value), source._thread.name]
    shown += [record.getMessage() for record in caplog.records]
    for text in shown:
        assert_hidden(text, HOSTILE_SECRETS)
    assert "127.0.0.1" in source.source_id  # still says which camera it is


@pytest.mark.parametrize("spec", ["ftp://admin:S3cretPW@host/x", "rtps:admin:S3cretPW@host/x"])
def test_a_mistyped_url_is_refused_without_its_password(spec: str) -> None:
    with pytest.raises(SourceError) as refused:
        open_source(spec)
    assert "admin:***@host/x" in str(refused.value)
    assert_hidden(str(refused.value), HOSTILE_SECRETS)


@pytest.fixture
def camera() -> Iterator[MjpegCamera]:
    camera = MjpegCamera()
    yield camera
    camera.stop()


def test_stored_records_carry_the_redacted_source(camera: MjpegCamera, tmp_path: Path) -> None:
    """The review store's ``source_id`` comes from ``Frame.source_id``: a flagged frame of a stream with a password
    in the userinfo and a token in the query is stored without either."""
    from grace_core.flagging import Thresholds
    from grace_core.inspection import InspectionSession
    from grace_core.store.review_store import ReviewStore

    url = camera.url("admin:S3cretPW", "token=T0kenXYZ")
    session = InspectionSession(
        url,
        SHIPPED_ONNX,
        backend="onnxruntime",
        thresholds=Thresholds(default_flag=0.05, default_uncertain=0.05),  # flag every frame with any box
        store_factory=lambda: ReviewStore.open(tmp_path / "store"),
    )
    flagged = 0
    deadline = time.monotonic() + 60
    for item in session.run():
        result = getattr(item, "result", None)
        flagged += bool(result is not None and result.decision.flagged)
        if flagged >= 2 or time.monotonic() > deadline:
            session.stop()
    with ReviewStore.open(tmp_path / "store") as store:
        records = store.list_frames(limit=10)
    assert records, "no frame was stored"
    for record in records:
        assert_hidden(record.source_id, ("S3cretPW", "T0kenXYZ"))
        assert record.source_id == f"http://admin:***@127.0.0.1:{camera.port}/video.mjpg?token=***"


def _everything_written(out: Path, printed) -> list[str]:
    """Every text file detect wrote, plus what it printed."""
    files = [path.read_text(errors="replace") for path in out.iterdir() if path.suffix in {".json", ".jsonl", ".csv"}]
    return [*files, printed.out, printed.err]


def test_detect_writes_no_password_when_frames_arrive(camera: MjpegCamera, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    url = camera.url("admin:S3cretPW", "token=T0kenXYZ")
    assert main(["detect", url, "--model", str(SHIPPED_ONNX), "--max-frames", "2", "--save-dir", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"] == 2
    assert summary["source"] == f"http://admin:***@127.0.0.1:{camera.port}/video.mjpg?token=***"
    for text in _everything_written(out, capsys.readouterr()):
        assert_hidden(text, ("S3cretPW", "T0kenXYZ"))


@pytest.mark.parametrize(
    "url",
    [
        "rtsp://admin:S3cretPW@127.0.0.1:{port}/x",
        "rtsp://admin:pa/ss?w#rd@127.0.0.1:{port}/path",
        "rtsp://127.0.0.1:{port}/x?pwd=S3cretPW",
        "rtsp:admin:S3cretPW@127.0.0.1:{port}/x",
    ],
)
def test_detect_writes_no_password_when_the_stream_cannot_connect(url: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    url = url.format(port=closed_port())
    code = main(["detect", url, "--model", str(SHIPPED_ONNX), *FAST_RETRY, "--save-dir", str(out)])
    assert code == 1
    summary = json.loads((out / "summary.json").read_text())
    assert summary["source"] == redact_url(url) and "***" in summary["source"]
    for text in _everything_written(out, capsys.readouterr()):
        assert_hidden(text, HOSTILE_SECRETS)
