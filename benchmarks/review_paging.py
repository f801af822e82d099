"""Review tab with a large store: time to show the list (first page) against loading every frame record.

Builds a review store of ``--frames`` flagged frames (tiny images; the list never reads them), then times, best of
``--repeats``: (a) baseline, what a naive list would do: read every frame record; (b) the review tab's model
(``FrameListModel.reset``: a COUNT and the first page, newest first); (c) the next page (scrolling); and (d) the
same with a class filter. Target: the tab's first page stays under 50 ms at 10 000 frames.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/review_paging.py --frames 10000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def best_ms(action, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from helpers.flagged_frames import T0, add_flagged
    from PySide6.QtCore import QCoreApplication, QModelIndex

    from app.review.frame_list import PAGE_SIZE, FrameListModel
    from grace_core.store import FrameFilter, ReviewStore

    app = QCoreApplication([])  # noqa: F841 (the model needs an application)
    root = Path(tempfile.mkdtemp(prefix="grace-review-bench-")) / "review"
    started = time.perf_counter()
    with ReviewStore.open(root, quota_bytes=10**12) as store:
        for i in range(args.frames):
            boxes = [(i % 4, 0.9, (1, 1, 9, 9))]
            add_flagged(store, boxes, T0 + i, source_id=f"camera:{i % 3}", size=(16, 16))
    print(f"built a store of {args.frames} frames in {time.perf_counter() - started:.1f} s")

    with ReviewStore.open(root, quota_bytes=10**12) as store:
        model = FrameListModel()
        rows = [
            ("baseline: read every frame record", lambda: store.list_frames(limit=args.frames + 1)),
            ("review tab: count + first page", lambda: model.reset(store, FrameFilter())),
            ("review tab: next page", lambda: (model.reset(store, FrameFilter()), model.fetchMore(QModelIndex()))),
            ("review tab: class filter, first page", lambda: model.reset(store, FrameFilter(class_name="patches"))),
        ]
        results = [(name, best_ms(action, args.repeats)) for name, action in rows]
        assert model.rowCount() == PAGE_SIZE
    baseline = results[0][1]
    print(f"\n{'what':<42}{'best ms':>10}{'vs baseline':>14}")
    for name, ms in results:
        print(f"{name:<42}{ms:>10.1f}{baseline / ms:>13.1f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
