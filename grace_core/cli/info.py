"""``grace info MODEL``: parameters, GFLOPs, Lite-FEN placement and class names of a model."""

from __future__ import annotations

import argparse
import json

from grace_core.errors import GraceError


def add_parser(commands) -> None:
    parser = commands.add_parser("info", help="describe a model (name, .yaml or .pt)")
    parser.add_argument("model", help="grace-n, grace-s, yolo11n, yolo11s, a model .yaml or a .pt checkpoint")
    parser.add_argument("--imgsz", type=int, default=640, help="image size for the GFLOPs figure (default 640)")
    parser.add_argument("--data", help="data.yaml whose class names to use (default: NEU-DET's six)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def _class_names(data_yaml: str | None) -> list[str] | None:
    if data_yaml is None:
        return None
    from pathlib import Path

    from grace_core.data.yolo import names_from_yaml

    return names_from_yaml(Path(data_yaml))  # the dataset loader's checks: size cap, no aliases, text names


def run(args: argparse.Namespace) -> int:
    if args.imgsz <= 0 or args.imgsz % 32:
        raise GraceError(f"--imgsz must be a positive multiple of 32, got {args.imgsz}")
    names = _class_names(args.data)  # a bad data.yaml fails before torch is imported
    from grace_core.nn.summary import summarize_model_file

    summary = summarize_model_file(args.model, imgsz=args.imgsz, names=names)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
        return 0
    rows = [
        ("model", f"{summary.name}  ({summary.description})"),
        ("parameters", f"{summary.parameters:,} ({summary.parameters / 1e6:.2f} M)"),
        ("GFLOPs", f"{summary.gflops:.2f} at {summary.imgsz}x{summary.imgsz}"),
        ("classes", f"{len(summary.class_names)}: {', '.join(summary.class_names)}"),
    ]
    if not summary.lite_fen:
        rows.append(("Lite-FEN", "none (plain YOLO)"))
    for block in summary.lite_fen:
        rows.append(
            (
                "Lite-FEN",
                f"layer {block.layer}, after {block.after}: {block.channels} channels at stride {block.stride} "
                f"(P3), {block.parameters:,} parameters",
            )
        )
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0
