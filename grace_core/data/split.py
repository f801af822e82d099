"""Seeded split of images into train/val[/test], stratified by each image's rarest class.

Each image joins the stratum of its globally rarest class (fewest images containing it; ties go to the lower class
id); background images form their own stratum. Strata are shuffled with ``random.Random(seed)`` after sorting by
name, so the result depends only on the names, the boxes and the seed. Each stratum is shared out by largest
remainder against the running totals (so the overall fractions stay close); then a stratum of n images gives one
image to each of the first min(n, number of splits) splits, so a class in 2 images reaches train and val, and one
in 3 images reaches test too.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Sequence

from grace_core.data.records import SPLIT_NAMES, ImageRecord
from grace_core.errors import DatasetError

DEFAULT_SPLIT: tuple[float, float] = (0.8, 0.2)


def parse_split(text: str) -> tuple[float, ...]:
    """Parse ``"0.8,0.2"`` or ``"0.8,0.1,0.1"`` into checked fractions."""
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise DatasetError(f"bad --split {text!r}: use 2 or 3 numbers separated by commas, e.g. 0.8,0.2") from None
    return check_fractions(values)


def check_fractions(fractions: Sequence[float]) -> tuple[float, ...]:
    """Require 2 (train, val) or 3 (train, val, test) positive fractions that sum to 1 within 1e-6."""
    values = tuple(float(value) for value in fractions)
    shown = ",".join(f"{value:g}" for value in values)
    if len(values) not in (2, 3):
        raise DatasetError(f"bad split {shown}: give 2 (train,val) or 3 (train,val,test) fractions, e.g. 0.8,0.2")
    if not all(math.isfinite(value) and value > 0 for value in values):
        raise DatasetError(f"bad split {shown}: every fraction must be a positive number")
    if abs(sum(values) - 1.0) > 1e-6:
        raise DatasetError(f"bad split {shown}: the fractions must sum to 1 (they sum to {sum(values):g})")
    return values


def split_names(fractions: Sequence[float]) -> tuple[str, ...]:
    return SPLIT_NAMES[: len(fractions)]


def assign_splits(records: Sequence[ImageRecord], fractions: Sequence[float], seed: int) -> None:
    """Set ``record.split`` on every record (in place)."""
    fractions = check_fractions(fractions)
    names = split_names(fractions)
    images_per_class = Counter(class_id for record in records for class_id in record.class_ids)

    def rarity(class_id: int) -> tuple[int, int]:
        return images_per_class[class_id], class_id

    strata: dict[int, list[ImageRecord]] = defaultdict(list)
    for record in records:
        strata[min(record.class_ids, key=rarity) if record.class_ids else -1].append(record)
    order = sorted((key for key in strata if key >= 0), key=rarity) + ([-1] if -1 in strata else [])

    rng = random.Random(seed)
    allocated = [0] * len(names)
    for key in order:
        members = sorted(strata[key], key=lambda record: record.name)
        rng.shuffle(members)
        counts = _share(len(members), allocated, fractions)
        start = 0
        for index, count in enumerate(counts):
            for record in members[start : start + count]:
                record.split = names[index]
            start += count
            allocated[index] += count


def _share(n: int, allocated: Sequence[int], fractions: Sequence[float]) -> list[int]:
    """Counts per split for a stratum of ``n``: largest remainder towards the overall target, then at least one
    image in each of the first ``min(n, splits)`` splits (so a class in 2 images lands in train and val)."""
    total = sum(allocated) + n
    wanted = [max(0.0, total * fraction - done) for fraction, done in zip(fractions, allocated, strict=True)]
    scale = n / sum(wanted) if sum(wanted) > 0 else 0.0
    quotas = [value * scale for value in wanted] if scale else [n * fraction for fraction in fractions]
    counts = [math.floor(quota) for quota in quotas]
    by_remainder = sorted(range(len(quotas)), key=lambda index: (-(quotas[index] - counts[index]), index))
    for index in by_remainder[: n - sum(counts)]:
        counts[index] += 1
    required = min(n, len(counts))  # train, then val, then test get at least one image each
    for index in range(required):
        if counts[index] == 0:
            donors = [other for other in range(len(counts)) if counts[other] >= (2 if other < required else 1)]
            donor = max(donors, key=lambda other: (counts[other], -other))
            counts[donor] -= 1
            counts[index] = 1
    return counts
