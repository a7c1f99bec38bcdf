"""Trainers: the evaluation protocol for every model, and ELECRec's training schedule."""

import os
import random
import secrets
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from recbole.data.dataloader import FullSortEvalDataLoader
from recbole.trainer import Trainer
from recbole.utils import get_local_time, set_color

from recbole_elecrec.checkpoint import read_training_state
from recbole_elecrec.compat import pickled_checkpoints
from recbole_elecrec.distributed import GatheringEvaluator
from recbole_elecrec.files import atomic_path
from recbole_elecrec.optim import update_twice

HISTORY_MASKS = ("none", "exclude", "reference")


class TrainerMixin:
    """Put in front of any RecBole trainer (ELECRec's and the baselines' alike).

    - ``history_mask`` for sequential full ranking: ``none`` (RecBole: nothing masked),
      ``exclude`` (the user's whole history scores -inf) or ``reference`` (the paper code:
      history items score 0, and the padding item is scored like any other). Non-sequential
      models (Pop, BPR, ...) keep RecBole's protocol, which always excludes training items.
    - RecBole's own checkpoint loading (``evaluate(load_best_model=True)``,
      ``resume_checkpoint``) works under current torch.
    - Checkpoints are written whole or not at all (a run killed while saving keeps the previous
      one), under a name unique to the run, and never over a file the run did not write.
    - ``history``: one dict per epoch (training seconds and loss, validation metrics), for
      learning curves.
    - ``training_state``: a file rewritten after every validation with all that training needs to
      go on (weights, optimizer, early-stopping counters, history, random states); a run started
      again with the same file and settings continues where the last one stopped, with the
      results an uninterrupted run gives. Removed once training ends.
    - Distributed runs on CPUs (gloo) as well as GPUs, with metrics computed over the users of
      all ranks at once.
    - ``shared_updates: twice`` (ELECRec, SASRecPlus): the optimizer updates the model's
      ``twice_updated_parameters()`` twice a step, as the authors' optimizer does.
    """

    def __init__(self, config, model):
        distributed = not config["single_spec"]
        # RecBole's constructor wraps the model for one GPU per process only: wrap it here instead
        config["single_spec"] = True
        try:
            super().__init__(config, model)
        finally:
            config["single_spec"] = not distributed
        # RecBole names checkpoints by the second: two runs started together would share one
        self.saved_model_file = os.path.join(
            self.checkpoint_dir,
            f"{config['model']}-{get_local_time()}-{secrets.token_hex(3)}.pth")
        self._written = set()  # checkpoint files this run wrote, the only ones it may replace
        if distributed:
            on_gpu = config["device"].type == "cuda"
            self.distributed_model = DistributedDataParallel(
                self.model, device_ids=[config["local_rank"]] if on_gpu else None
            )
            self.evaluator = GatheringEvaluator(self.evaluator)
            # every rank loads the checkpoint that rank 0 writes
            name = [self.saved_model_file]
            dist.broadcast_object_list(name, src=0)
            self.saved_model_file = name[0]
        self.history = []
        self.resumed_seconds = 0.0  # training wall time of the runs a training_state continues

    def _build_optimizer(self, **kwargs):
        optimizer = super()._build_optimizer(**kwargs)
        if self.config["shared_updates"] == "twice" and "params" not in kwargs:
            update_twice(optimizer, self.model.twice_updated_parameters())
        return optimizer

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
        return valid_score, valid_result

    def evaluate(self, eval_data, load_best_model=True, model_file=None, show_progress=False):
        self._history_source = None
        # non-sequential models keep RecBole's own masking of their training history
        if (self.config["history_mask"] != "none" and isinstance(eval_data, FullSortEvalDataLoader)
                and eval_data.is_sequential):
            self._history_source = eval_data._dataset
            if not hasattr(self._history_source, "history_index"):
                raise ValueError(
                    f"history_mask '{self.config['history_mask']}' needs a sequential model "
                    f"without a dataset class of its own; {self.config['model']} has one"
                )
        if isinstance(self.evaluator, GatheringEvaluator):
            self.evaluator.sample_size = eval_data.sample_size
            if load_best_model:
                dist.barrier()  # rank 0 may still be writing it
        with pickled_checkpoints():
            return super().evaluate(eval_data, load_best_model, model_file, show_progress)

    def _map_reduce(self, result, num_sample):
        return result  # GatheringEvaluator already computed the metrics over every rank's users

    def fit(self, train_data, valid_data=None, verbose=True, saved=True, show_progress=False,
            callback_fn=None):
        state_file = self.config["training_state"]
        if not state_file:  # (some RecBole trainers' fit takes no callback_fn)
            extra = {"callback_fn": callback_fn} if callback_fn else {}
            return super().fit(train_data, valid_data, verbose, saved, show_progress, **extra)
        if not self.config["single_spec"]:
            raise ValueError("training_state works in single-process runs only (not with --nproc)")
        if not saved or not valid_data:
            raise ValueError("training_state needs validation data and a saved best model")
        state_file, start = Path(state_file), time.time()
        if state_file.is_file():
            self._restore_training_state(state_file, train_data)
            if self.start_epoch >= self.epochs or self.cur_step > self.stopping_step:
                state_file.unlink()  # the state of a run that had already ended
                return self.best_valid_score, self.best_valid_result

        def save_state(epoch_idx, valid_score):
            self._save_training_state(state_file, epoch_idx, train_data, time.time() - start)
            if callback_fn:
                callback_fn(epoch_idx, valid_score)

        result = super().fit(train_data, valid_data, verbose, saved, show_progress, save_state)
        state_file.unlink(missing_ok=True)
        return result

    def _save_training_state(self, path, epoch_idx, train_data, seconds):
        state = {
            "config": self.config,
            "epoch": epoch_idx,
            "cur_step": self.cur_step,
            "best_valid_score": self.best_valid_score,
            "best_valid_result": self.best_valid_result,
            "best_model_file": self.saved_model_file,
            "state_dict": self.model.state_dict(),
            "other_parameter": self.model.other_parameter(),
            "optimizer": self.optimizer.state_dict(),
            "history": self.history,
            "train_seconds": self.resumed_seconds + seconds,
            "random": {
                "python": random.getstate(),
                "numpy": np.random.get_state(),
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
                "loader": train_data.generator.get_state(),
            },
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as partial:
            torch.save(state, partial)

    def _restore_training_state(self, path, train_data):
        state = read_training_state(path, self.config, self.model)
        # RecBole's part: weights, optimizer, epoch and early-stopping counters
        self.resume_checkpoint(path)
        self.best_valid_result = state["best_valid_result"]
        self.saved_model_file = state["best_model_file"]  # the run it continues wrote it
        self._written.add(self.saved_model_file)
        self.history = state["history"]
        self.resumed_seconds = state["train_seconds"]
        rng = state["random"]
        random.setstate(rng["python"])
        np.random.set_state(rng["numpy"])
        torch.set_rng_state(rng["torch"])
        if rng["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        train_data.generator.set_state(rng["loader"])

    def resume_checkpoint(self, resume_file):
        own_file = self.saved_model_file  # RecBole would go on writing into resume_file
        with pickled_checkpoints():
            super().resume_checkpoint(resume_file)
        self.saved_model_file = own_file

    def _save_checkpoint(self, epoch, verbose=True, **kwargs):
        if not self.config["single_spec"] and self.config["local_rank"] != 0:
            return
        path = str(kwargs.pop("saved_model_file", self.saved_model_file))
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            with atomic_path(path, exclusive=path not in self._written) as partial:
                super()._save_checkpoint(epoch, verbose=False, saved_model_file=str(partial),
                                         **kwargs)
        except FileExistsError:
            raise ValueError(f"{path} exists and was not written by this run: not replacing it")\
                from None
        self._written.add(path)
        if verbose:
            self.logger.info(set_color("Saving current", "blue") + f": {path}")

    def _full_sort_batch_eval(self, batched_data):
        if self._history_source is None:
            return super()._full_sort_batch_eval(batched_data)
        interaction, _, positive_u, positive_i = batched_data
        history_index = self._history_source.history_index(interaction)
        if self.config["history_mask"] == "exclude":
            return super()._full_sort_batch_eval(
                (interaction, history_index, positive_u, positive_i)
            )
        scores = self.model.full_sort_predict(interaction.to(self.device))
        scores = scores.view(-1, self.tot_item_num)
        scores[history_index] = 0.0
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
