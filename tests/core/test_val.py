"""`grace val` against cases whose AP is known by hand.

An "oracle" module stands in for a model: each test image is a flat grey whose level encodes its id, and the
oracle returns crafted detections for that id in the raw Detect layout (xywh + class scores), so the whole
ultralytics validation path (letterbox, NMS, matching) runs for real.
"""

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from grace_core.cli.main import main
from grace_core.errors import GraceError
from grace_core.evaluation import validate
from grace_core.metrics import average_precision

SIZE = 64
NAMES = {0: "pit", 1: "scratch"}


def grey(image_id: int) -> int:
    return 20 + 30 * image_id


class Oracle(nn.Module):
    """Returns, for image id k, the detections ``table[k]``: (class, x1, y1, x2, y2, score)."""

    def __init__(self, table: dict[int, list[tuple]]) -> None:
        super().__init__()
        self.table = table
        self.names = NAMES
        self.stride = torch.tensor([32.0])
        self.yaml = {"nc": len(NAMES)}
        self.anchor = nn.Parameter(torch.zeros(1))
        self.model = nn.Sequential(nn.Identity())  # the layer list every ultralytics model has

    def fuse(self, verbose=False):
        return self

    def forward(self, x, *args, **kwargs):
        out = torch.zeros(x.shape[0], 4 + len(NAMES), 16)
        for b in range(x.shape[0]):
            image_id = round((float(x[b, 0, 0, 0]) * 255 - 20) / 30)
            for k, (c, x1, y1, x2, y2, score) in enumerate(self.table.get(image_id, [])):
                out[b, :4, k] = torch.tensor([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1])
                out[b, 4 + c, k] = score
        return out


def write_dataset(root, boxes_per_image: dict[int, list[tuple]]):
    for sub in ("images/val", "labels/val"):
        (root / sub).mkdir(parents=True)
    for image_id, boxes in boxes_per_image.items():
        cv2.imwrite(str(root / "images/val" / f"{image_id}.png"), np.full((SIZE, SIZE, 3), grey(image_id), np.uint8))
        lines = [
            f"{c} {(x1 + x2) / 2 / SIZE:.6f} {(y1 + y2) / 2 / SIZE:.6f} {(x2 - x1) / SIZE:.6f} {(y2 - y1) / SIZE:.6f}"
            for c, x1, y1, x2, y2 in boxes
        ]
        (root / "labels/val" / f"{image_id}.txt").write_text("\n".join(lines) + "\n")
    (root / "data.yaml").write_text(f"path: {root}\ntrain: images/val\nval: images/val\nnames: {json.dumps(NAMES)}\n")
    return root / "data.yaml"


GT = {0: [(0, 8, 8, 24, 24), (1, 30, 30, 60, 40)], 1: [(0, 10, 30, 30, 50)], 2: [(0, 40, 4, 56, 20)]}


def test_perfect_predictions_score_exactly_one(tmp_path):
    data = write_dataset(tmp_path, GT)
    perfect = {k: [(*box, 0.9) for box in boxes] for k, boxes in GT.items()}
    result = validate(Oracle(perfect), data, imgsz=SIZE, batch=2)
    assert result.map50 == 1.0 and result.map50_95 == 1.0
    assert [(c.name, c.instances, c.ap50, c.ap50_95) for c in result.per_class] == [
        ("pit", 3, 1.0, 1.0),
        ("scratch", 1, 1.0, 1.0),
    ]
    assert result.ultralytics["map50"] == pytest.approx(0.995)  # ultralytics' trapezoid tops out there


def test_a_crafted_ranking_gives_its_exact_ap(tmp_path):
    # pit: 3 targets. Ranked detections: TP (0.9), FP (0.8, nowhere near a target), TP (0.7), TP (0.6).
    # Precision after each: 1, 1/2, 2/3, 3/4 at recall 1/3, 1/3, 2/3, 1 → envelope 1 for r ≤ 1/3, 3/4 above.
    # The 101 recall points: 34 of them (0 … 0.33) at precision 1, the other 67 at 3/4.
    expected_pit = (34 * 1.0 + 67 * 0.75) / 101
    data = write_dataset(tmp_path, GT)
    table = {
        0: [(0, 8, 8, 24, 24, 0.9), (1, 30, 30, 60, 40, 0.5)],
        1: [(0, 40, 40, 60, 60, 0.8), (0, 10, 30, 30, 50, 0.7)],
        2: [(0, 40, 4, 56, 20, 0.6)],
    }
    result = validate(Oracle(table), data, imgsz=SIZE, batch=2)
    pit = next(c for c in result.per_class if c.name == "pit")
    assert pit.ap50 == pytest.approx(expected_pit)
    assert pit.ap50_95 == pytest.approx(expected_pit)  # exact boxes: every IoU threshold agrees
    assert result.map50 == pytest.approx((expected_pit + 1.0) / 2)


def test_average_precision_edge_cases():
    assert average_precision(np.array([]), np.array([]), 3) == 0.0
    assert np.isnan(average_precision(np.array([True]), np.array([0.5]), 0))
    half = average_precision(np.array([True]), np.array([0.9]), 2)  # one of two found, precisely
    assert half == pytest.approx(51 / 101)


def test_grace_val_cli_prints_a_table_and_writes_json(tmp_path, capsys, monkeypatch):
    data = write_dataset(tmp_path / "d", GT)
    checkpoint = tmp_path / "oracle.pt"
    torch.save({"model": Oracle({k: [(*b, 0.9) for b in v] for k, v in GT.items()})}, checkpoint)
    out = tmp_path / "metrics.json"
    # The oracle is a test class, not an allow-listed model class: it needs the explicit trust flag.
    assert main(["val", "--model", str(checkpoint), "--data", str(data), "--imgsz", "64"]) == 2
    assert "is not a readable ultralytics checkpoint" in capsys.readouterr().err
    code = main(
        ["val", "--model", str(checkpoint), "--data", str(data), "--imgsz", "64", "--json", str(out), "--trust"]
    )
    assert code == 0
    table = capsys.readouterr().out
    assert "pit" in table and "100.00" in table
    saved = json.loads(out.read_text())
    assert saved["map50_95"] == 1.0 and saved["per_class"][0]["instances"] == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--split", "test"], "has no 'test' split (it has: train, val)"),
        (["--imgsz", "0"], "imgsz and batch must be positive"),
    ],
)
def test_grace_val_bad_input(tmp_path, capsys, argv, message):
    data = write_dataset(tmp_path, GT)
    assert main(["val", "--model", "grace-n", "--data", str(data), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_grace_val_missing_dataset(tmp_path, capsys):
    assert main(["val", "--model", "x.pt", "--data", str(tmp_path / "nope")]) == 2
    assert "dataset not found" in capsys.readouterr().err


def test_a_model_of_other_classes_is_refused(synthetic_yolo):
    """Scoring it would put the model's class names on the dataset's class ids: a mislabelled table."""
    import pytest

    from grace_core.errors import DatasetError
    from grace_core.evaluation import validate
    from grace_core.models import default_model

    with pytest.raises(DatasetError, match="are not the classes of"):
        validate(default_model("torch"), synthetic_yolo, imgsz=64)


@pytest.fixture(scope="module")
def demo_dataset(tmp_path_factory):
    """The 24 bundled NEU-DET demo images (laid out as NEU-DET) imported as a YOLO dataset."""
    import shutil

    from grace_core.sources.demo import demo_dir

    root = tmp_path_factory.mktemp("demo-dataset")
    shutil.copytree(demo_dir(), root / "NEU-DET" / "IMAGES", ignore=shutil.ignore_patterns("annotations", "*.md"))
    shutil.copytree(demo_dir() / "annotations", root / "NEU-DET" / "ANNOTATIONS")
    assert main(["data", "import", "neu-det", str(root / "NEU-DET"), str(root / "data")]) == 0
    return root / "data" / "data.yaml"


def grace_val(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grace_core.cli.main", "val", *args], capture_output=True, text=True, timeout=600
    )


def test_grace_val_uses_the_models_own_size_and_keeps_stdout_for_the_table(demo_dataset):
    from grace_core.models import default_model

    model = str(default_model("torch"))
    own = grace_val("--model", model, "--data", str(demo_dataset), "--split", "train")
    assert own.returncode == 0, own.stderr[-2000:]
    lines = own.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["class", "images", "boxes"] and "\x1b" not in own.stdout  # the table alone
    assert "\x1b" in own.stderr or "Speed" in own.stderr  # ultralytics' own chatter went to stderr
    forced = grace_val("--model", model, "--data", str(demo_dataset), "--split", "train", "--imgsz", "224")
    assert forced.stdout == own.stdout  # the default is the size it was trained at (224), not ultralytics' 640
    wrong = grace_val("--model", model, "--data", str(demo_dataset), "--split", "train", "--imgsz", "640")
    assert wrong.stdout != own.stdout


@pytest.mark.parametrize("backend", ["onnxruntime", "openvino"])
def test_grace_val_scores_exported_models_like_the_checkpoint(demo_dataset, backend):
    from grace_core.evaluation import validate
    from grace_core.models import default_model

    exported = validate(default_model(backend), demo_dataset, split="train")
    checkpoint = validate(default_model("torch"), demo_dataset, split="train")
    assert exported.images == checkpoint.images and exported.instances == checkpoint.instances
    assert exported.map50 == pytest.approx(checkpoint.map50, abs=0.05)  # same model; letterbox vs rect batches
    with pytest.raises(GraceError, match="exported at imgsz 224"):
        validate(default_model(backend), demo_dataset, split="train", imgsz=320)
