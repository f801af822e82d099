"""The result of an import: what was written where, counts per split and class, and every counted problem."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from grace_core.data.records import Issue


@dataclass
class SplitSummary:
    images: list[str] = field(default_factory=list)  # output file names, sorted
    background_images: int = 0
    boxes_per_class: dict[str, int] = field(default_factory=dict)
    images_per_class: dict[str, int] = field(default_factory=dict)

    @property
    def n_boxes(self) -> int:
        return sum(self.boxes_per_class.values())

    def to_dict(self) -> dict[str, object]:
        return {
            "n_images": len(self.images),
            "n_boxes": self.n_boxes,
            "background_images": self.background_images,
            "boxes_per_class": self.boxes_per_class,
            "images_per_class": self.images_per_class,
            "images": self.images,
        }


@dataclass
class ImportReport:
    format: str
    source: str
    output: str
    seed: int
    split: tuple[float, ...]
    split_from_source: bool
    class_names: list[str]
    annotation_files: int
    splits: dict[str, SplitSummary]
    issues: list[Issue]
    difficult_boxes: int = 0

    @property
    def n_images(self) -> int:
        return sum(len(summary.images) for summary in self.splits.values())

    @property
    def n_boxes(self) -> int:
        return sum(summary.n_boxes for summary in self.splits.values())

    @property
    def boxes_per_class(self) -> dict[str, int]:
        return {name: sum(s.boxes_per_class.get(name, 0) for s in self.splits.values()) for name in self.class_names}

    @property
    def skipped(self) -> list[Issue]:
        return [issue for issue in self.issues if issue.skipped]

    def issue_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(issue.kind for issue in self.issues).items()))

    def to_dict(self) -> dict[str, object]:
        return {
            "format": self.format,
            "source": self.source,
            "output": self.output,
            "seed": self.seed,
            "split": list(self.split),
            "split_from_source": self.split_from_source,
            "class_names": self.class_names,
            "annotation_files": self.annotation_files,
            "n_images": self.n_images,
            "n_boxes": self.n_boxes,
            "boxes_per_class": self.boxes_per_class,
            "difficult_boxes_kept": self.difficult_boxes,
            "skipped_files": len(self.skipped),
            "issue_counts": self.issue_counts(),
            "splits": {name: summary.to_dict() for name, summary in self.splits.items()},
            "issues": [issue.to_dict() for issue in self.issues],
        }
