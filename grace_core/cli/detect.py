"""``grace detect``: headless inspection of a folder, video, stream, camera or the demo.

Writes, into ``--save-dir``: annotated images (folder / demo sources) or an annotated video (video, stream, camera),
``detections.jsonl`` (one line per frame), ``detections.csv`` (one row per detection) and ``summary.json``; shows a
progress bar with ETA and prints a per-class summary at the end. Ctrl-C stops cleanly and keeps what was written.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from grace_core.errors import GraceError


def add_parser(commands) -> None:
    parser = commands.add_parser("detect", help="inspect a folder, video, stream, camera or the demo headlessly")
    parser.add_argument("source", help="image folder, video file, rtsp:// or http:// URL, camera:N, or demo")
    parser.add_argument("--model", required=True, help=".pt checkpoint, .onnx, or OpenVINO .xml / folder")
    parser.add_argument("--backend", default="auto", choices=("auto", "torch", "onnxruntime", "openvino"))
    parser.add_argument("--conf", type=float, default=0.25, help="confidence threshold (0.25)")
    parser.add_argument("--iou", type=float, default=0.7, help="NMS IoU threshold (0.7)")
    parser.add_argument("--classes", help="only these classes: names or ids, comma-separated")
    parser.add_argument("--save-dir", type=Path, default=Path("detect"), help="output folder (./detect)")
    parser.add_argument("--max-frames", type=int, help="stop after this many frames (live sources run until Ctrl-C)")
    parser.add_argument("--no-heatmap", action="store_true", help="do not draw the Lite-FEN heatmap")
    parser.add_argument("--trust", action="store_true", help="allow a full unpickle of a .pt (only files you made)")
    parser.set_defaults(func=run)


def parse_classes(text: str | None, names: tuple[str, ...]) -> set[int] | None:
    if not text:
        return None
    wanted = set()
    for item in (part.strip() for part in text.split(",") if part.strip()):
        if item.isdigit() and int(item) < len(names):
            wanted.add(int(item))
        elif item in names:
            wanted.add(names.index(item))
        else:
            raise GraceError(f"--classes: unknown class {item!r}; the model has {', '.join(names)}")
    return wanted


class _Outputs:
    """Writers for one run's files; every file is flushed as it goes, so a crash loses at most the last frame."""

    def __init__(self, save_dir: Path, class_names: tuple[str, ...], as_video: bool, fps: float | None) -> None:
        save_dir.mkdir(parents=True, exist_ok=True)
        self.save_dir, self.class_names, self.as_video, self.fps = save_dir, class_names, as_video, fps or 10.0
        self.jsonl = open(save_dir / "detections.jsonl", "w", encoding="utf-8")  # noqa: SIM115 (closed in close())
        self.csv_file = open(save_dir / "detections.csv", "w", newline="", encoding="utf-8")  # noqa: SIM115
        self.csv = csv.writer(self.csv_file)
        self.csv.writerow(["frame", "name", "class", "confidence", "x1", "y1", "x2", "y2"])
        self.video = None

    def write(self, frame, prediction, records: list[dict], annotated: np.ndarray) -> None:
        import cv2

        name = frame.meta.get("name") or frame.meta.get("stem") or f"frame_{frame.index:06d}"
        line = {
            "frame": frame.index,
            "name": name,
            "time": frame.timestamp,
            "detections": records,
            "timings_ms": {k: round(v, 2) for k, v in prediction.timings_ms.items()},
        }
        self.jsonl.write(json.dumps(line) + "\n")
        self.jsonl.flush()
        for r in records:
            self.csv.writerow([frame.index, name, r["class_name"], r["confidence"], *r["xyxy"]])
        self.csv_file.flush()
        if self.as_video:
            if self.video is None:
                self.video_size = (annotated.shape[1], annotated.shape[0])  # (w, h) of the first frame
                path = str(self.save_dir / "annotated.avi")
                self.video = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), self.fps, self.video_size)
            if (annotated.shape[1], annotated.shape[0]) != self.video_size:  # a stream changed resolution
                annotated = cv2.resize(annotated, self.video_size)
            self.video.write(annotated)
        else:
            cv2.imwrite(str(self.save_dir / f"{Path(name).stem}.jpg"), annotated)

    def close(self) -> None:
        self.jsonl.close()
        self.csv_file.close()
        if self.video is not None:
            self.video.release()


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from grace_core.engine import load_engine
    from grace_core.render import annotate
    from grace_core.sources import open_source

    if not 0 <= args.conf <= 1 or not 0 <= args.iou <= 1:
        raise GraceError("--conf and --iou must be between 0 and 1")
    engine = load_engine(args.model, backend=args.backend, conf=args.conf, iou=args.iou, trust=args.trust)
    names = engine.info.class_names
    wanted = parse_classes(args.classes, names)
    counts: Counter[str] = Counter()
    frames_with_defects = frames = 0
    latencies: list[float] = []
    source = open_source(args.source)  # camera:N, URLs, files, folders, demo
    info = source.info
    as_video = info.live or info.fps is not None
    if args.source == "demo":
        as_video = False
    total = min(x for x in (info.length, args.max_frames) if x) if (info.length or args.max_frames) else None
    outputs = _Outputs(args.save_dir, names, as_video, info.fps)
    started = time.perf_counter()
    try:
        with source, tqdm(total=total, unit="frame", file=sys.stderr, dynamic_ncols=True) as bar:
            for frame in source:
                prediction = engine.predict(frame.image)
                detections = prediction.detections
                if wanted is not None:
                    detections = detections[np.isin(detections.class_id, list(wanted))]
                records = detections.to_records(names)
                heatmap = None if args.no_heatmap else prediction.heatmap
                annotated = annotate(frame.image, detections, names, heatmap, heat_range=engine.info.heat_range)
                outputs.write(frame, prediction, records, annotated)
                frames += 1
                frames_with_defects += bool(records)
                counts.update(r["class_name"] for r in records)
                latencies.append(sum(prediction.timings_ms.values()))
                bar.update(1)
                if args.max_frames and frames >= args.max_frames:
                    break
    except KeyboardInterrupt:
        print("\ninterrupted: results so far are saved", file=sys.stderr)
    finally:
        outputs.close()
        engine.close()
    stats = source.stats()
    summary = {
        "source": args.source,
        "model": engine.info.model_id,
        "backend": engine.info.backend,
        "frames": frames,
        "frames_with_defects": frames_with_defects,
        "detections_per_class": {n: counts.get(n, 0) for n in names},
        "skipped_unreadable": int(stats.get("skipped", 0)),
        "seconds": round(time.perf_counter() - started, 2),
        "latency_ms_p50": round(float(np.percentile(latencies, 50)), 1) if latencies else None,
        "latency_ms_p95": round(float(np.percentile(latencies, 95)), 1) if latencies else None,
    }
    (args.save_dir / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(
        f"\n{frames} frames, {frames_with_defects} with defects; model {engine.info.model_id} on {engine.info.backend}"
    )
    print(f"{'class':<18}{'detections':>11}")
    for name in names:
        print(f"{name:<18}{counts.get(name, 0):>11}")
    if summary["skipped_unreadable"]:
        print(f"skipped {summary['skipped_unreadable']} unreadable image(s) (see the warnings above)")
    print(f"latency p50 {summary['latency_ms_p50']} ms, p95 {summary['latency_ms_p95']} ms; results in {args.save_dir}")
    return 0
