"""``GraceTrainer``: ultralytics' detection trainer with our model registry and DS-CBSM++ sampling.

Everything plugs in through ultralytics' seams: ``get_model``/``setup_model`` (models from our registry, offline;
pretrained weights transferred layer by layer so YOLO11 weights fit GRACE), ``get_dataloader`` (the training
loader's sampler becomes DS-CBSM++'s), ``model.criterion`` (a loss that taps training signals), and
callbacks (epoch-end weight updates, sampler state saved beside each checkpoint for resume).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn
from ultralytics.cfg import DEFAULT_CFG
from ultralytics.models.yolo.detect import DetectionTrainer
from ultralytics.utils import LOGGER, RANK

from grace_core.errors import GraceError
from grace_core.nn.registry import architecture_of, build_model, model_config
from grace_core.nn.transfer import load_detection_model, transfer_weights
from grace_core.training.cpu_speed import Bf16Forward, CpuPlan, Fp32Loss, resolve_precision
from grace_core.training.dscbsm import DSCBSM, DSCBSMConfig, EpochReport
from grace_core.training.signal_loss import SignalDetectionLoss

SAMPLERS = ("dscbsm", "uniform")
DSCBSM_STATE = "dscbsm.npz"  # beside last.pt: numbers and JSON only, loaded with allow_pickle=False
DSCBSM_STATE_PICKLED = "dscbsm.pt"  # what runs before it saved (a pickle): read only when the user trusts the run
DSCBSM_LOG = "dscbsm.jsonl"  # in the run folder, one report per epoch


def is_checkpoint(model: object) -> bool:
    return str(model).lower().endswith(".pt")


class GraceTrainer(DetectionTrainer):
    """Detection trainer for the models of :data:`grace_core.nn.registry.MODELS`, with optional DS-CBSM++."""

    def __init__(
        self,
        cfg=DEFAULT_CFG,
        overrides: dict | None = None,
        _callbacks=None,
        *,
        sampler: str = "dscbsm",
        dscbsm_config: DSCBSMConfig | None = None,
        precision: str = "auto",
        threads: int | None = None,
        workers: int | None = None,
        trust: bool = False,
    ) -> None:
        """``precision``: auto / fp32 / bf16 and ``threads`` (None: every core) for a CPU run
        (:mod:`grace_core.training.cpu_speed`); ``workers``: data-loading processes, kept on a CPU too (ultralytics
        sets 0 there; ``None`` keeps ultralytics' choice); ``trust``: a resumed run's old pickled sampler state may be
        unpickled (only for runs the user made)."""
        if sampler not in SAMPLERS:
            raise GraceError(f"unknown sampler {sampler!r}: use one of {', '.join(SAMPLERS)}")
        super().__init__(cfg, overrides, _callbacks)
        self.cpu_plan: CpuPlan | None = None
        if self.device.type == "cpu":
            self.cpu_plan = resolve_precision(precision, threads)
            torch.set_num_threads(self.cpu_plan.threads)  # ultralytics' select_device left cpu_count - 1
            if workers is not None:
                self.args.workers = workers
            LOGGER.info(self.cpu_plan.describe())
        elif precision != "auto":
            self.args.amp = "bf16" if precision == "bf16" else False  # ultralytics' own AMP on an accelerator
        self.sampler_name = sampler
        self.trust = trust
        self.dscbsm_config = dscbsm_config or DSCBSMConfig()
        self.dscbsm: DSCBSM | None = None
        self.cancelled = False  # set (with .stop) by a clean cancel: see validate / final_eval
        self._image_index: dict[str, int] = {}
        self.add_callback("on_train_epoch_end", _dscbsm_epoch_end)
        self.add_callback("on_model_save", _save_dscbsm_state)
        self.add_callback("on_pretrain_routine_end", _install_training_criterion)

    # ----------------------------------------------------------------------------------------------- model

    def setup_model(self):
        spec = self.args.model
        if isinstance(self.model, nn.Module) or is_checkpoint(spec) or self.resume:
            return super().setup_model()  # a checkpoint: ultralytics rebuilds it from its stored config
        pretrained = self.args.pretrained
        weights = load_detection_model(pretrained) if isinstance(pretrained, (str, Path)) else None
        self.model = self.get_model(cfg=model_config(spec), weights=weights, verbose=RANK == -1)
        return None

    def get_model(self, cfg=None, weights=None, verbose: bool = True):
        names = [self.data["names"][i] for i in range(self.data["nc"])]
        if weights is not None and cfg is getattr(weights, "yaml", None):
            cfg = architecture_of(weights)  # rebuilding a checkpoint's own model (resume, fine-tune): exactly it
        model = build_model(cfg, names=names, channels=self.data.get("channels", 3), verbose=verbose and RANK == -1)
        if weights is not None:
            report = transfer_weights(model, weights)
            LOGGER.info(f"Pretrained weights: {report.summary()}")
        return model

    # ----------------------------------------------------------------------------------------------- cancel

    def validate(self):
        # ultralytics validates when .stop is set; a cancelled, unfinished epoch is not worth the wait (or a "best").
        if self.cancelled:
            return self.metrics, None
        return super().validate()

    def final_eval(self):
        # final_eval strips the optimizer from last.pt, which would make a cancelled run impossible to resume.
        if self.cancelled:
            return
        self._final_eval_running = True
        self.run_callbacks("on_final_eval_start")
        try:
            super().final_eval()
        finally:
            self._final_eval_running = False

    # ----------------------------------------------------------------------------------------------- data

    def get_dataloader(self, dataset_path: str, batch_size: int = 16, rank: int = 0, mode: str = "train"):
        loader = super().get_dataloader(dataset_path, batch_size, rank, mode)
        if mode == "train" and self.sampler_name == "dscbsm":
            dataset = loader.dataset
            names = [self.data["names"][i] for i in range(self.data["nc"])]
            image_classes = [label["cls"].reshape(-1).astype(int) for label in dataset.labels]
            self.dscbsm = DSCBSM(names, image_classes, self.dscbsm_config, seed=self.args.seed)
            self._image_index = {str(path): i for i, path in enumerate(dataset.im_files)}
            # InfiniteDataLoader → _RepeatSampler → BatchSampler → (RandomSampler): swap the innermost sampler.
            loader.batch_sampler.sampler.sampler = self.dscbsm.sampler
            if self.resume:
                self._resume_sampler(Path(self.args.model).parent)
        return loader

    def _resume_sampler(self, weights_dir: Path) -> None:
        state, pickled = weights_dir / DSCBSM_STATE, weights_dir / DSCBSM_STATE_PICKLED
        try:
            if state.is_file():
                self.dscbsm.load(state)
            elif pickled.is_file() and self.trust:
                self.dscbsm.load_state_dict(torch.load(pickled, weights_only=False))
                state = pickled
            elif pickled.is_file():
                LOGGER.warning(
                    f"DS-CBSM++: {pickled} is in the old pickled format, which could run code when loaded; it was not "
                    "read and the sampler restarts from uniform weights (resume with --trust if you made this run)"
                )
                return
            else:
                return
        except (OSError, ValueError) as error:
            raise GraceError(f"cannot resume the DS-CBSM++ sampler: {error}") from error
        LOGGER.info(f"DS-CBSM++: resumed sampler state from {state}")

    def _record_batch(self, logits, target_labels, target_scores, foreground, batch) -> None:
        indices = [self._image_index[str(path)] for path in batch["im_file"]]
        self.dscbsm.signals.add_batch(
            logits, target_labels, target_scores, foreground, indices, self.dscbsm_config.hardness_momentum
        )

    @property
    def latest_dscbsm_report(self) -> EpochReport | None:
        return self.dscbsm.history[-1] if self.dscbsm and self.dscbsm.history else None


def _install_training_criterion(trainer: GraceTrainer) -> None:
    """The training model's loss (ultralytics' ``DetectionModel.loss`` uses ``.criterion``), and bf16 autocast.

    Installed once the EMA copy exists, so validation and checkpoints keep ultralytics' plain fp32 model.
    """
    model = trainer.model
    criterion = getattr(model, "criterion", None)
    if trainer.dscbsm is not None:
        criterion = SignalDetectionLoss(model, trainer._record_batch)
    if trainer.cpu_plan is not None and trainer.cpu_plan.precision == "bf16":
        model.criterion = Fp32Loss(criterion if criterion is not None else model.init_criterion())
        trainer.bf16_forward = Bf16Forward(model)
    elif criterion is not None:
        model.criterion = criterion


def _dscbsm_epoch_end(trainer: GraceTrainer) -> None:
    if trainer.dscbsm is None:
        return
    report = trainer.dscbsm.end_epoch(trainer.epoch + 1)
    weights = trainer.dscbsm.loss_class_weights()
    criterion = getattr(trainer.model, "criterion", None)
    if weights is not None and criterion is not None:
        criterion.class_weights = weights.to(criterion.device).view(1, 1, -1)
    shown = ", ".join(f"{name} {w:.2f}" for name, w in report.class_weights.items())
    state = "sampling" if report.active else "warm-up (uniform)"
    LOGGER.info(f"DS-CBSM++ epoch {report.epoch} [{state}]: class weights {shown}")
    with open(Path(trainer.save_dir) / DSCBSM_LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps(report.to_dict()) + "\n")


def _save_dscbsm_state(trainer: GraceTrainer) -> None:
    if trainer.dscbsm is not None:
        trainer.dscbsm.save(Path(trainer.wdir) / DSCBSM_STATE)
