"""The central store (PostgreSQL) beside the local one (SQLite), in one run: write rate of 1, 2 and 4 concurrent
stations, bytes per frame, and review paging (first page, filters) over a large store.

    .venv/bin/python benchmarks/central_store.py --rows 100000            # starts its own PostgreSQL (embedded)
    .venv/bin/python benchmarks/central_store.py --rows 1000000 --events 300
    .venv/bin/python benchmarks/central_store.py --pg-url postgresql://u@host:5432/bench   # a real server (its
                                                                          # database is emptied first!)

**Writes.** Each station is a process that flags ``--events`` frames (real NEU-DET demo steel resized to
``--size``, two boxes, a Lite-FEN-like heatmap) with ``ReviewStore.add_frame``: the JPEG and PNG are encoded, then
the row, boxes and images go in one transaction (PostgreSQL: images as ``bytea`` in the same transaction; SQLite:
files written and fsync'ed first, then the row). Reported: events/s over all stations (wall clock), and bytes per
frame in the database (PostgreSQL: ``pg_total_relation_size`` of all tables / frames) or on disk (SQLite: files +
database). Also one station through its spool (``Spool``: local SQLite write, then forwarded), end to end.

**Paging.** ``--rows`` frames (and 1.5 boxes each) are generated in SQL (rows only: the list never reads images),
the same in both engines, then timed (best of ``--repeats``, ms): what the review tab does on refresh (COUNT +
first page of 50, and the facets), the first page under each filter, a deep page, and the shift report's aggregates
over one day.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import shutil
import sys
import tempfile
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

T0 = 1_700_000_000.0
CLASSES = ("crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches")
PAGE = 50


# -- writes ----------------------------------------------------------------------------------------------------------


def _frames(size: tuple[int, int], count: int, seed: int):
    """Real steel (the demo images), resized; a smooth heatmap; two boxes."""
    import cv2
    import numpy as np

    from grace_core.detections import Detections
    from grace_core.engine.base import EngineInfo, Prediction
    from grace_core.flagging import Thresholds, decide
    from grace_core.paths import resource_path
    from grace_core.types import Frame

    images = [cv2.resize(cv2.imread(str(p)), size) for p in sorted(resource_path("demo").glob("*.jpg"))]
    info = EngineInfo("onnxruntime", CLASSES, 224, "m.onnx", "grace-n.onnx@0123456789ab", has_heatmap=True)
    rng = np.random.default_rng(seed)
    thresholds = Thresholds()
    heat = cv2.GaussianBlur(rng.random((size[1], size[0]), dtype=np.float32), (0, 0), 12)
    heat = (heat - heat.min()) / (heat.max() - heat.min() + 1e-6)
    for i in range(count):
        w, h = size
        boxes = np.array([[0.1 * w, 0.2 * h, 0.4 * w, 0.5 * h], [0.5 * w, 0.5 * h, 0.9 * w, 0.8 * h]], np.float32)
        detections = Detections(boxes, [0.9, 0.4], [i % len(CLASSES), (i + 1) % len(CLASSES)])
        frame = Frame(image=images[i % len(images)], index=i, timestamp=T0 + i, source_id=f"camera:{seed}")
        yield frame, decide(detections, CLASSES, thresholds), Prediction(detections, heat, {}), info, thresholds


def _station(where: str, station: str, events: int, size: tuple[int, int], start) -> None:
    from grace_core.store import ReviewStore

    frames = list(_frames(size, events, seed=zlib.crc32(station.encode()) % 1000))
    with ReviewStore.open(where, quota_bytes=10**13, station=station) as store:
        start.wait()
        for args in frames:
            store.add_frame(*args)


def write_rate(where: str, stations: int, events: int, size: tuple[int, int]) -> float:
    """Events per second written by ``stations`` concurrent processes (after each has encoded nothing yet)."""
    from grace_core.store import ReviewStore

    ReviewStore.open(where, quota_bytes=10**13).close()  # the schema exists before the clock starts
    context = mp.get_context("spawn")
    start = context.Event()
    workers = [
        context.Process(target=_station, args=(where, f"s{stations}-{i}", events, size, start)) for i in range(stations)
    ]
    for worker in workers:
        worker.start()
    time.sleep(3.0 + stations)  # let them import and prepare their frames
    began = time.perf_counter()
    start.set()
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0, "a station failed"
    return stations * events / (time.perf_counter() - began)


def spool_rate(url: str, folder: Path, events: int, size: tuple[int, int]) -> float:
    """One station through its spool: submit every frame, wait until all are in the central store."""
    from grace_core.store.spool import Spool
    from grace_core.store.writer import FlaggedFrameWriter

    frames = list(_frames(size, events, seed=7))
    spool = Spool(url, folder, station="spooled", quota_bytes=10**13)
    writer = FlaggedFrameWriter(spool.open_store, max_pending=events + 1, enforce_quota=False)
    began = time.perf_counter()
    for args in frames:
        writer.submit(*args)
    writer.close(600)
    assert spool.flush(600), "the spool did not drain"
    elapsed = time.perf_counter() - began
    spool.close()
    return events / elapsed


def bytes_per_frame(store) -> tuple[float, float]:
    """(images per frame, everything per frame): the image bytes, and the whole store's footprint."""
    frames = store.count()
    images = store.usage_bytes() / frames
    if store.central:
        total = store.database.execute(
            "SELECT SUM(pg_total_relation_size(c)) FROM unnest(ARRAY['frames','detections','audit','meta','images']) c"
        ).fetchone()[0]
    else:
        total = sum(p.stat().st_size for p in store.root.rglob("*") if p.is_file())
    return images, float(total) / frames


# -- paging ---------------------------------------------------------------------------------------------------------

FILL_FRAMES = """
INSERT INTO frames (uid, captured_at, source_id, source_kind, frame_index, image_path, width, height, status,
    model_id, model_hash, thresholds_json, bytes, reviewed, verdict, created_at, reviewed_at, station)
SELECT printf_uid, {t0} + n * 0.5, 'camera:' || (n % 4), 'camera', n, 'frames/x.jpg', 640, 480,
    CASE WHEN n % 5 = 0 THEN 'uncertain' ELSE 'defect' END, 'grace-n.onnx@0123456789ab', '0123456789ab', '{{}}',
    20000, CASE WHEN n % 10 = 0 THEN 1 ELSE 0 END,
    CASE WHEN n % 10 = 0 THEN (CASE WHEN n % 30 = 0 THEN 'false_alarm' ELSE 'defect' END) END,
    {t0} + n * 0.5, CASE WHEN n % 10 = 0 THEN {t0} + n * 0.5 END, 'station-' || (n % 3)
FROM ({series}) s
"""
FILL_BOXES = """
INSERT INTO detections (frame_id, class_id, class_name, confidence, x1, y1, x2, y2, origin, deleted)
SELECT id, (id + k) % 6, CASE (id + k) % 6 WHEN 0 THEN 'crazing' WHEN 1 THEN 'inclusion' WHEN 2 THEN 'patches'
    WHEN 3 THEN 'pitted_surface' WHEN 4 THEN 'rolled-in_scale' ELSE 'scratches' END,
    0.3 + (id % 70) / 100.0, 1, 2, 30, 40, 'model', 0
FROM frames, ({ks}) k WHERE k = 0 OR id % 2 = 0
"""


def fill(store, rows: int) -> float:
    """``rows`` frames and 1.5·rows boxes, generated by the database itself; returns seconds."""
    began = time.perf_counter()
    if store.central:
        series = f"SELECT n, md5(n::text) AS printf_uid FROM generate_series(0, {rows - 1}) n"
        ks = "SELECT generate_series(0, 1) AS k"
    else:
        series = (
            f"WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n < {rows - 1}) "
            "SELECT n, printf('%032x', n) AS printf_uid FROM c"
        )
        ks = "SELECT 0 AS k UNION ALL SELECT 1"
    with store.database.write() as database:
        database.execute(FILL_FRAMES.format(t0=T0, series=series))
        database.execute(FILL_BOXES.format(ks=ks))
    store.database.execute("ANALYZE")
    return time.perf_counter() - began


def best_ms(action, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return 1000 * min(times)


def paging(store, rows: int, repeats: int) -> list[tuple[str, float]]:
    from grace_core.review import shift_report
    from grace_core.store import FrameFilter

    day = (T0 + rows * 0.5 - 86_400, T0 + rows * 0.5)
    cases = [
        ("refresh: count + first page", lambda: (store.count(), store.list_frames(FrameFilter(), PAGE))),
        ("refresh: facets (classes, sources, models, stations)", store.facets),
        ("first page, no filter", lambda: store.list_frames(FrameFilter(), PAGE)),
        ("first page, unreviewed", lambda: store.list_frames(FrameFilter(reviewed=False), PAGE)),
        ("first page, class = patches", lambda: store.list_frames(FrameFilter(class_name="patches"), PAGE)),
        ("first page, verdict = false_alarm", lambda: store.list_frames(FrameFilter(verdict="false_alarm"), PAGE)),
        ("first page, station-1 + camera:1", lambda: store.list_frames(FrameFilter(station="station-1",
                                                                                      source_id="camera:1"), PAGE)),
        ("first page, last hour, uncertain", lambda: store.list_frames(
            FrameFilter(since=day[1] - 3600, status="uncertain"), PAGE)),
        ("page 100 (offset 4950)", lambda: store.list_frames(FrameFilter(), PAGE, 99 * PAGE)),
        ("count, class = patches", lambda: store.count(FrameFilter(class_name="patches"))),
        ("shift report over the last day", lambda: shift_report(store, *day)),
    ]  # fmt: skip
    return [(name, best_ms(action, repeats)) for name, action in cases]


# -- the run ----------------------------------------------------------------------------------------------------------


def _empty_database(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS images, detections, audit, meta, frames CASCADE")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="frames in the paging store (default 1 M)")
    parser.add_argument("--events", type=int, default=200, help="frames each station writes (default 200)")
    parser.add_argument("--stations", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--size", default="640x480", help="frame size WxH (default 640x480)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pg-url", help="an existing server's database (emptied first); default: start one")
    parser.add_argument("--skip-writes", action="store_true")
    parser.add_argument("--skip-paging", action="store_true")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))
    work = Path(tempfile.mkdtemp(prefix="grace-central-bench-"))
    server = None
    if args.pg_url is None:
        from helpers.pg_server import LocalPostgres

        server = LocalPostgres(work / "pg", fsync=True).start()  # durable commits, as a real server

        def new_database(name: str) -> str:
            return server.create_database(name)
    else:

        def new_database(name: str) -> str:
            _empty_database(args.pg_url)
            return args.pg_url

    import psycopg

    from grace_core.store import ReviewStore

    try:
        print(f"PostgreSQL: {psycopg.connect(new_database('probe')).info.server_version}; SQLite local store")
        if not args.skip_writes:
            print(f"\nwrites: {args.events} events per station, {size[0]}x{size[1]} frames")
            print(f"{'stations':>8}{'PostgreSQL ev/s':>18}{'SQLite ev/s':>14}")
            footprint = ""
            for n in args.stations:
                url = new_database(f"w{n}")
                pg = write_rate(url, n, args.events, size)
                lite = write_rate(str(work / f"sqlite-w{n}"), n, args.events, size)
                print(f"{n:>8}{pg:>18.1f}{lite:>14.1f}")
                if not footprint:
                    with ReviewStore.open(url) as pg_store, ReviewStore.open(work / f"sqlite-w{n}") as lite_store:
                        (pg_images, pg_total), (lite_images, lite_total) = (
                            bytes_per_frame(pg_store),
                            bytes_per_frame(lite_store),
                        )
                    footprint = (
                        f"bytes per frame, images (JPEG + PNG) / all (rows, boxes, indexes, files): PostgreSQL "
                        f"{pg_images:.0f} / {pg_total:.0f}, SQLite {lite_images:.0f} / {lite_total:.0f}"
                    )
            print(footprint)
            rate = spool_rate(new_database("spooled"), work / "spool", args.events, size)
            print(f"1 station through its spool (local write, then forwarded), end to end: {rate:.1f} ev/s")
        if not args.skip_paging:
            results = {}
            for engine, where in (("PostgreSQL", new_database("paging")), ("SQLite", str(work / "sqlite-paging"))):
                with ReviewStore.open(where, quota_bytes=10**13) as store:
                    seconds = fill(store, args.rows)
                    print(f"\n{engine}: {args.rows} frames generated in {seconds:.1f} s")
                    results[engine] = paging(store, args.rows, args.repeats)
            print(f"\npaging at {args.rows} rows, best of {args.repeats} (ms)")
            print(f"{'what':<55}{'PostgreSQL':>12}{'SQLite':>10}")
            for (name, pg_ms), (_, lite_ms) in zip(results["PostgreSQL"], results["SQLite"], strict=True):
                print(f"{name:<55}{pg_ms:>12.1f}{lite_ms:>10.1f}")
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
