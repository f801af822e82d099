"""DS-CBSM++ overhead: seconds per training epoch with DS-CBSM++ sampling vs ultralytics' uniform shuffle.

Both arms train the same model on the same data with the same settings; runs are interleaved (uniform, dscbsm,
uniform, dscbsm, …) so that machine load drifts hit both alike. Only the training loop of each epoch is timed
(on_train_epoch_start → on_train_epoch_end): validation is identical in both arms and would dilute the ratio.
The first epoch of every run is dropped (allocator and data-cache warm-up). Target: ratio ≤ 1.05.

    .venv/bin/python benchmarks/dscbsm_overhead.py                      # synthetic data, grace-n
    .venv/bin/python benchmarks/dscbsm_overhead.py --data experiments/neu-det/data.yaml --imgsz 224 --fraction 0.25
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path


def epoch_times(data: str, sampler: str, args: argparse.Namespace, project: Path, run: int) -> list[float]:
    from grace_core.training.dscbsm import DSCBSMConfig
    from grace_core.training.trainer import GraceTrainer

    trainer = GraceTrainer(
        overrides=dict(
            model=args.model,
            data=data,
            epochs=args.epochs,
            imgsz=args.imgsz,
            batch=args.batch,
            workers=args.workers,
            device="cpu",
            seed=0,
            project=str(project),
            name=f"{sampler}-{run}",
            plots=False,
            val=False,
            verbose=False,
            fraction=args.fraction,
        ),
        sampler=sampler,
        dscbsm_config=DSCBSMConfig(warmup_epochs=1),  # steer from epoch 2 on: time the steady state
    )
    times: list[float] = []
    started = [0.0]
    trainer.add_callback("on_train_epoch_start", lambda t: started.__setitem__(0, time.perf_counter()))
    trainer.add_callback("on_train_epoch_end", lambda t: times.append(time.perf_counter() - started[0]))
    trainer.train()
    return times[1:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="data.yaml (default: a generated synthetic set of 96 images)")
    parser.add_argument("--model", default="grace-n")
    parser.add_argument("--imgsz", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=4, help="epochs per run (the first is dropped)")
    parser.add_argument("--repeats", type=int, default=2, help="runs per arm, interleaved")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fraction", type=float, default=1.0, help="fraction of the training set")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dscbsm-bench-") as tmp:
        data = args.data
        if data is None:
            from grace_core.data.synthetic import write_synthetic_yolo

            data = str(write_synthetic_yolo(Path(tmp) / "data", n_images=96, seed=0, size=(args.imgsz, args.imgsz)))
        results: dict[str, list[float]] = {"uniform": [], "dscbsm": []}
        for run in range(args.repeats):
            for sampler in results:
                times = epoch_times(data, sampler, args, Path(tmp) / "runs", run)
                results[sampler] += times
                print(
                    f"run {run + 1}/{args.repeats} {sampler:>7}: " + ", ".join(f"{t:.2f}s" for t in times),
                    file=sys.stderr,
                    flush=True,
                )

    uniform, dscbsm = (statistics.median(results[k]) for k in ("uniform", "dscbsm"))
    print(
        f"\nDS-CBSM++ overhead — {args.model}, imgsz {args.imgsz}, batch {args.batch}, data {args.data or 'synthetic'}"
    )
    print(f"{'sampler':<28}{'median s/epoch':>16}{'epochs timed':>14}")
    print(f"{'uniform (ultralytics shuffle)':<28}{uniform:>16.3f}{len(results['uniform']):>14}")
    print(f"{'DS-CBSM++':<28}{dscbsm:>16.3f}{len(results['dscbsm']):>14}")
    ratio = dscbsm / uniform
    print(f"ratio DS-CBSM++ / uniform: {ratio:.3f}  (target <= 1.05: {'met' if ratio <= 1.05 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
