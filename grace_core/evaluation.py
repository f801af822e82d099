"""``grace val``: detection metrics of a model on a dataset split.

The numbers come from ultralytics' own ``DetectionValidator`` (COCO-style 101-point interpolated AP, IoU 0.50 and
0.50:0.95), so they compare with the paper's and with any YOLO11 run. This module loads the model safely, checks the
dataset and the split first (clear errors), and returns the metrics as plain data.

A checkpoint runs through ultralytics' validation loop. An exported model (ONNX, OpenVINO) runs through our own
engine — the exact pre- and post-processing the app uses — image by image, and its detections are matched and
scored by the same validator's matching and metrics, so both kinds of model are measured the same way.
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


DEFAULT_IMGSZ = 640  # ultralytics' default, for a checkpoint that does not say what it was trained at


def model_imgsz(model: nn.Module) -> int:
    """The image size a checkpoint was trained at (its ``train_args``), else :data:`DEFAULT_IMGSZ`."""
    trained = (getattr(model, "train_args", None) or {}).get("imgsz")
    return int(trained) if isinstance(trained, (int, float)) and trained > 0 else DEFAULT_IMGSZ


def _validator_class():
    from ultralytics.models.yolo.detect import DetectionValidator

    class _KeepingValidator(DetectionValidator):
        """Keeps the matched detections, which ultralytics clears once it has computed its own metrics."""

        matches: dict | None = None

        def get_stats(self):
            self.matches = {k: np.concatenate(v, 0) for k, v in self.metrics.stats.items() if len(v)}
            return super().get_stats()

    return _KeepingValidator


def is_exported(model) -> bool:
    return isinstance(model, (str, Path)) and Path(model).suffix.lower() in (".onnx", ".xml")


def validate(
    model: str | Path | nn.Module,
    data: str | Path,
    split: str = "val",
    imgsz: int | None = None,
    batch: int = 16,
    device: str = "cpu",
    conf: float = 0.001,
    iou: float = 0.7,
    workers: int = 0,
    trust: bool = False,
    backend: str = "auto",
    precision: str = "f32",
) -> ValResult:
    """Validate ``model`` on one split: a ``.pt`` path (loaded safely unless ``trust``), a module, or an exported
    ``.onnx`` / OpenVINO ``.xml`` (run by ``backend``). ``imgsz`` None: the size the model was trained or exported at.
    """
    if (imgsz is not None and imgsz <= 0) or batch <= 0:
        raise GraceError(f"imgsz and batch must be positive (got imgsz={imgsz}, batch={batch})")
    data_yaml = check_split(data, split)
    if is_exported(model):
        return _validate_exported(Path(model), data_yaml, split, imgsz, conf, iou, backend, precision)
    if not isinstance(model, nn.Module):
        from grace_core.nn.transfer import load_detection_model

        model = load_detection_model(model, trust=trust)
    imgsz = imgsz or model_imgsz(model)
    check_same_classes(model, data_yaml)

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
    validator = _validator_class()(args=args)
    try:
        validator(model=model)
    except (FileNotFoundError, RuntimeError) as error:
        if "dataset" in str(error).lower() or "images not found" in str(error).lower():
            raise DatasetError(f"{data_yaml}: {error}") from error
        raise
    names = model.names if isinstance(model.names, dict) else dict(enumerate(model.names))
    return _result(validator, names, split)


def _validate_exported(
    path: Path, data_yaml: Path, split: str, imgsz: int | None, conf: float, iou: float, backend: str, precision: str
) -> ValResult:
    """Score an exported model through our engine, image by image, with ultralytics' matching and metrics."""
    import cv2
    import torch

    from grace_core.data.stats import split_images
    from grace_core.data.yolo import label_path_for, names_from_yaml, parse_label_file
    from grace_core.engine.factory import load_engine

    engine = load_engine(path, backend=backend, conf=conf, iou=iou, precision=precision)
    try:
        if imgsz is not None and imgsz != engine.info.imgsz:
            raise GraceError(
                f"{path.name} was exported at imgsz {engine.info.imgsz}; an exported model runs only at that size "
                f"(leave --imgsz out, or export again with --imgsz {imgsz})"
            )
        data_names = names_from_yaml(data_yaml)
        if list(engine.info.class_names) != data_names:
            raise DatasetError(
                f"the model's classes ({', '.join(engine.info.class_names)}) are not the classes of {data_yaml} "
                f"({', '.join(data_names)}): validate it on a dataset with the same classes in the same order"
            )
        images = split_images(data_yaml).get(split, [])
        validator = _validator_class()(args=dict(data=str(data_yaml), split=split, plots=False, verbose=False))
        validator.metrics.names = dict(enumerate(data_names))
        validator.seen = 0
        timings = {"preprocess": 0.0, "inference": 0.0, "postprocess": 0.0}
        for image_path in images:
            image = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
            if image is None:
                raise DatasetError(f"{image_path}: cannot be read as an image")
            height, width = image.shape[:2]
            label_file = label_path_for(image_path)
            labels = parse_label_file(label_file) if label_file.is_file() else []
            boxes = [line.to_box(width, height) for line in labels]
            truth = np.array([(b.x1, b.y1, b.x2, b.y2) for b in boxes], dtype=np.float32).reshape(-1, 4)
            truth_cls = np.array([line.class_id for line in labels], dtype=np.float32)
            prediction = engine.predict(image)
            for key, value in prediction.timings_ms.items():
                timings[key] = timings.get(key, 0.0) + value
            found = prediction.detections
            pred_cls = found.class_id.astype(np.float32)
            tp = validator._process_batch(
                {"bboxes": torch.from_numpy(found.xyxy.astype(np.float32)), "cls": torch.from_numpy(pred_cls)},
                {"bboxes": torch.from_numpy(truth), "cls": torch.from_numpy(truth_cls)},
            )["tp"]
            validator.metrics.update_stats(
                {
                    "tp": tp,
                    "target_cls": truth_cls,
                    "target_img": np.unique(truth_cls),
                    "conf": found.confidence.astype(np.float32),
                    "pred_cls": pred_cls,
                    "im_name": image_path.name,
                }
            )
            validator.seen += 1
        validator.get_stats()
        validator.metrics.speed = {k: v / max(1, len(images)) for k, v in timings.items()}
        return _result(validator, dict(enumerate(data_names)), split)
    finally:
        engine.close()


def _result(validator, names: dict, split: str) -> ValResult:
    metrics, matches = validator.metrics, validator.matches or {}
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
