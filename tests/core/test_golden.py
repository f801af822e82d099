"""Golden-sample check (grace_core/golden.py, `grace golden`): the shipped model passes on the demo images with
the default thresholds; a flag threshold of 1.0, a model with its classes mixed up or one that finds nothing fail;
each check goes to the review store's audit trail and `last_golden_check` reads the latest back."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest

from grace_core.errors import GraceError
from grace_core.flagging import Thresholds
from grace_core.golden import (
    GOLDEN_CHECK,
    card_floor,
    golden_check,
    last_golden_check,
    load_samples,
    model_card,
    record_golden_check,
)
from grace_core.models import default_model
from grace_core.paths import resource_path

CARD = json.loads(resource_path("models", "grace-neu-det.card.json").read_text())


@pytest.fixture(scope="module")
def engine():
    from grace_core.engine import load_engine

    loaded = load_engine(default_model("onnxruntime"))
    yield loaded
    loaded.close()


class ClassesMixedUp:
    """The shipped engine behind a broken class order (an export with the wrong names): boxes right, classes not."""

    def __init__(self, engine) -> None:
        self.engine, self.info = engine, engine.info

    def predict(self, image):
        prediction = self.engine.predict(image)
        detections = prediction.detections
        shifted = replace(detections, class_id=(detections.class_id + 1) % len(self.info.class_names))
        return replace(prediction, detections=shifted)


class FindsNothing(ClassesMixedUp):
    def predict(self, image):
        prediction = self.engine.predict(image)
        return replace(prediction, detections=prediction.detections[np.zeros(len(prediction.detections), bool)])


def test_the_shipped_model_passes_on_the_demo_images(engine):
    result = golden_check(engine, Thresholds())
    assert result.passed, result.summary()
    assert result.floor == CARD["recall_floor"]["demo"] and result.floor_source == "model card grace-neu-det.card.json"
    assert result.defect_floor == result.floor / 2
    assert result.images == 24 and result.known == sum(c["known"] for c in result.per_class.values()) > 40
    assert result.recall >= result.floor and result.flagged_recall >= result.defect_floor
    assert result.flagged <= result.shown <= result.known
    assert result.recall == pytest.approx(CARD["recall_measured"]["demo"], abs=0.05)  # what the card measured
    assert result.summary().startswith("PASS: ") and result.reasons == ()
    assert engine.conf == 0.25 and engine.iou == 0.7  # the engine's settings are put back


def test_a_flag_threshold_nothing_reaches_fails(engine):
    result = golden_check(engine, Thresholds(default_flag=1.0))
    assert not result.passed and result.flagged == 0 and result.shown > 0
    assert "flag threshold" in result.summary() and result.summary().startswith("FAIL: ")


def test_an_uncertain_threshold_too_high_fails(engine):
    result = golden_check(engine, Thresholds(default_uncertain=0.9, default_flag=0.95))
    assert not result.passed and result.recall < result.floor


@pytest.mark.parametrize("broken", [ClassesMixedUp, FindsNothing], ids=["classes-mixed-up", "finds-nothing"])
def test_a_wrong_model_fails(engine, broken):
    result = golden_check(broken(engine), Thresholds())
    assert not result.passed and result.recall < 0.1
    assert any("known defects shown" in reason for reason in result.reasons)
    assert len(result.missed) == result.known - result.shown


def test_each_check_is_audited_and_the_latest_is_read_back(engine, tmp_path):
    from grace_core.store import ReviewStore

    store_dir = tmp_path / "review"
    assert last_golden_check(store_dir) is None  # no store: nothing, and nothing created
    assert not store_dir.exists()
    failed = golden_check(engine, Thresholds(default_flag=1.0))
    record_golden_check(failed, store_dir, actor="shift-lead")
    passed = golden_check(engine, Thresholds())
    with ReviewStore.open(store_dir) as store:
        record_golden_check(passed, store, actor="shift-lead")
        store.record_event("someone", "thresholds_changed", {"iou": [0.7, 0.6]})  # a later, other audit row
        rows = [row for row in store.audit_log() if row.action == GOLDEN_CHECK]
        assert [row.details["passed"] for row in rows] == [True, False] and rows[0].actor == "shift-lead"
        assert rows[0].details["recall"] == round(passed.recall, 4)
        assert rows[0].details["thresholds"]["default_flag"] == 0.5
        latest = last_golden_check(store)
    at, ok, detail = latest
    assert ok is True and at == pytest.approx(rows[0].at) and detail["summary"] == passed.summary()
    assert detail["model_id"] == engine.info.model_id and detail["samples"]
    assert last_golden_check(store_dir) == latest
    with ReviewStore.open(tmp_path / "fresh"):
        pass
    assert last_golden_check(tmp_path / "fresh") is None  # a store without a check


def test_reference_images_of_a_station_with_their_annotations_beside_them(engine, tmp_path):
    demo = resource_path("demo")
    for stem in ("patches_3", "pitted_surface_2", "scratches_2"):
        shutil.copy(demo / f"{stem}.jpg", tmp_path)
        shutil.copy(demo / "annotations" / f"{stem}.xml", tmp_path)
    shutil.copy(demo / "crazing_3.jpg", tmp_path)  # no annotation: not a reference, left out
    samples = load_samples(tmp_path)
    assert sorted(s.image.name for s in samples) == ["patches_3.jpg", "pitted_surface_2.jpg", "scratches_2.jpg"]
    result = golden_check(engine, Thresholds(), samples, floor=0.5, samples_label=str(tmp_path))
    assert result.images == 3 and result.floor_source == "given" and result.samples == str(tmp_path)
    with pytest.raises(GraceError, match="no reference image with known defects"):
        load_samples(_empty(tmp_path))
    with pytest.raises(GraceError, match="between 0 and 1"):
        golden_check(engine, Thresholds(), samples, floor=1.5)


def _empty(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    shutil.copy(resource_path("demo") / "crazing_3.jpg", folder)
    return folder


def test_the_floor_comes_from_the_models_card(tmp_path):
    assert card_floor(default_model("onnxruntime"))[0] == CARD["recall_floor"]["demo"]
    assert card_floor(default_model("openvino"))[0] == CARD["recall_floor"]["demo"]  # an OpenVINO folder
    own = tmp_path / "best.onnx"
    own.write_bytes(b"")
    assert model_card(own) is None and card_floor(own)[1].startswith("default")
    (tmp_path / "best.card.json").write_text(json.dumps({"recall_floor": {"demo": 0.6}}))
    assert card_floor(own) == (0.6, "model card best.card.json")


def test_the_command_line_records_and_exits_by_the_verdict(tmp_path, capsys):
    from grace_core.cli.main import main

    store_dir = tmp_path / "review"
    assert main(["golden", "--model", "shipped", "--store", str(store_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("PASS: ") and "patches" in out and "model card grace-neu-det.card.json" in out
    assert last_golden_check(store_dir).passed
    assert main(["golden", "--model", "shipped", "--store", str(store_dir), "--flag", "1.0"]) == 1
    assert capsys.readouterr().out.startswith("FAIL: ")
    assert last_golden_check(store_dir).passed is False
    thresholds = tmp_path / "thresholds.json"
    thresholds.write_text(json.dumps(Thresholds(default_flag=0.4).to_dict()))
    assert main(["golden", "--model", "shipped", "--thresholds", str(thresholds), "--no-record", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["passed"] and printed["thresholds"]["default_flag"] == 0.4
    assert last_golden_check(store_dir).passed is False  # --no-record wrote nothing
    assert main(["golden", "--model", "shipped", "--conf", "0.6", "--flag", "0.5", "--no-record"]) == 2
    assert "uncertain <= flag" in capsys.readouterr().err
