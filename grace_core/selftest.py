"""``--self-test``: does this install inspect and train? For plants checking a fresh (often offline) install.

Runs the shipped model on the built-in demo with every inference backend this install bundles, checks that it finds
defects and produces the heatmap, then trains one epoch on generated data through a worker process started exactly
as the app's training tab starts it (``worker_command``: in a frozen app, the executable itself). Nothing is
downloaded; everything is written to a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grace_core.engine.runtimes import RUNTIMES

MIN_DETECTING_SHARE = 0.5  # every demo tile shows a defect; the shipped model finds 60 % of their boxes (card)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    seconds: float

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'}  {self.name:<28} {self.detail} ({self.seconds:.1f} s)"


def bundled_backends() -> list[str]:
    """The inference runtimes importable here (a runtime-only build has no torch)."""
    return [name for name, runtime in RUNTIMES.items() if runtime.installed()]


def check_backend(backend: str, frames: int) -> Check:
    from grace_core.engine import load_engine
    from grace_core.models import default_model
    from grace_core.sources.demo import DemoSource

    started = time.monotonic()
    engine = load_engine(default_model(backend), backend)
    detecting = with_heat = 0
    with DemoSource(fps=1000.0, noise=0.0) as source:
        for _ in range(frames):
            frame = source.read(timeout=5.0)
            if frame is None:
                raise RuntimeError("the demo source gave no frame")
            prediction = engine.predict(frame.image)
            detecting += len(prediction.detections) > 0
            with_heat += prediction.heatmap is not None and prediction.heatmap.shape == frame.image.shape[:2]
    ok = detecting >= MIN_DETECTING_SHARE * frames and with_heat == frames
    detail = f"defects found on {detecting}/{frames} demo frames, heatmap on {with_heat}/{frames}"
    return Check(f"inspect demo ({backend})", ok, detail, time.monotonic() - started)


def check_training(workdir: Path, timeout_s: float = 900.0) -> Check:
    """One epoch of GRACE-n on generated images in a worker process, read through the progress protocol."""
    from grace_core.data.synthetic import write_synthetic_yolo
    from grace_core.training.protocol import Event, EventDecoder
    from grace_core.training.worker import worker_command

    started = time.monotonic()
    data = write_synthetic_yolo(workdir / "data", n_images=8, seed=0, size=(64, 64))
    args = ["train", "--data", str(data), "--model", "grace-n", "--epochs", "1", "--imgsz", "64", "--batch", "4"]
    args += ["--workers", "0", "--project", str(workdir / "runs"), "--name", "selftest", "--events", "jsonl"]
    result = subprocess.run(worker_command(args), capture_output=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
    decoder = EventDecoder()
    events = [item for item in decoder.feed(result.stdout) + decoder.close() if isinstance(item, Event)]
    done = next((e for e in events if e.type == "done"), None)
    epochs = sum(e.type == "epoch" for e in events)
    best = workdir / "runs" / "selftest" / "weights" / "best.pt"
    ok = result.returncode == 0 and done is not None and done.get("status") == "completed" and best.is_file()
    if ok:
        detail = f"1 epoch trained in a worker process ({epochs} epoch event, best.pt written)"
    else:
        errors = [str(e.get("message")) for e in events if e.type == "error"]
        tail = result.stderr.decode(errors="replace").strip().splitlines()[-1:]
        detail = f"exit code {result.returncode}: " + (errors[-1] if errors else " ".join(tail) or "no output")
    return Check("train 1 epoch (worker)", ok, detail, time.monotonic() - started)


def run_self_test(frames: int = 12, train: bool = True, log: Callable[[str], None] = print) -> list[Check]:
    """All checks, each reported through ``log`` as it finishes; an exception fails its check, not the run."""
    checks: list[Check] = []

    def attempt(name: str, action: Callable[[], Check]) -> None:
        started = time.monotonic()
        try:
            check = action()
        except Exception as error:  # a self-test reports every failure and goes on
            check = Check(name, False, f"{type(error).__name__}: {error}", time.monotonic() - started)
        checks.append(check)
        log(check.line())

    backends = bundled_backends()
    if not backends:
        checks.append(Check("inference backends", False, f"none bundled ({', '.join(RUNTIMES)})", 0.0))
        log(checks[-1].line())
    for backend in backends:
        attempt(f"inspect demo ({backend})", lambda b=backend: check_backend(b, frames))
    if train:
        if "torch" not in backends:
            log("SKIP  train 1 epoch (worker)       this build has no torch: it inspects but does not train")
        else:
            with tempfile.TemporaryDirectory(prefix="grace-selftest-") as tmp:
                attempt("train 1 epoch (worker)", lambda: check_training(Path(tmp)))
    passed = sum(check.ok for check in checks)
    log(f"self-test: {passed}/{len(checks)} checks passed")
    return checks
