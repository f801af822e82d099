"""Golden-sample check at shift start: does the station still find the defects it is known to find?

A station's reference images (default: the bundled demo images, ``resources/demo``, with their Pascal VOC
annotations in ``annotations/``) go through the live model with the live thresholds, exactly as inspection decides
(:func:`grace_core.flagging.decide`). A known defect box counts as

* **shown** when a visible detection of its class at or above the class's *uncertain* threshold overlaps it with
  IoU ≥ 0.5 — the frame would reach the operator and the review store;
* **flagged** when such a detection also reaches the class's *flag* threshold — the station calls it a defect.

The check passes when ``recall`` (shown / known) reaches ``floor`` *and* ``flagged_recall`` reaches
``defect_floor``. ``floor`` defaults to the model card's recall floor for the demo images (``recall_floor.demo`` in
``<model>.card.json``: 0.55 for the shipped model, about 3/4 of its measured 0.784 at the default uncertain threshold
0.25 — a broken export, preprocessing or class order falls to ~0 and fails, backend jitter does not). The card
states no floor at the flag threshold, so ``defect_floor`` defaults to half of ``floor`` (the shipped model flags
0.49 of the demo defects at the default flag threshold 0.5): a station whose flag threshold was pushed so high that
it stops calling known defects defects fails too. Reference images of your own need floors measured on them.

Each check is written to the review store's audit trail (action ``golden_check``, with every number), and
:func:`last_golden_check` reads back the latest, for the live tab to show when the station last passed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from grace_core.errors import GraceError
from grace_core.flagging import Thresholds, box_iou, decide
from grace_core.paths import resource_path

GOLDEN_CHECK = "golden_check"  # the audit action
MATCH_IOU = 0.5
DEFAULT_FLOOR = 0.4  # where no model card states one (the shipped model's card does: recall_floor.demo)
CARD_FLOOR_KEY = "demo"


@dataclass(frozen=True)
class GoldenSample:
    """A reference image and its known defects: (class name, x1, y1, x2, y2) in the image's pixels."""

    image: Path
    boxes: tuple[tuple[str, float, float, float, float], ...]


@dataclass(frozen=True)
class GoldenResult:
    """One check: what was known, shown and flagged, the floors, and the verdict with its reasons in words."""

    passed: bool
    known: int
    shown: int
    flagged: int
    floor: float
    defect_floor: float
    floor_source: str
    images: int
    per_class: dict[str, dict[str, int]]  # class → {"known", "shown", "flagged"}
    missed: tuple[str, ...]  # "image: class" of known defects not shown
    model: str
    model_id: str
    backend: str
    samples: str
    thresholds: dict[str, Any]
    checked_at: float
    seconds: float
    reasons: tuple[str, ...] = field(default=())  # why it failed (empty when it passed)

    @property
    def recall(self) -> float:
        return self.shown / self.known if self.known else 0.0

    @property
    def flagged_recall(self) -> float:
        return self.flagged / self.known if self.known else 0.0

    def summary(self) -> str:
        """One line for people: the verdict and the two numbers against their floors."""
        verdict = "PASS" if self.passed else "FAIL"
        line = (
            f"{verdict}: {self.shown}/{self.known} known defects shown (recall {self.recall:.2f}, floor "
            f"{self.floor:.2f}), {self.flagged}/{self.known} flagged as defect ({self.flagged_recall:.2f}, floor "
            f"{self.defect_floor:.2f}) on {self.images} reference images"
        )
        return line + ("" if self.passed else " — " + "; ".join(self.reasons))

    def to_details(self) -> dict[str, Any]:
        """JSON-ready, for the audit trail (``summary`` included, so a viewer needs nothing else)."""
        return {
            "passed": self.passed,
            "summary": self.summary(),
            "recall": round(self.recall, 4),
            "flagged_recall": round(self.flagged_recall, 4),
            "floor": self.floor,
            "defect_floor": self.defect_floor,
            "floor_source": self.floor_source,
            "known": self.known,
            "shown": self.shown,
            "flagged": self.flagged,
            "images": self.images,
            "per_class": self.per_class,
            "missed": list(self.missed[:50]),
            "model": self.model,
            "model_id": self.model_id,
            "backend": self.backend,
            "samples": self.samples,
            "thresholds": self.thresholds,
            "checked_at": self.checked_at,
            "seconds": round(self.seconds, 2),
            "reasons": list(self.reasons),
        }


class LastGoldenCheck(NamedTuple):
    """The latest recorded check: when (unix seconds), whether it passed, and its audit details (``summary``…)."""

    time: float
    passed: bool
    detail: dict[str, Any]


# -- reference images ------------------------------------------------------------------------------------------------


def default_samples_dir() -> Path:
    """The bundled demo images (checkout or frozen bundle)."""
    return resource_path("demo")


def load_samples(folder: str | Path | None = None) -> list[GoldenSample]:
    """The annotated images of ``folder`` (default: the demo images): each image with a VOC file of its stem in
    ``folder/annotations/`` or beside it. Raises GraceError when there is none (images without annotations are
    not references: they are left out)."""
    from grace_core.data.records import SkipFile
    from grace_core.data.voc import parse_voc
    from grace_core.sources.folder import list_images

    folder = default_samples_dir() if folder is None else Path(folder).expanduser()
    if not folder.is_dir():
        raise GraceError(f"{folder}: no such folder of reference images")
    samples = []
    for image in list_images(folder):
        xml = next(
            (p for p in (folder / "annotations" / f"{image.stem}.xml", image.with_suffix(".xml")) if p.is_file()), None
        )
        if xml is None:
            continue
        try:
            annotation = parse_voc(xml)
        except SkipFile as error:
            raise GraceError(f"reference annotation unusable: {error}") from None
        boxes = tuple((o.name, o.xmin, o.ymin, o.xmax, o.ymax) for o in annotation.objects if not o.difficult)
        if boxes:
            samples.append(GoldenSample(image, boxes))
    if not samples:
        raise GraceError(
            f"{folder}: no reference image with known defects (each image needs a Pascal VOC file of its name in "
            "annotations/ or beside it, with at least one box)"
        )
    return samples


def model_card(model: str | Path) -> tuple[dict[str, Any], Path] | None:
    """The ``<stem>.card.json`` beside a model file (``x.pt``/``x.onnx`` → ``x.card.json``; an OpenVINO folder
    ``x_openvino/`` or a file in it → ``x.card.json`` beside the folder); None when there is none or it is not
    readable JSON."""
    path = Path(model)
    candidates = [path.with_name(f"{path.stem}.card.json")]
    folder = path if path.is_dir() else path.parent
    if folder.name.endswith("_openvino"):
        candidates.append(folder.with_name(f"{folder.name.removesuffix('_openvino')}.card.json"))
    for card in candidates:
        try:
            return json.loads(card.read_text(encoding="utf-8")), card
        except (OSError, ValueError):
            continue
    return None


def card_floor(model: str | Path) -> tuple[float, str]:
    """The recall floor for the demo images from the model's card, and where it came from."""
    found = model_card(model)
    if found is not None:
        card, path = found
        floor = (card.get("recall_floor") or {}).get(CARD_FLOOR_KEY)
        if isinstance(floor, (int, float)) and 0 <= floor <= 1:
            return float(floor), f"model card {path.name}"
    return DEFAULT_FLOOR, "default (the model has no card with a recall floor)"


# -- the check ---------------------------------------------------------------------------------------------------------


def golden_check(
    engine: Any,
    thresholds: Thresholds,
    samples: Sequence[GoldenSample] | None = None,
    floor: float | None = None,
    defect_floor: float | None = None,
    samples_label: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> GoldenResult:
    """Run ``samples`` (default: the demo images) through ``engine`` (one not inspecting meanwhile: its ``conf`` and
    ``iou`` are set from ``thresholds`` for the check, as the live loop does, and put back after) and judge them
    (see the module doc). ``floor`` default: the model card's; ``defect_floor`` default: half of ``floor``."""
    import cv2

    started = time.monotonic()
    samples = load_samples() if samples is None else list(samples)
    info = engine.info
    if floor is None:
        floor, floor_source = card_floor(info.model_path)
    else:
        floor_source = "given"
    defect_floor = floor / 2 if defect_floor is None else defect_floor
    for name, value in (("floor", floor), ("defect floor", defect_floor)):
        if not 0 <= value <= 1:
            raise GraceError(f"the golden check's {name} must be between 0 and 1, got {value}")
    names = list(info.class_names)
    flag, uncertain = thresholds.for_classes(names)
    per_class: dict[str, dict[str, int]] = {}
    missed: list[str] = []
    saved = getattr(engine, "conf", None), getattr(engine, "iou", None)
    try:
        if saved[0] is not None:
            engine.conf = min(float(uncertain.min(initial=1.0)), thresholds.default_uncertain)
            engine.iou = thresholds.iou
        for index, sample in enumerate(samples):
            image = cv2.imread(str(sample.image), cv2.IMREAD_COLOR)
            if image is None:
                raise GraceError(f"{sample.image}: the reference image cannot be read")
            decision = decide(engine.predict(image).detections, names, thresholds)
            for name, *box in sample.boxes:
                counts = per_class.setdefault(name, {"known": 0, "shown": 0, "flagged": 0})
                counts["known"] += 1
                best = _best_match(decision.shown, names, name, np.array([box], np.float32))
                if best is None:
                    missed.append(f"{sample.image.name}: {name}")
                    continue
                counts["shown"] += 1
                counts["flagged"] += int(best >= float(flag[names.index(name)]))
            if progress is not None:
                progress(index + 1, len(samples))
    finally:
        if saved[0] is not None:
            engine.conf, engine.iou = saved
    known = sum(c["known"] for c in per_class.values())
    shown = sum(c["shown"] for c in per_class.values())
    flagged = sum(c["flagged"] for c in per_class.values())
    reasons = _reasons(known, shown, flagged, floor, defect_floor, set(per_class) - set(names), thresholds)
    return GoldenResult(
        passed=not reasons,
        known=known,
        shown=shown,
        flagged=flagged,
        floor=float(floor),
        defect_floor=float(defect_floor),
        floor_source=floor_source,
        images=len(samples),
        per_class=dict(sorted(per_class.items())),
        missed=tuple(missed),
        model=Path(info.model_path).name,
        model_id=info.model_id,
        backend=info.backend,
        samples=samples_label or str(samples[0].image.parent if samples else ""),
        thresholds=thresholds.to_dict(),
        checked_at=time.time(),
        seconds=time.monotonic() - started,
        reasons=tuple(reasons),
    )


def run_golden_check(
    model: str | Path,
    thresholds: Thresholds,
    backend: str = "auto",
    samples_dir: str | Path | None = None,
    floor: float | None = None,
    defect_floor: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> GoldenResult:
    """Load ``model`` on its own engine (so a running inspection is not disturbed), check it, close it. Call it off
    the GUI thread: the demo images take about a second on a CPU."""
    from grace_core.engine import load_engine

    samples = load_samples(samples_dir)
    engine = load_engine(model, backend=backend, conf=thresholds.default_uncertain, iou=thresholds.iou)
    try:
        label = "bundled demo images" if samples_dir is None else str(samples_dir)
        return golden_check(engine, thresholds, samples, floor, defect_floor, label, progress)
    finally:
        engine.close()


def _best_match(shown, names: list[str], name: str, box: np.ndarray) -> float | None:
    """The highest score among the shown detections of class ``name`` overlapping ``box`` with IoU ≥ 0.5."""
    if name not in names or not len(shown):
        return None
    same = shown[shown.class_id == names.index(name)]
    if not len(same):
        return None
    overlaps = box_iou(box, same.xyxy.astype(np.float32))[0]
    hits = overlaps >= MATCH_IOU
    return float(same.confidence[hits].max()) if hits.any() else None


def _reasons(
    known: int, shown: int, flagged: int, floor: float, defect_floor: float, unknown: set[str], thresholds: Thresholds
) -> list[str]:
    reasons = []
    if known == 0:
        return ["the reference images hold no known defect"]
    if shown / known < floor:
        reasons.append(f"only {shown} of {known} known defects shown (recall {shown / known:.2f} < {floor:.2f})")
    if flagged / known < defect_floor:
        reasons.append(
            f"only {flagged} of {known} known defects reach the flag threshold ({flagged / known:.2f} < "
            f"{defect_floor:.2f}): check the flag thresholds (default {thresholds.default_flag:g})"
        )
    if unknown:
        reasons.append(f"the model has no class {', '.join(sorted(unknown))} (a model for other defects?)")
    return reasons


# -- the audit trail ---------------------------------------------------------------------------------------------------


def record_golden_check(result: GoldenResult, store: Any = None, actor: str | None = None) -> int:
    """Append the check to the audit trail of ``store``: an open :class:`~grace_core.store.ReviewStore`, or where
    one is (a folder, ``sqlite:///…`` or ``postgresql://…``; created if needed; default: the app's). Returns the
    row id; raises StoreError when it cannot be written."""
    from grace_core.store import ReviewStore, audit_events

    if isinstance(store, ReviewStore):
        return store.record_event(actor or audit_events.current_user(), GOLDEN_CHECK, result.to_details())
    return audit_events.record(store, GOLDEN_CHECK, result.to_details(), actor)


def last_golden_check(store: Any = None) -> LastGoldenCheck | None:
    """The latest golden check recorded in ``store`` (a :class:`~grace_core.store.ReviewStore`, or where one is;
    default: the app's), or None when none was recorded or there is no store there. Reads only; never creates a
    store. Raises StoreError when the store is damaged or its server cannot be reached."""
    from grace_core.store import NoStoreError, ReviewStore

    if isinstance(store, ReviewStore):
        rows = store.audit_log(limit=1, action=GOLDEN_CHECK)
    else:
        try:
            opened = ReviewStore.open_existing(store, readonly=True)
        except NoStoreError:
            return None
        with opened:
            rows = opened.audit_log(limit=1, action=GOLDEN_CHECK)
    if not rows:
        return None
    return LastGoldenCheck(float(rows[0].at), bool(rows[0].details.get("passed")), rows[0].details)
