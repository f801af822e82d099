"""Lite-FEN's latency cost: GRACE against YOLO11 of the same scale, per backend, through our engines.

Three architectures, untrained (speed does not depend on the weights): YOLO11 (the baseline), GRACE with today's
Lite-FEN, and GRACE with the first Lite-FEN (a dense 1x1 convolution after the depthwise one). Each backend's
three engines run interleaved — rounds in shuffled order, a block of runs per model per round after a short idle
gap, the block's first run dropped — and each GRACE block is divided by the YOLO11 block of the same round.
Paired ratios cancel the machine's drift, which on a 2-core box is as large as the effect. The gap matters:
ONNX Runtime's and OpenMP's worker threads keep spinning for a while after a run, and without it one model's
leftover spinning slows the next model's run (measured: up to 1.8x on ONNX Runtime at 224).
Target (issue 5): Lite-FEN ≤ +5 % latency on every backend.

    .venv/bin/python benchmarks/lite_fen_cost.py                          # scale s, imgsz 640 and 224
    .venv/bin/python benchmarks/lite_fen_cost.py --scale n --sizes 224 --rounds 40
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_models import frames_from_demo, untrained_checkpoint

from grace_core.engine.runtimes import RUNTIMES

BACKENDS = tuple(RUNTIMES)
TARGET = 0.05


def architectures(scale: str) -> dict[str, str | dict]:
    from grace_core.nn import model_config

    first = model_config(f"grace-{scale}")
    for layer in first["backbone"] + first["head"]:
        if layer[2] == "LiteFEN":
            layer[3] = ["c2", 0.5, 7, True]  # the first block: pointwise convolution on
    return {"YOLO11": f"yolo11{scale}", "GRACE": f"grace-{scale}", "GRACE, first Lite-FEN": first}


def model_files(scale: str, imgsz: int, folder: Path) -> dict[str, dict[str, Path]]:
    """{architecture: {backend: model file}}."""
    from grace_core.engine.export import export_model

    files = {}
    for index, (label, arch) in enumerate(architectures(scale).items()):
        pt = untrained_checkpoint(arch, folder / f"model{index}.pt", imgsz)
        out = folder / f"model{index}"
        files[label] = {
            "torch": pt,
            "onnxruntime": export_model(pt, "onnx", imgsz=imgsz, out_dir=out),
            "openvino": export_model(pt, "openvino", imgsz=imgsz, out_dir=out),
        }
    return files


def paired_ratios(engines: dict, image, rounds: int, block: int, pause: float) -> dict[str, list[float]]:
    """{label: [median of a GRACE block / median of the YOLO11 block of the same round, per round]}."""
    labels = list(engines)
    ratios = {label: [] for label in labels if label != "YOLO11"}
    for _ in range(rounds):
        random.shuffle(labels)
        times = {}
        for label in labels:
            time.sleep(pause)
            runs = [engines[label].predict(image).timings_ms["inference"] for _ in range(block + 1)]
            times[label] = statistics.median(runs[1:])
        for label in ratios:
            ratios[label].append(times[label] / times["YOLO11"])
    return ratios


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="s", help="model scale (s: the paper's)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[640, 224])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--block", type=int, default=3, help="timed runs per model per round")
    parser.add_argument("--pause", type=float, default=0.1, help="idle seconds before each block (see above)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads")
    args = parser.parse_args()

    import cv2
    import torch

    from grace_core.engine import load_engine

    random.seed(0)
    image = cv2.imread(str(frames_from_demo(1)[0]))
    rows = []
    with tempfile.TemporaryDirectory(prefix="lite-fen-cost-") as tmp:
        for imgsz in args.sizes:
            folder = Path(tmp) / str(imgsz)
            folder.mkdir()
            files = model_files(args.scale, imgsz, folder)
            for backend in BACKENDS:
                torch.set_num_threads(args.threads)
                engines = {label: load_engine(by_backend[backend], backend) for label, by_backend in files.items()}
                for engine in engines.values():
                    for _ in range(3):
                        engine.predict(image)  # warm-up
                time.sleep(args.pause)
                yolo_ms = statistics.median(
                    engines["YOLO11"].predict(image).timings_ms["inference"] for _ in range(2 * args.block)
                )
                for label, ratios in paired_ratios(engines, image, args.rounds, args.block, args.pause).items():
                    quartiles = statistics.quantiles(ratios, n=4)
                    rows.append((imgsz, backend, label, yolo_ms, statistics.median(ratios), quartiles))
                for engine in engines.values():
                    engine.close()
                print(f"[{imgsz}] {backend} done", file=sys.stderr, flush=True)

    print(
        f"\nLite-FEN latency cost, scale {args.scale}: inference time of GRACE / YOLO11{args.scale}, paired per round "
        f"({args.rounds} rounds × {args.block} runs), median and interquartile range"
    )
    print(f"{'imgsz':>6}  {'backend':<13}{'YOLO11 ms':>10}  {'model':<23}{'overhead':>9}  {'IQR':>16}")
    for imgsz, backend, label, yolo_ms, ratio, (q1, _, q3) in rows:
        iqr = f"[{100 * (q1 - 1):+.1f}, {100 * (q3 - 1):+.1f}] %"
        print(f"{imgsz:>6}  {backend:<13}{yolo_ms:>10.1f}  {label:<23}{100 * (ratio - 1):>+8.1f}%  {iqr:>16}")
    lean = [row for row in rows if row[2] == "GRACE"]
    worst = max(lean, key=lambda row: row[4])
    verdict = "met" if worst[4] - 1 <= TARGET else "NOT met"
    print(
        f"Lite-FEN's largest overhead: {100 * (worst[4] - 1):+.1f} % ({worst[1]}, imgsz {worst[0]}); "
        f"target ≤ +{100 * TARGET:.0f} % on every backend: {verdict}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
