"""Finding files in a source folder: case-insensitive child folders and an index of images by stem."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from grace_core.data.records import IMAGE_SUFFIXES


def child_dir(parent: Path, *names: str) -> Path | None:
    """The first sub-folder of ``parent`` whose name matches one of ``names`` (case-insensitive), in that order."""
    if not parent.is_dir():
        return None
    children = {child.name.casefold(): child for child in sorted(parent.iterdir()) if child.is_dir()}
    for name in names:
        if name.casefold() in children:
            return children[name.casefold()]
    return None


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and path.is_file() and not path.name.startswith(".")


def find_images(root: Path, exclude: Iterable[Path] = ()) -> list[Path]:
    """Every image file under ``root`` (recursive, sorted), leaving out the folders in ``exclude`` (under root)."""
    excluded = list(exclude)
    return [
        path
        for path in sorted(root.rglob("*"))
        if is_image(path) and not any(path.is_relative_to(folder) for folder in excluded)
    ]


def find_files(root: Path, suffix: str) -> list[Path]:
    """Every file under ``root`` (recursive, sorted) whose suffix is ``suffix`` (case-insensitive)."""
    return [path for path in sorted(root.rglob("*")) if path.suffix.lower() == suffix and path.is_file()]


def index_by_stem(images: Iterable[Path]) -> dict[str, list[Path]]:
    """Images grouped by case-folded stem, each group sorted by path."""
    index: dict[str, list[Path]] = defaultdict(list)
    for image in sorted(images):
        index[image.stem.casefold()].append(image)
    return dict(index)


def index_by_folder(images: Iterable[Path]) -> dict[Path, dict[str, list[Path]]]:
    """Images grouped by folder, then by case-folded stem."""
    folders: dict[Path, list[Path]] = defaultdict(list)
    for image in images:
        folders[image.parent].append(image)
    return {folder: index_by_stem(files) for folder, files in folders.items()}
