"""``grace experiment ablation``: YOLO11, +Lite-FEN, +DS-CBSM++ and GRACE trained under identical settings.

Each (arm, seed) run lives in ``OUT/runs/ARM-seedS``; a run with its ``val.json`` is done and skipped, a run with
only ``weights/last.pt`` is resumed, so the experiment survives interruptions. Every model is evaluated with
``grace val``'s metrics (COCO AP) on the dataset's val split. The tables report mean ± sample std over seeds.
"""

from __future__ import annotations

import csv
import json
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from grace_core.errors import GraceError
from grace_core.training.job import TrainJob


@dataclass(frozen=True)
class Arm:
    key: str
    label: str
    family: str  # "yolo11" or "grace"
    sampler: str  # "uniform" or "dscbsm"
    signal: str = "quality"  # DS-CBSM++'s class difficulty signal (docs/method.md)
    rarity: str = "images"  # what DS-CBSM++'s rarity counts
    dscbsm: tuple[tuple[str, float], ...] = ()  # further DSCBSMConfig values

    def model(self, scale: str) -> str:
        return f"{self.family}{scale}" if self.family == "yolo11" else f"grace-{scale}"


ARMS = (
    Arm("yolo11", "YOLO11", "yolo11", "uniform"),
    Arm("lite-fen", "+Lite-FEN", "grace", "uniform"),
    Arm("dscbsm", "+DS-CBSM++", "yolo11", "dscbsm"),
    Arm("grace", "GRACE", "grace", "dscbsm"),
    # Opt-in arms: DS-CBSM++'s earlier definitions, kept so the change of default stays measurable.
    Arm("grace-bce", "GRACE (first DS-CBSM++: bce signal)", "grace", "dscbsm", signal="bce", rarity="instances"),
    Arm("grace-loc", "GRACE (localization signal)", "grace", "dscbsm", signal="localization", rarity="instances"),
    # A milder sampler: the square root of the quality ratio, class weights within [0.67, 1.5] (docs/results.md §5).
    Arm(
        "grace-mild",
        "GRACE (mild DS-CBSM++)",
        "grace",
        "dscbsm",
        dscbsm=(("alpha", 0.5), ("weight_min", 0.67), ("weight_max", 1.5)),
    ),
)
DEFAULT_ARMS = ("yolo11", "lite-fen", "dscbsm", "grace")


@dataclass
class RunRecord:
    arm: str
    seed: int
    model: str
    sampler: str
    map50: float
    map50_95: float
    per_class_ap50: dict[str, float]
    per_class_ap50_95: dict[str, float]
    parameters: int
    gflops: float
    seconds_per_epoch: float
    epochs: int
    best: str


class _EpochTimer:
    """An event sink that records epoch times and prints one progress line per epoch."""

    def __init__(self, label: str) -> None:
        self.label, self.seconds = label, []

    def emit(self, type: str, **fields) -> None:
        if type == "epoch":
            self.seconds.append(fields["seconds"])
            m = fields.get("metrics") or {}
            print(
                f"[{self.label}] epoch {fields['epoch']}/{fields['epochs']}  {fields['seconds']:.0f}s  "
                f"mAP50 {m.get('mAP50', 0):.3f}  mAP50-95 {m.get('mAP50-95', 0):.3f}",
                file=sys.stderr,
                flush=True,
            )

    def batch(self, **fields) -> bool:
        return False


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    values = list(values)
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def _run_one(arm: Arm, seed: int, settings: dict, out: Path) -> RunRecord:
    from grace_core.evaluation import validate
    from grace_core.nn.summary import summarize_model_file
    from grace_core.training.run import run_training

    name = f"{arm.key}-seed{seed}"
    run_dir = out / "runs" / name
    record_file = run_dir / "val.json"
    if record_file.is_file():
        return RunRecord(**json.loads(record_file.read_text()))
    timer = _EpochTimer(name)
    last = run_dir / "weights" / "last.pt"
    best = run_dir / "weights" / "best.pt"
    started = time.monotonic()
    if last.is_file():
        try:
            # The experiment's own run, written by this command: trusted like the best.pt it validates below.
            run_training(TrainJob(resume=str(last), threads=settings.get("threads"), trust=True), timer)
        except (AssertionError, GraceError) as error:  # already finished: nothing to resume
            print(f"[{name}] not resumed ({error}); evaluating its best.pt", file=sys.stderr)
    else:
        job = TrainJob(
            model=arm.model(settings["scale"]),
            sampler=arm.sampler,
            dscbsm_signal=arm.signal,
            dscbsm_rarity=arm.rarity,
            dscbsm_options=dict(arm.dscbsm),
            seed=seed,
            project=str(out / "runs"),
            name=name,
            **{k: v for k, v in settings.items() if k != "scale"},
        )
        run_training(job, timer)
    if not best.is_file():
        raise GraceError(f"{name}: training produced no best.pt in {run_dir}")
    result = validate(
        best, settings["data"], imgsz=settings["imgsz"], batch=settings["batch"], device=settings["device"], trust=True
    )
    summary = summarize_model_file(arm.model(settings["scale"]), imgsz=640)
    seconds = timer.seconds or [(time.monotonic() - started) / max(1, settings["epochs"])]
    record = RunRecord(
        arm=arm.key,
        seed=seed,
        model=arm.model(settings["scale"]),
        sampler=arm.sampler,
        map50=result.map50,
        map50_95=result.map50_95,
        per_class_ap50={c.name: c.ap50 for c in result.per_class},
        per_class_ap50_95={c.name: c.ap50_95 for c in result.per_class},
        parameters=summary.parameters,
        gflops=summary.gflops,
        seconds_per_epoch=round(statistics.fmean(seconds), 2),
        epochs=settings["epochs"],
        best=str(best),
    )
    record_file.write_text(json.dumps(asdict(record), indent=2))
    return record


def run_ablation(
    data: str,
    scale: str,
    epochs: int,
    imgsz: int,
    seeds: Sequence[int],
    out: str | Path,
    arms: Sequence[str] = DEFAULT_ARMS,
    batch: int = 16,
    device: str = "cpu",
    workers: int = 2,
    extra: dict | None = None,
    precision: str = "auto",
    threads: int | None = None,
) -> list[RunRecord]:
    """Train and evaluate every (arm, seed); write ``ablation.md``, ``ablation.csv`` and ``runs.csv`` to ``out``."""
    chosen = [a for a in ARMS if a.key in arms]
    unknown = set(arms) - {a.key for a in ARMS}
    if unknown or not chosen:
        raise GraceError(f"unknown arm(s) {', '.join(sorted(unknown)) or '-'}: use {', '.join(a.key for a in ARMS)}")
    if scale not in ("n", "s", "m", "l", "x"):
        raise GraceError(f"--scale must be one of n, s, m, l, x; got {scale!r}")
    if not seeds:
        raise GraceError("give at least one seed")
    TrainJob(
        data=data, epochs=epochs, imgsz=imgsz, batch=batch, workers=workers, precision=precision, threads=threads
    ).check()
    out = Path(out).resolve()  # ultralytics nests a relative project under its own runs/ folder
    (out / "runs").mkdir(parents=True, exist_ok=True)
    settings = dict(
        data=str(data),
        scale=scale,
        epochs=epochs,
        imgsz=imgsz,
        batch=batch,
        device=device,
        workers=workers,
        extra=dict(extra or {}),
        precision=precision,
        threads=threads,
    )
    _claim_folder(out, settings)
    for seed in seeds:  # seed-major: an interrupted experiment still has complete seeds for every arm
        for arm in chosen:
            print(f"== {arm.label} ({arm.model(scale)}, {arm.sampler}) seed {seed}", file=sys.stderr, flush=True)
            _run_one(arm, seed, settings, out)
    records = collect_records(out)
    write_tables(records, out)
    return records


#: Settings that belong to the machine running an experiment, not to its result: they may differ between lanes.
_MACHINE_SETTINGS = ("threads", "workers", "device")


def _claim_folder(out: Path, settings: dict) -> None:
    """Write ``settings.json``, or check that the folder's earlier runs used the same settings.

    Several processes (lanes) may train different arms or seeds into one folder at once; mixing runs trained
    differently into one table is refused.
    """
    path = out / "settings.json"
    mine = {k: v for k, v in settings.items() if k not in _MACHINE_SETTINGS}
    if path.is_file():
        theirs = {k: v for k, v in json.loads(path.read_text(encoding="utf-8")).items() if k not in _MACHINE_SETTINGS}
        differ = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
        if differ:
            shown = "; ".join(f"{k}: {theirs.get(k)!r} there, {mine.get(k)!r} now" for k in differ)
            raise GraceError(f"{out} holds runs with other settings ({shown}): choose another --out")
        return
    path.write_text(json.dumps(settings, indent=2), encoding="utf-8")


def collect_records(out: Path) -> list[RunRecord]:
    """Every finished run in ``out/runs`` (its ``val.json``), in arm order, then by seed."""
    order = {arm.key: i for i, arm in enumerate(ARMS)}
    records = [RunRecord(**json.loads(f.read_text(encoding="utf-8"))) for f in Path(out).glob("runs/*/val.json")]
    return sorted(records, key=lambda r: (order.get(r.arm, len(order)), r.seed))


def write_tables(records: Sequence[RunRecord], out: Path) -> None:
    """``runs.csv`` (one row per run), ``ablation.csv`` and ``ablation.md`` (mean ± std per arm)."""
    out = Path(out)
    classes = list(records[0].per_class_ap50_95) if records else []
    with open(out / "runs.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "arm",
                "seed",
                "model",
                "sampler",
                "mAP50",
                "mAP50-95",
                *[f"AP50-95 {c}" for c in classes],
                "params",
                "GFLOPs@640",
                "s/epoch",
            ]
        )
        for r in records:
            writer.writerow(
                [
                    r.arm,
                    r.seed,
                    r.model,
                    r.sampler,
                    f"{r.map50:.4f}",
                    f"{r.map50_95:.4f}",
                    *[f"{r.per_class_ap50_95.get(c, 0):.4f}" for c in classes],
                    r.parameters,
                    r.gflops,
                    r.seconds_per_epoch,
                ]
            )
    by_arm = {a.key: [r for r in records if r.arm == a.key] for a in ARMS}
    rows = []
    for arm in ARMS:
        runs = by_arm[arm.key]
        if not runs:
            continue
        row = {"arm": arm.label, "model": runs[0].model, "sampler": runs[0].sampler, "seeds": len(runs)}
        for key, values in (("mAP50", [r.map50 for r in runs]), ("mAP50-95", [r.map50_95 for r in runs])):
            row[key] = _mean_std([100 * v for v in values])
        for c in classes:
            row[f"AP50-95 {c}"] = _mean_std([100 * r.per_class_ap50_95.get(c, 0.0) for r in runs])
            row[f"AP50 {c}"] = _mean_std([100 * r.per_class_ap50.get(c, 0.0) for r in runs])
        row["params"] = runs[0].parameters
        row["GFLOPs@640"] = runs[0].gflops
        row["s/epoch"] = _mean_std([r.seconds_per_epoch for r in runs])
        rows.append(row)

    def cell(value) -> str:
        return f"{value[0]:.2f} ± {value[1]:.2f}" if isinstance(value, tuple) else str(value)

    with open(out / "ablation.csv", "w", newline="", encoding="utf-8") as handle:
        if rows:
            fields = list(rows[0])
            paired = {f for f in fields if isinstance(rows[0][f], tuple)}
            writer = csv.writer(handle)
            writer.writerow([h for f in fields for h in ((f"{f} mean", f"{f} std") if f in paired else (f,))])
            for row in rows:
                cells = [(f"{row[f][0]:.4f}", f"{row[f][1]:.4f}") if f in paired else (row[f],) for f in fields]
                writer.writerow([x for pair in cells for x in pair])
    main_cols = ["arm", "model", "sampler", "seeds", "mAP50", "mAP50-95", "params", "GFLOPs@640", "s/epoch"]
    lines = ["| " + " | ".join(main_cols) + " |", "|" + "---|" * len(main_cols)]
    lines += ["| " + " | ".join(cell(row[c]) for c in main_cols) + " |" for row in rows]
    lines += ["", "Per-class AP50-95 (%, mean ± std over seeds):", ""]
    lines += ["| arm | " + " | ".join(classes) + " |", "|---|" + "---|" * len(classes)]
    lines += ["| " + row["arm"] + " | " + " | ".join(cell(row[f"AP50-95 {c}"]) for c in classes) + " |" for row in rows]
    lines += ["", "Per-class AP50 (%, mean ± std over seeds):", ""]
    lines += ["| arm | " + " | ".join(classes) + " |", "|---|" + "---|" * len(classes)]
    lines += ["| " + row["arm"] + " | " + " | ".join(cell(row[f"AP50 {c}"]) for c in classes) + " |" for row in rows]
    (out / "ablation.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
