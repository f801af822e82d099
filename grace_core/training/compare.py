"""A finished run against the live model, class by class, on the same validation split (``grace val --json``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grace_core.errors import ModelError
from grace_core.models import SHIPPED, default_model


@dataclass(frozen=True)
class ComparisonRow:
    name: str  # a class name, or "all"
    instances: int
    candidate_ap50: float | None
    candidate_ap50_95: float | None
    live_ap50: float | None
    live_ap50_95: float | None

    @property
    def delta_ap50_95(self) -> float | None:
        if self.candidate_ap50_95 is None or self.live_ap50_95 is None:
            return None
        return self.candidate_ap50_95 - self.live_ap50_95


def compare(candidate: dict, live: dict) -> list[ComparisonRow]:
    """Rows for "all" and each class of either result (``ValResult.to_dict()`` form); a class one model does not
    know has None on its side."""
    rows = [
        ComparisonRow(
            "all",
            int(candidate.get("instances", 0)),
            candidate.get("map50"),
            candidate.get("map50_95"),
            live.get("map50"),
            live.get("map50_95"),
        )
    ]
    theirs = {c["name"]: c for c in live.get("per_class", [])}
    ours = {c["name"]: c for c in candidate.get("per_class", [])}
    for name in [*ours, *(n for n in theirs if n not in ours)]:
        a, b = ours.get(name, {}), theirs.get(name, {})
        rows.append(
            ComparisonRow(
                name,
                int(a.get("instances", b.get("instances", 0))),
                a.get("ap50"),
                a.get("ap50_95"),
                b.get("ap50"),
                b.get("ap50_95"),
            )
        )
    return rows


def checkpoint_of(model: str) -> Path:
    """The ``.pt`` checkpoint behind a live-model choice: the shipped one, a ``.pt`` itself, or the ``.pt`` beside an
    exported ``.onnx`` / OpenVINO ``.xml`` (as ``grace export`` leaves it). Validation needs the checkpoint."""
    if model in ("", SHIPPED):
        return default_model("torch")
    path = Path(model)
    if path.suffix == ".pt":
        return path
    folder = path.parent.parent if path.suffix == ".xml" and path.parent.name.endswith("_openvino") else path.parent
    stem = path.parent.name.removesuffix("_openvino") if path.suffix == ".xml" else path.stem
    candidate = folder / f"{stem}.pt"
    if candidate.is_file():
        return candidate
    raise ModelError(f"no checkpoint for {path}: the comparison validates a .pt (expected {candidate})")
