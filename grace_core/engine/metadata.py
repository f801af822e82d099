"""What an exported model carries beside it (``*.grace.json``): class names, image size, heatmap scale, origin.

Kept apart from ``export.py`` so that loading an exported model (ONNX Runtime, OpenVINO) never imports torch: a
runtime-only install inspects without it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from grace_core.errors import GraceError

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

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> ExportMetadata:
        """Unknown keys are ignored: files of other versions (e.g. 0.1's [0, 1] ``heat_range``) still load, and
        a scale in other units is never mistaken for this one (it falls back to the default until re-exported)."""
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


def metadata_path(model_file: Path) -> Path:
    return model_file.with_name(model_file.stem + METADATA_SUFFIX)


def read_metadata(model_file: str | Path) -> ExportMetadata:
    """The metadata of an exported model (from the file beside it)."""
    path = metadata_path(Path(model_file))
    if not path.is_file():
        raise GraceError(f"{model_file} has no {path.name} beside it: export it with `grace export`")
    try:
        return ExportMetadata.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, TypeError) as error:
        raise GraceError(f"{path}: unreadable export metadata ({error})") from error
