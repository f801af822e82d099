"""What an exported model carries beside it (``*.grace.json``): class names, image size, heatmap scale, origin.

Kept apart from ``export.py`` so that loading an exported model (ONNX Runtime, OpenVINO) never imports torch: a
runtime-only install inspects without it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from grace_core.errors import GraceError, ModelError

METADATA_SUFFIX = ".grace.json"


@dataclass(frozen=True)
class ExportMetadata:
    class_names: list[str]
    imgsz: int
    has_heatmap: bool
    source_model: str  # id (name@hash) of the checkpoint it came from
    grace_version: str
    task: str = "detect"
    heat_logit_range: list[float] | None = None  # calibrated display scale of the heatmap (engine/calibration.py)
    # Model pixels per pixel of the images it was trained on (NEU-DET's 200-pixel images at imgsz 224: 1.12):
    # the physical scale large frames are sliced at (engine/slicing.py).
    pixel_scale: float = 1.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> ExportMetadata:
        """Unknown keys are ignored: files of other versions (e.g. 0.1's [0, 1] ``heat_range``) still load, and
        a scale in other units is never mistaken for this one (it falls back to the default until re-exported)."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    def problem(self) -> str | None:
        """What makes these values unusable (None when they are fine): a hand-edited or foreign file must fail here,
        with its reason, rather than as an IndexError deep in decoding."""
        names = self.class_names
        if not isinstance(names, list) or not names or not all(isinstance(name, str) for name in names):
            return f"'class_names' must be a non-empty list of strings, got {names!r:.80}"
        if isinstance(self.imgsz, bool) or not isinstance(self.imgsz, int) or self.imgsz <= 0:
            return f"'imgsz' must be a positive integer, got {self.imgsz!r:.40}"
        if not isinstance(self.has_heatmap, bool):
            return f"'has_heatmap' must be true or false, got {self.has_heatmap!r:.40}"
        if self.task != "detect":
            return f"'task' is {self.task!r:.40}, and only detection models ('detect') can be run"
        scale = self.pixel_scale
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0.05 <= scale <= 20:
            return f"'pixel_scale' must be a number between 0.05 and 20, got {scale!r:.40}"
        heat = self.heat_logit_range
        if heat is not None and not _is_range(heat):
            return f"'heat_logit_range' must be [low, high] with finite low < high, got {heat!r:.80}"
        return None


def metadata_path(model_file: Path) -> Path:
    return model_file.with_name(model_file.stem + METADATA_SUFFIX)


def read_metadata(model_file: str | Path) -> ExportMetadata:
    """The metadata of an exported model (from the file beside it)."""
    path = metadata_path(Path(model_file))
    if not path.is_file():
        raise GraceError(f"{model_file} has no {path.name} beside it: export it with `grace export`")
    try:
        metadata = ExportMetadata.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, TypeError) as error:
        raise GraceError(f"{path}: unreadable export metadata ({error})") from error
    problem = metadata.problem()
    if problem:
        raise ModelError(f"{path}: invalid export metadata: {problem}. Export the model again with `grace export`.")
    return metadata


RECORDED_KEY = "grace"  # the export's metadata, also kept inside the model file (ONNX metadata, OpenVINO rt_info)


def check_recorded_size(model_file: str | Path, metadata: ExportMetadata, recorded: str | None) -> None:
    """The image size the export recorded inside the model file must be the metadata's: an export that takes any
    input size cannot tell from its shapes that a copied or edited ``.grace.json`` names another training size, and
    would run at the wrong scale. Exports without a record (older ones, fixed-size) are checked by their shapes."""
    if recorded is None:
        return
    try:
        exported_at = ExportMetadata.from_json(recorded).imgsz
    except (ValueError, TypeError):
        return  # a record this version cannot read: the shapes and a run still check the model
    if exported_at != metadata.imgsz:
        raise ModelError(
            f"{model_file}: the model was exported at imgsz {exported_at}, but its metadata says imgsz "
            f"{metadata.imgsz}; {metadata_path(Path(model_file)).name} does not belong to this model: export it "
            "again with `grace export`"
        )


def check_model_shapes(
    model_file: str | Path,
    metadata: ExportMetadata,
    input_shape: Sequence[int | None],
    output_shapes: Sequence[Sequence[int | None]],
) -> None:
    """Check that the metadata describes the model the runtime loaded: input (1, 3, imgsz, imgsz), a first output
    (1, 4 + classes, anchors), a second output when it promises a heatmap. Dynamic dimensions (None) pass.

    Metadata that belongs to another model (copied, hand-edited, or a non-detection export) would otherwise read
    the wrong values as class scores or crash mid-run.
    """
    fix = f"{metadata_path(Path(model_file)).name} does not belong to this model: export it again with `grace export`"
    expected = (1, 3, metadata.imgsz, metadata.imgsz)
    if len(input_shape) != 4 or any(d not in (None, e) for d, e in zip(input_shape, expected, strict=True)):
        raise ModelError(
            f"{model_file}: the model takes input {_shape(input_shape)}, but its metadata says imgsz "
            f"{metadata.imgsz} ({_shape(expected)}); {fix}"
        )
    if not output_shapes or len(output_shapes[0]) != 3:
        shown = _shape(output_shapes[0]) if output_shapes else "nothing"
        raise ModelError(f"{model_file}: outputs {shown}, not detections (1 x 4+classes x anchors); {fix}")
    values = output_shapes[0][1]
    classes = len(metadata.class_names)
    if values is not None and values - 4 != classes:
        raise ModelError(
            f"{model_file}: outputs {values} values per anchor (4 box + {values - 4} classes), but its metadata "
            f"names {classes} classes; {fix}"
        )
    if metadata.has_heatmap and len(output_shapes) < 2:
        raise ModelError(f"{model_file}: its metadata promises a heatmap output, but the model has none; {fix}")


def _shape(dims: Sequence[int | None]) -> str:
    return "x".join("?" if d is None else str(d) for d in dims)


def _is_range(value: object) -> bool:
    if not isinstance(value, list) or len(value) != 2:
        return False
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value):
        return False
    return value[0] < value[1]
