"""Datasets: import NEU-DET / GC10-DET / VOC / YOLO sources into clean YOLO datasets, and describe them.

The synthetic generator lives in :mod:`grace_core.data.synthetic` (it imports OpenCV).
"""

from __future__ import annotations

from grace_core.data.importer import ProgressCallback, import_dataset
from grace_core.data.importers import FORMATS, GC10_DET_CLASSES, NEU_DET_CLASSES
from grace_core.data.records import Box, Issue
from grace_core.data.report import ImportReport, SplitSummary
from grace_core.data.split import DEFAULT_SPLIT, parse_split
from grace_core.data.stats import DatasetStats, SplitStats, dataset_stats
from grace_core.data.stats_report import format_stats, plot_stats

__all__ = [
    "DEFAULT_SPLIT",
    "FORMATS",
    "GC10_DET_CLASSES",
    "NEU_DET_CLASSES",
    "Box",
    "DatasetStats",
    "ImportReport",
    "Issue",
    "ProgressCallback",
    "SplitStats",
    "SplitSummary",
    "dataset_stats",
    "format_stats",
    "import_dataset",
    "parse_split",
    "plot_stats",
]
