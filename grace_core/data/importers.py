"""Source formats: how each one lays out images and annotations, and its class list.

Each format's ``discover`` pairs annotation files with images (by file stem) and reports images left without an
annotation; reading and checking the files is the importer's job.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from grace_core.data.records import Issue
from grace_core.data.sources import child_dir, find_files, find_images, index_by_folder, index_by_stem
from grace_core.data.yolo import DATA_YAML_NAMES, check_names, label_path_for, names_from_txt, names_from_yaml
from grace_core.errors import DatasetError

NEU_DET_CLASSES: tuple[str, ...] = (
    "crazing",
    "inclusion",
    "patches",
    "pitted_surface",
    "rolled-in_scale",
    "scratches",
)
GC10_DET_CLASSES: tuple[str, ...] = (
    "punching_hole",
    "welding_line",
    "crescent_gap",
    "water_spot",
    "oil_spot",
    "silk_spot",
    "inclusion",
    "rolled_pit",
    "crease",
    "waist_folding",
)
GC10_DET_XML_NAMES: tuple[str, ...] = (
    "1_chongkong",
    "2_hanfeng",
    "3_yueyawan",
    "4_shuiban",
    "5_youban",
    "6_siban",
    "7_yiwu",
    "8_yahen",
    "9_zhehen",
    "10_yaozhe",
)
_VOC_IMAGE_FOLDERS = ("jpegimages", "images")
_VOC_MASK_FOLDERS = ("segmentationclass", "segmentationobject", "segmentationclassaug")
_SPLIT_ALIASES = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}


@dataclass(frozen=True)
class SourceItem:
    """One annotation file and its image (None when missing: ``missing`` then says what was looked for)."""

    annotation: Path | None
    image: Path | None
    split: str | None = None
    missing: str = ""


@dataclass
class Discovery:
    annotation: Literal["voc", "yolo"]
    items: list[SourceItem]
    class_names: list[str] | None  # None: take the sorted names found in the files (voc without --classes)
    aliases: dict[str, int] = field(default_factory=dict)  # case-folded accepted name -> class id (fixed lists)
    issues: list[Issue] = field(default_factory=list)
    split_from_source: bool = False


@dataclass(frozen=True)
class DatasetFormat:
    name: str
    summary: str
    discover: Callable[[Path, Sequence[str] | None], Discovery]
    takes_classes: bool


def _fixed_aliases(*name_lists: Sequence[str]) -> dict[str, int]:
    return {name.casefold(): index for names in name_lists for index, name in enumerate(names)}


def _children(folder: Path) -> str:
    names = sorted(child.name + ("/" if child.is_dir() else "") for child in folder.iterdir())
    return ", ".join(names[:12]) + (", ..." if len(names) > 12 else "") if names else "nothing"


def _pair(annotations: list[Path], images: list[Path], lookup: Callable[[Path], tuple[list[Path], str]]) -> Discovery:
    """Pair each annotation with the image ``lookup`` finds; leftover images are counted as unannotated."""
    items: list[SourceItem] = []
    issues: list[Issue] = []
    used: set[Path] = set()
    for annotation in annotations:
        candidates, looked = lookup(annotation)
        if not candidates:
            items.append(SourceItem(annotation, None, missing=looked))
            continue
        if len(candidates) > 1:
            others = ", ".join(str(path) for path in candidates[1:])
            message = f"{annotation}: several images named {annotation.stem}.*; using {candidates[0]} (not {others})"
            issues.append(Issue("ambiguous_image", message))
        used.update(candidates)
        items.append(SourceItem(annotation, candidates[0]))
    for image in images:
        if image not in used:
            issues.append(Issue("no_annotation", f"{image}: no annotation file with this stem; image left out", True))
    return Discovery("voc", items, None, issues=issues)


def _discover_neu_det(src: Path, classes: Sequence[str] | None) -> Discovery:
    annotations_dir, images_dir = child_dir(src, "ANNOTATIONS"), child_dir(src, "IMAGES")
    if annotations_dir is None or images_dir is None:
        raise DatasetError(
            f"{src}: not a NEU-DET folder: expected sub-folders IMAGES/ and ANNOTATIONS/, found {_children(src)}. "
            "For another Pascal VOC layout use the format 'voc'."
        )
    images = find_images(images_dir)
    index = index_by_stem(images)

    def lookup(xml: Path) -> tuple[list[Path], str]:
        return index.get(xml.stem.casefold(), []), f"no image named {xml.stem}.* under {images_dir}"

    discovery = _pair(find_files(annotations_dir, ".xml"), images, lookup)
    if not discovery.items:
        raise DatasetError(f"{annotations_dir}: no .xml annotation files found; nothing to import")
    discovery.class_names, discovery.aliases = list(NEU_DET_CLASSES), _fixed_aliases(NEU_DET_CLASSES)
    return discovery


def _discover_gc10_det(src: Path, classes: Sequence[str] | None) -> Discovery:
    annotations_dir = child_dir(src, "lable", "label", "labels", "Annotations")
    if annotations_dir is None:
        raise DatasetError(
            f"{src}: not a GC10-DET folder: expected the XML files in a sub-folder named lable/ (as shipped), "
            f"label/ or Annotations/ and the images in sub-folders 1/ ... 10/; found {_children(src)}."
        )
    images = find_images(src, exclude=[annotations_dir])
    index = index_by_stem(images)

    def lookup(xml: Path) -> tuple[list[Path], str]:
        return index.get(xml.stem.casefold(), []), f"no image named {xml.stem}.* anywhere under {src}"

    discovery = _pair(find_files(annotations_dir, ".xml"), images, lookup)
    if not discovery.items:
        raise DatasetError(f"{annotations_dir}: no .xml annotation files found; nothing to import")
    discovery.class_names = list(GC10_DET_CLASSES)
    discovery.aliases = _fixed_aliases(GC10_DET_CLASSES, GC10_DET_XML_NAMES)
    return discovery


def _discover_voc(src: Path, classes: Sequence[str] | None) -> Discovery:
    """XML files anywhere under SRC; each one's image has its stem and lies in the XML's folder, else in a sibling
    folder named JPEGImages/ or images/, else in any other sibling folder (VOC mask folders are not searched)."""
    images = [image for image in find_images(src) if image.parent.name.casefold() not in _VOC_MASK_FOLDERS]
    by_folder = index_by_folder(images)
    siblings: dict[Path, list[Path]] = {}
    for folder in sorted(by_folder):
        siblings.setdefault(folder.parent, []).append(folder)

    def lookup(xml: Path) -> tuple[list[Path], str]:
        stem, folder = xml.stem.casefold(), xml.parent
        found = by_folder.get(folder, {}).get(stem, [])
        if not found and folder != src:
            others = [sibling for sibling in siblings.get(folder.parent, []) if sibling != folder]
            preferred = [sibling for sibling in others if sibling.name.casefold() in _VOC_IMAGE_FOLDERS]
            for group in (preferred, [sibling for sibling in others if sibling not in preferred]):
                found = [image for sibling in group for image in by_folder[sibling].get(stem, [])]
                if found:
                    break
        return found, f"no image named {xml.stem}.* in {folder} or in a sibling folder of it"

    discovery = _pair(find_files(src, ".xml"), images, lookup)
    if not discovery.items:
        raise DatasetError(f"{src}: no .xml annotation files found; for YOLO .txt labels use the format 'yolo'")
    if classes is not None:
        discovery.class_names = check_names(classes, "--classes")
    return discovery


def _yolo_layout(src: Path) -> tuple[list[tuple[Path, str | None]], list[Path]]:
    """(image, split) pairs and the label folders, for images/<split>/..., <split>/images/... or images/ unsplit.

    Folder names are matched exactly, as Ultralytics maps ``images`` to ``labels`` in the path.
    """
    if (src / "images").is_dir():
        pairs = []
        for image in find_images(src / "images"):
            parts = image.relative_to(src / "images").parts
            pairs.append((image, _SPLIT_ALIASES.get(parts[0].casefold()) if len(parts) > 1 else None))
        return pairs, [src / "labels"]
    pairs, label_dirs = [], []
    for folder in sorted(src.iterdir()):
        split = _SPLIT_ALIASES.get(folder.name.casefold())
        if split and (folder / "images").is_dir():
            pairs.extend((image, split) for image in find_images(folder / "images"))
            label_dirs.append(folder / "labels")
    if not label_dirs:
        raise DatasetError(
            f"{src}: not a YOLO dataset: expected images/ (with train/, val/[, test/] inside, or the images "
            f"directly) and labels/ beside it, or train/images/ + train/labels/ ...; found {_children(src)}."
        )
    return pairs, label_dirs


def _yolo_names(src: Path, classes: Sequence[str] | None) -> list[str]:
    if classes is not None:
        return check_names(classes, "--classes")
    for name in DATA_YAML_NAMES:
        if (src / name).is_file():
            return names_from_yaml(src / name)
    for candidate in (src / "classes.txt", src / "labels" / "classes.txt"):
        if candidate.is_file():
            return names_from_txt(candidate)
    raise DatasetError(
        f"{src}: no class names: add a data.yaml with 'names' or a classes.txt (one name a line), or pass --classes"
    )


def _discover_yolo(src: Path, classes: Sequence[str] | None) -> Discovery:
    names = _yolo_names(src, classes)
    pairs, label_dirs = _yolo_layout(src)
    issues: list[Issue] = []
    splits = {split for _, split in pairs}
    keep_split = {"train", "val"} <= splits and None not in splits
    if splits and splits != {None} and not keep_split:
        found = sorted(split or "(no split folder)" for split in splits)
        issues.append(Issue("split_ignored", f"{src}: source splits {found} are incomplete; images split anew"))
    items = []
    for image, split in pairs:
        label = label_path_for(image)
        items.append(SourceItem(label if label.is_file() else None, image, split if keep_split else None))
        if not label.is_file():
            issues.append(Issue("no_label_file", f"{image}: no label file {label}; kept as a background image"))
    used = {label_path_for(image) for image, _ in pairs}
    for label_dir in label_dirs:
        for label in find_files(label_dir, ".txt") if label_dir.is_dir() else []:
            if label not in used and label.name != "classes.txt":
                issues.append(Issue("orphan_label", f"{label}: label file without an image; ignored", True))
    if not items:
        raise DatasetError(f"{src}: no images found in its YOLO image folders; nothing to import")
    return Discovery("yolo", items, names, issues=issues, split_from_source=keep_split)


FORMATS: dict[str, DatasetFormat] = {
    fmt.name: fmt
    for fmt in (
        DatasetFormat("neu-det", "NEU-DET: IMAGES/ + ANNOTATIONS/ (VOC), 6 classes", _discover_neu_det, False),
        DatasetFormat("gc10-det", "GC10-DET: images in 1/ ... 10/, XML in lable/", _discover_gc10_det, False),
        DatasetFormat("voc", "Pascal VOC: XML beside the images or in a sibling folder", _discover_voc, True),
        DatasetFormat("yolo", "YOLO: images/ + labels/, names from data.yaml or classes.txt", _discover_yolo, True),
    )
}


def get_format(name: str) -> DatasetFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise DatasetError(f"unknown dataset format {name!r}: choose one of {', '.join(FORMATS)}") from None
