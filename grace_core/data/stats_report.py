"""Showing :class:`DatasetStats`: a plain-text table and a PNG chart (matplotlib, Agg canvas, imported lazily)."""

from __future__ import annotations

from pathlib import Path

from grace_core.data.stats import MEDIUM_AREA, SMALL_AREA, DatasetStats


def format_stats(stats: DatasetStats) -> str:
    """A readable table: images/instances per class per split and in total, then sizes and densities."""
    names = stats.class_names
    columns = [*stats.splits.values(), stats.total]
    width = max(12, *(len(name) for name in names))
    header = f"{'class':<{width}}" + "".join(f"{split.name + ' img':>12}{split.name + ' box':>12}" for split in columns)
    lines = [f"dataset: {stats.data_yaml} ({len(names)} classes)", "", header, "-" * len(header)]
    for index, name in enumerate(names):
        cells = "".join(f"{s.images_per_class[index]:>12}{s.instances_per_class[index]:>12}" for s in columns)
        lines.append(f"{name:<{width}}{cells}")
    lines.append("-" * len(header))
    lines.append(f"{'all':<{width}}" + "".join(f"{s.images:>12}{s.instances:>12}" for s in columns))
    lines.append(f"{'background':<{width}}" + "".join(f"{s.background_images:>12}{'':>12}" for s in columns))
    lines.append("")
    total = stats.total
    ratio = stats.imbalance_ratio
    if ratio is None:
        lines.append("imbalance ratio: n/a (no boxes)")
    else:
        counts = total.instances_per_class
        present = [(count, name) for count, name in zip(counts, names, strict=True) if count > 0]
        most, least = max(present), min(present)
        lines.append(f"imbalance ratio (max/min instances): {ratio:.2f} ({most[1]} {most[0]} / {least[1]} {least[0]})")
    sizes = total.size_counts
    shares = total.size_shares
    lines.append(
        f"box sizes (COCO, image pixels): small (<{int(SMALL_AREA**0.5)}²) {shares['small']:.1%} ({sizes['small']}), "
        f"medium (<{int(MEDIUM_AREA**0.5)}²) {shares['medium']:.1%} ({sizes['medium']}), "
        f"large {shares['large']:.1%} ({sizes['large']})"
    )
    lines.append(
        f"boxes per image: mean {total.boxes_per_image_mean:.2f}, median {total.boxes_per_image_median:g}, "
        f"max {total.boxes_per_image_max}; background images {total.background_share:.1%}"
    )
    return "\n".join(line.rstrip() for line in lines)


def plot_stats(stats: DatasetStats, path: str | Path) -> Path:
    """Write a PNG: instances per class and split (bars), and the box-size histogram with the COCO limits.

    Uses a Figure on an Agg canvas instead of pyplot, so no global matplotlib backend is changed.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    figure = Figure(figsize=(12, 4.8), layout="constrained")
    FigureCanvasAgg(figure)
    bars, sizes = figure.subplots(1, 2, width_ratios=(3, 2))
    names = stats.class_names
    n_splits = max(1, len(stats.splits))
    bar_width = 0.8 / n_splits
    for offset, split in enumerate(stats.splits.values()):
        positions = [index + (offset - (n_splits - 1) / 2) * bar_width for index in range(len(names))]
        bars.bar(positions, split.instances_per_class, bar_width, label=f"{split.name} ({split.images} images)")
    bars.set_xticks(range(len(names)), names, rotation=30, ha="right")
    bars.set_ylabel("instances")
    ratio = stats.imbalance_ratio
    bars.set_title("boxes per class" + (f" (imbalance {ratio:.2f})" if ratio is not None else ""))
    bars.legend()
    sides = stats.total.box_sides
    if sides:
        sizes.hist(sides, bins=40, color="tab:gray")
    for limit, label in ((SMALL_AREA**0.5, "small|medium"), (MEDIUM_AREA**0.5, "medium|large")):
        sizes.axvline(limit, color="tab:red", linestyle="--", linewidth=1)
        sizes.text(limit, 1, f" {label}", transform=sizes.get_xaxis_transform(), va="top", fontsize=8)
    shares = stats.total.size_shares
    sizes.set_title(
        f"box size: small {shares['small']:.0%}, medium {shares['medium']:.0%}, large {shares['large']:.0%}"
    )
    sizes.set_xlabel("sqrt(box area) in image pixels")
    sizes.set_ylabel("boxes")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    return path
