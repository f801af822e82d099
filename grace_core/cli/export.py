"""``grace export``: a checkpoint to ONNX or OpenVINO, with the Lite-FEN heatmap as a second output."""

from __future__ import annotations

import argparse
from pathlib import Path

from grace_core.engine.runtimes import EXPORT_FORMATS


def add_parser(commands) -> None:
    parser = commands.add_parser("export", help="export a checkpoint to ONNX or OpenVINO for fast CPU inference")
    parser.add_argument("--model", required=True, help="a trained .pt checkpoint")
    parser.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    parser.add_argument("--imgsz", type=int, help="input size (default: the size the model was trained at)")
    parser.add_argument("--half", action="store_true", help="store weights as FP16 (OpenVINO; halves the size)")
    parser.add_argument("--out", type=Path, help="output folder (default: beside the checkpoint)")
    parser.add_argument("--trust", action="store_true", help="allow a full unpickle (only for files you made)")
    parser.add_argument(
        "--pixel-scale",
        type=float,
        help="model pixels per pixel of the training images (default: measured on the training data, else 1.0)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from grace_core.engine.export import export_model
    from grace_core.errors import GraceError

    if args.half and args.format == "onnx":
        raise GraceError("--half applies to OpenVINO exports (ONNX Runtime on a CPU computes in FP32 anyway)")
    path = export_model(
        args.model,
        args.format,
        imgsz=args.imgsz,
        half=args.half,
        out_dir=args.out,
        trust=args.trust,
        pixel_scale=args.pixel_scale,
    )
    print(path)
    return 0
