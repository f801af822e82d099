"""``grace detect``: headless inspection of a folder, video, stream, camera or the demo.

Writes, into ``--save-dir``: annotated images (folder / demo sources) or an annotated video (video, stream, camera),
``detections.jsonl`` (one line per frame), ``detections.csv`` (one row per detection) and ``summary.json``; shows a
progress bar with ETA and prints a per-class summary at the end. Ctrl-C stops cleanly and keeps what was written.

A camera or stream that sends no frame is retried with backoff up to ``--max-reconnects`` times in a row, then the
run ends. The exit code is 0 only when frames were inspected and the source did not give up; ``summary.json`` says
why (``status``): completed, interrupted, cannot_connect (no frame ever came), connection_lost (frames came, then
stopped for good) or no_frames. The source is written with its password and secret query values redacted.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from grace_core.engine.runtimes import BACKEND_CHOICES, PRECISIONS
from grace_core.engine.slicing import MODES as SLICING_MODES
from grace_core.engine.slicing import SliceConfig
from grace_core.errors import GraceError, SourceError

if TYPE_CHECKING:
    from grace_core.sources import FrameSource

log = logging.getLogger(__name__)
DEFAULT_MAX_RECONNECTS = 10  # headless: about a minute of backoff (0.5 s doubling to 10 s) without a frame
BACKOFF_MAX_S = 10.0


def add_parser(commands) -> None:
    parser = commands.add_parser("detect", help="inspect a folder, video, stream, camera or the demo headlessly")
    parser.add_argument("source", help="image folder, video file, rtsp:// or http:// URL, camera:N, or demo")
    parser.add_argument(
        "--model",
        required=True,
        help="'shipped' (the built-in model), a .pt checkpoint, .onnx, or OpenVINO .xml / folder",
    )
    parser.add_argument("--backend", default="auto", choices=BACKEND_CHOICES)
    parser.add_argument(
        "--precision",
        default="f32",
        choices=PRECISIONS,
        help="arithmetic: f32 (exact, default) or bf16 (OpenVINO, faster on CPUs with native bf16)",
    )
    parser.add_argument("--conf", type=float, default=0.25, help="confidence threshold (0.25)")
    parser.add_argument("--iou", type=float, default=0.7, help="NMS IoU threshold (0.7)")
    parser.add_argument("--classes", help="only these classes: names or ids, comma-separated")
    parser.add_argument("--save-dir", type=Path, default=Path("detect"), help="output folder (./detect)")
    parser.add_argument(
        "--max-frames", type=frame_count, help="stop after this many frames (live sources run until Ctrl-C)"
    )
    parser.add_argument(
        "--max-reconnects",
        type=max_reconnects,
        default=DEFAULT_MAX_RECONNECTS,
        metavar="N",
        help="camera or stream: give up after N reconnect attempts in a row without a frame; 'unlimited' retries "
        f"until Ctrl-C ({DEFAULT_MAX_RECONNECTS})",
    )
    parser.add_argument(
        "--reconnect-delay",
        type=seconds,
        default=0.5,
        metavar="S",
        help=f"first wait before reconnecting, doubling up to {BACKOFF_MAX_S:g} s (0.5)",
    )
    add_slicing_arguments(parser)
    parser.add_argument("--no-heatmap", action="store_true", help="do not draw the Lite-FEN heatmap")
    parser.add_argument("--trust", action="store_true", help="allow a full unpickle of a .pt (only files you made)")
    parser.set_defaults(func=run)


def add_slicing_arguments(parser: argparse.ArgumentParser) -> None:
    """How frames larger than the model's physical scale are cut into tiles (grace_core/engine/slicing.py)."""
    group = parser.add_argument_group("large frames (sliced at the model's physical scale)")
    defaults = SliceConfig()
    group.add_argument(
        "--slicing",
        choices=SLICING_MODES,
        default=defaults.mode,
        help="auto: slice frames larger than one tile; always; never: letterbox every frame whole (auto)",
    )
    group.add_argument("--tile", type=int, help="tile side in frame pixels (default: the model's, see --pixel-scale)")
    group.add_argument(
        "--overlap",
        type=float,
        default=defaults.overlap,
        help=f"share of a tile its neighbours overlap ({defaults.overlap})",
    )
    group.add_argument(
        "--pixel-scale",
        type=float,
        help="model pixels per frame pixel (default: the scale the model was trained at; halve it for a camera that "
        "resolves the strip twice as finely as the training images)",
    )


def slice_config(args: argparse.Namespace) -> SliceConfig:
    return SliceConfig(mode=args.slicing, tile=args.tile, overlap=args.overlap, pixel_scale=args.pixel_scale)


def max_reconnects(text: str) -> int | None:
    """``--max-reconnects``: a number of attempts (0 or more), or None for 'unlimited'."""
    value = text.strip().lower()
    if value == "unlimited":
        return None
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number of attempts (0 or more) or 'unlimited', got {text!r}")
    return int(value)


def frame_count(text: str) -> int:
    """``--max-frames``: 1 or more (0 or a negative number would silently mean "no limit")."""
    value = text.strip()
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a number of frames, 1 or more, got {text!r}")
    return int(value)


def seconds(text: str) -> float:
    """``--reconnect-delay``: more than 0 and at most an hour."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"expected seconds between 0 and 3600, got {text!r}")
    return value


def image_file_name(meta: Mapping[str, Any], index: int) -> str:
    """The annotated image's file name, unique within a run: a folder image keeps its whole name (``a.jpg`` and
    ``a.png`` must not overwrite each other, nor the source image when the output is the folder itself); the
    demo's tiles repeat, so they get the frame index."""
    if meta.get("name"):
        return f"{meta['name']}.jpg"
    if meta.get("stem"):
        return f"{index:06d}_{meta['stem']}.jpg"
    return f"frame_{index:06d}.jpg"


def letterbox_to(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` scaled to fit ``size`` (w, h) with its aspect ratio kept, centred on black."""
    import cv2

    width, height = size
    scale = min(width / image.shape[1], height / image.shape[0])
    new_w, new_h = max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale))
    canvas = np.zeros((height, width, 3), np.uint8)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
    return canvas


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
        self.resized_from: tuple[int, int] | None = None  # the first other frame size, once warned about

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
            self.video.write(self._fit_video(annotated, frame.index))
        else:
            cv2.imwrite(str(self.save_dir / image_file_name(frame.meta, frame.index)), annotated)

    def _fit_video(self, annotated: np.ndarray, index: int) -> np.ndarray:
        """A frame of another size than the video's first (the source changed resolution): one file has one size,
        so it is scaled to fit, aspect ratio kept, with black borders — never stretched. Warned once."""
        size = (annotated.shape[1], annotated.shape[0])
        if size == self.video_size:
            return annotated
        if self.resized_from is None:
            self.resized_from = size
            first, now = "x".join(map(str, self.video_size)), "x".join(map(str, size))
            log.warning(
                f"frame {index}: the source changed resolution from {first} to {now}; annotated.avi stays {first}, "
                "and frames of another size are scaled to fit it with black borders, not stretched (detections "
                "stay in each frame's own pixels)"
            )
        return letterbox_to(annotated, self.video_size)

    def close(self) -> None:
        self.jsonl.close()
        self.csv_file.close()
        if self.video is not None:
            self.video.release()


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from grace_core.engine import load_engine
    from grace_core.models import resolve_model
    from grace_core.render import annotate
    from grace_core.sources import open_source, redact_url

    if not 0 <= args.conf <= 1 or not 0 <= args.iou <= 1:
        raise GraceError("--conf and --iou must be between 0 and 1")
    model, backend = resolve_model(args.model, args.backend)  # "shipped" as the app resolves it
    engine = load_engine(
        model,
        backend=backend,
        conf=args.conf,
        iou=args.iou,
        trust=args.trust,
        precision=args.precision,
        slicing=slice_config(args),
    )
    names = engine.info.class_names
    wanted = parse_classes(args.classes, names)
    counts: Counter[str] = Counter()
    frames_with_defects = frames = 0
    latencies: list[float] = []
    source = open_source(args.source, live_options=_reconnect_policy(args))  # camera:N, URLs, files, folders, demo
    info = source.info
    as_video = info.live or info.fps is not None
    if args.source == "demo":
        as_video = False
    total = min(x for x in (info.length, args.max_frames) if x) if (info.length or args.max_frames) else None
    outputs = _Outputs(args.save_dir, names, as_video, info.fps)
    started = time.perf_counter()
    interrupted, failure = False, None
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
        interrupted = True
        print("\ninterrupted: results so far are saved", file=sys.stderr)
    except SourceError as error:
        if not info.live:
            raise  # e.g. a folder with no readable image: bad input, as before
        failure = error  # a camera or stream gave up: keep what came and say why in the summary
    finally:
        outputs.close()
        engine.close()
    stats = source.stats()
    status, message, code = _outcome(source, frames, interrupted, failure)
    summary = {
        "source": redact_url(str(args.source)),
        "status": status,
        "message": message,
        "model": engine.info.model_id,
        "backend": engine.info.backend,
        "frames": frames,
        "frames_with_defects": frames_with_defects,
        "detections_per_class": {n: counts.get(n, 0) for n in names},
        "skipped_unreadable": int(stats.get("skipped", 0)),
        "reconnects": int(stats.get("reconnects", 0)),
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
    if message and failure is None:  # a source that gave up has logged its message already
        print(f"error: {message}", file=sys.stderr)
    return code


def _reconnect_policy(args: argparse.Namespace) -> dict[str, Any]:
    """Options for a camera or stream (files and the demo ignore them)."""
    return {
        "max_reconnects": args.max_reconnects,
        "backoff_initial": args.reconnect_delay,
        "backoff_max": max(BACKOFF_MAX_S, args.reconnect_delay),
    }


def _outcome(
    source: FrameSource, frames: int, interrupted: bool, failure: SourceError | None
) -> tuple[str, str | None, int]:
    """(status, message for people or None, exit code) of a run: 0 only if frames were inspected and the source
    did not give up. "cannot_connect" (no frame ever arrived) and "connection_lost" (frames came, then stopped)
    need different fixes, so they are told apart."""
    if failure is not None:
        return ("connection_lost" if source.got_frames else "cannot_connect"), str(failure), 1
    if frames == 0 and source.info.live and not source.got_frames:
        waited, reconnects = source.seconds_since_last_frame, int(source.stats().get("reconnects", 0))
        return (
            "cannot_connect",
            f"{source.info.description}: cannot connect: no frame in {waited:.1f} s ({reconnects} reconnect "
            "attempt(s)); nothing was inspected.",
            1,
        )
    if frames == 0:
        return "no_frames", "no frame was inspected.", 1
    return ("interrupted" if interrupted else "completed"), None, 0
