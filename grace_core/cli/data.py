"""``grace data import`` and ``grace data stats``: bring a dataset into YOLO form, and describe one."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from grace_core.errors import DatasetError

FIRST_MESSAGES = 10


def add_parser(commands: Any) -> None:
    from grace_core.data.importers import FORMATS

    data = commands.add_parser("data", help="import datasets into YOLO form and show their statistics")
    sub = data.add_subparsers(dest="data_command", required=True, metavar="SUBCOMMAND")
    formats = "\n".join(f"  {name:<9} {fmt.summary}" for name, fmt in FORMATS.items())
    importer = sub.add_parser(
        "import",
        help="check a source dataset and write a clean, split YOLO dataset",
        description=f"Check SRC and write a new YOLO dataset to OUT (see docs/datasets.md).\n\nformats:\n{formats}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    importer.add_argument("format", metavar="FORMAT", help=f"one of {', '.join(FORMATS)}")
    importer.add_argument("src", metavar="SRC", type=Path, help="source dataset folder")
    importer.add_argument("out", metavar="OUT", type=Path, help="new (or empty) output folder")
    importer.add_argument("--split", default="0.8,0.2", help="train,val[,test] fractions (default 0.8,0.2)")
    importer.add_argument("--seed", type=int, default=0, help="split seed (default 0)")
    importer.add_argument("--classes", help="comma-separated class names, in id order (voc and yolo only)")
    importer.set_defaults(func=run_import)

    stats = sub.add_parser("stats", help="images, boxes, imbalance and box sizes of a YOLO dataset")
    stats.add_argument("dataset", metavar="DATASET", type=Path, help="a data.yaml or a folder holding one")
    stats.add_argument("--plot", type=Path, metavar="PNG", help="write a chart (bars per class, box-size histogram)")
    stats.add_argument("--json", type=Path, metavar="FILE", help="write the statistics as JSON")
    stats.set_defaults(func=run_stats)


class _TextBar:
    """A minimal progress bar for a terminal; silent when stderr is not one."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.shown = -1
        self.active = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        if not self.active or percent == self.shown:
            return
        self.shown = percent
        filled = percent * 30 // 100
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {percent:3d}% {done}/{total}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.active and self.shown >= 0:
            sys.stderr.write("\n")


class _TqdmBar:
    def __init__(self, label: str) -> None:
        from tqdm import tqdm

        self.bar = tqdm(desc=label, total=0, file=sys.stderr, unit="file", leave=False, disable=None)

    def __call__(self, done: int, total: int) -> None:
        self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        self.bar.close()


def _progress_bar(label: str) -> _TextBar | _TqdmBar:
    try:
        return _TqdmBar(label)
    except ImportError:
        return _TextBar(label)


def _parse_classes(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise DatasetError(f"bad --classes {text!r}: give non-empty names separated by commas, e.g. scratch,pit")
    return names


def run_import(args: argparse.Namespace) -> int:
    from grace_core.data.importer import import_dataset
    from grace_core.data.split import parse_split

    split = parse_split(args.split)
    bar = _progress_bar("importing")
    try:
        report = import_dataset(
            args.format, args.src, args.out, split, args.seed, _parse_classes(args.classes), progress=bar
        )
    finally:
        bar.close()
    print(format_import_summary(report, source=args.src, output=args.out))  # the paths as the user gave them
    return 0


def format_import_summary(report: Any, source: Path | str | None = None, output: Path | str | None = None) -> str:
    """The CLI summary of an :class:`ImportReport`: counts per split and class, then problems by kind. ``source`` and
    ``output`` name the folders as the user typed them (the report holds them resolved)."""
    splits = report.splits
    source = report.source if source is None else source
    output = report.output if output is None else output
    lines = [
        f"imported {report.n_images} images, {report.n_boxes} boxes ({report.format}) from {source}",
        f"into {output}"
        + (" (split kept from the source)" if report.split_from_source else f" (split seed {report.seed})"),
        "",
    ]
    width = max(10, *(len(name) for name in report.class_names))
    lines.append(f"{'boxes':<{width}}" + "".join(f"{name:>8}" for name in splits) + f"{'total':>8}")
    for name in report.class_names:
        counts = [summary.boxes_per_class[name] for summary in splits.values()]
        lines.append(f"{name:<{width}}" + "".join(f"{count:>8}" for count in counts) + f"{sum(counts):>8}")
    images = [len(summary.images) for summary in splits.values()]
    background = [summary.background_images for summary in splits.values()]
    lines.append(f"{'images':<{width}}" + "".join(f"{count:>8}" for count in images) + f"{sum(images):>8}")
    lines.append(f"{'background':<{width}}" + "".join(f"{count:>8}" for count in background) + f"{sum(background):>8}")
    if report.difficult_boxes:
        lines.append(f"({report.difficult_boxes} boxes marked difficult kept as normal boxes)")
    skipped = Counter(issue.kind for issue in report.issues if issue.skipped)
    kept = Counter(issue.kind for issue in report.issues if not issue.skipped)
    lines.append("")
    lines.append(f"skipped files: {sum(skipped.values())}" + _kinds(skipped))
    lines.append(f"other warnings: {sum(kept.values())}" + _kinds(kept))
    for issue in report.issues[:FIRST_MESSAGES]:
        lines.append(f"  {issue.message}")
    if len(report.issues) > FIRST_MESSAGES:
        lines.append(f"  ... {len(report.issues) - FIRST_MESSAGES} more in import_report.json")
    lines.append(f"data.yaml: {Path(output) / 'data.yaml'}")
    return "\n".join(lines)


def _kinds(counts: Counter[str]) -> str:
    return " (" + ", ".join(f"{kind}: {count}" for kind, count in sorted(counts.items())) + ")" if counts else ""


def run_stats(args: argparse.Namespace) -> int:
    from grace_core.data.stats import dataset_stats
    from grace_core.data.stats_report import format_stats, plot_stats

    stats = dataset_stats(args.dataset)
    print(format_stats(stats))
    try:
        if args.json is not None:
            args.json.write_text(json.dumps(stats.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            print(f"json: {args.json}")
        if args.plot is not None:
            print(f"plot: {plot_stats(stats, args.plot)}")
    except OSError as error:
        raise DatasetError(f"cannot write {error.filename or 'output'}: {error.strerror or error}") from None
    return 0
