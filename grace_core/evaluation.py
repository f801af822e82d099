"""``grace val``: detection metrics of a model on a dataset split.

The numbers come from ultralytics' own ``DetectionValidator`` (COCO-style 101-point interpolated AP, IoU 0.50 and
0.50:0.95), so they compare with the paper's and with any YOLO11 run. This module loads the model safely, checks the
dataset and the split first (clear errors), and returns the metrics as plain data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from torch import nn

from grace_core.errors import DatasetError, GraceError
from grace_core.metrics import coco_ap_per_class


@dataclass(frozen=True)
class ClassMetrics:
    name: str
    images: int
    instances: int
    precision: float
    recall: float
    ap50: float
    ap50_95: float


@dataclass(frozen=True)
class ValResult:
    """Metrics of one split. AP is COCO's 101-point definition (:mod:`grace_core.metrics`); ``ultralytics`` holds
    ultralytics' own figures for the same matches (trapezoid rule, at most 0.995), for comparison with papers."""

    split: str
    images: int
    instances: int
    precision: float
    recall: float
    map50: float
    map50_95: float
    per_class: list[ClassMetrics] = field(default_factory=list)
    ultralytics: dict[str, float] = field(default_factory=dict)
    speed_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def table(self) -> str:
        """A fixed-width table: one line for all classes, then one per class (AP in %)."""
        header = f"{'class':<18}{'images':>8}{'boxes':>8}{'P':>8}{'R':>8}{'AP50':>8}{'AP50-95':>9}"
        rows = [header, "-" * len(header)]

        def line(name, images, instances, p, r, a50, a):
            return f"{name:<18}{images:>8}{instances:>8}{p:>8.3f}{r:>8.3f}{100 * a50:>8.2f}{100 * a:>9.2f}"

        rows.append(line("all", self.images, self.instances, self.precision, self.recall, self.map50, self.map50_95))
        rows += [line(c.name, c.images, c.instances, c.precision, c.recall, c.ap50, c.ap50_95) for c in self.per_class]
        if self.ultralytics:
            rows.append(
                f"(AP: COCO 101-point. ultralytics' figures: mAP50 {100 * self.ultralytics['map50']:.2f}, "
                f"mAP50-95 {100 * self.ultralytics['map50_95']:.2f})"
            )
        return "\n".join(rows)


def check_split(data: str | Path, split: str) -> Path:
    """The data.yaml path, after checking it exists, parses, and defines ``split``."""
    from grace_core.data.stats import find_data_yaml
    from grace_core.data.yolo import load_yaml

    path = find_data_yaml(data)
    config = load_yaml(path)
    if "names" not in config:
        raise DatasetError(f"{path}: not a dataset description (it needs 'names' and the split folders)")
    if not config.get(split):
        available = ", ".join(s for s in ("train", "val", "test") if config.get(s)) or "none"
        raise DatasetError(f"{path} has no '{split}' split (it has: {available})")
    return path


def check_same_classes(model: nn.Module, data_yaml: Path) -> None:
    """The model must know the dataset's classes in the same order: ultralytics would otherwise score class i of the
    dataset under the model's name i, and the per-class table would be silently mislabelled."""
    from grace_core.data.yolo import names_from_yaml

    raw = getattr(model, "names", None) or {}
    model_names = [str(raw[i]) for i in sorted(raw)] if isinstance(raw, dict) else [str(n) for n in raw]
    data_names = names_from_yaml(data_yaml)
    if model_names != data_names:
        raise DatasetError(
            f"the model's classes ({', '.join(model_names)}) are not the classes of {data_yaml} "
            f"({', '.join(data_names)}): validate it on a dataset with the same classes in the same order"
        )


def validate(
    model: str | Path | nn.Module,
    data: str | Path,
    split: str = "val",
    imgsz: int = 640,
    batch: int = 16,
    device: str = "cpu",
    conf: float = 0.001,
    iou: float = 0.7,
    workers: int = 0,
    trust: bool = False,
) -> ValResult:
    """Validate ``model`` (a ``.pt`` path, loaded safely unless ``trust``, or a module) on one split."""
    if imgsz <= 0 or batch <= 0:
        raise GraceError(f"imgsz and batch must be positive (got imgsz={imgsz}, batch={batch})")
    data_yaml = check_split(data, split)
    if not isinstance(model, nn.Module):
        from grace_core.nn.transfer import load_detection_model

        model = load_detection_model(model, trust=trust)
    check_same_classes(model, data_yaml)
    from ultralytics.models.yolo.detect import DetectionValidator

    class _KeepingValidator(DetectionValidator):
        """Keeps the matched detections, which ultralytics clears once it has computed its own metrics."""

        matches: dict | None = None

        def get_stats(self):
            self.matches = {k: np.concatenate(v, 0) for k, v in self.metrics.stats.items() if len(v)}
            return super().get_stats()

    args = dict(
        data=str(data_yaml),
        split=split,
        imgsz=imgsz,
        batch=batch,
        device=device,
        conf=conf,
        iou=iou,
        workers=workers,
        plots=False,
        verbose=False,
        save_json=False,
        half=False,
    )
    validator = _KeepingValidator(args=args)
    try:
        validator(model=model)
    except (FileNotFoundError, RuntimeError) as error:
        if "dataset" in str(error).lower() or "images not found" in str(error).lower():
            raise DatasetError(f"{data_yaml}: {error}") from error
        raise
    metrics, matches = validator.metrics, validator.matches or {}
    names = model.names if isinstance(model.names, dict) else dict(enumerate(model.names))
    if matches.get("target_cls") is not None and len(matches["target_cls"]):
        ap, classes = coco_ap_per_class(matches["tp"], matches["conf"], matches["pred_cls"], matches["target_cls"])
    else:
        ap, classes = np.zeros((0, 10)), np.zeros(0, dtype=int)
    ultralytics_pr = {int(c): metrics.class_result(i)[:2] for i, c in enumerate(metrics.ap_class_index)}
    per_class = [
        ClassMetrics(
            name=names[int(c)],
            images=int(metrics.nt_per_image[c]),
            instances=int(metrics.nt_per_class[c]),
            precision=float(ultralytics_pr.get(int(c), (0.0, 0.0))[0]),
            recall=float(ultralytics_pr.get(int(c), (0.0, 0.0))[1]),
            ap50=float(ap[row, 0]),
            ap50_95=float(ap[row].mean()),
        )
        for row, c in enumerate(classes)
    ]
    mp, mr, map50, map50_95 = (float(x) for x in metrics.mean_results())
    return ValResult(
        split=split,
        images=int(validator.seen),
        instances=int(metrics.nt_per_class.sum()),
        precision=mp,
        recall=mr,
        map50=float(ap[:, 0].mean()) if len(classes) else 0.0,
        map50_95=float(ap.mean()) if len(classes) else 0.0,
        per_class=per_class,
        ultralytics={"map50": map50, "map50_95": map50_95},
        speed_ms={k: round(float(v), 3) for k, v in metrics.speed.items()},
    )
