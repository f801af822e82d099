"""A station in its own process, for the central-store tests and benchmark: flags frames into the central store
through its spool, as the live tab or ``grace detect --sink store:postgresql://…`` does.

    python tests/helpers/central_station.py URL STATION N SPOOL_DIR [--interval S] [--flush-timeout S]

Prints one JSON line per 10 frames (``{"submitted": i}``) and, at the end, the spool's status and the frames' uids
in the order they were submitted. Exit 0 when every frame reached the central store.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository (grace_core)

import numpy as np

from grace_core.detections import Detections
from grace_core.engine.base import EngineInfo, Prediction
from grace_core.flagging import Thresholds, decide
from grace_core.store.spool import Spool
from grace_core.store.writer import FlaggedFrameWriter
from grace_core.types import Frame

CLASS_NAMES = ("crazing", "inclusion", "patches", "scratches")
INFO = EngineInfo("onnxruntime", CLASS_NAMES, 224, "m.onnx", "grace-n.onnx@0123456789ab", has_heatmap=True)


def flagged(index: int, station: str, size: tuple[int, int] = (64, 48)):
    """Everything ``FlaggedFrameWriter.submit`` takes for one flagged frame; ``index`` is in the frame's row."""
    rng = np.random.default_rng(index)
    width, height = size
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    detections = Detections(np.array([[2.0, 3.0, 20.0, 25.0]]), [0.9], [index % 4])
    thresholds = Thresholds()
    frame = Frame(image=image, index=index, timestamp=time.time(), source_id=f"camera:{station}")
    heat = rng.random((height, width), dtype=np.float32)
    return frame, decide(detections, CLASS_NAMES, thresholds), Prediction(detections, heat, {}), INFO, thresholds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("station")
    parser.add_argument("n", type=int)
    parser.add_argument("spool", type=Path)
    parser.add_argument("--interval", type=float, default=0.0)
    parser.add_argument("--flush-timeout", type=float, default=120.0)
    args = parser.parse_args()
    spool = Spool(args.url, args.spool, station=args.station, retry_max_s=0.5)
    writer = FlaggedFrameWriter(spool.open_store, max_pending=args.n + 1)
    for i in range(args.n):
        assert writer.submit(*flagged(i, args.station), station=args.station), "the writer dropped a frame"
        if i % 10 == 9:
            print(json.dumps({"submitted": i + 1, "backlog": spool.status().backlog}), flush=True)
        time.sleep(args.interval)
    writer.close(timeout=60)
    done = spool.flush(args.flush_timeout)
    status = spool.status()
    spool.close()
    print(json.dumps({"done": done, "written": writer.stats().written, "status": status.__dict__}), flush=True)
    return 0 if done and writer.stats().written == args.n else 1


if __name__ == "__main__":
    sys.exit(main())
