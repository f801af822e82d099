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

    @property
    def delta_ap50(self) -> float | None:
        if self.candidate_ap50 is None or self.live_ap50 is None:
            return None
        return self.candidate_ap50 - self.live_ap50


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


# -- the promotion rule -------------------------------------------------------------------------------------------

CLASS_MARGIN = 0.02  # a class may lose up to 2.0 AP points (AP50-95 or AP50): per-class AP on a small split is noisy
OVERALL_MARGIN = 1e-4  # overall mAP50-95 and mAP50 may not drop at all (0.01 points: rounding in the JSON)


@dataclass(frozen=True)
class PromotionCheck:
    """What the comparison says about making the run live. ``comparable``: the live model was scored on the same
    split; ``reasons``: why it is worse, or why there is no like-for-like comparison (empty when it is not worse)."""

    comparable: bool
    reasons: tuple[str, ...]

    @property
    def worse(self) -> bool:
        return self.comparable and bool(self.reasons)

    @property
    def needs_reason(self) -> bool:
        """Promotion needs a typed override reason: the run is worse, or nothing shows it is not."""
        return bool(self.reasons)

    @property
    def verdict(self) -> str:
        if not self.comparable:
            return "not_compared"
        return "worse" if self.reasons else "not_worse"


def _points(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f}"


def _drop(what: str, run: float | None, live: float | None, margin: float) -> str | None:
    """A reason when ``run`` is below ``live`` by more than ``margin`` (a class the run lacks counts as 0)."""
    if live is None:
        return None
    if run is None:
        return f"{what}: the run does not detect this class (live {_points(live)})"
    if live - run > margin:
        return f"{what} {_points(run)} vs live {_points(live)} ({100 * (run - live):+.2f})"
    return None


def check_promotion(
    rows: list[ComparisonRow], compared_with: str | None = None, live_model: str | None = None
) -> PromotionCheck:
    """Judge ``compare()`` rows by the promotion rule (README, training tab):

    * worse when the overall mAP50-95 or mAP50 is lower than the live model's, or any class's AP50-95 or AP50 is
      lower by more than :data:`CLASS_MARGIN`, or the run lacks a class the live model detects;
    * not comparable when the live model was not scored on the run's split, or the comparison was made against
      another model than the live one now (``compared_with`` ≠ ``live_model``).
    """
    overall = next((row for row in rows if row.name == "all"), None)
    if overall is None or overall.live_ap50_95 is None or overall.live_ap50 is None:
        return PromotionCheck(False, ("the live model was not scored on this run's validation split",))
    if compared_with is not None and live_model is not None and compared_with != live_model:
        return PromotionCheck(
            False, (f"the comparison was made against {compared_with}, but the live model is now {live_model}",)
        )
    reasons = [
        _drop("mAP50-95", overall.candidate_ap50_95, overall.live_ap50_95, OVERALL_MARGIN),
        _drop("mAP50", overall.candidate_ap50, overall.live_ap50, OVERALL_MARGIN),
    ]
    for row in rows:
        if row.name != "all":
            reasons.append(_drop(f"{row.name} AP50-95", row.candidate_ap50_95, row.live_ap50_95, CLASS_MARGIN))
            reasons.append(_drop(f"{row.name} AP50", row.candidate_ap50, row.live_ap50, CLASS_MARGIN))
    return PromotionCheck(True, tuple(reason for reason in reasons if reason))


def comparison_details(rows: list[ComparisonRow], check: PromotionCheck) -> dict:
    """The scores and Δ of a promotion, JSON-ready for the audit log (fractions, as ``grace val --json`` writes)."""
    per_class = {
        row.name: {
            "run_ap50_95": row.candidate_ap50_95,
            "live_ap50_95": row.live_ap50_95,
            "delta_ap50_95": row.delta_ap50_95,
            "run_ap50": row.candidate_ap50,
            "live_ap50": row.live_ap50,
            "delta_ap50": row.delta_ap50,
        }
        for row in rows
    }
    overall = per_class.pop("all", {})
    return {
        "run_map50_95": overall.get("run_ap50_95"),
        "live_map50_95": overall.get("live_ap50_95"),
        "delta_map50_95": overall.get("delta_ap50_95"),
        "run_map50": overall.get("run_ap50"),
        "live_map50": overall.get("live_ap50"),
        "delta_map50": overall.get("delta_ap50"),
        "per_class": per_class,
        "verdict": check.verdict,
        "reasons": list(check.reasons),
        "class_margin": CLASS_MARGIN,
    }
