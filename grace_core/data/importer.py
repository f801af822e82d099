"""``import_dataset``: read a source dataset, check every file and box, split it and write a YOLO dataset."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grace_core.data.boxes import check_box
from grace_core.data.images import verify_image
from grace_core.data.importers import Discovery, SourceItem, get_format
from grace_core.data.records import SPLIT_NAMES, Box, ImageRecord, Issue, SkipFile
from grace_core.data.report import ImportReport, SplitSummary
from grace_core.data.split import DEFAULT_SPLIT, assign_splits, check_fractions, split_names
from grace_core.data.voc import VocAnnotation, parse_voc
from grace_core.data.writer import check_output, write_dataset
from grace_core.data.yolo import parse_label_file
from grace_core.errors import DatasetError
from grace_core.progress import ProgressCallback, ProgressCounter


@dataclass(frozen=True)
class _Object:
    """An annotated box before it is checked against its image."""

    where: str  # "a.xml: object #2 'pit'" or "a.txt:3"
    class_id: int
    coords: tuple[float, float, float, float]  # VOC: xmin ymin xmax ymax pixels; YOLO: cx cy w h normalised
    normalised: bool
    difficult: bool = False

    def box(self, width: int, height: int) -> Box:
        a, b, c, d = self.coords
        if not self.normalised:
            return Box(self.class_id, a, b, c, d)
        return Box(self.class_id, (a - c / 2) * width, (b - d / 2) * height, (a + c / 2) * width, (b + d / 2) * height)

    def shown(self) -> str | None:
        return "cx={:g}, cy={:g}, w={:g}, h={:g}".format(*self.coords) if self.normalised else None


@dataclass(frozen=True)
class _Parsed:
    """One readable annotation file with its image, before the image is checked."""

    item: SourceItem
    objects: list[_Object]
    declared_size: tuple[int, int] | None = None  # VOC <size> (width, height)


def import_dataset(
    fmt: str,
    src: str | Path,
    out: str | Path,
    split: Sequence[float] = DEFAULT_SPLIT,
    seed: int = 0,
    classes: Sequence[str] | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import ``src`` (format ``fmt``) into a new YOLO dataset at ``out``; see docs/datasets.md for the rules.

    ``progress(done, total)`` is called as files are checked and written. User errors raise DatasetError, and
    then nothing is left at ``out``.
    """
    dataset_format = get_format(fmt)
    fractions = check_fractions(split)
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise DatasetError(f"source folder not found: {src}" if not src.exists() else f"source {src} is not a folder")
    check_output(out, src)
    if classes is not None and not dataset_format.takes_classes:
        raise DatasetError(f"--classes does not apply to {fmt}: its class list is fixed; use 'voc' with --classes")
    discovery = dataset_format.discover(src, classes)
    issues = list(discovery.issues)
    tick = ProgressCounter(2 * len(discovery.items), progress).tick
    class_names, parsed = _read_annotations(fmt, discovery, issues)
    records: list[ImageRecord] = []
    difficult = 0
    for entry in parsed:
        try:
            record, kept_difficult = _check_item(entry, issues)
            records.append(record)
            difficult += kept_difficult
        except SkipFile as skip:
            issues.append(skip.issue)
        tick()
    tick(len(discovery.items) - len(parsed))  # unparsable files: nothing to check
    if not records:
        raise DatasetError(_empty_message(src, len(discovery.items), issues))
    tick(len(discovery.items) - len(records))  # skipped files: nothing to write
    issues.extend(_assign_names(records, src))
    splits = _split(records, discovery.split_from_source, fractions, seed)
    records.sort(key=lambda record: (SPLIT_NAMES.index(record.split or "train"), record.name))
    report = ImportReport(
        format=fmt,
        source=str(src.resolve()),
        output=str(out.resolve()),
        seed=seed,
        split=fractions,
        split_from_source=discovery.split_from_source,
        class_names=class_names,
        annotation_files=len(discovery.items),
        splits=_summaries(records, splits, class_names),
        issues=issues,
        difficult_boxes=difficult,
    )
    write_dataset(out, records, class_names, splits, report, tick)
    return report


def _read_annotations(fmt: str, discovery: Discovery, issues: list[Issue]) -> tuple[list[str], list[_Parsed]]:
    """Parse every annotation file (skipping malformed ones); an unknown class stops the import."""
    if discovery.annotation == "yolo":
        assert discovery.class_names is not None
        return discovery.class_names, [
            _Parsed(item, objects)
            for item in discovery.items
            if (objects := _yolo_objects(item, discovery.class_names, issues)) is not None
        ]
    annotations: list[tuple[SourceItem, VocAnnotation]] = []
    for item in discovery.items:
        assert item.annotation is not None
        try:
            annotations.append((item, parse_voc(item.annotation)))
        except SkipFile as skip:
            issues.append(skip.issue)
    names = discovery.class_names
    if names is None:
        names = sorted({obj.name for _, annotation in annotations for obj in annotation.objects})
        if not names and annotations:
            raise DatasetError("no <object> with a <name> in any XML file: pass --classes to import background images")
    lookup = discovery.aliases or {name: index for index, name in enumerate(names)}
    parsed = []
    for item, annotation in annotations:
        objects = []
        for obj in annotation.objects:
            key = obj.name.casefold() if discovery.aliases else obj.name
            if key not in lookup:
                raise DatasetError(_unknown_class(fmt, annotation.path, obj.index, obj.name, names, discovery))
            where = f"{annotation.path}: object #{obj.index} '{obj.name}'"
            coords = (obj.xmin, obj.ymin, obj.xmax, obj.ymax)
            objects.append(_Object(where, lookup[key], coords, normalised=False, difficult=obj.difficult))
        parsed.append(_Parsed(item, objects, annotation.size))
    return names, parsed


def _unknown_class(fmt: str, path: Path, index: int, name: str, names: Sequence[str], discovery: Discovery) -> str:
    known = ", ".join(names)
    if discovery.aliases:
        return (
            f"{path}: object #{index}: unknown class name {name!r}; {fmt} has the classes {known}. "
            "Fix the name in the file, or import with the format 'voc' (its classes are the names found, "
            "or the ones given with --classes)."
        )
    return f"{path}: object #{index}: class name {name!r} is not in --classes ({known}); add it or fix the file."


def _yolo_objects(item: SourceItem, names: Sequence[str], issues: list[Issue]) -> list[_Object] | None:
    if item.annotation is None:
        return []
    try:
        lines = parse_label_file(item.annotation)
    except SkipFile as skip:
        issues.append(skip.issue)
        return None
    for line in lines:
        if not 0 <= line.class_id < len(names):
            raise DatasetError(
                f"{item.annotation}:{line.line}: class id {line.class_id} is out of range: the class list has "
                f"{len(names)} names (0..{len(names) - 1}: {', '.join(names)}). Fix the label file, or give the "
                "full class list in data.yaml / classes.txt / --classes."
            )
    return [
        _Object(f"{item.annotation}:{line.line}", line.class_id, (line.cx, line.cy, line.w, line.h), normalised=True)
        for line in lines
    ]


def _check_item(entry: _Parsed, issues: list[Issue]) -> tuple[ImageRecord, int]:
    """Check the image and every box; raise SkipFile when the image must be left out."""
    item = entry.item
    if item.image is None:
        raise SkipFile("missing_image", f"{item.annotation}: {item.missing}; file skipped")
    width, height = verify_image(item.image)
    declared = entry.declared_size
    if declared is not None and all(declared) and declared != (width, height):
        message = (
            f"{item.annotation}: <size> says {declared[0]}x{declared[1]} but {item.image} is {width}x{height}; "
            "boxes are checked against the real image size"
        )
        issues.append(Issue("size_mismatch", message))
    boxes: list[Box] = []
    difficult = 0
    for obj in entry.objects:
        box, issue = check_box(obj.box(width, height), width, height, obj.where, obj.shown())
        if issue is not None:
            issues.append(issue)
        if box is not None:
            boxes.append(box)
            difficult += obj.difficult
    if entry.objects and not boxes:
        message = (
            f"{item.annotation}: none of its {len(entry.objects)} boxes is usable; image skipped "
            "(it would otherwise become a false background image)"
        )
        raise SkipFile("no_valid_boxes", message)
    record = ImageRecord(item.image, item.image.name, width, height, boxes, item.split)
    return record, difficult


def _assign_names(records: list[ImageRecord], src: Path) -> list[Issue]:
    """Make output names unique (case-insensitive stems): later sources by path get ``-2``, ``-3``... suffixes."""
    issues = []
    taken: dict[str, ImageRecord] = {}
    records.sort(key=lambda record: record.source.relative_to(src).as_posix())
    for record in records:
        stem, suffix = Path(record.name).stem, Path(record.name).suffix
        name, number = record.name, 1
        while Path(name).stem.casefold() in taken:
            number += 1
            name = f"{stem}-{number}{suffix}"
        if name != record.name:
            first = taken[stem.casefold()].source
            issues.append(Issue("renamed", f"{record.source}: name already used by {first}; written as {name}"))
            record.name = name
        taken[Path(name).stem.casefold()] = record
    return issues


def _split(records: list[ImageRecord], from_source: bool, fractions: tuple[float, ...], seed: int) -> tuple[str, ...]:
    if from_source:
        splits = tuple(name for name in SPLIT_NAMES if any(record.split == name for record in records))
    else:
        assign_splits(records, fractions, seed)
        splits = split_names(fractions)
    counts = Counter(record.split for record in records)
    empty = [name for name in splits if counts[name] == 0]
    if empty:
        raise DatasetError(
            f"split {','.join(f'{f:g}' for f in fractions)} leaves {', '.join(empty)} empty: only {len(records)} "
            "usable images; add images or use fewer splits"
        )
    return splits


def _summaries(records: list[ImageRecord], splits: Sequence[str], names: Sequence[str]) -> dict[str, SplitSummary]:
    summaries = {split: SplitSummary() for split in splits}
    for split, summary in summaries.items():
        members = [record for record in records if record.split == split]
        boxes = Counter(box.class_id for record in members for box in record.boxes)
        images = Counter(class_id for record in members for class_id in record.class_ids)
        summary.images = sorted(record.name for record in members)
        summary.background_images = sum(1 for record in members if not record.boxes)
        summary.boxes_per_class = {name: boxes[index] for index, name in enumerate(names)}
        summary.images_per_class = {name: images[index] for index, name in enumerate(names)}
    return summaries


def _empty_message(src: Path, n_files: int, issues: list[Issue]) -> str:
    skipped = [issue for issue in issues if issue.skipped]
    counts = Counter(issue.kind for issue in skipped)
    detail = ", ".join(f"{kind}: {count}" for kind, count in sorted(counts.items()))
    first = f"; first problem: {skipped[0].message}" if skipped else ""
    return f"{src}: no usable image: all {n_files} annotation files were skipped ({detail}){first}. Nothing written."
