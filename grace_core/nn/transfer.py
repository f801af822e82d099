"""Load YOLO11 (or GRACE) weights into a GRACE model layer by layer.

GRACE inserts Lite-FEN layers into YOLO11, so every layer after an insertion has a larger index and ultralytics'
own key-matching (``model.7.cv1.conv.weight`` …) would silently skip them. Here the layers of both models are paired
in order, skipping our custom layers in the target, their types are checked pair by pair, and each tensor is copied
to its renumbered key when the shapes agree (a COCO checkpoint's 80-class head does not fit a 6-class model: those
tensors are reported, not copied).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from grace_core.errors import ModelError
from grace_core.nn.registry import CUSTOM_MODULES


@dataclass
class TransferReport:
    """What :func:`transfer_weights` did, tensor by tensor (target key names)."""

    loaded: list[str] = field(default_factory=list)
    shape_mismatch: list[str] = field(default_factory=list)
    not_in_source: list[str] = field(default_factory=list)
    layer_map: dict[int, int] = field(default_factory=dict)

    def summary(self) -> str:
        total = len(self.loaded) + len(self.shape_mismatch) + len(self.not_in_source)
        return (
            f"transferred {len(self.loaded)}/{total} tensors; {len(self.shape_mismatch)} shape mismatches "
            f"(e.g. a head for another class count), {len(self.not_in_source)} new (Lite-FEN)"
        )


def _layers(model: nn.Module) -> nn.Sequential:
    layers = getattr(model, "model", None)
    if not isinstance(layers, nn.Sequential):
        raise ModelError(f"{type(model).__name__} is not an ultralytics detection model")
    return layers


def layer_index_map(source: nn.Module, target: nn.Module) -> dict[int, int]:
    """Source layer index → target layer index.

    YOLO layers are paired in order, and so are our custom layers (GRACE → GRACE); a target's custom layers that the
    source lacks (YOLO11 → GRACE) stay unmapped.
    """
    custom = tuple(CUSTOM_MODULES.values())
    source_custom = [(i, layer) for i, layer in enumerate(_layers(source)) if isinstance(layer, custom)]
    target_custom = [(i, layer) for i, layer in enumerate(_layers(target)) if isinstance(layer, custom)]
    mapping = {}
    if source_custom:
        if [type(m) for _, m in source_custom] != [type(m) for _, m in target_custom]:
            raise ModelError("architectures do not match: the weights' Lite-FEN layers differ from the model's")
        mapping = {i: j for (i, _), (j, _) in zip(source_custom, target_custom, strict=True)}
    source_layers = [(i, layer) for i, layer in enumerate(_layers(source)) if not isinstance(layer, custom)]
    target_layers = [(i, layer) for i, layer in enumerate(_layers(target)) if not isinstance(layer, custom)]
    if len(source_layers) != len(target_layers):
        raise ModelError(
            f"architectures do not match: the weights have {len(source_layers)} YOLO layers, "
            f"the model {len(target_layers)} (use weights of the same family and scale, e.g. yolo11s for grace-s)"
        )
    for (i, a), (j, b) in zip(source_layers, target_layers, strict=True):
        if type(a) is not type(b):
            raise ModelError(f"architectures do not match at layer {i}: {type(a).__name__} vs {type(b).__name__}")
        mapping[i] = j
    return mapping


def transfer_weights(target: nn.Module, source: nn.Module) -> TransferReport:
    """Copy every tensor of ``source`` (a YOLO11 or GRACE ``DetectionModel``) that fits into ``target``, in place."""
    report = TransferReport(layer_map=layer_index_map(source, target))
    source_state = source.state_dict()
    target_state = target.state_dict()
    renamed: dict[str, torch.Tensor] = {}
    for key, tensor in source_state.items():
        prefix, index, rest = key.split(".", 2)
        renamed[f"{prefix}.{report.layer_map[int(index)]}.{rest}"] = tensor
    update = {}
    for key, tensor in target_state.items():
        if key not in renamed:
            report.not_in_source.append(key)
        elif renamed[key].shape != tensor.shape:
            report.shape_mismatch.append(key)
        else:
            update[key] = renamed[key].to(tensor.dtype)
            report.loaded.append(key)
    if len(report.loaded) < len(source_state) / 2:
        raise ModelError(
            f"the weights do not fit this model: only {len(report.loaded)} of {len(source_state)} tensors have the "
            f"right shape (weights of another scale? use yolo11s weights for grace-s, yolo11n for grace-n)"
        )
    target.load_state_dict(update, strict=False)
    return report


def read_checkpoint(path: str | Path, trust: bool = False) -> dict:
    """An ultralytics checkpoint's dict, holding a detection model (checked).

    By default the file is unpickled with ``weights_only=True`` against an allow-list of known model classes (ours
    included), so a crafted file cannot run code. ``trust=True`` allows a full unpickle — only for files you made.
    """
    from ultralytics.nn.tasks import torch_safe_load

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"weights file not found: {path}")
    try:
        checkpoint, _ = torch_safe_load(str(path), safe_only=not trust)
    except Exception as error:
        raise ModelError(unreadable_checkpoint_message(path, error)) from error
    model = (checkpoint.get("ema") or checkpoint.get("model")) if isinstance(checkpoint, Mapping) else None
    if not isinstance(model, nn.Module) or not isinstance(getattr(model, "model", None), nn.Sequential):
        raise ModelError(f"{path} holds no detection model (expected an ultralytics .pt checkpoint)")
    return checkpoint


_USE_OURS = "use a checkpoint written by `grace train` (the run's weights/best.pt or last.pt)"


def unreadable_checkpoint_message(path: Path, error: BaseException) -> str:
    """What is wrong with *this* file and what to do, from the loader's error (its own words name other tools)."""
    causes = [error]
    while causes[-1].__cause__ is not None and len(causes) < 10:
        causes.append(causes[-1].__cause__)
    text = " ".join(str(cause) for cause in causes)
    missing = next((cause.name for cause in causes if isinstance(cause, ModuleNotFoundError)), None)
    unsafe = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
    damage = _damage(path)
    if "TorchScript" in text:
        why = f"it is a TorchScript export, not a training checkpoint; {_USE_OURS}"
    elif missing:
        why = (
            f"it needs the Python module {missing!r}, which this installation does not have (it was saved by another "
            f"program, e.g. YOLOv5). Retrain it, or {_USE_OURS}"
        )
    elif unsafe:
        why = (
            f"it holds a Python object of type {unsafe.group(1)}, which a safe load does not open (it could run "
            f"code). If you made this file yourself, load it with --trust; otherwise {_USE_OURS}"
        )
    elif damage:
        why = f"{damage}. Copy it again, or {_USE_OURS}"
    else:
        detail = str(causes[-1]).replace("ERROR ❌️", "").split("\n")[0].split(" Use an official")[0].strip()
        why = f"{type(causes[-1]).__name__}: {detail}; {_USE_OURS}"
    return f"{path} is not a readable ultralytics checkpoint: {why}."


def _damage(path: Path) -> str | None:
    """How the file differs from the zip archive ``torch.save`` writes; None when it is one, intact."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as error:
        return f"it cannot be read ({error.strerror or error})"
    if size == 0:
        return "the file is empty (0 bytes)"
    if not head.startswith(b"PK"):
        return f"its {size} bytes are not the zip archive torch.save writes (they begin {head!r})"
    if not zipfile.is_zipfile(path):
        return f"its zip archive ({size} bytes) is cut short or damaged"
    return None


def load_detection_model(path: str | Path, trust: bool = False) -> nn.Module:
    """The model inside an ultralytics checkpoint (EMA weights when present), on the CPU, in float32.

    Read safely unless ``trust`` (see :func:`read_checkpoint`).
    """
    checkpoint = read_checkpoint(path, trust)
    model = checkpoint.get("ema") or checkpoint.get("model")
    model.train_args = dict(checkpoint.get("train_args") or {})  # e.g. the image size it was trained at
    return model.float().cpu()


DETECTION_HEADS = frozenset({"Detect", "v10Detect"})  # by name: Segment, Pose and OBB subclass Detect
_TASKS_OF_HEADS = {"Segment": "segmentation", "Pose": "pose", "OBB": "oriented-box (OBB)", "Classify": "classification"}


def require_detection_head(model: nn.Module, path: str | Path, action: str) -> None:
    """Refuse a model whose head is not a plain detection head: its outputs are not (box, class scores), so
    exporting or running it as a detector would misread mask coefficients or keypoints as class scores."""
    head = type(model.model[-1]).__name__
    if head in DETECTION_HEADS:
        return
    task = _TASKS_OF_HEADS.get(head)
    kind = f" (a {task} model)" if task else ""
    raise ModelError(
        f"{path} is not a detection model: its head is {head}{kind}, and {action} needs a detection head (Detect). "
        "Use a checkpoint trained for detection, e.g. with `grace train`."
    )
