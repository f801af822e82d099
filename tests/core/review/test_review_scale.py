"""A shift report over 12 000 frames stays fast: SQL aggregates, not a record per frame in Python."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from grace_core.review import shift_report, write_csv, write_html
from grace_core.store import ReviewStore

N_FRAMES = 12_000
START = 1_699_999_200.0


def _fill_rows(db: Path) -> None:
    """Rows only (the report never opens the images): frame i every 2.4 s over 8 h, boxes of 1 to 3 classes."""
    names = ("crazing", "inclusion", "patches", "scratches")
    frames, boxes = [], []
    for i in range(N_FRAMES):
        reviewed = i % 3 == 0
        verdict = ("defect", "false_alarm", "unsure")[i // 3 % 3] if reviewed else None
        frames.append(
            (i + 1, f"{i:032x}", START + i * 2.4, f"camera:{i % 2}", "camera", i, f"frames/{i}.jpg", 200, 200,
             "defect" if i % 4 else "uncertain", "m.onnx@abc", "abc", "{}", 1000, int(reviewed), verdict, 0.0)
        )  # fmt: skip
        for k in range(1 + i % 3):
            boxes.append((i + 1, (i + k) % 4, names[(i + k) % 4], 0.3 + (i % 70) / 100, 1, 2, 30, 40))
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO frames (id, uid, captured_at, source_id, source_kind, frame_index, image_path, width, height,"
            " status, model_id, model_hash, thresholds_json, bytes, reviewed, verdict, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            frames,
        )
        conn.executemany(
            "INSERT INTO detections (frame_id, class_id, class_name, confidence, x1, y1, x2, y2)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            boxes,
        )
    conn.close()


def test_report_over_many_frames(store_root: Path, tmp_path: Path) -> None:
    ReviewStore.open(store_root).close()
    _fill_rows(store_root / "review.db")
    with ReviewStore.open(store_root) as store:
        began = time.perf_counter()
        report = shift_report(store, START, START + 8 * 3600)
        write_csv(report, tmp_path / "r.csv")
        write_html(report, tmp_path / "r.html")
        elapsed = time.perf_counter() - began
    assert report.flagged == {"total": N_FRAMES, "defect": 9000, "uncertain": 3000}
    assert report.verdicts == {"defect": 1334, "false_alarm": 1333, "unsure": 1333, "unreviewed": 8000}
    assert sum(row.boxes for row in report.classes) == 24_000
    assert [row.frames for row in report.classes] == [6000, 6000, 6000, 6000]
    assert sum(report.timeline.total) == N_FRAMES and report.timeline.total[0] == 375  # 900 s / 2.4 s
    assert elapsed < 10, f"report took {elapsed:.1f} s"
