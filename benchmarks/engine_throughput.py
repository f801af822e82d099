"""End-to-end throughput: our pipeline (decode → inference → heatmap + box overlay) per backend, against plain
ultralytics ``YOLO(model).predict(stream=True)`` (decode → inference → ``result.plot()``) on the same model and the
same frames, at each image size. Also Lite-FEN's latency cost: GRACE vs YOLO11 of the same scale, per backend.

Everything is measured in this one run, configuration after configuration, after a warm-up pass each.
Targets (issue 5): the fastest backend ≥ 1.5× the ultralytics torch path with the heatmap on; Lite-FEN ≤ +5 %.

    .venv/bin/python benchmarks/engine_throughput.py                       # untrained GRACE-s and YOLO11s
    .venv/bin/python benchmarks/engine_throughput.py --model runs/x/weights/best.pt --sizes 640 224 --frames 48
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_models import frames_from_demo, scale_of, untrained_checkpoint

from grace_core.engine.runtimes import RUNTIMES

BACKENDS = tuple(RUNTIMES)


def our_pipeline(model_file: Path, frames: list[Path], threads: int | None = None) -> tuple[float, float]:
    """(frames per second, median inference ms) for decode → predict → overlay."""
    import cv2

    from grace_core.engine import load_engine
    from grace_core.render import annotate

    engine = load_engine(model_file, threads=threads)
    names = engine.info.class_names

    def timed(paths: list[Path]) -> tuple[float, list[float]]:
        inference = []
        start = time.perf_counter()
        for path in paths:
            image = cv2.imread(str(path))
            prediction = engine.predict(image)
            annotate(image, prediction.detections, names, prediction.heatmap, heat_range=engine.info.heat_range)
            inference.append(prediction.timings_ms["inference"])
        return time.perf_counter() - start, inference

    timed(frames[:4])  # warm-up
    seconds, inference = timed(frames)
    engine.close()
    return len(frames) / seconds, statistics.median(inference)


def ultralytics_pipeline(pt_file: Path, frames: list[Path], imgsz: int, threads: int) -> float:
    import torch
    from ultralytics import YOLO

    model = YOLO(str(pt_file))
    for result in model.predict([str(p) for p in frames[:4]], imgsz=imgsz, stream=True, verbose=False):
        result.plot()
    # ultralytics' select_device set cpu_count - 1 threads during the warm-up: give every pipeline the same count
    # (with --threads 0, ultralytics keeps its own choice)
    if threads:
        torch.set_num_threads(threads)
    start = time.perf_counter()
    for result in model.predict([str(p) for p in frames], imgsz=imgsz, stream=True, verbose=False):
        result.plot()
    return len(frames) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a GRACE .pt checkpoint (default: an untrained one of --scale)")
    parser.add_argument("--scale", default="s", help="scale of the untrained pair (s); with --model, the model's")
    parser.add_argument("--sizes", type=int, nargs="+", default=[640, 224])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count(),
        help="CPU threads for every pipeline (default: every core); 0: each one's own default (ours: the engine's)",
    )
    args = parser.parse_args()

    from grace_core.engine.export import export_model

    frames = frames_from_demo(args.frames)
    scale = scale_of(Path(args.model)) if args.model else args.scale  # Lite-FEN's cost: against YOLO11 of its scale
    rows, overhead = [], []
    with tempfile.TemporaryDirectory(prefix="engine-bench-") as tmp:
        tmp = Path(tmp)
        for imgsz in args.sizes:
            folder = tmp / str(imgsz)
            folder.mkdir()
            grace_pt = Path(args.model or untrained_checkpoint(f"grace-{scale}", folder / "g.pt", imgsz))
            yolo_pt = untrained_checkpoint(f"yolo11{scale}", folder / "y.pt", imgsz)
            models = {}
            for label, pt in (("GRACE", grace_pt), ("YOLO11", yolo_pt)):
                models[label] = {
                    "torch": pt,
                    "onnxruntime": export_model(pt, "onnx", imgsz=imgsz, out_dir=folder / label),
                    "openvino": export_model(pt, "openvino", imgsz=imgsz, out_dir=folder / label),
                }
            baseline = ultralytics_pipeline(grace_pt, frames, imgsz, args.threads)
            rows.append((imgsz, "ultralytics predict (torch)", baseline, None, 1.0))
            print(f"[{imgsz}] ultralytics: {baseline:.2f} frames/s", file=sys.stderr, flush=True)
            for backend in BACKENDS:
                threads = args.threads or None
                fps, grace_ms = our_pipeline(models["GRACE"][backend], frames, threads)
                _, yolo_ms = our_pipeline(models["YOLO11"][backend], frames, threads)
                rows.append((imgsz, f"ours, {backend}", fps, grace_ms, fps / baseline))
                overhead.append((imgsz, backend, grace_ms, yolo_ms))
                print(f"[{imgsz}] {backend}: {fps:.2f} frames/s", file=sys.stderr, flush=True)

    print(
        f"\nEnd-to-end throughput, {len(frames)} demo frames (decode → inference → overlay), this machine, "
        f"threads: {args.threads or 'each pipeline its default'}"
    )
    print(f"{'imgsz':>6}  {'pipeline':<30}{'frames/s':>10}{'infer ms':>10}{'× ultralytics':>15}")
    for imgsz, label, fps, ms, ratio in rows:
        print(f"{imgsz:>6}  {label:<30}{fps:>10.2f}{(f'{ms:.1f}' if ms else '-'):>10}{ratio:>15.2f}")
    for imgsz in args.sizes:
        best = max((r for r in rows if r[0] == imgsz), key=lambda r: r[2])
        verdict = "met" if best[4] >= 1.5 else "NOT met"
        print(f"imgsz {imgsz}: fastest is {best[1]} at {best[4]:.2f}× ultralytics (target ≥ 1.5×: {verdict})")
    print("\nLite-FEN latency cost (median inference ms, GRACE vs YOLO11 of the same scale)")
    print(f"{'imgsz':>6}  {'backend':<14}{'GRACE':>9}{'YOLO11':>9}{'overhead':>10}")
    for imgsz, backend, grace_ms, yolo_ms in overhead:
        print(f"{imgsz:>6}  {backend:<14}{grace_ms:>9.1f}{yolo_ms:>9.1f}{100 * (grace_ms / yolo_ms - 1):>9.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
