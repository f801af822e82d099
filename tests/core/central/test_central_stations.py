"""Several stations, one central store, a server that goes away: every frame lands once, in order, and is counted.

The stations are separate processes (``tests/helpers/central_station.py``), each with its own spool; the server is
the real PostgreSQL of the fixtures, crashed (``pg_ctl stop -m immediate``) and started again while they write.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from helpers.central_station import flagged

from grace_core.cli.main import main
from grace_core.store import ReviewStore
from grace_core.store.spool import SPOOL_EVICTED, Spool
from grace_core.store.writer import FlaggedFrameWriter

STATION_SCRIPT = Path(__file__).resolve().parents[2] / "helpers" / "central_station.py"
N = 60


def _start_station(url: str, name: str, spool: Path) -> subprocess.Popen[str]:
    command = [sys.executable, str(STATION_SCRIPT), url, name, str(N), str(spool), "--interval", "0.05"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_progress(station: subprocess.Popen[str], submitted: int, lines: list[dict]) -> None:
    assert station.stdout is not None
    while not lines or lines[-1].get("submitted", 0) < submitted:
        line = station.stdout.readline()
        assert line, f"the station ended early: {station.stderr.read() if station.stderr else ''}"
        lines.append(json.loads(line))


def test_two_stations_and_a_server_crash_lose_nothing(pg_server, central_url: str, tmp_path: Path, capsys) -> None:
    stations = {name: _start_station(central_url, name, tmp_path / f"spool-{name}") for name in ("east", "west")}
    output: dict[str, list[dict]] = {name: [] for name in stations}
    try:
        for name, station in stations.items():
            _wait_for_progress(station, 20, output[name])
        pg_server.stop("immediate")  # as if the server crashed: no clean goodbye to the stations
        for name, station in stations.items():
            _wait_for_progress(station, 40, output[name])  # inspection went on meanwhile, into the spools
        time.sleep(0.5)
        pg_server.start()
        for name, station in stations.items():
            rest, errors = station.communicate(timeout=240)
            output[name] += [json.loads(line) for line in rest.splitlines() if line.strip()]
            assert station.returncode == 0, f"{name}: {errors[-2000:]}"
    finally:
        for station in stations.values():
            if station.poll() is None:
                station.kill()
        if not pg_server.running:
            pg_server.start()

    for name, lines in output.items():
        assert max(line.get("backlog", 0) for line in lines) > 0, f"{name} never had to spool: no outage seen"
        final = lines[-1]
        assert final["done"] and final["written"] == N and final["status"]["backlog"] == 0
    with ReviewStore.open_existing(central_url) as store:
        assert store.count() == 2 * N
        assert {row.station: row.frames for row in store.select().stations()} == {"east": N, "west": N}
        for name in stations:  # each station's frames arrived in the order it flagged them, each once
            rows = store.database.execute(
                "SELECT frame_index FROM frames WHERE station = ? ORDER BY id", (name,)
            ).fetchall()
            assert [row[0] for row in rows] == list(range(N))
    assert main(["review", "report", "--store", central_url]) == 0
    assert f"flagged {2 * N} frames" in capsys.readouterr().out
    assert main(["review", "status", "--store", central_url, "--spool", str(tmp_path / "spool-east")]) == 0
    printed = capsys.readouterr().out
    assert f"station east: {N} frames" in printed and f"station west: {N} frames" in printed
    assert "0 frames (0 bytes) not yet in the central store" in printed


def test_a_full_spool_drops_the_oldest_and_tells_the_central_store(pg_server, central_url: str, tmp_path) -> None:
    one_frame = len(flagged(0, "s")[0].image.tobytes())  # well above a frame's JPEG and PNG
    spool = Spool(central_url, tmp_path / "spool", station="south", quota_bytes=5 * one_frame // 4, retry_max_s=0.5)
    writer = FlaggedFrameWriter(spool.open_store)
    try:
        writer.submit(*flagged(0, "south"))
        assert writer.flush(30) and spool.flush(30) and spool.status().central_reachable
        pg_server.stop()
        began = time.monotonic()
        for i in range(1, 13):
            assert writer.submit(*flagged(i, "south"))  # never waits for the network
        assert time.monotonic() - began < 1.0
        assert writer.flush(30) and writer.stats().errors == 0
        status = spool.status()
        assert not status.central_reachable and "NOT reachable" in status.describe()
        assert 0 < status.backlog < 12 and status.evicted == 12 - status.backlog
        pg_server.start()
        assert spool.flush(60)
    finally:
        writer.close()
        spool.close()
        if not pg_server.running:
            pg_server.start()
    with ReviewStore.open_existing(central_url) as store:
        indexes = [row[0] for row in store.database.execute("SELECT frame_index FROM frames ORDER BY id").fetchall()]
        assert indexes == [0, *range(13 - status.backlog, 13)]  # the newest were kept, in order
        (event,) = store.audit_log(action=SPOOL_EVICTED)
        assert event.details["frames"] == status.evicted and event.station == "south"


def test_the_store_sink_takes_a_central_url(central_url: str) -> None:
    from grace_core.sinks import open_sink
    from grace_core.sinks.store import StoreSink

    sink = open_sink(f"store:{central_url}")  # its spool: under the user data folder, one per central store
    assert isinstance(sink, StoreSink) and sink.spool is not None
    try:
        assert sink.writer.submit(*flagged(0, "north"), station="north")
        assert sink.writer.flush(30) and sink.spool.flush(30)
        stats = sink.stats()
        assert stats.connected and stats.detail["backlog"] == 0 and stats.detail["forwarded"] == 1
    finally:
        sink.close()
    with ReviewStore.open_existing(central_url) as store:
        assert [(r.station, r.frame_index) for r in store.list_frames()] == [("north", 0)]


def test_grace_detect_inspects_into_the_central_store(central_url: str, tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[3] / "resources" / "models" / "grace-neu-det.onnx"
    argv = ["detect", "demo", "--model", str(shipped), "--max-frames", "24", "--save-dir", str(tmp_path / "out")]
    assert main([*argv, "--sink", f"store:{central_url}", "--station", "line-9"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    (figures,) = [v for k, v in summary["sinks"].items() if k.startswith("store:postgresql://")]
    assert figures["delivered"] > 0 and figures["errors"] == 0
    with ReviewStore.open_existing(central_url) as store:  # the run waited for its spool to empty
        assert store.count() == figures["delivered"]
        assert store.facets().stations == ("line-9",)
        record = store.list_frames(limit=1)[0]
        assert store.load_image(record.id).shape[:2] == (record.height, record.width)
