"""DS-CBSM++: dynamic, confidence- and gradient-balanced sampling of training images.

The formulas, symbols, defaults and their reasons are in ``docs/method.md``; this module is their implementation:

* :class:`SignalAccumulator` gathers, per class, the confidence and the exact classification-loss gradient at the
  positives the assigner gives each ground-truth box, and, per image, its classification loss (hardness);
* :func:`class_weights` and :func:`image_probabilities` turn those into sampling probabilities (pure functions);
* :class:`WeightedEpochSampler` draws each epoch's images from them (a permutation while they are uniform);
* :class:`DSCBSM` ties the three together once per epoch and reports what it did.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Sampler

SIGNALS = ("quality", "bce", "localization")
RARITY = ("images", "instances")


@dataclass(frozen=True)
class DSCBSMConfig:
    """Hyper-parameters of DS-CBSM++ (symbols as in docs/method.md)."""

    alpha: float = 1.0  # α: weight of low confidence
    beta: float = 0.5  # β: weight of large gradients
    gamma: float = 0.5  # γ: weight of rarity
    momentum: float = 0.7  # μ: EMA of class weights across epochs
    weight_min: float = 0.5  # class weights are clipped to [w_min, w_max] around a mean of 1
    weight_max: float = 3.0
    hardness: float = 0.5  # λ: exponent of image hardness
    hardness_momentum: float = 0.5  # ρ: EMA of an image's loss across its visits
    hardness_clip: float = 3.0  # normalised hardness is clipped to [1/clip, clip]
    temperature: float = 1.0  # T: p ∝ s^(1/T)
    uniform_mix: float = 0.3  # ε: p ← (1-ε) p + ε/N, so every image keeps ≥ ε/N per draw
    warmup_epochs: int = 3  # uniform sampling (signals still collected) for the first epochs
    loss_weighting: bool = False  # also scale the classification loss of class c by its weight
    # Class difficulty: "quality" = relative shortfall of p·t (confidence × localisation), the default since the
    # first NEU-DET runs; "bce" = (1 − conf)^α · (|p − t| / mean)^β (the first definition); "localization" = the same
    # with 1 − t in place of |p − t|. docs/method.md §2.2 has the formulas and why "bce" was replaced.
    signal: str = "quality"
    rarity: str = "images"  # n_c counts the training images that hold class c ("images") or its boxes ("instances")

    def __post_init__(self) -> None:
        if not 0.0 < self.weight_min <= 1.0 <= self.weight_max:
            raise ValueError("need 0 < weight_min <= 1 <= weight_max")
        if not 0.0 <= self.uniform_mix <= 1.0:
            raise ValueError("uniform_mix must be in [0, 1]")
        if min(self.alpha, self.beta, self.gamma, self.hardness) < 0:
            raise ValueError("alpha, beta, gamma and hardness must be 0 or more")
        if self.temperature <= 0 or self.hardness_clip < 1 or self.warmup_epochs < 0:
            raise ValueError("temperature must be > 0, hardness_clip >= 1, warmup_epochs >= 0")
        if not (0.0 <= self.momentum < 1.0 and 0.0 <= self.hardness_momentum < 1.0):
            raise ValueError("momenta must be in [0, 1)")
        if self.signal not in SIGNALS:
            raise ValueError(f"signal must be one of {', '.join(SIGNALS)}")
        if self.rarity not in RARITY:
            raise ValueError(f"rarity must be one of {', '.join(RARITY)}")


# --------------------------------------------------------------------------------------------------- signals


class SignalAccumulator:
    """Per-class and per-image training signals, accumulated batch by batch on the training device."""

    def __init__(self, num_classes: int, num_images: int) -> None:
        self.num_classes = num_classes
        self.image_loss = np.full(num_images, np.nan)  # EMA of each image's loss, NaN until first visit
        self.reset_epoch()

    def reset_epoch(self) -> None:
        self.positives = torch.zeros(self.num_classes, dtype=torch.float64)
        self.confidence_sum = torch.zeros(self.num_classes, dtype=torch.float64)
        self.gradient_sum = torch.zeros(self.num_classes, dtype=torch.float64)
        self.target_sum = torch.zeros(self.num_classes, dtype=torch.float64)
        self.quality_sum = torch.zeros(self.num_classes, dtype=torch.float64)

    @torch.no_grad()
    def add_batch(
        self,
        logits: torch.Tensor,
        target_labels: torch.Tensor,
        target_scores: torch.Tensor,
        foreground: torch.Tensor,
        image_indices: Sequence[int],
        hardness_momentum: float,
    ) -> None:
        """Record one batch.

        Args:
            logits: class logits, (B, A, C).
            target_labels: class assigned to each anchor, (B, A).
            target_scores: the assigner's IoU-aware soft targets, (B, A, C).
            foreground: positive anchors, (B, A) bool.
            image_indices: dataset index of each image of the batch (B,).
        """
        probabilities = logits.float().sigmoid()
        targets = target_scores.float()
        # Exact gradient of the BCE-with-logits loss w.r.t. the logit is (p - t): its magnitude at the assigned class.
        labels = target_labels[foreground].long()
        p_pos = probabilities[foreground].gather(1, labels[:, None]).squeeze(1)
        t_pos = targets[foreground].gather(1, labels[:, None]).squeeze(1)
        self.positives += torch.bincount(labels, minlength=self.num_classes).double().cpu()
        self.confidence_sum += torch.bincount(labels, p_pos, minlength=self.num_classes).double().cpu()
        self.gradient_sum += torch.bincount(labels, (p_pos - t_pos).abs(), minlength=self.num_classes).double().cpu()
        self.target_sum += torch.bincount(labels, t_pos, minlength=self.num_classes).double().cpu()
        self.quality_sum += torch.bincount(labels, p_pos * t_pos, minlength=self.num_classes).double().cpu()
        # Image hardness: the image's own classification loss, normalised by its own target mass.
        bce = torch.nn.functional.binary_cross_entropy(probabilities.clamp(1e-6, 1 - 1e-6), targets, reduction="none")
        per_image = (bce.sum(dim=(1, 2)) / targets.sum(dim=(1, 2)).clamp(min=1.0)).cpu().numpy()
        for index, loss in zip(image_indices, per_image, strict=True):
            previous = self.image_loss[index]
            fresh = np.isnan(previous)
            self.image_loss[index] = loss if fresh else hardness_momentum * previous + (1 - hardness_momentum) * loss

    def class_statistics(self, signal: str = "quality") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean confidence, second signal, positives) per class for this epoch; NaN where unseen.

        The second signal is, over the positives, the mean quality ``p·t`` ("quality"), the mean ``|p − t|``
        ("bce") or the mean localisation shortfall ``1 − t`` ("localization"); ``t`` is the assigner's IoU-aware
        target.
        """
        positives = self.positives.numpy()
        second = {
            "quality": self.quality_sum.numpy(),
            "bce": self.gradient_sum.numpy(),
            "localization": positives - self.target_sum.numpy(),
        }[signal]
        with np.errstate(invalid="ignore", divide="ignore"):
            confidence = np.where(positives > 0, self.confidence_sum.numpy() / positives, np.nan)
            signal_mean = np.where(positives > 0, second / positives, np.nan)
        return confidence, signal_mean, positives


# --------------------------------------------------------------------------------------------------- weights


def _normalise_and_clip(
    weights: np.ndarray, low: float, high: float, mean: float = 1.0, rounds: int = 20
) -> np.ndarray:
    """Scale to the given mean and clip to [low, high]; alternating converges to both (for low ≤ mean ≤ high)."""
    for _ in range(rounds):
        weights = np.clip(weights * (mean / weights.mean()), low, high)
    return weights


def class_weights(
    confidence: np.ndarray,
    gradient: np.ndarray,
    instances: np.ndarray,
    previous: np.ndarray | None,
    config: DSCBSMConfig,
) -> np.ndarray:
    """w_c ∝ difficulty_c · (median n / n_c)^γ, EMA-smoothed, clipped, mean 1 (docs/method.md §2.2).

    ``gradient`` is the second signal of :meth:`SignalAccumulator.class_statistics`. Difficulty is
    ``(q̄ / q_c)^α`` for the "quality" signal (``q_c`` = mean p·t, ``q̄`` its mean over the classes seen) and
    ``(1 − conf_c)^α · (g_c / ḡ)^β`` for the others. A class unseen this epoch (NaN signals) keeps its previous weight
    (1 at the start).
    """
    num_classes = len(instances)
    previous = np.ones(num_classes) if previous is None else np.asarray(previous, dtype=float)
    seen = ~(np.isnan(confidence) | np.isnan(gradient))
    raw = previous.copy()
    if seen.any():
        eps = 1e-6
        if config.signal == "quality":
            quality = np.clip(gradient[seen], eps, None)
            difficulty = (quality.mean() / quality) ** config.alpha
        else:
            difficulty = np.clip(1.0 - confidence[seen], eps, 1.0) ** config.alpha
            mean_gradient = max(float(np.mean(gradient[seen])), eps)
            difficulty = difficulty * np.clip(gradient[seen] / mean_gradient, eps, None) ** config.beta
        present = np.maximum(instances, 1.0)
        rarity = (np.median(present) / present[seen]) ** config.gamma
        fresh = difficulty * rarity
        # Seen classes share the mean they had, so a class without signal this epoch keeps its weight exactly.
        target_mean = float(np.clip(previous[seen].mean(), config.weight_min, config.weight_max))
        raw[seen] = _normalise_and_clip(fresh, config.weight_min, config.weight_max, mean=target_mean)
    smoothed = config.momentum * previous + (1.0 - config.momentum) * raw
    return _normalise_and_clip(smoothed, config.weight_min, config.weight_max)


def image_probabilities(
    weights: np.ndarray,
    image_classes: Sequence[np.ndarray],
    image_loss: np.ndarray,
    config: DSCBSMConfig,
) -> np.ndarray:
    """p_i ∝ (max_{c∈i} w_c · h_i^λ)^(1/T), mixed with uniform: (1 − ε) p_i + ε/N (docs/method.md)."""
    num_images = len(image_classes)
    class_factor = np.array([weights[classes].max() if len(classes) else 1.0 for classes in image_classes])
    visited = ~np.isnan(image_loss)
    hardness = np.ones(num_images)
    if visited.any():
        mean_loss = max(float(image_loss[visited].mean()), 1e-12)
        hardness[visited] = np.clip(image_loss[visited] / mean_loss, 1.0 / config.hardness_clip, config.hardness_clip)
    score = (class_factor * hardness**config.hardness) ** (1.0 / config.temperature)
    probabilities = score / score.sum()
    return (1.0 - config.uniform_mix) * probabilities + config.uniform_mix / num_images


def instance_shares(probabilities: np.ndarray, image_counts: np.ndarray) -> np.ndarray:
    """Expected share of each class among the instances drawn: Σ_i p_i n_ic / Σ_i p_i n_i. image_counts: (N, C)."""
    drawn = probabilities @ image_counts
    total = drawn.sum()
    return drawn / total if total > 0 else drawn


# --------------------------------------------------------------------------------------------------- sampler


class WeightedEpochSampler(Sampler[int]):
    """Draws ``len(self)`` = N dataset indices per pass.

    Uniform probabilities give a random permutation (exactly ultralytics' default shuffle); otherwise indices are
    drawn with replacement. Indices are drawn lazily, in chunks, from the probabilities current at that moment, so an
    update made at the end of an epoch takes effect after the few batches a DataLoader has already prefetched.
    """

    def __init__(self, num_images: int, seed: int = 0, chunk: int = 64) -> None:
        if num_images <= 0:
            raise ValueError("cannot sample from an empty dataset")
        self.num_images = num_images
        self.chunk = chunk
        self.generator = torch.Generator().manual_seed(int(seed))
        self.probabilities = torch.full((num_images,), 1.0 / num_images, dtype=torch.float64)
        self.uniform = True

    def set_probabilities(self, probabilities: np.ndarray | None) -> None:
        """New probabilities (normalised here); ``None`` goes back to uniform permutations."""
        if probabilities is None:
            self.probabilities = torch.full((self.num_images,), 1.0 / self.num_images, dtype=torch.float64)
            self.uniform = True
            return
        values = torch.as_tensor(np.asarray(probabilities, dtype=np.float64))
        if values.shape != (self.num_images,) or not torch.isfinite(values).all() or (values < 0).any():
            raise ValueError("probabilities must be N finite non-negative numbers")
        self.probabilities = values / values.sum()
        self.uniform = False

    def __len__(self) -> int:
        return self.num_images

    def __iter__(self) -> Iterator[int]:
        if self.uniform:
            yield from torch.randperm(self.num_images, generator=self.generator).tolist()
            return
        remaining = self.num_images
        while remaining > 0:
            take = min(self.chunk, remaining)
            yield from torch.multinomial(self.probabilities, take, replacement=True, generator=self.generator).tolist()
            remaining -= take

    def state_dict(self) -> dict:
        return {
            "generator": self.generator.get_state(),
            "probabilities": self.probabilities.clone(),
            "uniform": self.uniform,
        }

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self.probabilities = state["probabilities"].clone()
        self.uniform = bool(state["uniform"])


# --------------------------------------------------------------------------------------------------- controller


@dataclass
class EpochReport:
    """What DS-CBSM++ measured and decided at the end of one epoch (logged, sent as protocol events, plotted)."""

    epoch: int
    active: bool  # False during warm-up: sampling stayed uniform
    class_weights: dict[str, float]
    sampling_shares: dict[str, float]  # expected share of drawn instances per class
    natural_shares: dict[str, float]  # the same under uniform sampling
    confidence: dict[str, float | None]
    gradient: dict[str, float | None]
    image_weight_stats: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


class DSCBSM:
    """Owns the signals, the class weights and the sampler of one training run."""

    def __init__(
        self,
        class_names: Sequence[str],
        image_classes: Sequence[np.ndarray],
        config: DSCBSMConfig | None = None,
        seed: int = 0,
    ) -> None:
        """``image_classes[i]``: class ids of every box of image i (repeats allowed; empty for background)."""
        self.config = config or DSCBSMConfig()
        self.class_names = list(class_names)
        num_classes = len(self.class_names)
        self.image_classes = [np.unique(np.asarray(c, dtype=int)) for c in image_classes]
        self.image_counts = np.zeros((len(image_classes), num_classes))
        for i, classes in enumerate(image_classes):
            np.add.at(self.image_counts[i], np.asarray(classes, dtype=int), 1)
        self.instances = self.image_counts.sum(axis=0)
        self.images_with_class = (self.image_counts > 0).sum(axis=0).astype(float)
        self.signals = SignalAccumulator(num_classes, len(image_classes))
        self.sampler = WeightedEpochSampler(len(image_classes), seed=seed)
        self.weights = np.ones(num_classes)
        self.probabilities = np.full(len(image_classes), 1.0 / len(image_classes))
        self.history: list[EpochReport] = []

    def end_epoch(self, epoch: int) -> EpochReport:
        """Update weights from this epoch's signals; from the epoch after warm-up on, steer the sampler.

        ``epoch`` is 1-based: after epoch ``warmup_epochs`` the next epoch is the first weighted one.
        """
        confidence, gradient, _ = self.signals.class_statistics(self.config.signal)
        counts = self.images_with_class if self.config.rarity == "images" else self.instances
        self.weights = class_weights(confidence, gradient, counts, self.weights, self.config)
        active = epoch >= self.config.warmup_epochs
        if active:
            self.probabilities = image_probabilities(
                self.weights, self.image_classes, self.signals.image_loss, self.config
            )
            self.sampler.set_probabilities(self.probabilities)
        self.signals.reset_epoch()
        uniform = np.full(len(self.probabilities), 1.0 / len(self.probabilities))
        ratio = self.probabilities * len(self.probabilities)
        names = self.class_names

        def per_class(values) -> dict[str, float | None]:
            return {n: (None if np.isnan(v) else round(float(v), 4)) for n, v in zip(names, values, strict=True)}

        report = EpochReport(
            epoch=epoch,
            active=active,
            class_weights=per_class(self.weights),
            sampling_shares=per_class(instance_shares(self.probabilities, self.image_counts)),
            natural_shares=per_class(instance_shares(uniform, self.image_counts)),
            confidence=per_class(confidence),
            gradient=per_class(gradient),
            image_weight_stats={
                "min_ratio_to_uniform": round(float(ratio.min()), 4),
                "max_ratio_to_uniform": round(float(ratio.max()), 4),
                "effective_images": round(float(1.0 / np.square(self.probabilities).sum()), 1),
            },
        )
        self.history.append(report)
        return report

    def loss_class_weights(self) -> torch.Tensor | None:
        """Per-class factors for the classification loss, when that option is on and warm-up is over."""
        if not self.config.loss_weighting or not self.history or not self.history[-1].active:
            return None
        return torch.as_tensor(self.weights, dtype=torch.float32)

    def state_dict(self) -> dict:
        return {
            "weights": self.weights.copy(),
            "probabilities": self.probabilities.copy(),
            "image_loss": self.signals.image_loss.copy(),
            "sampler": self.sampler.state_dict(),
            "history": [r.to_dict() for r in self.history],
        }

    def load_state_dict(self, state: dict) -> None:
        self.weights = np.asarray(state["weights"], dtype=float)
        self.probabilities = np.asarray(state["probabilities"], dtype=float)
        self.signals.image_loss = np.asarray(state["image_loss"], dtype=float)
        self.sampler.load_state_dict(state["sampler"])
        self.history = [EpochReport(**r) for r in state["history"]]

    def save(self, path: str | Path) -> None:
        """Write the state as a plain ``.npz`` of numbers and one JSON string: nothing in it can run code on load."""
        state = self.state_dict()
        sampler = state["sampler"]
        with open(path, "wb") as handle:  # a file object: np.savez would append ".npz" to a path without it
            np.savez(
                handle,
                weights=state["weights"],
                probabilities=state["probabilities"],
                image_loss=state["image_loss"],
                sampler_generator=sampler["generator"].numpy(),
                sampler_probabilities=sampler["probabilities"].numpy(),
                sampler_uniform=np.array(sampler["uniform"]),
                history=np.array(json.dumps(state["history"])),
            )

    def load(self, path: str | Path) -> None:
        """Read what :meth:`save` wrote (``allow_pickle=False``); a file of another shape is a ``ValueError``."""
        with np.load(path, allow_pickle=False) as saved:
            try:
                state = {
                    "weights": saved["weights"],
                    "probabilities": saved["probabilities"],
                    "image_loss": saved["image_loss"],
                    "sampler": {
                        "generator": torch.from_numpy(saved["sampler_generator"].astype(np.uint8)),
                        "probabilities": torch.from_numpy(saved["sampler_probabilities"].astype(np.float64)),
                        "uniform": bool(saved["sampler_uniform"]),
                    },
                    "history": json.loads(str(saved["history"])),
                }
            except (KeyError, ValueError) as error:
                raise ValueError(f"{path}: not a DS-CBSM++ sampler state ({error})") from error
        if len(state["image_loss"]) != len(self.signals.image_loss) or len(state["weights"]) != len(self.weights):
            raise ValueError(f"{path}: the sampler state is for another dataset (image or class count differs)")
        self.load_state_dict(state)
