"""``grace export``: a checkpoint to ONNX or OpenVINO, with Lite-FEN's heatmap as a second output.

The exported graph takes ``images`` (1, 3, imgsz, imgsz) float32 RGB in [0, 1] and returns ``detections``
(1, 4 + nc, A) — ultralytics' decoded head output — and, for GRACE models, ``heatmap`` (1, 1, imgsz/8, imgsz/8).
Class names, image size and the source model's id travel with the model: in the ONNX file's metadata and in a
``*.grace.json`` file beside every exported model (OpenVINO: inside its folder).
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import numpy as np
from torch import nn

from grace_core import __version__
from grace_core.engine.base import file_id
from grace_core.engine.metadata import RECORDED_KEY, ExportMetadata, metadata_path
from grace_core.engine.runtimes import EXPORT_FORMATS
from grace_core.errors import GraceError

log = logging.getLogger(__name__)

FORMATS = EXPORT_FORMATS  # from the one table of runtimes


class _WithHeatmap(nn.Module):
    """The model's decoded output plus the map Lite-FEN produced in the same pass."""

    def __init__(self, model: nn.Module, lite_fen: nn.Module | None) -> None:
        super().__init__()
        self.model, self.lite_fen = model, lite_fen

    def forward(self, images):
        detections = self.model(images)
        if self.lite_fen is None:
            return detections
        return detections, self.lite_fen.last_attention


_DYNAMIC_AXES = {
    "images": {0: "batch", 2: "height", 3: "width"},
    "detections": {0: "batch", 2: "anchors"},
    "heatmap": {0: "batch", 2: "map_height", 3: "map_width"},
}


def export_model(
    model_path: str | Path,
    fmt: str,
    imgsz: int | None = None,
    half: bool = False,
    out_dir: str | Path | None = None,
    trust: bool = False,
    pixel_scale: float | None = None,
) -> Path:
    """Export ``model_path``; returns the ``.onnx`` file or the OpenVINO ``.xml`` file."""
    import torch

    from grace_core.nn.registry import lite_fen_layers
    from grace_core.nn.transfer import load_detection_model, require_detection_head

    if fmt not in FORMATS:
        raise GraceError(f"unknown export format {fmt!r}: use {' or '.join(FORMATS)}")
    model_path = Path(model_path)
    model = load_detection_model(model_path, trust=trust)
    require_detection_head(model, model_path, "`grace export`")  # its metadata would say "detect" regardless
    imgsz = int(imgsz or model.train_args.get("imgsz", 640))
    if imgsz < 32 or imgsz % 32:
        raise GraceError(f"--imgsz must be a positive multiple of 32, got {imgsz}")
    model = copy.deepcopy(model).fuse().eval()
    head = model.model[-1]
    head.export, head.format, head.dynamic = True, "onnx", True  # anchors follow the input size
    blocks = lite_fen_layers(model)
    wrapper = _WithHeatmap(model, blocks[-1][1] if blocks else None).eval()
    names = model.names if isinstance(model.names, dict) else dict(enumerate(model.names))
    heat_range = None
    if blocks:
        from grace_core.engine.calibration import calibrate_heat_range, demo_images
        from grace_core.engine.torch_engine import TorchEngine

        heat_range = list(calibrate_heat_range(TorchEngine(model_path, imgsz=imgsz, trust=trust), demo_images()))
    metadata = ExportMetadata(
        class_names=[names[i] for i in sorted(names)],
        imgsz=imgsz,
        has_heatmap=bool(blocks),
        source_model=file_id(model_path),
        grace_version=__version__,
        heat_logit_range=heat_range,
        pixel_scale=pixel_scale or training_pixel_scale(model.train_args, imgsz),
    )
    out_dir = Path(out_dir) if out_dir else model_path.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_file = out_dir / f"{model_path.stem}.onnx"
    outputs = ["detections", "heatmap"] if metadata.has_heatmap else ["detections"]
    with torch.no_grad():
        torch.onnx.export(
            wrapper,
            torch.zeros(1, 3, imgsz, imgsz),
            str(onnx_file),
            opset_version=17,
            input_names=["images"],
            output_names=outputs,
            # A batch axis (a large frame's tiles go through the runtime together) and any input size (a tile may
            # be larger than the training images at the same scale): grace_core/engine/slicing.py.
            dynamic_axes={name: _DYNAMIC_AXES[name] for name in ["images", *outputs]},
            do_constant_folding=True,
            dynamo=False,
        )
    _add_onnx_metadata(onnx_file, metadata)
    metadata_path(onnx_file).write_text(metadata.to_json(), encoding="utf-8")
    if metadata_path(model_path) != metadata_path(onnx_file):
        metadata_path(model_path).write_text(metadata.to_json(), encoding="utf-8")  # the .pt's display scale too
    if fmt == "onnx":
        return onnx_file
    return _to_openvino(onnx_file, out_dir / f"{model_path.stem}_openvino", metadata, half)


def training_pixel_scale(train_args: dict, imgsz: int, sample: int = 64) -> float:
    """Model pixels per pixel of the training images: ``imgsz`` over their typical longest side (ultralytics
    resizes each training image so that its longest side is ``imgsz``). 1.0 when the dataset cannot be read here."""
    from grace_core.data.stats import find_data_yaml, split_images
    from grace_core.sources.image_header import claimed_size

    try:
        images = split_images(find_data_yaml(train_args["data"])).get("train", [])
    except (KeyError, TypeError, OSError, GraceError):
        images = []
    sizes = [claimed_size(_head(path)) for path in images[:: max(1, len(images) // sample)]]
    sides = [max(size) for size in sizes if size]
    if not sides:
        log.warning("the training images are not readable here: pixel scale 1.0 (set it with --pixel-scale)")
        return 1.0
    return round(imgsz / float(np.median(sides)), 4)


def _head(path: Path, limit: int = 1 << 20) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(limit)


def _add_onnx_metadata(onnx_file: Path, metadata: ExportMetadata) -> None:
    import onnx

    proto = onnx.load(str(onnx_file))
    entry = proto.metadata_props.add()
    entry.key, entry.value = RECORDED_KEY, metadata.to_json()
    onnx.save(proto, str(onnx_file))


def _to_openvino(onnx_file: Path, folder: Path, metadata: ExportMetadata, half: bool) -> Path:
    import openvino as ov

    folder.mkdir(parents=True, exist_ok=True)
    xml = folder / f"{onnx_file.stem}.xml"
    model = ov.convert_model(str(onnx_file))
    model.set_rt_info(metadata.to_json(), [RECORDED_KEY])  # checked against the .grace.json when loaded
    ov.save_model(model, str(xml), compress_to_fp16=half)
    metadata_path(xml).write_text(metadata.to_json(), encoding="utf-8")
    return xml
