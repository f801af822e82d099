"""The training progress protocol (docs/protocol.md): encoding, incremental decoding, the writer, stdout redirection."""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from grace_core.training.protocol import (
    PROTOCOL_VERSION,
    Event,
    EventDecoder,
    EventWriter,
    LogLine,
    encode_event,
    make_event,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

SAMPLES = [
    make_event(
        "hello", pid=123, version="0.1.0", argv=["train", "--events", "jsonl"], job={"epochs": 3, "sampler": "dscbsm"}
    ),
    make_event("phase", name="setup", message="checking the dataset"),
    make_event("phase", name="train"),
    make_event(
        "batch",
        epoch=1,
        epochs=3,
        batch=7,
        batches=40,
        losses={"box": 1.25, "cls": 2.5, "dfl": 1.0},
        lr=0.01,
        eta_s=None,
    ),
    make_event(
        "epoch",
        epoch=1,
        epochs=3,
        losses={"box": 1.2},
        metrics={"mAP50": 0.61, "mAP50-95": 0.32, "precision": 0.7, "recall": 0.55},
        seconds=41.5,
        eta_s=83.0,
        sampler={
            "class_weights": {"crazing": 1.4},
            "sampling_shares": {"crazing": 0.2},
            "image_weight_stats": {"max": 3},
        },
    ),
    make_event("epoch", epoch=2, epochs=3, losses={}, metrics={}, seconds=1.0, eta_s=None, sampler=None),
    make_event("checkpoint", path="/runs/grace/weights/best.pt", kind="best", epoch=1),
    make_event("warning", message="stop requested — stopping after the current batch ✓"),
    make_event("error", message="dataset not found", traceback=None, kind="user"),
    make_event("error", message="boom", traceback='Traceback:\n  File "x.py"\nRuntimeError: boom', kind="internal"),
    make_event(
        "done",
        status="completed",
        best="/runs/best.pt",
        last="/runs/last.pt",
        save_dir="/runs",
        metrics={"mAP50": 0.7},
        seconds=120.25,
    ),
    make_event("done", status="failed", best=None, last=None, save_dir=None, metrics={}, seconds=0.0),
]


def _stream(events: list[dict]) -> bytes:
    return "".join(encode_event(e) + "\n" for e in events).encode("utf-8")


def _decode(data: bytes, chunk: int | None = None) -> list:
    decoder = EventDecoder()
    items = []
    if chunk is None:
        items += decoder.feed(data)
    else:
        for i in range(0, len(data), chunk):
            items += decoder.feed(data[i : i + chunk])
    return items + decoder.close()


# ---------------------------------------------------------------------------------------------------------- encoding


def test_every_event_type_round_trips():
    items = _decode(_stream(SAMPLES))
    assert [type(i) for i in items] == [Event] * len(SAMPLES)
    for item, sample in zip(items, SAMPLES, strict=True):
        assert item.data == sample
        assert item.type == sample["type"]
        assert item.v == PROTOCOL_VERSION
        assert not item.future
    assert {s["type"] for s in SAMPLES} == {
        "hello",
        "phase",
        "batch",
        "epoch",
        "checkpoint",
        "warning",
        "error",
        "done",
    }


def test_make_event_adds_version_type_and_time():
    event = make_event("checkpoint", path="a.pt", kind="last", epoch=2)
    assert event["v"] == 1 and event["type"] == "checkpoint" and event["kind"] == "last"
    assert isinstance(event["time"], float) and event["time"] > 1.6e9
    with pytest.raises(ValueError):
        make_event("phase", v=2)


def test_encoded_line_is_one_compact_line_with_unicode_kept():
    line = encode_event(make_event("warning", message="line 1\nline 2 — Ä"))
    assert "\n" not in line and "\r" not in line
    assert ", " not in line and '": ' not in line
    assert "— Ä" in line


def test_non_finite_floats_become_null_anywhere():
    event = make_event(
        "epoch",
        losses={"box": math.nan, "cls": 1.5},
        metrics={"mAP50": math.inf, "deep": [1.0, -math.inf, {"x": math.nan}]},
        eta_s=float("nan"),
    )
    line = encode_event(event)
    assert "NaN" not in line and "Infinity" not in line
    data = json.loads(line)
    assert data["losses"] == {"box": None, "cls": 1.5}
    assert data["metrics"] == {"mAP50": None, "deep": [1.0, None, {"x": None}]}
    assert data["eta_s"] is None


def test_paths_and_numpy_values_encode():
    event = make_event(
        "epoch",
        path=Path("runs") / "best.pt",
        loss=np.float32(0.5),
        count=np.int64(7),
        flag=np.bool_(True),
        nan=np.float64("nan"),
        array=np.array([[1.0, np.nan], [np.inf, 2.0]]),
        shares={np.int64(3): np.float32(0.25)},
        items=(1, 2),
    )
    data = json.loads(encode_event(event))
    assert data["path"] == str(Path("runs") / "best.pt")
    assert data["loss"] == 0.5 and data["count"] == 7 and data["flag"] is True and data["nan"] is None
    assert data["array"] == [[1.0, None], [None, 2.0]]
    assert data["shares"] == {"3": 0.25}
    assert data["items"] == [1, 2]


def test_lone_surrogates_and_unknown_objects_still_encode():
    odd = "bad\udcff name"  # an undecodable file name as Python represents it
    line = encode_event(make_event("warning", message=odd, what=object))
    line.encode("utf-8")  # writable to a UTF-8 stream
    data = json.loads(line)
    assert data["message"] == odd and data["what"] == str(object)


# ---------------------------------------------------------------------------------------------------------- decoding


def test_byte_at_a_time_gives_the_same_items():
    data = _stream(SAMPLES) + b"plain log line \xc3\xa4\n" + _stream(SAMPLES[:2])
    whole = _decode(data)
    assert _decode(data, chunk=1) == whole
    assert _decode(data, chunk=7) == whole
    assert LogLine("plain log line ä") in whole


def test_multibyte_character_split_across_chunks():
    line = encode_event(make_event("warning", message="Ä€😀")).encode("utf-8") + b"\n"
    cut = line.index("😀".encode()) + 2  # in the middle of the 4-byte character
    decoder = EventDecoder()
    assert decoder.feed(line[:cut]) == []
    (item,) = decoder.feed(line[cut:])
    assert item.data["message"] == "Ä€😀"


def test_invalid_utf8_is_replaced():
    (item,) = _decode(b"abc \xff\xfe def\n")
    assert item == LogLine("abc \ufffd\ufffd def")


@pytest.mark.parametrize(
    "garbage",
    [
        b"not json at all",
        b"[1, 2, 3]",
        b'"a string"',
        b"{}",
        b'{"type": "phase", "name": "x"}',  # no v
        b'{"v": 1, "name": "x"}',  # no type
        b'{"v": "1", "type": "phase"}',  # v not an int
        b'{"v": true, "type": "phase"}',  # bool is not a version
        b'{"v": 1.0, "type": "phase"}',
        b'{"v": 1, "type": 5}',
        b'{"v": 1, "type": "phase", "name": "trunc',  # truncated JSON
        b"{" * 100_000,  # too deep for the parser
    ],
)
def test_garbage_lines_become_log_lines_and_do_not_stop_later_events(garbage):
    good = encode_event(make_event("phase", name="train")).encode()
    items = _decode(garbage + b"\n" + good + b"\n")
    assert items[0] == LogLine(garbage.decode())
    assert isinstance(items[1], Event) and items[1].data["name"] == "train"
    assert len(items) == 2


def test_future_version_is_flagged_and_unknown_types_pass_through():
    future = json.dumps({"v": PROTOCOL_VERSION + 1, "type": "phase", "name": "train", "new_field": [1]})
    unknown = json.dumps({"v": PROTOCOL_VERSION, "type": "gpu_stats", "util": 0.9})
    first, second = _decode(f"{future}\n{unknown}\n".encode())
    assert isinstance(first, Event) and first.future and first.v == PROTOCOL_VERSION + 1
    assert first.data["new_field"] == [1]
    assert isinstance(second, Event) and second.type == "gpu_stats" and not second.future


def test_crlf_and_blank_lines():
    good = encode_event(make_event("phase", name="train"))
    items = _decode(f"\r\n{good}\r\n   \n\nlog line\r\n".encode())
    assert len(items) == 2
    assert isinstance(items[0], Event) and items[0].data["name"] == "train"
    assert items[1] == LogLine("log line")


def test_final_line_without_newline_only_comes_out_on_close():
    decoder = EventDecoder()
    good = encode_event(make_event("done", status="completed", metrics={}, seconds=1.0))
    assert decoder.feed(good.encode()) == []
    assert decoder.feed(b"") == []
    (item,) = decoder.close()
    assert isinstance(item, Event) and item.type == "done"
    assert decoder.close() == []


def test_close_flushes_an_incomplete_utf8_sequence():
    decoder = EventDecoder()
    assert decoder.feed(b"tail \xe2\x82") == []  # the first two bytes of "€"
    assert decoder.close() == [LogLine("tail \ufffd")]


def test_str_chunks_are_accepted():
    decoder = EventDecoder()
    good = encode_event(make_event("phase", name="val"))
    items = decoder.feed(good[:5]) + decoder.feed(good[5:] + "\nhi\n")
    assert [type(i) for i in items] == [Event, LogLine]


def test_overlong_line_is_capped_and_the_decoder_resyncs():
    decoder = EventDecoder(max_line_chars=1000)
    good = encode_event(make_event("phase", name="train")).encode()
    items = []
    items += decoder.feed(good + b"\n" + b"x" * 600)
    items += decoder.feed(b"x" * 600)  # over the cap: reported once, then dropped
    items += decoder.feed(b"x" * 5000)
    items += decoder.feed(b"x" * 10 + b"\n" + good + b"\n")
    items += decoder.close()
    assert [type(i) for i in items] == [Event, LogLine, Event]
    assert "1000" in items[1].text and "xxx" in items[1].text
    assert len(items[1].text) < 400
    assert decoder._length == 0 and not decoder._parts


def test_overlong_line_without_newline_at_close():
    decoder = EventDecoder(max_line_chars=100)
    items = decoder.feed(b"y" * 500) + decoder.close()
    assert len(items) == 1 and isinstance(items[0], LogLine)
    good = encode_event(make_event("phase", name="train")).encode()
    assert [type(i) for i in decoder.feed(good + b"\n")] == [Event]  # usable again after close


# ---------------------------------------------------------------------------------------------------------- writer


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _events(text: str) -> list[Event]:
    items = EventDecoder().feed(text)
    assert all(isinstance(i, Event) for i in items)
    return items


def test_writer_emits_one_flushed_line_per_event():
    stream = io.StringIO()
    writer = EventWriter(stream)
    writer.emit("phase", name="setup", message="m")
    writer.phase("train")
    writer.checkpoint(Path("w") / "last.pt", "last", 3)
    writer.warning("careful")
    writer.error("bad", kind="user")
    writer.epoch(epoch=1, epochs=2, losses={}, metrics={}, seconds=1.0, eta_s=None, sampler=None)
    writer.done("completed", best="b.pt", metrics={"mAP50": 0.5}, seconds=2.0)
    writer.hello(job={"epochs": 2}, argv=["train"])
    events = _events(stream.getvalue())
    assert [e.type for e in events] == ["phase", "phase", "checkpoint", "warning", "error", "epoch", "done", "hello"]
    assert "message" not in events[1].data
    assert events[2].data["path"] == str(Path("w") / "last.pt") and events[2].data["kind"] == "last"
    assert events[4].data == {**events[4].data, "message": "bad", "traceback": None, "kind": "user"}
    assert events[6].data["last"] is None and events[6].data["metrics"] == {"mAP50": 0.5}
    assert events[7].data["pid"] == os.getpid() and events[7].data["argv"] == ["train"]
    assert isinstance(events[7].data["version"], str)
    assert stream.getvalue().count("\n") == 8


def test_batch_events_are_rate_limited_but_the_last_batch_always_goes_out():
    clock = FakeClock()
    stream = io.StringIO()
    writer = EventWriter(stream, clock=clock, batch_interval=0.5)
    emitted = []
    for epoch in (1, 2):
        for batch in range(1, 11):
            clock.now = ((epoch - 1) * 10 + batch - 1) / 10  # 0.1 s per batch
            if writer.batch(epoch=epoch, epochs=2, batch=batch, batches=10, losses={"box": 1.0}, lr=0.01, eta_s=None):
                emitted.append((epoch, batch))
    # t=0.0 first ever; t=0.5 interval; batch 10 last of epoch (t=0.9); epoch 2: t=1.4 (0.5 after 0.9), t=1.9 last.
    assert emitted == [(1, 1), (1, 6), (1, 10), (2, 5), (2, 10)]
    assert [(e.data["epoch"], e.data["batch"]) for e in _events(stream.getvalue())] == emitted


def test_writer_survives_a_closed_stream():
    stream = io.StringIO()
    writer = EventWriter(stream)
    writer.phase("train")
    stream.close()
    writer.phase("val")  # must not raise
    assert writer.reader_gone
    assert writer.batch(epoch=1, epochs=1, batch=1, batches=1, losses={}, eta_s=None) is False
    writer.done("completed")


def test_writer_survives_a_broken_pipe():
    read_fd, write_fd = os.pipe()
    stream = open(write_fd, "w", encoding="utf-8", buffering=1)  # noqa: SIM115
    writer = EventWriter(stream)
    writer.phase("setup")
    with open(read_fd, "rb") as reader:
        assert EventDecoder().feed(reader.read1(65536))[0].type == "phase"
    writer.phase("train")  # the reader is gone: EPIPE, swallowed
    writer.phase("val")
    assert writer.reader_gone and stream.closed


def test_writer_falls_back_to_ascii_for_a_legacy_stream():
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii", write_through=True)
    writer = EventWriter(stream)
    writer.warning("Ä€")
    assert not writer.reader_gone
    (event,) = _events(raw.getvalue().decode("ascii"))
    assert event.data["message"] == "Ä€"


def test_writer_is_thread_safe():
    stream = io.StringIO()
    writer = EventWriter(stream, batch_interval=0.0)
    payload = {f"k{i}": "x" * 50 for i in range(20)}

    def work(n: int) -> None:
        for i in range(200):
            writer.emit("warning", message=f"{n}:{i}", payload=payload)
            writer.batch(epoch=n, epochs=8, batch=i + 1, batches=200, losses={"box": 1.0}, eta_s=None)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = stream.getvalue().splitlines()
    assert all(isinstance(json.loads(line), dict) for line in lines)
    events = _events(stream.getvalue())
    assert len([e for e in events if e.type == "warning"]) == 8 * 200
    assert len([e for e in events if e.type == "batch" and e.data["batch"] == 200]) == 8


# ---------------------------------------------------------------------------------------------------------- stdout


def _child(code: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=REPO_ROOT, capture_output=True, timeout=120, check=False
    )


def test_only_protocol_lines_reach_stdout():
    child = _child(
        """
        import logging, os, sys
        from grace_core.training.stdio import redirect_stdout_for_protocol
        from grace_core.training.protocol import EventWriter

        protocol = redirect_stdout_for_protocol()
        assert redirect_stdout_for_protocol() is protocol
        logging.basicConfig(stream=sys.stdout, level=logging.INFO)  # like ultralytics' handler bound at import
        print("noise")
        logging.info("logged noise")
        sys.stdout.flush()
        os.write(1, b"c-level noise\\n")
        EventWriter(protocol).phase("setup", "ready ✓")
        """
    )
    assert child.returncode == 0, child.stderr.decode()
    lines = child.stdout.decode("utf-8").splitlines()
    assert len(lines) == 1
    (event,) = EventDecoder().feed(child.stdout)
    assert isinstance(event, Event) and event.data["name"] == "setup" and event.data["message"] == "ready ✓"
    stderr = child.stderr.decode("utf-8")
    assert "noise\n" in stderr and "c-level noise\n" in stderr and "logged noise" in stderr


def test_missing_std_streams_do_not_crash():
    child = _child(
        """
        import os, sys
        os.close(1)
        os.close(2)
        sys.stdout = None
        sys.stderr = None
        from grace_core.training.stdio import redirect_stdout_for_protocol
        from grace_core.training.protocol import EventWriter

        protocol = redirect_stdout_for_protocol()
        print("noise")
        os.write(1, b"c-level noise\\n")
        writer = EventWriter(protocol)
        writer.phase("setup")
        assert not writer.reader_gone
        """
    )
    assert child.returncode == 0
    assert child.stdout == b"" and child.stderr == b""


def test_none_std_streams_with_open_descriptors_still_carry_the_protocol():
    child = _child(
        """
        import os, sys
        sys.stdout = None
        sys.stderr = None
        from grace_core.training.stdio import redirect_stdout_for_protocol
        from grace_core.training.protocol import EventWriter

        protocol = redirect_stdout_for_protocol()
        print("noise")
        EventWriter(protocol).phase("setup")
        """
    )
    assert child.returncode == 0, child.stderr.decode()
    (event,) = EventDecoder().feed(child.stdout)
    assert isinstance(event, Event) and event.type == "phase"
    assert b"noise" in child.stderr
