"""Settings ▸ Plant connection…: the dialog's validation and test, the settings file, and the live and review tabs
working against real servers — an MQTT broker (amqtt) and a PostgreSQL central store — on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

from PySide6.QtWidgets import QDialogButtonBox

from app.live.status_panel import WARNING_STYLE
from app.review.frame_list import COLUMNS
from app.settings import PlantSettings, load_plant_settings, open_qsettings, save_plant_settings, settings_file
from grace_core.store import ReviewStore

WAIT_MS = 60_000  # model load + first frames on a busy 2-core machine


def apply(dialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def test_the_dialog_refuses_bad_urls_naming_each_field_and_saves_good_ones(qtbot, make_window):
    window = make_window()
    dialog = window.show_plant_settings()
    dialog.store.setText("ftp://qa-db/grace")
    dialog.sinks.setPlainText("jsonl:/tmp/line1/detections.jsonl\nmqtt://:1883/plant/line1")  # line 2: no broker
    dialog.coil_from.setText("opc.tcp://l2-server:4840/Line1.CoilId")  # no node id
    apply(dialog)
    assert dialog.isVisible(), "a bad URL must keep the dialog open"
    errors = {name: label.text() for name, label in dialog.errors.items() if label.isVisible()}
    assert set(errors) == {"store", "sinks", "coil_from"}
    assert errors["store"].startswith("Review store: unknown review store")
    assert "For example: postgresql://" in errors["store"]
    assert errors["sinks"].startswith("Sinks: line 2: mqtt://:1883/plant/line1: no broker host")
    assert "For example: mqtt://broker:1883/plant/line1" in errors["sinks"]
    assert errors["coil_from"].startswith("Coil id from:") and "no node id" in errors["coil_from"]
    assert not Path(settings_file()).exists() or "plant" not in open_qsettings().childGroups()  # nothing saved

    dialog.store.setText("postgresql://inspect@qa-db:5432/grace")
    dialog.sinks.setPlainText("jsonl:/tmp/line1/detections.jsonl\n\nmqtt://broker:1883/plant/line1\n")
    dialog.coil_from.setText("opc.tcp://l2-server:4840/ns=2;s=Line1.CoilId")
    dialog.station.setText("line1")
    apply(dialog)
    qtbot.waitUntil(lambda: window.plant.station == "line1")
    saved = load_plant_settings()
    assert saved == PlantSettings(
        station="line1",
        store="postgresql://inspect@qa-db:5432/grace",
        sinks=["jsonl:/tmp/line1/detections.jsonl", "mqtt://broker:1883/plant/line1"],
        coil_from="opc.tcp://l2-server:4840/ns=2;s=Line1.CoilId",
    )
    assert window.live.plant.central and window.review.store_root == window.live.store_root  # both on the new store


def test_a_store_sink_is_refused_because_the_store_field_already_saves_frames(make_window):
    window = make_window()
    dialog = window.show_plant_settings()
    dialog.sinks.setPlainText("store:postgresql://inspect@qa-db/grace")
    apply(dialog)
    assert dialog.isVisible() and "save them twice" in dialog.errors["sinks"].text()
    dialog.reject()


def test_plant_settings_round_trip_through_the_ini_file_and_bad_values_fall_back(caplog):
    settings = PlantSettings(
        station="Line 1 / exit",
        store="postgresql://inspect:s3cr%40t@qa-db:5432/grace?sslmode=require",
        sinks=["mqtt://grace@broker:1883/plant/line1", "opcua://0.0.0.0:4840", "csv:/data/a,b.csv"],
        coil_from="opc.tcp://l2-server:4840/ns=2;s=Line1.CoilId",
    )
    save_plant_settings(settings)
    assert load_plant_settings() == settings  # commas, ';', '%', '?' and '/' survive the INI file

    store = open_qsettings()
    store.setValue("plant/store", "ftp://nowhere")
    store.setValue("plant/sinks", json.dumps(["mqtt://:1/x", "jsonl:/tmp/a.jsonl"]))
    store.setValue("plant/coil_from", "ftp://l2/coil")
    store.sync()
    with caplog.at_level(logging.WARNING, logger="app.settings"):
        loaded = load_plant_settings()
    assert loaded.store == "" and loaded.coil_from == ""  # back to the defaults
    assert loaded.sinks == ["jsonl:/tmp/a.jsonl"] and loaded.station == "Line 1 / exit"  # the valid ones are kept
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "plant/store ignored" in logged and "plant/sinks ignored" in logged and "plant/coil_from ignored" in logged


def _busy_port() -> socket.socket:
    """A port another program listens on: an OPC UA sink there cannot open."""
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    return busy


def test_a_live_session_publishes_events_with_the_station_to_jsonl_and_mqtt(qtbot, make_window, broker, tmp_path):
    broker.start()
    busy = _busy_port()
    jsonl = tmp_path / "out" / "detections.jsonl"
    mqtt_url = broker.url("plant/line7")
    opcua_url = f"opcua://127.0.0.1:{busy.getsockname()[1]}"
    window = make_window()
    live = window.live
    try:
        dialog = window.show_plant_settings()
        dialog.station.setText("line-7")
        dialog.store.setText(str(tmp_path / "review"))
        dialog.sinks.setPlainText(f"jsonl:{jsonl}\n{mqtt_url}\n{opcua_url}")
        dialog.test_connection()
        qtbot.waitUntil(lambda: dialog.probes is not None, timeout=30_000)
        found = {probe.what: probe for probe in dialog.probes}
        assert found[f"sink {mqtt_url}"].ok and "connected to the broker" in found[f"sink {mqtt_url}"].message
        assert not found[f"sink {opcua_url}"].ok and "already in use" in found[f"sink {opcua_url}"].message
        assert found[f"sink jsonl:{jsonl}"].ok and found[f"review store {tmp_path / 'review'}"].ok
        assert "✘" in dialog.test_result.text() and "✔" in dialog.test_result.text()
        apply(dialog)
        qtbot.waitUntil(lambda: live.plant.station == "line-7")

        live.start()
        qtbot.waitUntil(lambda: len(broker.received("plant/line7/events")) >= 2, timeout=WAIT_MS)
        # the sink that could not open is a warning beside the others; inspection goes on
        qtbot.waitUntil(lambda: "NOT OPEN" in live.status.sinks.text(), timeout=WAIT_MS)
        assert "already in use" in live.status.sinks.text() and live.status.sinks.styleSheet() == WARNING_STYLE
        assert f"{mqtt_url}: " in live.status.sinks.text() and " sent" in live.status.sinks.text()
        frame = live.last_result.frame.index
        qtbot.waitUntil(lambda: live.last_result.frame.index >= frame + 2, timeout=WAIT_MS)
        assert live.controller.running and live.banner.level != "error"
        live.stop()
    finally:
        busy.close()
    events = broker.received("plant/line7/events")
    assert events and {event["station"] for event in events} == {"line-7"}
    assert {event["source"] for event in events} == {"demo"}
    statuses = broker.received("plant/line7/status")
    assert statuses[-1]["station"] == "line-7" and statuses[-1]["state"] == "stopped"
    lines = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert lines and {line["station"] for line in lines} == {"line-7"}
    closed = [event for line in lines for event in line["events_closed"]]
    assert closed and {event["event"] for event in closed} <= {event["event"] for event in events}  # the same events


def test_the_central_store_gets_the_flagged_frames_and_the_review_tab_lists_their_station(
    qtbot, make_window, central_url
):
    window = make_window()
    live, review = window.live, window.review
    dialog = window.show_plant_settings()
    dialog.station.setText("line-9")
    dialog.store.setText(central_url)
    dialog.test_connection()
    qtbot.waitUntil(lambda: dialog.probes is not None, timeout=30_000)
    assert dialog.probes[0].ok and "no review store in this database yet" in dialog.probes[0].message
    apply(dialog)
    qtbot.waitUntil(lambda: live.plant.central)
    assert "postgresql://" in str(review.store_root)

    live.start()
    qtbot.waitUntil(
        lambda: live.plant.spool_status() is not None and live.plant.spool_status().forwarded >= 3, timeout=WAIT_MS
    )
    qtbot.waitUntil(lambda: live.status.spool.text().startswith("reachable;"), timeout=5_000)
    assert "frames waiting in the spool" in live.status.spool.text()
    live.stop()
    with ReviewStore.open_existing(central_url) as store:
        records = store.list_frames(limit=500)
        assert len(records) >= 3 and {record.station for record in records} == {"line-9"}
        assert store.image_bytes(records[0]), "the picture is in the central store"
        stored = store.count()

    window.tabs.setCurrentWidget(review)  # the tab re-reads its store when shown
    qtbot.waitUntil(lambda: review.model.total == stored, timeout=10_000)
    station = COLUMNS.index("station")
    assert {review.model.data(review.model.index(row, station)) for row in range(review.model.rowCount())} == {"line-9"}
    assert "station line-9" in review.frame_info.text()
    assert [review.station_filter.itemText(i) for i in range(review.station_filter.count())] == ["any", "line-9"]
    review.station_filter.setCurrentText("line-9")
    assert review.model.total == stored and review.current_filter().station == "line-9"
