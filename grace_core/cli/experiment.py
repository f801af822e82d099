"""``grace experiment ablation``: the four-arm ablation (YOLO11, +Lite-FEN, +DS-CBSM++, GRACE) over seeds."""

from __future__ import annotations

import argparse
from pathlib import Path

from grace_core.cli.settings import parse_settings


def add_parser(commands) -> None:
    parser = commands.add_parser("experiment", help="run experiments (ablation)")
    experiments = parser.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    ablation = experiments.add_parser("ablation", help="train YOLO11, +Lite-FEN, +DS-CBSM++ and GRACE identically")
    ablation.add_argument("--data", required=True, help="data.yaml")
    ablation.add_argument("--scale", default="s", help="model scale: n or s (s)")
    ablation.add_argument("--epochs", type=int, default=100)
    ablation.add_argument("--imgsz", type=int, default=640)
    ablation.add_argument("--batch", type=int, default=16)
    ablation.add_argument("--device", default="cpu")
    ablation.add_argument("--workers", type=int, default=2)
    ablation.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ablation.add_argument(
        "--arms",
        nargs="+",
        default=["yolo11", "lite-fen", "dscbsm", "grace"],
        help="any of: yolo11 lite-fen dscbsm grace grace-bce grace-loc grace-mild (default: the first four)",
    )
    ablation.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto", help="CPU arithmetic")
    ablation.add_argument("--threads", type=int, help="CPU threads per run (default: every core)")
    ablation.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an ultralytics training setting for every run, e.g. --set mosaic=0 --set optimizer=SGD (repeatable)",
    )
    ablation.add_argument("--out", type=Path, default=Path("ablation"), help="output folder (./ablation)")
    ablation.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from grace_core.experiments.ablation import run_ablation

    run_ablation(
        data=args.data,
        scale=args.scale,
        epochs=args.epochs,
        imgsz=args.imgsz,
        seeds=args.seeds,
        out=args.out,
        arms=args.arms,
        batch=args.batch,
        device=args.device,
        workers=args.workers,
        extra=parse_settings(args.overrides, "--set"),
        precision=args.precision,
        threads=args.threads,
    )
    print((args.out / "ablation.md").read_text(encoding="utf-8"))
    return 0
