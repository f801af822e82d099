"""The real NEU-DET copy (skipped only where /work/shared/datasets/NEU-DET is not present)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grace_core.data.importer import import_dataset
from grace_core.data.stats import dataset_stats

REPO_ROOT = Path(__file__).resolve().parents[3]
NEU_DET = REPO_ROOT.parent / "shared" / "datasets" / "NEU-DET"
EXPECTED_BOXES = {
    "crazing": 616,
    "inclusion": 922,
    "patches": 792,
    "pitted_surface": 389,
    "rolled-in_scale": 564,
    "scratches": 484,
}


@pytest.fixture(scope="module")
def neu_out(tmp_path_factory: pytest.TempPathFactory):
    if not NEU_DET.is_dir():
        pytest.skip(f"NEU-DET not found at {NEU_DET}")
    out = tmp_path_factory.mktemp("neu") / "out"
    return out, import_dataset("neu-det", NEU_DET, out, seed=0)


def test_neu_det_counts(neu_out) -> None:
    out, report = neu_out
    assert report.n_images == 1620 and report.n_boxes == 3767
    assert report.boxes_per_class == EXPECTED_BOXES
    assert report.issues == [] and report.difficult_boxes > 0
    train, val = report.splits["train"], report.splits["val"]
    assert len(train.images) + len(val.images) == 1620 and abs(len(val.images) - 324) <= 3
    assert all(count >= 50 for count in val.images_per_class.values())
    assert len(list((out / "images" / "train").iterdir())) == len(train.images)
    assert len(list((out / "labels" / "val").glob("*.txt"))) == len(val.images)
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["nc"] == 6 and list(data["names"].values()) == list(EXPECTED_BOXES)
    source = NEU_DET / "IMAGES" / train.images[0]
    assert (out / "images" / "train" / train.images[0]).read_bytes() == source.read_bytes()


def test_neu_det_stats_match_the_import(neu_out) -> None:
    out, _report = neu_out
    stats = dataset_stats(out)
    assert dict(zip(stats.class_names, stats.total.instances_per_class, strict=True)) == EXPECTED_BOXES
    assert stats.total.images == 1620 and stats.total.background_images == 0
    assert stats.imbalance_ratio == pytest.approx(922 / 389)
    assert sum(stats.total.size_counts.values()) == 3767
    assert stats.total.boxes_per_image_mean == pytest.approx(3767 / 1620)
