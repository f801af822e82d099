"""The same frames give the same verdicts in ``grace detect`` and in the app's live tab: same source (the demo's
NEU-DET tiles, with their seeded sensor noise), same shipped model, same thresholds — frame by frame, the status
and the shown detections agree, both as the app's worker decides them for every frame and as the tab shows them."""

from __future__ import annotations

import json

import pytest

from app.workers.inspection import InspectionWorker
from grace_core.cli.main import main as grace
from grace_core.flagging import Thresholds

FRAMES = 24  # one loop of the demo's tiles: OK, NG and UNCERTAIN frames all occur
WAIT_MS = 90_000


def shown(decision, names) -> list[tuple[str, float]]:
    """The frame's shown detections as ``grace detect`` writes them: class and score (4 decimals), best first."""
    rows = [(r["class_name"], r["confidence"]) for r in decision.shown.to_records(names)]
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def test_grace_detect_and_the_live_tab_give_the_same_verdict_for_every_frame(qtbot, make_window, tmp_path, monkeypatch):
    thresholds = Thresholds()  # the app's defaults: one uncertain and one flag threshold for every class
    out = tmp_path / "detect"
    code = grace(
        ["detect", "demo:tiles", "--model", "shipped", "--max-frames", str(FRAMES), "--save-dir", str(out),
         "--conf", str(thresholds.default_uncertain), "--flag", str(thresholds.default_flag),
         "--iou", str(thresholds.iou)]
    )  # fmt: skip
    assert code == 0
    lines = [json.loads(line) for line in (out / "detections.jsonl").read_text(encoding="utf-8").splitlines()]
    cli = {
        line["frame"]: (line["name"], line["status"], sorted(
            ((d["class_name"], d["confidence"]) for d in line["detections"]), key=lambda row: (-row[1], row[0])
        ))
        for line in lines
    }  # fmt: skip
    assert sorted(cli) == list(range(FRAMES))
    assert {status for _, status, _ in cli.values()} == {"clear", "defect", "uncertain"}, "a comparison worth making"

    worker_seen: dict[int, tuple] = {}  # every frame the app's worker inspected (the screen may skip some)
    prepare = InspectionWorker._prepare

    def recording(worker, update):
        result = update.result
        if result is not None:
            names = worker._info.class_names
            worker_seen[result.frame.index] = (str(result.frame.meta["stem"]), result.decision.status,
                                               shown(result.decision, names))  # fmt: skip
        return prepare(worker, update)

    monkeypatch.setattr(InspectionWorker, "_prepare", recording)
    window = make_window(source="demo:tiles", model="shipped", backend="auto", thresholds=thresholds.to_dict())
    live = window.live
    on_screen: dict[int, tuple] = {}  # what the tab shows: its own decision, re-made with the thresholds on screen

    def shown_now(_item) -> None:
        if live.last_result is not None and live.decision is not None:
            names = live.engine_info.class_names
            on_screen[live.last_result.frame.index] = (live.decision.status, shown(live.decision, names))

    live.controller.update.connect(shown_now)  # after the tab's own slot: it has re-decided the frame by then
    live.start()
    qtbot.waitUntil(lambda: len(worker_seen) >= FRAMES, timeout=WAIT_MS)
    live.stop()

    assert live.engine_info.backend == "onnxruntime"
    for index in range(FRAMES):
        assert worker_seen[index] == cli[index], f"frame {index}: app {worker_seen[index]} != grace detect {cli[index]}"
    compared = [i for i in on_screen if i < FRAMES]
    assert compared, "the tab showed some of the frames"
    for index in compared:
        assert on_screen[index] == cli[index][1:], f"frame {index} on screen differs from grace detect"


@pytest.fixture(autouse=True)
def _quiet_progress(monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "1")
