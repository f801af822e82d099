"""How far along the current coil the line is (what the live tab shows beside the coil id)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from grace_core.coil import CoilClock
from grace_core.types import Frame


def frame(i: int, **meta: object) -> Frame:
    return Frame(np.zeros((8, 8, 3), np.uint8), i, 100.0 + i, "cam", meta=dict(meta))


def test_unknown_before_a_frame_and_without_a_measure():
    assert CoilClock("C1").position_m() is None
    clock = CoilClock("C1")
    clock.observe(frame(0), None)
    assert clock.position_m() is None  # no strip scale, line speed or encoder: nothing measures the strip


def test_a_strip_source_counts_metres_from_where_the_coil_began():
    clock = CoilClock("C1")
    clock.observe(frame(0), 2.0)  # the first frame: the coil begins 2 m into the strip
    clock.observe(frame(1), 5.5)
    assert clock.position_m() == pytest.approx(3.5)
    clock.set_coil("C2")  # a new coil restarts at 0
    assert clock.position_m() == pytest.approx(0.0)
    clock.observe(frame(2), 6.0)
    assert clock.position_m() == pytest.approx(0.5)


def test_line_speed_and_encoder():
    clock = CoilClock("C1", line_speed_m_min=60.0)  # 1 m/s
    clock.observe(frame(0), None)
    clock.observe(frame(4), None)
    assert clock.position_m() == pytest.approx(4.0)
    counted = CoilClock("C1", line_speed_m_min=60.0, metres_per_count=0.01)
    counted.observe(frame(0, encoder=1000), None)
    counted.observe(frame(4, encoder=1250), None)
    assert counted.position_m() == pytest.approx(2.5)  # the encoder wins over the line speed


def test_grace_detect_saves_flagged_frames_with_the_coil_and_increasing_positions(tmp_path):
    """``grace detect … --coil C4711 --line-speed 60 --sink store:DIR``: every saved frame names the coil and how far
    along it the line was (1 m/s, the demo's frames 0.1 s apart)."""
    from grace_core.cli.main import main
    from grace_core.store import FrameFilter, ReviewStore

    root = tmp_path / "review"
    argv = ["detect", "demo:tiles", "--model", "shipped", "--coil", "C4711", "--line-speed", "60"]
    argv += ["--max-frames", "30", "--save-dir", str(tmp_path / "out"), "--sink", f"store:{root}"]
    assert main(argv) == 0
    with ReviewStore.open_existing(root) as store:
        rows = sorted(store.list_frames(limit=100), key=lambda r: r.captured_at)
        assert len(rows) >= 2 and store.facets().coils == ("C4711",)
        assert store.count(FrameFilter(coil="C4711")) == len(rows)
    positions = [r.coil_m for r in rows]
    assert all(m is not None for m in positions)
    assert all(a <= b for a, b in itertools.pairwise(positions)) and positions[-1] > positions[0]
    first = rows[0]
    for row in rows:  # 1 m of coil per second of the line
        assert row.coil_m - first.coil_m == pytest.approx(row.captured_at - first.captured_at, abs=1e-6)
