"""Seconds per NEU-DET training epoch: ultralytics' CPU defaults against ours, side by side in one run.

* **before** — what training did until now: ultralytics' ``select_device('cpu')`` leaves torch ``cpu_count − 1``
  threads (one on a 2-core PC), fp32, data loaded in the training process (ultralytics sets 0 workers on a CPU);
* **after, fp32** — every core, the requested loader workers: what an AVX2-only CPU gets;
* **after, auto** — every core and bf16 autocast where the CPU computes bf16 natively (the default).

Each configuration trains GRACE-n (DS-CBSM++, batch 16, imgsz 224) on the NEU-DET training split for one full epoch
without validation, from the same seed; configurations alternate over ``--rounds`` rounds. Reported: the median
epoch time and the speed-up over "before". Pause background training first (scripts/pause_training.sh).

    .venv/bin/python benchmarks/train_throughput.py --data experiments/neu-det/data.yaml
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

CONFIGS = {  # name: (precision, threads (None = every core), loader workers (None = ultralytics' CPU choice, 0))
    "before (ultralytics defaults)": ("fp32", "ultralytics", None),
    "after, fp32 (AVX2-only CPUs)": ("fp32", None, 2),
    "after, auto": ("auto", None, 2),
}


def epoch_seconds(data: str, precision: str, threads, workers, project: Path, name: str) -> tuple[float, str]:
    from ultralytics.utils import NUM_THREADS

    from grace_core.training.trainer import GraceTrainer

    trainer = GraceTrainer(
        overrides=dict(
            model="grace-n", data=data, epochs=1, imgsz=224, batch=16, device="cpu", seed=0, workers=2, val=False,
            plots=False, verbose=False, project=str(project), name=name, exist_ok=True, pretrained=False,
        ),
        precision=precision,
        threads=NUM_THREADS if threads == "ultralytics" else threads,
        workers=workers,
    )  # fmt: skip
    marks: dict[str, float] = {}
    trainer.add_callback("on_train_epoch_start", lambda t: marks.setdefault("start", time.perf_counter()))
    trainer.add_callback("on_train_epoch_end", lambda t: marks.setdefault("end", time.perf_counter()))
    trainer.train()
    return marks["end"] - marks["start"], trainer.cpu_plan.describe()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="NEU-DET data.yaml (grace data import)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    seconds: dict[str, list[float]] = {name: [] for name in CONFIGS}
    plans: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as folder:
        for round_index in range(args.rounds):
            for name, (precision, threads, workers) in CONFIGS.items():
                took, plans[name] = epoch_seconds(args.data, precision, threads, workers, Path(folder), name[:6])
                seconds[name].append(took)
                print(f"round {round_index + 1}: {name}: {took:.1f} s", file=sys.stderr, flush=True)
    before = statistics.median(seconds[next(iter(CONFIGS))])
    print("| configuration | how it trained | s/epoch (median) | speed-up |")
    print("|---|---|---|---|")
    for name in CONFIGS:
        median = statistics.median(seconds[name])
        print(f"| {name} | {plans[name]} | {median:.1f} | {before / median:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
