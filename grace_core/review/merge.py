"""The existing YOLO dataset an export is merged with: its class list and its images with their label files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grace_core.data.records import SkipFile
from grace_core.data.stats import find_data_yaml, split_images
from grace_core.data.yolo import label_path_for, names_from_yaml, parse_label_file
from grace_core.errors import DatasetError


@dataclass
class MergedImage:
    """One image of the merged dataset; ``name`` is its name in the output (renamed only on a clash)."""

    image: Path
    label: Path | None  # None: no label file, a background image
    split: str
    name: str

    @property
    def stem(self) -> str:
        return Path(self.name).stem


@dataclass(frozen=True)
class MergedDataset:
    data_yaml: Path
    class_names: list[str]
    images: list[MergedImage]

    @property
    def splits(self) -> list[str]:
        return sorted({image.split for image in self.images})


def read_merged(path: str | Path) -> MergedDataset:
    """Read a data.yaml (or a folder holding one) and check every label file's lines and class ids.

    The labels are copied as they are, so they are checked here: a malformed line or a class id outside the class
    list stops the export with a DatasetError naming the file and line.
    """
    data_yaml = find_data_yaml(path)
    names = names_from_yaml(data_yaml)
    images: list[MergedImage] = []
    for split, paths in split_images(data_yaml).items():
        for image in paths:
            if not image.is_file():
                raise DatasetError(f"{data_yaml}: the {split} image {image} is listed but missing; fix the dataset")
            label = label_path_for(image)
            if label.is_file():
                _check_labels(label, names)
            images.append(MergedImage(image, label if label.is_file() else None, split, image.name))
    if not images:
        raise DatasetError(f"{data_yaml}: the dataset to merge with has no images")
    return MergedDataset(data_yaml, names, images)


def _check_labels(label: Path, names: list[str]) -> None:
    try:
        lines = parse_label_file(label)
    except SkipFile as skip:
        raise DatasetError(f"{skip.issue.message} (in the dataset to merge with)") from None
    for line in lines:
        if not 0 <= line.class_id < len(names):
            raise DatasetError(
                f"{label}:{line.line}: class id {line.class_id} is not in 0..{len(names) - 1} "
                "(in the dataset to merge with)"
            )
