"""Plain records shared by the dataset readers, the importer and the writer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

SPLIT_NAMES: tuple[str, ...] = ("train", "val", "test")
IMAGE_SUFFIXES: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixel coordinates (x1, y1) top-left, (x2, y2) bottom-right, of class ``class_id``."""

    class_id: int
    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1


@dataclass(frozen=True)
class Issue:
    """One counted problem found while reading a source dataset.

    ``kind`` groups messages for the summary; ``skipped`` is true when the whole image was left out.
    """

    kind: str
    message: str
    skipped: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "message": self.message, "skipped": self.skipped}


class SkipFile(Exception):
    """Internal signal: leave one image out of the import and record ``issue`` (never reaches the user)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.issue = Issue(kind, message, skipped=True)


@dataclass
class ImageRecord:
    """One image accepted for the output dataset, with its validated boxes."""

    source: Path
    name: str  # output file name, unique in the dataset (stem used for the label file)
    width: int
    height: int
    boxes: list[Box] = field(default_factory=list)
    split: str | None = None  # split given by the source (yolo), or assigned by the splitter

    @property
    def stem(self) -> str:
        return Path(self.name).stem

    @property
    def class_ids(self) -> set[int]:
        return {box.class_id for box in self.boxes}
