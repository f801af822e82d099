"""MQTT to the plant against a real broker: amqtt, started by each test as a process on a free port of 127.0.0.1.

The broker (``tests/helpers/mqtt_broker.py``) records every message it receives, so "each event arrived once, in
order" is read from the broker itself even across a broker restart, when no subscriber could be connected in time
to see it.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from datetime import datetime
from types import SimpleNamespace
from urllib.parse import quote

import numpy as np
import pytest
from helpers.mqtt_broker import Broker, Client

from grace_core.cli.main import main
from grace_core.detections import Detections
from grace_core.engine.base import EngineInfo, Prediction
from grace_core.errors import GraceError
from grace_core.events import DefectEvent, EventUpdate
from grace_core.inspection import InspectionSession
from grace_core.plant import open_coil_reader
from grace_core.plant.coil_mqtt import UnreadableCoil, parse_coil
from grace_core.sinks import InspectionContext, InspectionRecord, open_sink
from grace_core.sinks.mqtt import MqttSink
from grace_core.sources import FolderSource

mqtt = pytest.importorskip("paho.mqtt.client", reason="paho-mqtt is a dependency: pip install -e '.[dev]'")
try:
    import amqtt  # noqa: F401
except ImportError:  # pragma: no cover - the dev extra installs it
    pytest.skip(
        "NO MQTT BROKER TO TEST AGAINST: the amqtt package is missing (pip install -e '.[dev]')",
        allow_module_level=True,
    )

PASSWORD = "s3cret-p@ss/word"
NAMES = ("crazing", "scratches")
MODEL = SimpleNamespace(model_id="scripted.onnx@0123456789ab", class_names=NAMES)


def event(i: int, class_name: str = "scratches", coil: str | None = "C1") -> DefectEvent:
    return DefectEvent(
        id=f"e{i:03d}",
        class_id=NAMES.index(class_name),
        class_name=class_name,
        status="defect",
        confidence=0.9,
        box=(1.0, 2.0, 30.0, 40.0),
        first_seen=1_790_000_000.0 + i,
        last_seen=1_790_000_000.5 + i,
        sightings=2,
        source_id="test",
        coil=coil,
    )


def record(*events: DefectEvent, frame: bool = True) -> InspectionRecord:
    """A frame's record (``result`` only needs to be there) closing ``events``."""
    context = InspectionContext(station="line1", coil="C1", source="test")
    return InspectionRecord(object() if frame else None, EventUpdate(closed=events), MODEL, context)


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


# -- the sink ---------------------------------------------------------------------------------------------------


def test_detect_publishes_each_event_once_and_a_retained_status(broker, tmp_path):
    broker.start()
    watcher = Client(broker, subscribe="grace/line1/#")
    out = tmp_path / "out"
    try:
        argv = ["detect", "demo", "--model", "shipped", "--max-frames", "30", "--coil", "C4711", "--station", "line1"]
        assert main([*argv, "--save-dir", str(out), "--sink", broker.url("grace/line1")]) == 0
        expected = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
        assert expected, "the demo's 30 frames show defects"
        messages = [payload for payload, _ in watcher.wait_for("grace/line1/events", len(expected))]
    finally:
        watcher.close()
    assert [m["event"] for m in messages] == [e["event"] for e in expected]  # each once, in order
    summary = json.loads((out / "summary.json").read_text())
    for message, line in zip(messages, expected, strict=True):
        for key in ("class_name", "class_id", "status", "confidence", "box", "first_seen", "sightings", "source_id"):
            assert message[key] == line[key], key
        assert message["coil"] == "C4711" and message["station"] == "line1" and message["model"] == summary["model"]
        assert datetime.fromisoformat(message["time"]).timestamp() == pytest.approx(line["first_seen"], abs=1e-3)
    (figures,) = [v for k, v in summary["sinks"].items() if k.startswith("mqtt://")]
    assert figures["dropped"] == 0 and figures["errors"] == 0 and figures["delivered"] >= len(expected) + 2

    late = Client(broker, subscribe="grace/line1/status")  # connects after the run: the retained status is there
    try:
        retained = late.wait_for("grace/line1/status", 1)
    finally:
        late.close()
    # amqtt 0.12 may hand a retained message to a new subscription more than once; it is still the one message
    assert retained and all(copy == retained[0] for copy in retained)
    status, is_retained = retained[0]
    assert is_retained and status["state"] == "stopped" and status["station"] == "line1" and status["coil"] == "C4711"
    assert status["frames"] == 30 and status["model"] == summary["model"] and status["dropped"] == 0
    assert status["events"] == len(expected)
    per_class = Counter(e["class_name"] for e in expected)
    assert {k: v for k, v in status["events_per_class"].items() if v} == dict(per_class)
    datetime.fromisoformat(status["time"])


def test_a_broker_outage_loses_nothing_and_keeps_the_order(broker):
    broker.start()
    sink = MqttSink(broker.url("grace/line1"), status_interval=3600, retry_initial=0.05, retry_max=0.2)
    try:
        assert sink.submit(record(event(0)))  # event 0 and the first status
        assert sink.flush(10) and sink.stats().connected
        # the broker's record is written just after it confirms a message: let it catch up before killing it
        assert wait_until(lambda: broker.received("grace/line1/events") and broker.received("grace/line1/status"))
        broker.stop()
        started = time.monotonic()
        assert all(sink.submit(record(event(i))) for i in range(1, 6))
        assert time.monotonic() - started < 0.5  # inspection never waits for the broker
        assert wait_until(lambda: sink.stats().errors > 0), "the sink did not notice the outage"
        stats = sink.stats()
        assert not stats.connected and stats.pending == 5 and stats.dropped == 0
        broker.start()  # the same port
        assert sink.close(timeout=30)
    finally:
        sink.close(timeout=1)
    events = broker.wait_received("grace/line1/events", 6)
    assert [e["event"] for e in events] == [f"e{i:03d}" for i in range(6)]
    assert all(e["coil"] == "C1" and e["station"] == "line1" for e in events)
    stats = sink.stats()
    assert stats.delivered == 8 and stats.dropped == 0 and stats.detail["retries"] > 0  # 6 events, 2 statuses
    assert stats.detail["events_published"] == 6 and stats.detail["status_published"] == 2
    assert broker.wait_received("grace/line1/status", 2)[-1]["state"] == "stopped"


def test_an_outage_longer_than_the_queue_drops_and_counts(broker):
    sink = MqttSink(broker.url("grace/line1"), status_interval=3600, max_pending=3, retry_initial=0.05, retry_max=0.2)
    try:  # no broker yet: the first three messages wait (status and event 0, event 1), the rest are dropped
        started = time.monotonic()
        accepted = [sink.submit(record(event(i))) for i in range(10)]
        assert time.monotonic() - started < 0.5
        assert accepted == [True, True] + [False] * 8
        assert wait_until(lambda: sink.stats().errors > 0)
        broker.start()
        assert sink.flush(30)
        assert sink.close(timeout=10)
    finally:
        sink.close(timeout=1)
    assert [e["event"] for e in broker.wait_received("grace/line1/events", 2)] == ["e000", "e001"]
    stats = sink.stats()
    assert stats.dropped == 8 and stats.detail["drop_reasons"] == {"queue_full": 8} and stats.delivered == 4
    final = broker.wait_received("grace/line1/status", 2)[-1]
    assert final["state"] == "stopped" and final["events"] == 10 and final["dropped"] == 8 and final["frames"] == 10


def test_credentials_are_used_and_the_password_never_shows(tmp_path, caplog, monkeypatch):
    broker = Broker(tmp_path, users={"grace": PASSWORD})
    broker.start()
    caplog.set_level(logging.DEBUG)
    try:
        sink = MqttSink(broker.url("grace/a", f"grace:{quote(PASSWORD, safe='')}"), retry_initial=0.05)
        assert sink.submit(record(event(0)))
        assert sink.close(timeout=10)
        stats = sink.stats()
        assert stats.delivered == 3 and stats.errors == 0  # event, running, stopped: the broker let it in
        assert stats.name == f"mqtt://grace:***@127.0.0.1:{broker.port}/grace/a"

        monkeypatch.setenv("GRACE_MQTT_USERNAME", "grace")
        monkeypatch.setenv("GRACE_MQTT_PASSWORD", PASSWORD)
        from_env = MqttSink(broker.url("grace/b"))
        assert from_env.submit(record(event(1))) and from_env.close(timeout=10)
        assert from_env.stats().delivered == 3 and from_env.stats().name == f"mqtt://127.0.0.1:{broker.port}/grace/b"
        monkeypatch.delenv("GRACE_MQTT_USERNAME")
        monkeypatch.delenv("GRACE_MQTT_PASSWORD")

        wrong = MqttSink(broker.url("grace/c", "grace:wrong-pass-9"), retry_initial=0.05, retry_max=0.1)
        wrong.submit(record(event(2)))
        assert wait_until(lambda: wrong.stats().errors >= 2)  # refused, and tried again: the ACL may be fixed
        refused = wrong.stats()
        assert "refused" in refused.last_error and refused.delivered == 0 and not refused.connected
        wrong.close(timeout=0.5)
    finally:
        broker.stop()
    assert [e["event"] for e in broker.received("grace/a/events") + broker.received("grace/b/events")] == [
        "e000",
        "e001",
    ]
    shown = caplog.text + repr(stats) + repr(refused) + repr(from_env.stats())
    for secret in (PASSWORD, quote(PASSWORD, safe=""), "wrong-pass-9"):
        assert secret not in shown
    assert "refused" in caplog.text  # the failure itself is told


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mqtt://grace:s3cret@127.0.0.1:port/x", "port must be a number"),
        ("mqtt://grace:s3cret@:1883/x", "no broker host"),
        ("mqtt://grace:s3cret@127.0.0.1/line/+/events", "wildcard"),
        ("mqtt://grace:s3c?ret@127.0.0.1/x", "no '?' or '#'"),
        ("mqtt://:s3cret@127.0.0.1/x", "needs a user name"),
    ],
)
def test_bad_urls_say_what_is_wrong_without_the_password(url, says):
    with pytest.raises(GraceError) as error:
        open_sink(url)
    assert says in str(error.value) and "s3cret" not in str(error.value) and "s3c" not in str(error.value)


def test_open_sink_makes_an_mqtt_sink_that_connects_lazily():
    sink = open_sink("mqtt://user:pw@127.0.0.1:1/plant")  # port 1: nothing listens, nothing is tried yet
    try:
        assert isinstance(sink, MqttSink) and sink.name == "mqtt://user:***@127.0.0.1:1/plant"
        assert sink.events_topic == "plant/events" and sink.status_topic == "plant/status"
        stats = sink.stats()
        assert not stats.connected and stats.errors == 0 and stats.delivered == 0
    finally:
        sink.close(timeout=0.2)
    default = MqttSink("mqtt://127.0.0.1:1")
    assert default.events_topic == "grace/events" and default.close(timeout=1)  # nothing queued: closes at once


# -- the coil id from the plant --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "coil"),
    [(b"C4711", "C4711"), (b" C4711\n", "C4711"), (b'{"coil": "C2"}', "C2"), (b'{"coil": 815}', "815"),
     (b'"C3"', "C3"), (b'{"coil": null}', None)],
)  # fmt: skip
def test_coil_payloads(payload, coil):
    assert parse_coil(payload) == coil


@pytest.mark.parametrize("payload", [b"", b"  ", b'{"id": "C2"}', b"{broken", b"\xff\xfe", b'{"coil": [1]}', b"a\nb"])
def test_unreadable_coil_payloads(payload):
    with pytest.raises(UnreadableCoil):
        parse_coil(payload)


class OneBoxEngine:
    """Every frame: one 'scratches' box at 0.9."""

    def __init__(self) -> None:
        self.conf, self.iou = 0.25, 0.7
        self.info = EngineInfo("scripted", NAMES, 64, "scripted.onnx", "scripted.onnx@0123456789ab", True)

    def predict(self, image: np.ndarray) -> Prediction:
        detections = Detections(np.array([[1, 1, 10, 10]]), np.array([0.9]), np.array([1]))
        return Prediction(detections, np.zeros(image.shape[:2], np.float32), {"inference": 1.0})

    def close(self) -> None:
        pass


def test_coil_ids_from_the_plant_reach_the_events(broker, tmp_path):
    import cv2

    broker.start()
    images = tmp_path / "images"
    images.mkdir()
    for i in range(6):
        cv2.imwrite(str(images / f"{i}.png"), np.full((32, 48, 3), 30 * i, np.uint8))
    session = InspectionSession(
        FolderSource(images),
        "scripted.onnx",
        engine_loader=lambda *a: OneBoxEngine(),
        source_opener=lambda spec, **o: spec,
        context=InspectionContext(station="line1", coil="typed"),
    )
    plant = Client(broker)
    plant.publish("plant/line1/coil", "C1", retain=True)  # the level-2 system's current coil
    applied: list[str | None] = []
    reader = open_coil_reader(
        broker.url("plant/line1/coil"), lambda coil: (session.set_coil(coil), applied.append(coil))
    )
    coils: list[list[str | None]] = []
    try:
        assert reader.wait_for_coil(10) and reader.coil == "C1"
        for item in session.run():
            result = getattr(item, "result", None)
            if result is None:
                continue
            coils.append([e.coil for e in result.events.closed])
            if len(coils) == 3:
                plant.publish("plant/line1/coil", '{"coil": "C2"}')
                assert wait_until(lambda: reader.coil == "C2")
        plant.publish("plant/line1/coil", "C2")  # the same coil again: nothing to apply
        plant.publish("plant/line1/coil", "")  # clears the retained message: ignored, the coil stays
        assert wait_until(lambda: reader.stats().messages == 4)
    finally:
        reader.close()
        plant.close()
    assert coils == [["C1"]] * 3 + [["C2"]] * 3
    assert applied == ["C1", "C2"] and reader.coil == "C2" and reader.stats().ignored == 1


def test_the_coil_reader_follows_the_plant_through_a_broker_restart(broker):
    broker.start()
    seen: list[str | None] = []
    reader = open_coil_reader(broker.url("plant/coil"), seen.append, reconnect_min=0.1, reconnect_max=0.2)
    try:
        plant = Client(broker)
        assert wait_until(lambda: reader.stats().connected)
        plant.publish("plant/coil", "C1")
        assert wait_until(lambda: reader.coil == "C1")
        plant.close()
        broker.stop()
        assert wait_until(lambda: not reader.stats().connected)
        broker.start()
        assert wait_until(lambda: reader.stats().connected)  # reconnected and subscribed again
        time.sleep(0.2)
        plant = Client(broker)
        plant.publish("plant/coil", "C2")
        assert wait_until(lambda: reader.coil == "C2")
        plant.close()
    finally:
        reader.close()
    assert seen == ["C1", "C2"]


def test_detect_takes_the_coil_from_the_plant(broker, tmp_path):
    broker.start()
    plant = Client(broker)
    plant.publish("plant/line1/coil", '{"coil": "C9"}', retain=True)
    plant.close()
    out = tmp_path / "out"
    argv = ["detect", "demo", "--model", "shipped", "--max-frames", "5", "--coil", "typed", "--save-dir", str(out)]
    assert main([*argv, "--coil-from", broker.url("plant/line1/coil")]) == 0
    coils = {json.loads(line)["coil"] for line in (out / "events.jsonl").read_text().splitlines()}
    assert coils == {"C9"}


def test_a_coil_url_nobody_reads_is_refused_clearly():
    with pytest.raises(GraceError, match="cannot read a coil id from there"):
        open_coil_reader("ftp://user:pw@l2/coil", print)
    with pytest.raises(GraceError, match="no topic") as error:
        open_coil_reader("mqtt://user:pw@127.0.0.1:1", print)
    assert "pw" not in str(error.value).replace("***", "")
