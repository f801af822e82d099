"""Model names → model configs → ultralytics ``DetectionModel``s.

One idempotent :func:`register` makes our modules known to ultralytics' YAML parser (``parse_model`` looks layer
names up in ``ultralytics.nn.tasks``' namespace); nothing in ultralytics is edited or copied. The baselines are
ultralytics' own packaged ``yolo11.yaml``, only named here.

ultralytics infers a YAML's scale from its file name (``yolo11s.yaml`` → ``s``), which does not work for our names,
so configs are resolved here into dicts with an explicit ``scale`` and handed to ``DetectionModel`` as dicts.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path

import torch
import ultralytics
import ultralytics.nn.tasks as ultralytics_tasks
from ultralytics.nn.tasks import DetectionModel
from ultralytics.utils import YAML

from grace_core.data.importers import NEU_DET_CLASSES
from grace_core.errors import ModelError
from grace_core.nn.lite_fen import ChannelAttention, LiteFEN, SpatialAttention
from grace_core.paths import package_file

#: Modules our YAMLs may name, by the name used in the YAML.
CUSTOM_MODULES: dict[str, type] = {"LiteFEN": LiteFEN}

GRACE_YAML = package_file("nn", "cfg", "grace.yaml")
YOLO11_YAML = Path(ultralytics.__file__).parent / "cfg" / "models" / "11" / "yolo11.yaml"

#: Class names used when no dataset is given: NEU-DET's, the paper's benchmark (one definition, in the data package).
NEU_DET_NAMES = NEU_DET_CLASSES


@dataclass(frozen=True)
class ModelSpec:
    """A named architecture: a YAML file and the scale to build it at."""

    yaml: Path
    scale: str
    description: str


MODELS: dict[str, ModelSpec] = {
    "grace-n": ModelSpec(GRACE_YAML, "n", "GRACE nano: YOLO11n + Lite-FEN at P3"),
    "grace-s": ModelSpec(GRACE_YAML, "s", "GRACE small (the paper's): YOLO11s + Lite-FEN at P3"),
    "yolo11n": ModelSpec(YOLO11_YAML, "n", "YOLO11n baseline (ultralytics' yolo11.yaml)"),
    "yolo11s": ModelSpec(YOLO11_YAML, "s", "YOLO11s baseline (ultralytics' yolo11.yaml)"),
}


def register() -> None:
    """Make :data:`CUSTOM_MODULES` resolvable by ultralytics' ``parse_model``. Safe to call any number of times."""
    namespace = vars(ultralytics_tasks)
    for name, module in CUSTOM_MODULES.items():
        present = namespace.get(name)
        if present is not None and present is not module:
            raise RuntimeError(f"ultralytics.nn.tasks already defines a different {name!r}: {present!r}")
        namespace[name] = module
    # Allow our classes in restricted (weights_only) checkpoint loads; a set, so repeating this is harmless.
    torch.serialization.add_safe_globals([LiteFEN, ChannelAttention, SpatialAttention])


def _scale_from_name(path: Path) -> str | None:
    """``my-grace-s.yaml`` → ``s``; ``None`` when the file name names no scale."""
    match = re.search(r"[-_]([nslmx])$", path.stem.lower())
    return match.group(1) if match else None


def model_config(model: str | Path, nc: int | None = None, scale: str | None = None) -> dict:
    """The config dict for a model name (see :data:`MODELS`) or a YAML path, with ``scale`` (and ``nc``) set."""
    spec = MODELS.get(str(model).lower())
    if spec is not None:
        path, scale = spec.yaml, scale or spec.scale
    else:
        path = Path(model)
        if path.suffix.lower() not in {".yaml", ".yml"}:
            known = ", ".join(MODELS)
            raise ModelError(f"unknown model {str(model)!r}: use one of {known}, or a model .yaml file")
        if not path.is_file():
            raise ModelError(f"model config not found: {path}")
    try:
        cfg = copy.deepcopy(YAML.load(path))
    except Exception as error:  # a YAML syntax error, an unreadable file
        raise ModelError(f"cannot read model config {path}: {error}") from error
    if not isinstance(cfg, dict) or "backbone" not in cfg or "head" not in cfg:
        raise ModelError(f"{path} is not a model config: it needs 'backbone' and 'head' sections")
    scales = cfg.get("scales") or {}
    if scales:
        scale = scale or cfg.get("scale") or _scale_from_name(path)
        if scale is None:
            raise ModelError(
                f"{path} defines scales {', '.join(scales)} but not which to build: add e.g. 'scale: s' to it, "
                f"or name the file like 'my-model-s.yaml'"
            )
        if scale not in scales:
            raise ModelError(f"{path} has no scale {scale!r}; it has {', '.join(scales)}")
        cfg["scale"] = scale
    if nc is not None:
        cfg["nc"] = int(nc)
    cfg["yaml_file"] = str(path)
    return cfg


def build_model(
    model: str | Path | dict,
    nc: int | None = None,
    names: list[str] | tuple[str, ...] | None = None,
    channels: int = 3,
    verbose: bool = False,
) -> DetectionModel:
    """Build an untrained ``DetectionModel`` from a name, YAML path or config dict.

    ``names`` sets the class names (and ``nc`` when ``nc`` is not given); by default a model has NEU-DET's six
    classes, whatever the YAML says.
    """
    register()
    if names is not None and nc is None:
        nc = len(names)
    cfg = copy.deepcopy(model) if isinstance(model, dict) else model_config(model)
    nc = int(nc) if nc is not None else len(NEU_DET_NAMES)
    cfg["nc"] = nc
    if names is None:
        names = NEU_DET_NAMES if nc == len(NEU_DET_NAMES) else [f"class{i}" for i in range(nc)]
    if len(names) != nc:
        raise ModelError(f"{len(names)} class names given for a model with {nc} classes")
    detection_model = DetectionModel(cfg, nc=nc, ch=channels, verbose=verbose)
    detection_model.names = dict(enumerate(names))
    return detection_model


def architecture_of(model: DetectionModel) -> dict:
    """A copy of ``model``'s config in which every Lite-FEN layer's arguments are the block's own.

    A checkpoint's config says ``LiteFEN, [c2]``, so rebuilding it with today's defaults could silently give
    another block than the one its weights were trained in (the first Lite-FEN had a pointwise convolution).
    """
    cfg = copy.deepcopy(model.yaml)
    layers = cfg["backbone"] + cfg["head"]  # the same list objects: edits land in cfg
    for index, block in lite_fen_layers(model):
        layers[index][3] = block.yaml_args()
    return cfg


def lite_fen_layers(model) -> list[tuple[int, LiteFEN]]:
    """``(layer index, module)`` of every Lite-FEN block in an ultralytics model (or a ``YOLO`` wrapper)."""
    model = getattr(model, "model", model)  # YOLO wrapper -> DetectionModel
    layers = getattr(model, "model", model)  # DetectionModel -> nn.Sequential of layers
    return [
        (int(getattr(layer, "i", index)), layer) for index, layer in enumerate(layers) if isinstance(layer, LiteFEN)
    ]


register()
