"""COCO average precision from matched detections.

pycocotools' definition: for each class and IoU threshold, detections are ranked by confidence, the precision
envelope ``p̂(r) = max_{r' ≥ r} p(r')`` is read at the 101 recall points ``r = 0, 0.01, …, 1`` (0 where the recall
is never reached), and AP is their mean. Perfect detections give exactly 1.0. (ultralytics integrates the envelope
with the trapezoid rule and a sentinel at recall 1, so its printed AP tops out at 0.995; ``grace val`` reports both.)
"""

from __future__ import annotations

import numpy as np

RECALL_POINTS = np.linspace(0.0, 1.0, 101)


def average_precision(correct: np.ndarray, confidence: np.ndarray, num_targets: int) -> float:
    """AP of one class at one IoU threshold. ``correct``: whether each detection matched a target."""
    if num_targets == 0:
        return float("nan")
    if len(correct) == 0:
        return 0.0
    order = np.argsort(-confidence, kind="stable")
    hits = np.cumsum(correct[order].astype(float))
    recall = hits / num_targets
    precision = hits / np.arange(1, len(hits) + 1)
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    positions = np.searchsorted(recall, RECALL_POINTS, side="left")
    sampled = np.where(positions < len(envelope), envelope[np.minimum(positions, len(envelope) - 1)], 0.0)
    return float(sampled.mean())


def coco_ap_per_class(
    tp: np.ndarray, confidence: np.ndarray, pred_cls: np.ndarray, target_cls: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """AP per class (rows) and IoU threshold (columns) for the classes that have targets, and those class ids.

    ``tp``: (detections, thresholds) booleans as produced by ultralytics' ``match_predictions``.
    """
    classes = np.unique(target_cls.astype(int))
    ap = np.zeros((len(classes), tp.shape[1]))
    for row, c in enumerate(classes):
        mine = pred_cls.astype(int) == c
        targets = int((target_cls.astype(int) == c).sum())
        for column in range(tp.shape[1]):
            ap[row, column] = average_precision(tp[mine, column], confidence[mine], targets)
    return ap, classes
