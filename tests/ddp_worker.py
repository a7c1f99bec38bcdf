"""Process bodies for the distributed tests (spawned, so they live in an importable module)."""

import json

import torch
from recbole.data.interaction import Interaction

from conftest import small_settings
from recbole_elecrec.distributed import finish


class OneBatch(list):
    """A 'data loader' holding given batches, for one controlled training step."""

    shuffle = False


def deterministic_sampler(model):
    """Draw the generator's top item; keep targets whose id is not divisible by 3."""
    model.sampler.draw = lambda logits: logits.argmax(-1)
    model.sampler.keep_mask = lambda targets: targets % 3 != 0


STEP_SETTINGS = dict(gen_hidden_dropout_prob=0.0, gen_attn_dropout_prob=0.0,
                     dis_hidden_dropout_prob=0.0, dis_attn_dropout_prob=0.0, learner="sgd",
                     learning_rate=0.5)


def build_trainer(data_path, dataset, rank=None, world=None, port=None, **overrides):
    from recbole_elecrec.quick_start import build

    settings = small_settings(data_path, **overrides)
    if rank is not None:
        settings.update(local_rank=rank, world_size=world, ip="127.0.0.1", port=port,
                        nproc=world, offset=0)
    return build("ELECRec", dataset, config_dict=settings)


def one_step(rank, world, port, data_path, batch_file, out_file, settings):
    """One training step on this rank's half of a global batch; saves the resulting weights."""
    _, trainer, _ = build_trainer(data_path, "tiny", rank, world, port, **settings)
    deterministic_sampler(trainer.model)
    batch = Interaction(torch.load(batch_file))
    half = len(batch) // world
    trainer._train_epoch(OneBatch([batch[torch.arange(rank * half, (rank + 1) * half)]]), 0)
    if rank == 0:
        torch.save(trainer.model.state_dict(), out_file)
    finish(trainer)


def evaluate(rank, world, port, data_path, dataset, state_file, out_file, history_mask):
    """Evaluate given weights on the test split, data split over the ranks."""
    _, trainer, (_, _, test) = build_trainer(data_path, dataset, rank, world, port,
                                             history_mask=history_mask)
    trainer.model.load_state_dict(torch.load(state_file))
    result = trainer.evaluate(test, load_best_model=False)
    if rank == 0:
        with open(out_file, "w") as f:
            json.dump({"test": dict(result), "by_protocol": trainer.by_protocol,
                       "check": trainer.history_check}, f)
    finish(trainer)
