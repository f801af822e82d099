"""``export_reviewed``: the reviewed frames of a review store → a YOLO dataset that ``grace train`` reads.

The rules are in ``docs/review-store.md`` ("Review: export and reports"): verdict ``defect`` → the image with its
boxes (not deleted; the model's and the reviewers', relabels applied); ``false_alarm`` → the image with an empty
label file, a background image that teaches the model not to fire there; ``unsure`` and unreviewed frames are left
out and counted. The dataset is written beside ``out`` and renamed into place at the end, like an import.
"""

from __future__ import annotations

import random
import shutil
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from grace_core.data.boxes import check_box
from grace_core.data.images import verify_image
from grace_core.data.records import Box, ImageRecord, Issue, SkipFile
from grace_core.data.split import assign_splits, check_fractions
from grace_core.data.writer import check_output, copy_image, write_dataset
from grace_core.data.yolo import check_names
from grace_core.errors import DatasetError, StoreError
from grace_core.progress import ProgressCounter
from grace_core.review.merge import MergedDataset, MergedImage, read_merged
from grace_core.store.query import FrameFilter
from grace_core.store.records import DetectionRecord, FrameRecord
from grace_core.store.review_store import ReviewStore

ProgressCallback = Callable[[int, int], None]

EXPORTED_VERDICTS: tuple[str, ...] = ("defect", "false_alarm")
REPORT_NAME = "export_report.json"
NAME_PREFIX = "review_"  # output images are review_<frame uid>.<ext>: unique, and traceable to the store


@dataclass
class ExportReport:
    """What :func:`export_reviewed` wrote. Counts of review frames; ``merged_images`` come from ``merge_with``."""

    output: str
    data_yaml: str
    class_names: list[str]
    seed: int
    val_fraction: float
    class_source: str = ""  # where the class list came from, in words
    merged_from: str | None = None
    exported: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EXPORTED_VERDICTS, 0))
    skipped: dict[str, int] = field(default_factory=dict)  # unsure, unreviewed, defect_without_boxes, …
    boxes_per_class: dict[str, int] = field(default_factory=dict)  # boxes of the review frames
    images_per_split: dict[str, int] = field(default_factory=dict)  # review frames per split
    merged_images: dict[str, int] = field(default_factory=dict)  # images of the merged dataset per split
    replaced: int = 0  # merged images that were earlier exports of a frame: its current review replaces them
    issues: list[Issue] = field(default_factory=list)

    @property
    def frames_exported(self) -> int:
        return sum(self.exported.values())

    def to_dict(self) -> dict[str, object]:
        return {
            "output": self.output,
            "data_yaml": self.data_yaml,
            "class_names": self.class_names,
            "class_source": self.class_source,
            "seed": self.seed,
            "val_fraction": self.val_fraction,
            "merged_from": self.merged_from,
            "frames_exported": self.frames_exported,
            "exported": self.exported,
            "skipped": self.skipped,
            "boxes_per_class": self.boxes_per_class,
            "images_per_split": self.images_per_split,
            "merged_images": self.merged_images,
            "replaced": self.replaced,
            "issues": [issue.to_dict() for issue in self.issues],
        }


def export_reviewed(
    store: ReviewStore,
    out: str | Path,
    class_names: Sequence[str] | None = None,
    where: FrameFilter | None = None,
    merge_with: str | Path | None = None,
    val_fraction: float = 0.2,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    narrow_classes: bool = False,
) -> ExportReport:
    """Export the reviewed frames matching ``where`` to a new YOLO dataset at ``out`` (missing or empty).

    The class list is, by default, the full class list of the model that flagged the newest exported frame (the
    live model, in its order, classes without reviewed boxes included: a model trained on the export must still
    see every class), plus any other class an exported box carries. ``narrow_classes`` keeps only the classes of
    the exported boxes (by class id, then name); ``class_names`` fixes the list; ``merge_with`` (a data.yaml) adds
    that dataset's images and fixes the class list to its own. Boxes are matched to the class list by name. A
    seeded, stratified share ``val_fraction`` of the review frames goes to val.
    ``progress(done, total)`` is called as frames are checked and files written. User errors raise DatasetError,
    and then nothing is left at ``out``; a damaged or unreadable store raises StoreError.
    """
    out = Path(out)
    fractions = _fractions(val_fraction)
    check_output(out)
    merged = read_merged(merge_with) if merge_with is not None else None
    names = _given_names(class_names, merged)
    origin = f"the classes of {merged.data_yaml}" if merged is not None else "the class list (--classes)"
    with store.errors(), store.select(where).snapshot() as selection:
        verdicts = selection.verdict_counts()
        frames = selection.frames(EXPORTED_VERDICTS)
        boxes = selection.boxes(("defect",))
        if names is None:
            names, origin = _default_names(store, frames, boxes, narrow_classes)
    if not names and frames:
        raise DatasetError("the frames to export have no boxes, so there is no class list: give the class names")
    _check_classes(frames, boxes, names, origin)
    report = ExportReport(str(out.resolve()), str(out.resolve() / "data.yaml"), list(names), seed, float(val_fraction))
    report.class_source = origin
    report.merged_from = str(merged.data_yaml.resolve()) if merged is not None else None
    report.skipped = {"unsure": verdicts["unsure"], "unreviewed": verdicts["unreviewed"]}

    merged_images = merged.images if merged is not None else []
    tick = ProgressCounter(2 * len(frames) + len(merged_images), progress).tick
    records = _records(store, frames, boxes, names, report, tick)
    if not records:
        raise DatasetError(_nothing_message(report))
    tick(len(frames) - len(records))  # frames left out: nothing to write
    kept, report.replaced = _place(records, merged_images, report.issues)
    tick(report.replaced)  # merged images replaced by their current review: not written
    _assign(records, kept, fractions, seed)
    splits = _splits(records, kept)
    report.images_per_split = {split: sum(r.split == split for r in records) for split in splits}
    report.merged_images = {split: sum(m.split == split for m in kept) for split in splits}
    _write(out, records, kept, names, splits, report, tick)
    return report


def _fractions(val_fraction: float) -> tuple[float, ...]:
    if not 0 < val_fraction < 1:
        raise DatasetError(f"bad validation share {val_fraction:g}: give a number between 0 and 1, e.g. 0.2")
    return check_fractions((1.0 - val_fraction, val_fraction))


def _given_names(class_names: Sequence[str] | None, merged: MergedDataset | None) -> list[str] | None:
    if class_names is not None:
        names = check_names(class_names, "--classes")
        if merged is not None and names != merged.class_names:
            raise DatasetError(
                f"--classes {','.join(names)} differs from the classes of {merged.data_yaml} "
                f"({','.join(merged.class_names)}); leave --classes out to use the merged dataset's"
            )
        return names
    return list(merged.class_names) if merged is not None else None


def _default_names(
    store: ReviewStore, frames: list[FrameRecord], boxes: dict[int, list[DetectionRecord]], narrow: bool
) -> tuple[list[str], str]:
    """The class list when none is given, and where it came from in words (see :func:`export_reviewed`)."""
    box_names = _names_of(boxes)
    if narrow or not frames:
        return box_names, "the classes of the reviewed boxes"
    model_id = max(frames, key=lambda frame: (frame.captured_at, frame.id)).model_id
    model_names = store.model_classes(model_id)
    origin = f"the classes of {model_id}, which flagged the newest exported frame"
    if model_names is None:  # frames saved by an older version: the model's classes its boxes show
        model_names = store.classes_seen(model_id)
        origin = f"the classes of {model_id} seen in the store (its class list was not recorded)"
    extra = [name for name in box_names if name not in model_names]
    if extra:
        origin += f", and {', '.join(extra)} from boxes of other models or reviewers"
    return [*model_names, *extra], origin


def _names_of(boxes: dict[int, list[DetectionRecord]]) -> list[str]:
    """Class names of the exported boxes, ordered by (lowest) class id, then name."""
    lowest: dict[str, int] = {}
    for record in (box for frame_boxes in boxes.values() for box in frame_boxes):
        lowest[record.class_name] = min(record.class_id, lowest.get(record.class_name, record.class_id))
    return sorted(lowest, key=lambda name: (lowest[name], name))


def _check_classes(
    frames: list[FrameRecord], boxes: dict[int, list[DetectionRecord]], names: Sequence[str], origin: str
) -> None:
    """Every exported box's class must be in the class list; checked before any image is read or written."""
    known = set(names)
    for frame in frames:
        if frame.verdict != "defect":
            continue
        unknown = sorted({box.class_name for box in boxes.get(frame.id, []) if box.class_name not in known})
        if unknown:
            raise DatasetError(
                f"frame {frame.id} (review_{frame.uid}, {frame.source_id}) has a box of class {unknown[0]!r}, "
                f"which is not in {origin} ({', '.join(names)}). Relabel or delete the box in the review tab, "
                "or export without that class list. Nothing was written."
            )


def _records(
    store: ReviewStore,
    frames: list[FrameRecord],
    boxes: dict[int, list[DetectionRecord]],
    names: Sequence[str],
    report: ExportReport,
    tick: Callable[[], None],
) -> list[ImageRecord]:
    """One ImageRecord per exportable frame (image checked, boxes clipped); the others are counted as skipped."""
    index = {name: class_id for class_id, name in enumerate(names)}
    records: list[ImageRecord] = []
    per_class: Counter[str] = Counter()
    for frame in frames:
        tick()
        try:
            image = store.image_file(frame)
        except StoreError as error:  # a tampered row: never copy a file from outside the store into a dataset
            _skip(report, "outside_store", f"frame {frame.id}: {error}; frame skipped")
            continue
        try:
            width, height = verify_image(image)
        except SkipFile as skip:
            _skip(report, skip.issue.kind, f"frame {frame.id}: {skip.issue.message}; frame skipped")
            continue
        kept: list[Box] = []
        for box in boxes.get(frame.id, []) if frame.verdict == "defect" else []:
            where = f"frame {frame.id} (review_{frame.uid}) box {box.id} {box.class_name!r}"
            checked, issue = check_box(Box(index[box.class_name], *box.xyxy), width, height, where)
            if issue is not None:
                report.issues.append(issue)
            if checked is not None:
                kept.append(checked)
        if frame.verdict == "defect" and not kept:
            message = f"frame {frame.id} (review_{frame.uid}): verdict 'defect' but no usable box; frame skipped"
            _skip(report, "defect_without_boxes", message)  # as a background image it would teach the opposite
            continue
        records.append(ImageRecord(image, f"{NAME_PREFIX}{frame.uid}{image.suffix.lower()}", width, height, kept))
        report.exported[str(frame.verdict)] += 1
        per_class.update(names[box.class_id] for box in kept)
    report.boxes_per_class = {name: per_class[name] for name in names}
    return records


def _skip(report: ExportReport, kind: str, message: str) -> None:
    report.skipped[kind] = report.skipped.get(kind, 0) + 1
    report.issues.append(Issue(kind, message, skipped=True))


def _place(records: list[ImageRecord], merged: list[MergedImage], issues: list[Issue]) -> tuple[list[MergedImage], int]:
    """Unique output names. A merged image named like a review frame is an earlier export of it: the current review
    replaces it and keeps its split (so a frame never moves between train and val). Returns the merged images
    kept and how many were replaced."""
    reviewed = {record.stem.casefold(): record for record in records}
    taken = set(reviewed)
    kept: list[MergedImage] = []
    replaced = 0
    for image in sorted(merged, key=lambda item: (item.split, item.image.as_posix())):
        stem = image.stem.casefold()
        if stem in reviewed:
            reviewed[stem].split = image.split
            replaced += 1
            continue
        name, number = image.name, 1
        while Path(name).stem.casefold() in taken:
            number += 1
            name = f"{image.image.stem}-{number}{image.image.suffix}"
        if name != image.name:
            issues.append(Issue("renamed", f"{image.image}: name already used; written as {name}"))
            image = replace(image, name=name)
        taken.add(Path(name).stem.casefold())
        kept.append(image)
    return kept, replaced


def _assign(records: list[ImageRecord], merged: list[MergedImage], fractions: tuple[float, ...], seed: int) -> None:
    """Seeded stratified split of the review frames not yet placed. The splitter may leave val empty for a handful
    of frames; then one train frame moves to val (chosen with the seed, one whose classes stay in train if any)."""
    new = [record for record in records if record.split is None]
    if not new:
        return
    assign_splits(new, fractions, seed)
    if any(item.split == "val" for item in [*records, *merged]) or len(new) < 2:
        return
    train = sorted((record for record in new if record.split == "train"), key=lambda record: record.name)
    in_train = Counter(class_id for record in train for class_id in record.class_ids)
    spare = [record for record in train if all(in_train[class_id] > 1 for class_id in record.class_ids)]
    random.Random(seed).choice(spare or train).split = "val"


def _splits(records: list[ImageRecord], merged: list[MergedImage]) -> tuple[str, ...]:
    present = {record.split for record in records} | {image.split for image in merged}
    empty = [split for split in ("train", "val") if split not in present]
    if empty:
        raise DatasetError(
            f"only {len(records)} frames to export: {' and '.join(empty)} would be empty. Review more frames, "
            "or merge with an existing dataset (--merge-with)"
        )
    return ("train", "val", "test") if "test" in present else ("train", "val")


def _nothing_message(report: ExportReport) -> str:
    left_out = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in report.skipped.items() if count)
    return (
        "nothing to export: no frame is reviewed as 'defect' (with a box) or 'false_alarm'"
        + (f" ({left_out})" if left_out else " (the store has no matching frames)")
        + "; review some frames first"
    )


def _write(
    out: Path,
    records: list[ImageRecord],
    merged: list[MergedImage],
    names: Sequence[str],
    splits: Sequence[str],
    report: ExportReport,
    tick: Callable[[], None],
) -> None:
    """The dataset writer's all-or-nothing write, with the merged dataset's images added to the staged folder."""

    def add_merged(partial: Path) -> None:
        for image in merged:
            copy_image(image.image, partial / "images" / image.split / image.name)
            label = partial / "labels" / image.split / f"{image.stem}.txt"
            if image.label is not None:
                shutil.copyfile(image.label, label)
            else:
                label.touch()
            tick()

    write_dataset(out, records, names, splits, report, tick, report_name=REPORT_NAME, extra=add_merged)
