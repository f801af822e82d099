"""Inference beside other work: the PyTorch engine's frames/s with one thread and with every core, OpenMP threads
spinning (its default) or sleeping (``OMP_WAIT_POLICY=PASSIVE``), on an idle machine and beside a real background
training run (``grace train`` on every core, niced, as ``scripts/training_campaign.sh`` runs it). Also a training
step's time under each OpenMP policy. The engine's default (every core but one, spinning, see
:mod:`grace_core.engine.torch_engine`) was chosen from these numbers.

Every configuration runs in a fresh process (OpenMP reads its policy once, at load), one after the other, in this
one run. Pause background training first (``scripts/pause_training.sh``).

    .venv/bin/python benchmarks/inference_threads.py --data experiments/neu-det/data.yaml
    .venv/bin/python benchmarks/inference_threads.py --data D --model runs/x/weights/best.pt --frames 60
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOAD_START_S = 25  # the training run's data loading and first steps: it must be training when measuring starts
POLICIES = {"spin (OpenMP default)": None, "sleep (PASSIVE)": "PASSIVE"}


def measure_inference(model: str, frames: int, threads: int) -> dict:
    """In this process: frames/s of decode → predict on the demo tiles."""
    import cv2
    import torch
    from bench_models import frames_from_demo

    from grace_core.engine import load_engine

    images = [cv2.imread(str(p)) for p in frames_from_demo(frames)]
    engine = load_engine(model, threads=threads)
    assert torch.get_num_threads() == threads
    for image in images[:4]:
        engine.predict(image)  # warm-up
    start = time.perf_counter()
    for image in images:
        engine.predict(image)
    return {"fps": len(images) / (time.perf_counter() - start)}


def measure_train_step(threads: int, steps: int = 4) -> dict:
    """In this process: seconds per forward+backward of GRACE-n, batch 16 at 224 (a training step without data)."""
    import torch

    from grace_core.nn import build_model

    torch.set_num_threads(threads)
    model = build_model("grace-n").train()
    batch = torch.rand(16, 3, 224, 224)

    def step() -> None:
        model.zero_grad()
        _loss(model(batch)).backward()

    step()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return {"step_s": (time.perf_counter() - start) / steps}


def _loss(outputs):
    """A scalar that depends on every output of a training-mode forward (tensors, lists or dicts of them)."""
    import torch

    if isinstance(outputs, torch.Tensor):
        return outputs.float().mean()
    values = outputs.values() if isinstance(outputs, dict) else outputs
    return sum(_loss(v) for v in values if isinstance(v, (torch.Tensor, dict, list, tuple)))


def child(policy: str | None, *args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    done = subprocess.run([sys.executable, __file__, "--child", *args], env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"child {args} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="NEU-DET data.yaml (grace data import): the training load's")
    parser.add_argument("--model", default="resources/models/grace-neu-det.pt")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "train":
            result = measure_train_step(int(rest[0]))
        else:
            model, frames, threads = rest
            result = measure_inference(model, int(frames), int(threads))
        print(json.dumps(result))
        return 0

    if not args.data:
        parser.error("--data is required (the training run beside inference trains on it)")
    cores = os.cpu_count() or 1
    rows = []
    tmp = tempfile.mkdtemp(prefix="inference-threads-")
    for load in ("idle", "beside a training run"):
        loader = None
        if load != "idle":  # the background training as the campaign runs it: every core, nice 10, OpenMP default
            env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
            loader = subprocess.Popen(
                ["nice", "-n", "10", sys.executable, "-m", "grace_core.cli.main", "train", "--data", args.data,
                 "--model", "grace-n", "--imgsz", "224", "--batch", "16", "--workers", "0", "--epochs", "100",
                 "--threads", str(cores), "--project", str(Path(tmp) / "load"), "--name", "load"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(LOAD_START_S)
            if loader.poll() is not None:
                raise SystemExit(f"the training load stopped at once: try grace train --data {args.data} by hand")
        try:
            for threads in sorted({1, cores}):
                for label, policy in POLICIES.items():
                    fps = child(policy, "infer", args.model, str(args.frames), str(threads))["fps"]
                    rows.append((load, threads, label, fps))
                    print(f"{load}, {threads} thread(s), {label}: {fps:.1f} frames/s", file=sys.stderr, flush=True)
        finally:
            if loader is not None:
                loader.kill()
                loader.wait()
                shutil.rmtree(tmp, ignore_errors=True)
    steps = {label: child(policy, "train", str(cores))["step_s"] for label, policy in POLICIES.items()}

    print(f"\nPyTorch engine, {Path(args.model).name}, {args.frames} demo tiles, decode → predict, {cores} cores")
    print(f"{'machine':<24}{'threads':>8}  {'OpenMP threads':<24}{'frames/s':>10}")
    for load, threads, label, fps in rows:
        print(f"{load:<24}{threads:>8}  {label:<24}{fps:>10.1f}")
    print(f"\nGRACE-n training step (forward+backward, batch 16 at 224, {cores} threads, idle machine)")
    for label, seconds in steps.items():
        print(f"  {label:<24}{seconds * 1000:>8.0f} ms")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main())
