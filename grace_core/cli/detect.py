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
import json
import logging
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from grace_core.engine.runtimes import BACKEND_CHOICES, PRECISIONS
from grace_core.engine.slicing import MODES as SLICING_MODES
from grace_core.engine.slicing import SliceConfig
from grace_core.errors import GraceError, SourceError
from grace_core.flagging import Thresholds

if TYPE_CHECKING:
    from grace_core.sources import FrameSource

log = logging.getLogger(__name__)
DEFAULT_FLAG = 0.5  # as the app's default flag threshold
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
    parser.add_argument(
        "--threads",
        type=int,
        help="CPU threads for inference (PyTorch, ONNX Runtime); default: PyTorch every core but one, ONNX Runtime "
        "every core",
    )
    parser.add_argument(
        "--conf", type=float, default=0.25, help="uncertain threshold: detections below it are ignored (0.25)"
    )
    parser.add_argument(
        "--flag", type=float, help="flag threshold: a detection at or above it is a defect (0.5, or --conf if higher)"
    )
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
    parser.add_argument(
        "--sink",
        action="append",
        default=[],
        metavar="SPEC",
        help="also send results to SPEC (repeatable): store:FOLDER, jsonl:/csv:/events:FILE, images:FOLDER, "
        "video:FILE, mqtt://host:port/topic, opcua://host:port (docs/sinks.md)",
    )
    parser.add_argument("--station", default="station", help="this station's name, in every record and message")
    parser.add_argument("--coil", help="the coil (product) id on the line, in every record and message")
    parser.add_argument(
        "--coil-from",
        metavar="URL",
        help="follow the coil id the plant's level-2 system publishes: mqtt://host:port/topic (text or JSON "
        '{"coil": …}) or opc.tcp://host:port/ns=2;s=Line1.CoilId (quote it: the ; matters to the shell); it replaces '
        "--coil whenever it changes (docs/sinks.md)",
    )
    parser.add_argument(
        "--line-speed",
        type=float,
        metavar="M_PER_MIN",
        help="strip speed, for defect positions along the coil when the source does not give them (m/min)",
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
    group.add_argument(
        "--tile",
        type=int,
        help="the model's field in frame pixels: the scale tiles are seen at (default: the model's, see --pixel-scale)",
    )
    group.add_argument(
        "--overlap",
        type=float,
        default=defaults.overlap,
        help=f"share of the field neighbouring tiles overlap ({defaults.overlap})",
    )
    group.add_argument(
        "--window",
        type=int,
        default=defaults.window,
        help="largest network input per tile, in model pixels, where the runtime takes any size: fewer, larger "
        "tiles at the same scale share less overlap; the model's image size gives one field per tile "
        f"({defaults.window})",
    )
    group.add_argument(
        "--pixel-scale",
        type=float,
        help="model pixels per frame pixel (default: the scale the model was trained at; halve it for a camera that "
        "resolves the strip twice as finely as the training images)",
    )


def slice_config(args: argparse.Namespace) -> SliceConfig:
    return SliceConfig(
        mode=args.slicing, tile=args.tile, overlap=args.overlap, pixel_scale=args.pixel_scale, window=args.window
    )


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


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from grace_core.coil import CoilClock
    from grace_core.engine import load_engine
    from grace_core.inspection import InspectionSession, SessionStarted
    from grace_core.models import resolve_model
    from grace_core.plant import COIL_WAIT_S, check_coil_url
    from grace_core.sinks import InspectionContext, open_sink
    from grace_core.sources import open_source, redact_url

    flag = max(args.conf, DEFAULT_FLAG) if args.flag is None else args.flag
    if args.threads is not None and args.threads < 1:
        raise GraceError(f"--threads must be 1 or more, got {args.threads}")
    if not 0 <= args.conf <= 1 or not 0 <= args.iou <= 1:
        raise GraceError("--conf and --iou must be between 0 and 1")
    if not args.conf <= flag <= 1:
        raise GraceError(f"--flag must be between --conf ({args.conf}) and 1, got {flag}")
    model, backend = resolve_model(args.model, args.backend)  # "shipped" as the app resolves it
    engine = load_engine(
        model,
        backend=backend,
        conf=args.conf,
        iou=args.iou,
        trust=args.trust,
        precision=args.precision,
        slicing=slice_config(args),
        threads=args.threads,
    )
    names = engine.info.class_names
    wanted = parse_classes(args.classes, names)
    thresholds = Thresholds(
        default_uncertain=args.conf,
        default_flag=flag,
        iou=args.iou,
        visible=None if wanted is None else frozenset(names[i] for i in wanted),
    )  # the app's verdicts: same model, thresholds and source give the same flags headless and in the window
    if args.coil_from:
        check_coil_url(args.coil_from)  # a URL no reader takes is bad input, said before anything opens
    source = open_source(args.source, live_options=_reconnect_policy(args))  # camera:N, URLs, files, folders, demo
    info = source.info
    offline = not info.live  # a folder or a file: every frame's outputs are written, however long it takes
    sinks = output_sinks(args, info, offline) + [open_sink(spec) for spec in args.sink]
    context = InspectionContext(station=args.station, coil=args.coil, source=redact_url(source.source_id))
    session = InspectionSession(
        source,
        model,
        thresholds=thresholds,
        engine_loader=lambda *_: engine,
        source_opener=lambda opened, **_: opened,
        sinks=sinks,
        context=context,
        coil_clock=CoilClock(args.coil, line_speed_m_min=args.line_speed),
        coil_from=args.coil_from,  # followed while the session runs; waited for so the first events carry it
        coil_wait_s=COIL_WAIT_S,
    )
    total = min(x for x in (info.length, args.max_frames) if x) if (info.length or args.max_frames) else None
    counts: Counter[str] = Counter()
    events: Counter[str] = Counter()
    frames_with_defects = frames = 0
    latencies: list[float] = []
    started = time.perf_counter()
    interrupted, failure = False, None
    try:
        with tqdm(total=total, unit="frame", file=sys.stderr, dynamic_ncols=True) as bar:
            for update in session.run():
                result = None if isinstance(update, SessionStarted) else update.result
                if result is None:
                    continue
                frames += 1
                frames_with_defects += result.decision.flagged
                counts.update(names[int(c)] for c in result.decision.shown.class_id)
                events.update(e.class_name for e in (*result.events.opened, *_strip_closed(result)))
                latencies.append(sum(result.prediction.timings_ms.values()))
                bar.update(1)
                if args.max_frames and frames >= args.max_frames:
                    session.stop()
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted: results so far are saved", file=sys.stderr)
    except SourceError as error:
        if not info.live:
            raise  # e.g. a folder with no readable image: bad input, as before
        failure = error  # a camera or stream gave up: keep what came and say why in the summary
    stats = source.stats()
    status, message, code = _outcome(source, frames, interrupted, failure)
    summary = {
        "source": redact_url(str(args.source)),
        "status": status,
        "message": message,
        "model": engine.info.model_id,
        "backend": engine.info.backend,
        **context.to_record(),
        "frames": frames,
        "frames_with_defects": frames_with_defects,
        "detections_per_class": {n: counts.get(n, 0) for n in names},
        "events_per_class": {n: events.get(n, 0) for n in names},
        "skipped_unreadable": int(stats.get("skipped", 0)),
        "reconnects": int(stats.get("reconnects", 0)),
        "sinks": {sink.name: _sink_summary(sink) for sink in sinks},
        "seconds": round(time.perf_counter() - started, 2),
        "latency_ms_p50": round(float(np.percentile(latencies, 50)), 1) if latencies else None,
        "latency_ms_p95": round(float(np.percentile(latencies, 95)), 1) if latencies else None,
    }
    (args.save_dir / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(f"\n{frames} frames, {frames_with_defects} flagged; model {engine.info.model_id} on {engine.info.backend}")
    print(f"{'class':<18}{'detections':>11}{'events':>8}")
    for name in names:
        print(f"{name:<18}{counts.get(name, 0):>11}{events.get(name, 0):>8}")
    if summary["skipped_unreadable"]:
        print(f"skipped {summary['skipped_unreadable']} unreadable image(s) (see the warnings above)")
    print(f"latency p50 {summary['latency_ms_p50']} ms, p95 {summary['latency_ms_p95']} ms; results in {args.save_dir}")
    for name, figures in summary["sinks"].items():
        if figures["dropped"] or figures["errors"]:
            print(f"warning: {name}: {figures['dropped']} dropped, {figures['errors']} errors", file=sys.stderr)
    if message and failure is None:  # a source that gave up has logged its message already
        print(f"error: {message}", file=sys.stderr)
    return code


def output_sinks(args: argparse.Namespace, info, offline: bool) -> list:
    """The run's files in ``--save-dir``: detections.jsonl, detections.csv, events.jsonl, and annotated images
    (folders, the demo's tiles) or annotated.avi (videos, streams, cameras)."""
    from grace_core.sinks.files import CsvSink, EventsSink, ImagesSink, JsonlSink, VideoSink

    folder = args.save_dir
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("detections.jsonl", "detections.csv", "events.jsonl"):
        (folder / name).unlink(missing_ok=True)  # a new run's files, not appended to an earlier run's
    options = {"wait_when_full": offline}
    heatmap = not args.no_heatmap
    as_video = (info.live or info.fps is not None) and not str(args.source).lower().startswith("demo")
    pictures = (
        VideoSink(folder / "annotated.avi", fps=info.fps, heatmap=heatmap, **options)
        if as_video
        else ImagesSink(folder, heatmap=heatmap, **options)
    )
    return [
        JsonlSink(folder / "detections.jsonl", **options),
        CsvSink(folder / "detections.csv", **options),
        EventsSink(folder / "events.jsonl", **options),
        pictures,
    ]


def _strip_closed(result) -> tuple:
    """A strip source's events open and close in the same frame: count them once, as closed."""
    return result.events.closed if result.strip is not None else ()


def _sink_summary(sink) -> dict:
    stats = sink.stats()
    return {"delivered": stats.delivered, "dropped": stats.dropped, "errors": stats.errors}


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
