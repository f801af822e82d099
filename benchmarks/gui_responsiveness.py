"""GUI responsiveness and memory of the real main window while it inspects the demo with the shipped model.

Baseline, measured side by side in the same run: the same window with inspection stopped (an idle event loop).

* **Event-loop latency**: a precise 20 ms QTimer; latency = how late each tick fires. While inspection runs, every
  frame is drawn, thresholds re-applied, the trend and table updated, flagged frames saved. Target (issue 6):
  p99 < 50 ms.
* **Memory**: resident set size every 10 s. Growth is measured from the end of the first minute (model loaded,
  caches warm) to the end. Target: < 5 % over at least 10 minutes.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui_responsiveness.py              # 10 min inspecting
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui_responsiveness.py --minutes 1  # a quick look
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

TICK_MS = 20


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else float("nan")


class LoopProbe:
    """Records how late a precise timer fires: the event loop's latency as a user's click would feel it."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.lateness_ms: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer(interval=TICK_MS, timerType=Qt.TimerType.PreciseTimer, timeout=self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.lateness_ms.append(max(0.0, (now - self._last) * 1000 - TICK_MS))
        self._last = now

    def start(self) -> None:
        self.lateness_ms.clear()
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return list(self.lateness_ms)


def run_phase(app, seconds: float, on_sample=None) -> None:
    deadline = time.monotonic() + seconds
    next_sample = time.monotonic()
    while time.monotonic() < deadline:
        app.processEvents()
        if on_sample is not None and time.monotonic() >= next_sample:
            on_sample()
            next_sample += 10.0
        time.sleep(0.002)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="inspection time (10)")
    parser.add_argument("--idle-seconds", type=float, default=30.0, help="baseline: idle window (30)")
    parser.add_argument("--backend", default="auto", choices=("auto", "torch", "onnxruntime", "openvino"))
    args = parser.parse_args()

    sandbox = Path(tempfile.mkdtemp(prefix="grace-gui-bench-"))
    os.environ["GRACE_CONFIG_DIR"] = str(sandbox / "config")  # never touch the user's settings or store
    os.environ["GRACE_DATA_DIR"] = str(sandbox / "data")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from app.qt_env import drop_opencv_qt_paths

    drop_opencv_qt_paths()
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from app.settings import LiveSettings

    app = QApplication([])
    window = MainWindow(LiveSettings(backend=args.backend), store_root=sandbox / "review")
    window.show()
    probe = LoopProbe()

    run_phase(app, 3.0)  # first show and layout are not part of either measurement
    print(f"baseline: idle window, {args.idle_seconds:.0f} s …", flush=True)
    probe.start()
    run_phase(app, args.idle_seconds)
    idle = probe.stop()

    print(f"inspecting the demo for {args.minutes:.1f} min …", flush=True)
    samples: list[tuple[float, int]] = []
    started = time.monotonic()
    window.live.start()
    probe.start()
    run_phase(app, args.minutes * 60, lambda: samples.append((time.monotonic() - started, rss_bytes())))
    busy = probe.stop()
    samples.append((time.monotonic() - started, rss_bytes()))
    frames = window.live.last_result.frame.index + 1 if window.live.last_result else 0
    status = window.live.status
    summary = (status.fps.text(), status.latency.text(), status.dropped.text(), status.flagged.text())
    window.close()

    warm = next((rss for t, rss in samples if t >= 60.0), samples[0][1])
    final = samples[-1][1]
    growth = (final - warm) / warm * 100
    print()
    print(f"{'event-loop latency (ms)':<28}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>9}{'ticks':>8}")
    for name, values in (("idle window (baseline)", idle), ("inspecting the demo", busy)):
        row = "".join(f"{percentile(values, q):>8.1f}" for q in (50, 95, 99))
        print(f"{name:<28}{row}{max(values, default=float('nan')):>9.1f}{len(values):>8}")
    p99 = percentile(busy, 99)
    print(f"\np99 while inspecting: {p99:.1f} ms (target < 50 ms): {'PASS' if p99 < 50 else 'FAIL'}")
    print(f"frames inspected: {frames}; readouts at the end: {' | '.join(summary)}")
    print(
        f"memory (RSS): {warm / 2**20:.1f} MiB after the first minute → {final / 2**20:.1f} MiB after "
        f"{samples[-1][0] / 60:.1f} min: {growth:+.2f} % (target < 5 %): {'PASS' if growth < 5 else 'FAIL'}"
    )
    print("RSS samples (min, MiB): " + ", ".join(f"{t / 60:.1f}:{rss / 2**20:.0f}" for t, rss in samples[::6]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
