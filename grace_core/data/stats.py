"""Statistics of a YOLO dataset (a data.yaml): images and boxes per class and split, imbalance, box sizes."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grace_core.data.images import image_size
from grace_core.data.records import SPLIT_NAMES, SkipFile
from grace_core.data.sources import find_images
from grace_core.data.yolo import DATA_YAML_NAMES, label_path_for, load_yaml, names_from_yaml, parse_label_file
from grace_core.errors import DatasetError

SMALL_AREA = 32 * 32  # COCO thresholds, in pixels of the original image
MEDIUM_AREA = 96 * 96
SIZE_BINS: tuple[str, ...] = ("small", "medium", "large")


@dataclass
class SplitStats:
    """Counts for one split (or for all splits together)."""

    name: str
    images: int = 0
    background_images: int = 0
    instances_per_class: list[int] = field(default_factory=list)
    images_per_class: list[int] = field(default_factory=list)
    boxes_per_image: list[int] = field(default_factory=list, repr=False)
    box_sides: list[float] = field(default_factory=list, repr=False)  # sqrt(box area) in pixels, for plots

    @property
    def instances(self) -> int:
        return sum(self.instances_per_class)

    @property
    def background_share(self) -> float:
        return self.background_images / self.images if self.images else 0.0

    @property
    def boxes_per_image_mean(self) -> float:
        return statistics.fmean(self.boxes_per_image) if self.boxes_per_image else 0.0

    @property
    def boxes_per_image_median(self) -> float:
        return float(statistics.median(self.boxes_per_image)) if self.boxes_per_image else 0.0

    @property
    def boxes_per_image_max(self) -> int:
        return max(self.boxes_per_image, default=0)

    @property
    def size_counts(self) -> dict[str, int]:
        areas = [side * side for side in self.box_sides]
        small = sum(1 for area in areas if area < SMALL_AREA)
        medium = sum(1 for area in areas if SMALL_AREA <= area < MEDIUM_AREA)
        return {"small": small, "medium": medium, "large": len(areas) - small - medium}

    @property
    def size_shares(self) -> dict[str, float]:
        counts = self.size_counts
        total = sum(counts.values())
        return {name: (count / total if total else 0.0) for name, count in counts.items()}

    def to_dict(self, names: Sequence[str]) -> dict[str, object]:
        return {
            "images": self.images,
            "instances": self.instances,
            "background_images": self.background_images,
            "background_share": self.background_share,
            "instances_per_class": dict(zip(names, self.instances_per_class, strict=True)),
            "images_per_class": dict(zip(names, self.images_per_class, strict=True)),
            "box_size_counts": self.size_counts,
            "box_size_shares": self.size_shares,
            "boxes_per_image": {
                "mean": self.boxes_per_image_mean,
                "median": self.boxes_per_image_median,
                "max": self.boxes_per_image_max,
            },
        }


@dataclass
class DatasetStats:
    data_yaml: Path
    class_names: list[str]
    splits: dict[str, SplitStats]
    total: SplitStats

    @property
    def imbalance_ratio(self) -> float | None:
        """Most / fewest instances over the classes with at least one instance (None without any box)."""
        present = [count for count in self.total.instances_per_class if count > 0]
        return max(present) / min(present) if present else None

    def to_dict(self) -> dict[str, object]:
        return {
            "data_yaml": str(self.data_yaml),
            "class_names": self.class_names,
            "imbalance_ratio": self.imbalance_ratio,
            "splits": {name: split.to_dict(self.class_names) for name, split in self.splits.items()},
            "total": self.total.to_dict(self.class_names),
        }


def find_data_yaml(dataset: str | Path) -> Path:
    """``dataset`` itself when it is a file, else the data.yaml inside the folder."""
    path = Path(dataset)
    if path.is_file():
        return path
    if path.is_dir():
        for name in DATA_YAML_NAMES:
            if (path / name).is_file():
                return path / name
        raise DatasetError(f"no data.yaml in {path}: give the data.yaml itself, or import the data first")
    raise DatasetError(f"dataset not found: {path}")


def split_images(data_yaml: Path) -> dict[str, list[Path]]:
    """Images of each split named in data.yaml (folders or .txt lists, relative to its ``path``)."""
    data = load_yaml(data_yaml)
    base = data_yaml.parent
    root = Path(str(data.get("path") or base))
    root = root if root.is_absolute() else base / root
    if not root.is_dir():  # the dataset was moved: its files are beside data.yaml
        root = base
    result: dict[str, list[Path]] = {}
    for split in SPLIT_NAMES:
        entries = data.get(split)
        if not entries:
            continue
        images: list[Path] = []
        for entry in [entries] if isinstance(entries, str) else list(entries):
            images.extend(_entry_images(data_yaml, split, root / str(entry)))
        result[split] = images
    if not result:
        raise DatasetError(f"{data_yaml}: no 'train'/'val'/'test' entries: nothing to count")
    return result


def _entry_images(data_yaml: Path, split: str, path: Path) -> list[Path]:
    if path.is_dir():
        return find_images(path)
    if path.is_file() and path.suffix == ".txt":
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [Path(line) if Path(line).is_absolute() else path.parent / line for line in lines]
    raise DatasetError(f"{data_yaml}: the '{split}' images {path} are not there; fix the data.yaml paths")


def dataset_stats(dataset: str | Path) -> DatasetStats:
    """Count a YOLO dataset given as a data.yaml or a folder holding one; image sizes come from file headers."""
    data_yaml = find_data_yaml(dataset)
    names = names_from_yaml(data_yaml)
    splits = {name: _split_stats(name, images, names) for name, images in split_images(data_yaml).items()}
    total = SplitStats("total", instances_per_class=[0] * len(names), images_per_class=[0] * len(names))
    for split in splits.values():
        total.images += split.images
        total.background_images += split.background_images
        for index in range(len(names)):
            total.instances_per_class[index] += split.instances_per_class[index]
            total.images_per_class[index] += split.images_per_class[index]
        total.boxes_per_image.extend(split.boxes_per_image)
        total.box_sides.extend(split.box_sides)
    return DatasetStats(data_yaml=data_yaml, class_names=names, splits=splits, total=total)


def _split_stats(name: str, images: list[Path], names: Sequence[str]) -> SplitStats:
    stats = SplitStats(name, instances_per_class=[0] * len(names), images_per_class=[0] * len(names))
    for image in images:
        label = label_path_for(image)
        try:
            lines = parse_label_file(label) if label.is_file() else []
        except SkipFile as skip:
            raise DatasetError(f"{skip.issue.message} (check it with: grace data import yolo ...)") from None
        if lines:
            try:
                width, height = image_size(image)
            except (OSError, ValueError) as error:
                raise DatasetError(f"{image}: cannot read the image size: {error}") from None
        stats.images += 1
        stats.boxes_per_image.append(len(lines))
        stats.background_images += not lines
        for line in lines:
            if not 0 <= line.class_id < len(names):
                raise DatasetError(f"{label}:{line.line}: class id {line.class_id} is not in 0..{len(names) - 1}")
            stats.instances_per_class[line.class_id] += 1
            stats.box_sides.append(max(line.w * width * line.h * height, 0.0) ** 0.5)
        for class_id in {line.class_id for line in lines}:
            stats.images_per_class[class_id] += 1
    return stats
