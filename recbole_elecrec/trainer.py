"""Trainers: the evaluation protocol for every model, and ELECRec's training schedule."""

import os
import secrets
import tempfile
import time
from pathlib import Path
from unittest import mock

import torch
import torch.distributed as dist
from recbole.data.dataloader import FullSortEvalDataLoader
from recbole.trainer import Trainer
from recbole.trainer import trainer as recbole_trainer
from recbole.utils import get_trainer as recbole_get_trainer
from recbole.utils import get_local_time, set_color
from torch.utils.tensorboard import SummaryWriter

from recbole_elecrec.checkpoint import load_model, read_checkpoint, token_fingerprint
from recbole_elecrec.checkpoint.format import contents
from recbole_elecrec.checkpoint.save import RunFiles
from recbole_elecrec.checkpoint.state import resume, restore_training_state, save_training_state
from recbole_elecrec.distributed import GatheringEvaluator, distribute
from recbole_elecrec.errors import diverged
from recbole_elecrec.files import held, remove_partials
from recbole_elecrec.optim import update_twice
from recbole_elecrec.protocols import HISTORY_MASKS, ProtocolCollector, mask


class TrainerMixin:
    """Put in front of any RecBole trainer (ELECRec's and the baselines' alike).

    - ``history_mask`` for sequential full ranking: ``none`` (RecBole: nothing masked),
      ``exclude`` (the user's whole history scores -inf) or ``reference`` (the paper code:
      history items score 0, and the padding item is scored like any other). Non-sequential
      models (Pop, BPR, ...) keep RecBole's protocol, which always excludes training items.
      Every evaluation of a sequential model computes all three protocols from the same scores:
      ``evaluate`` returns the configured one's metrics (early stopping, test), ``by_protocol``
      holds all three and ``history_check`` the history-first check (``protocols``).
    - Checkpoints are plain data read through the allowlist and written whole, never over a file
      of another's, under a name unique to the run (``checkpoint``): a run evaluates (and so
      reports) its checkpoint only while the file is still the one it wrote.
    - ``history``: one dict per epoch (training seconds and loss, validation metrics), for
      learning curves.
    - ``training_state``: saved after every validation and removed once training ends
      (``checkpoint.state``); a run started again with the same file and settings continues
      where the last one stopped. A run holds the file while it trains (``files.held``).
    - Distributed runs on CPUs (gloo) as well as GPUs (``distributed.distribute``).
    - ``shared_updates: twice`` (ELECRec, SASRecPlus): the optimizer updates the model's
      ``twice_updated_parameters()`` twice a step, as the authors' optimizer does.
    """

    def __init__(self, config, model):
        distributed = not config["single_spec"]
        # RecBole's constructor wraps the model for one GPU per process only: distribute() does
        config["single_spec"] = True
        try:
            super().__init__(config, model)
        finally:
            config["single_spec"] = not distributed
        # RecBole names checkpoints by the second: two runs started together would share one
        self.saved_model_file = os.path.join(
            self.checkpoint_dir,
            f"{config['model']}-{get_local_time()}-{secrets.token_hex(3)}.pth")
        self.checkpoint_files = RunFiles()
        if distributed:
            distribute(self)
        # the other protocols' evaluator: ``evaluator`` may be wrapped (compare keeps per-user
        # figures of the configured protocol)
        self.protocol_evaluator = self.evaluator
        self.eval_collector = ProtocolCollector(config)
        self.by_protocol = self.history_check = None
        self.history = []
        self.resumed_seconds = 0.0  # training wall time of the runs a training_state continues
        self.token_fingerprint = None  # of the data trained on (fit), saved in every checkpoint

    def _build_optimizer(self, **kwargs):
        optimizer = super()._build_optimizer(**kwargs)
        if self.config["shared_updates"] == "twice" and "params" not in kwargs:
            update_twice(optimizer, self.model.twice_updated_parameters())
        return optimizer

    def _check_nan(self, loss):
        if not torch.isfinite(loss):  # RecBole's says "Training loss is nan", naming no setting
            raise diverged(f"the training loss is {loss.item()}")

    def _train_epoch(self, train_data, epoch_idx, loss_func=None, show_progress=False):
        start = time.time()
        losses = super()._train_epoch(train_data, epoch_idx, loss_func, show_progress)
        total = sum(losses) if isinstance(losses, tuple) else losses
        self.history.append(
            {"epoch": epoch_idx, "train_seconds": time.time() - start, "train_loss": total}
        )
        return losses

    def _valid_epoch(self, valid_data, show_progress=False):
        valid_score, valid_result = super()._valid_epoch(valid_data, show_progress)
        if self.history:
            self.history[-1]["valid"] = dict(valid_result)
            if self.by_protocol:
                self.history[-1]["valid_by_protocol"] = self.by_protocol
        return valid_score, valid_result

    def evaluate(self, eval_data, load_best_model=True, model_file=None, show_progress=False):
        self._history_source = self.by_protocol = self.history_check = None
        # non-sequential models keep RecBole's own masking of their training history
        if isinstance(eval_data, FullSortEvalDataLoader) and eval_data.is_sequential:
            if hasattr(eval_data._dataset, "history_index"):
                self._history_source = eval_data._dataset
            elif self.config["history_mask"] != "none":
                raise ValueError(
                    f"history_mask '{self.config['history_mask']}' needs a sequential model "
                    f"without a dataset class of its own; {self.config['model']} has one"
                )
        if isinstance(self.evaluator, GatheringEvaluator):
            self.evaluator.sample_size = eval_data.sample_size
            if load_best_model:
                dist.barrier()  # rank 0 may still be writing it
        protocols = self.eval_collector.start(self._history_source is not None)
        if load_best_model and eval_data:  # here, rather than by RecBole's torch.load
            self._load_best_model(str(model_file or self.saved_model_file))
        result = super().evaluate(eval_data, False, model_file, show_progress)
        if protocols and result is not None:
            gather = getattr(self.protocol_evaluator, "gather", lambda rows: rows)
            others, self.history_check = self.eval_collector.results(self.protocol_evaluator,
                                                                     gather)
            self.by_protocol = {p: others[p] if p in others else dict(result) for p in HISTORY_MASKS}
        return result

    def _load_best_model(self, path):
        self.checkpoint_files.check_own(path)
        load_model(self.model, read_checkpoint(path), path)
        self.logger.info(f"Loading model structure and parameters from {path}")

    def _map_reduce(self, result, num_sample):
        return result  # GatheringEvaluator already computed the metrics over every rank's users

    def fit(self, train_data, valid_data=None, verbose=True, saved=True, show_progress=False,
            callback_fn=None):
        self.token_fingerprint = token_fingerprint(train_data._dataset)
        state_file = self.config["training_state"]
        if not state_file:  # (some RecBole trainers' fit takes no callback_fn)
            extra = {"callback_fn": callback_fn} if callback_fn else {}
            return super().fit(train_data, valid_data, verbose, saved, show_progress, **extra)
        if not saved or not valid_data:
            raise ValueError("training_state needs validation data and a saved best model")
        state_file, start = Path(state_file), time.time()
        state_file.parent.mkdir(parents=True, exist_ok=True)
        with held(state_file, "training_state"):
            remove_partials(state_file)  # of a run killed while saving it: held, so it is gone
            if state_file.is_file():
                restore_training_state(state_file, self, train_data)
                if self.start_epoch >= self.epochs or self.cur_step > self.stopping_step:
                    state_file.unlink()  # the state of a run that had already ended
                    return self.best_valid_score, self.best_valid_result

            def save_state(epoch_idx, valid_score):
                save_training_state(state_file, self, epoch_idx, train_data, time.time() - start)
                if callback_fn:
                    callback_fn(epoch_idx, valid_score)

            result = super().fit(train_data, valid_data, verbose, saved, show_progress,
                                 save_state)
            state_file.unlink(missing_ok=True)
            return result

    def resume_checkpoint(self, resume_file):
        # RecBole's reads it with torch.load, and makes it the file this run saves to
        resume(self, read_checkpoint(resume_file), resume_file)

    def _save_checkpoint(self, epoch, verbose=True, saved_model_file=None):
        if not self.config["single_spec"] and self.config["local_rank"] != 0:
            return
        path = str(saved_model_file or self.saved_model_file)
        self.checkpoint_files.save(path, contents(self, epoch))
        if verbose:
            self.logger.info(set_color("Saving current", "blue") + f": {path}")

    def _full_sort_batch_eval(self, batched_data):
        if self._history_source is None:
            return super()._full_sort_batch_eval(batched_data)
        interaction, _, positive_u, positive_i = batched_data
        history_index = self._history_source.history_index(interaction)
        scores = self.model.full_sort_predict(interaction.to(self.device))
        scores = scores.view(-1, self.tot_item_num)
        if self.eval_collector.enabled:
            scores = self.eval_collector.collect_protocols(scores, history_index, positive_u,
                                                           positive_i)
        else:
            scores = mask(scores, history_index, self.config["history_mask"])
        return interaction, scores, positive_u, positive_i


class ELECRecTrainer(TrainerMixin, Trainer):
    """Trains ELECRec's generator and discriminator jointly with one optimizer (the paper),
    after ``gen_warmup_epochs`` generator-only epochs.

    Each epoch logs (and writes to tensorboard) the generator and discriminator losses, the
    discriminator's accuracy on kept and on replaced positions, and the realised replacement
    rate (share of real target positions whose item is not the true next item).
    """

    def __init__(self, config, model):
        super().__init__(config, model)
        self.gen_warmup_epochs = config["gen_warmup_epochs"]
        self.epoch_stats = {}

    def _train_epoch(self, train_data, epoch_idx, loss_func=None, show_progress=False):
        self.model.train_discriminator = epoch_idx >= self.gen_warmup_epochs
        if loss_func is not None:
            return super()._train_epoch(train_data, epoch_idx, loss_func, show_progress)
        totals, batches = None, 0

        def loss_with_stats(interaction):
            nonlocal totals, batches
            losses = self.model.calculate_loss(interaction)
            stats = self.model.step_stats
            step = dict(zip(stats, torch.stack([v.float() for v in stats.values()]).tolist()))
            totals = step if totals is None else {k: totals[k] + step[k] for k in step}
            batches += 1
            return losses

        losses = super()._train_epoch(train_data, epoch_idx, loss_with_stats, show_progress)
        self.epoch_stats = {"gen_loss": totals["gen_loss"] / batches}
        if "dis_loss" in totals:
            kept = totals["targets"] - totals["replaced"]
            self.epoch_stats.update(
                dis_loss=totals["dis_loss"] / batches,
                dis_acc_kept=totals["kept_correct"] / max(kept, 1),
                dis_acc_replaced=totals["replaced_correct"] / max(totals["replaced"], 1),
                replace_rate=totals["replaced"] / totals["targets"],
            )
        self.history[-1].update(self.epoch_stats)
        return losses

    def _generate_train_loss_output(self, epoch_idx, s_time, e_time, losses):
        parts = [f"{set_color('time', 'blue')}: {e_time - s_time:.2f}s"] + [
            f"{set_color(name, 'blue')}: {value:.4f}" for name, value in self.epoch_stats.items()
        ]
        return set_color(f"epoch {epoch_idx} training", "green") + " [" + ", ".join(parts) + "]"

    def _add_train_loss_to_tensorboard(self, epoch_idx, losses, tag="Loss/Train"):
        super()._add_train_loss_to_tensorboard(epoch_idx, losses, tag)
        for name, value in self.epoch_stats.items():
            self.tensorboard.add_scalar(f"ELECRec/{name}", value, epoch_idx)


def get_trainer(model_type, model_name):
    """Trainer class for a model, with this package's evaluation protocol and checkpoint loading.

    ELECRec gets :class:`ELECRecTrainer`; any other model gets RecBole's trainer for it with
    :class:`TrainerMixin` in front, so baselines are evaluated exactly like ELECRec.
    """
    if model_name == "ELECRec":
        return ELECRecTrainer
    base = recbole_get_trainer(model_type, model_name)
    return type(base.__name__, (TrainerMixin, base), {})


def evaluation_trainer(config, model):
    """The model's trainer, for evaluating only. RecBole's constructor creates checkpoint_dir
    and a tensorboard log folder in the working folder (which may be read-only, and is not an
    evaluation's to write): both go into a temporary folder, removed at once."""
    checkpoint_dir = config["checkpoint_dir"]
    with tempfile.TemporaryDirectory(prefix="evaluate-") as scratch:
        config["checkpoint_dir"] = scratch
        # RecBole's constructor looks its tensorboard writer up in its module as it runs
        writer = mock.patch.object(recbole_trainer, "get_tensorboard",
                                   lambda logger: SummaryWriter(scratch))
        try:
            with writer:
                trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
        finally:
            config["checkpoint_dir"] = checkpoint_dir
        trainer.tensorboard.close()
    return trainer
