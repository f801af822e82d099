"""The shipped model's recall on the demo tiles and on 30 held-out validation images (5 per class), on every backend,
written into ``resources/models/grace-neu-det.card.json`` with the floors the tests and the golden check use
(about 3/4 of the lowest measured recall, rounded down to 0.05). Part of ``scripts/ship_model.sh``.

Recall is the golden check's (:mod:`grace_core.golden`): a known box is found when a detection of its class at the
default uncertain threshold 0.25 overlaps it with IoU ≥ 0.5.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grace_core.engine.runtimes import RUNTIMES
from grace_core.flagging import Thresholds
from grace_core.golden import run_golden_check
from grace_core.models import default_model
from grace_core.paths import resource_path

PER_CLASS = 5  # held-out images per class: the first by name in the validation split, as the test picks them
FLOOR_SHARE = 0.75


def held_out_folder(data_root: Path, annotations: Path, classes: list[str], out: Path) -> Path:
    """The test's 30 held-out images with their VOC files beside them, in ``out``."""
    images = sorted((data_root / "images" / "val").glob("*.jpg"))
    for cls in classes:
        for image in [p for p in images if p.stem.startswith(cls)][:PER_CLASS]:
            shutil.copy(image, out / image.name)
            shutil.copy(annotations / f"{image.stem}.xml", out / f"{image.stem}.xml")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="the recorded split's data.yaml (grace data import neu-det)")
    parser.add_argument("--annotations", default="../shared/datasets/NEU-DET/ANNOTATIONS")
    args = parser.parse_args()
    card_path = resource_path("models", "grace-neu-det.card.json")
    card = json.loads(card_path.read_text())
    thresholds = Thresholds()
    measured: dict[str, dict[str, float]] = {"demo": {}, "held_out": {}}
    with tempfile.TemporaryDirectory() as tmp:
        classes = list(json.loads(resource_path("models", "grace-neu-det.grace.json").read_text())["class_names"])
        held_out = held_out_folder(Path(args.data).parent, Path(args.annotations), classes, Path(tmp))
        for backend in RUNTIMES:
            model = default_model(backend)
            for key, folder in (("demo", None), ("held_out", held_out)):
                result = run_golden_check(model, thresholds, backend=backend, samples_dir=folder, floor=0.0)
                measured[key][backend] = round(result.recall, 3)
                print(f"{backend:<12} {key:<9} recall {result.recall:.3f} ({result.shown}/{result.known})")
    card["recall_measured"] = {key: min(values.values()) for key, values in measured.items()}
    card["recall_floor"] = {
        key: math.floor(FLOOR_SHARE * value * 20) / 20 for key, value in card["recall_measured"].items()
    }
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    print(f"{card_path}: measured {card['recall_measured']}, floors {card['recall_floor']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
