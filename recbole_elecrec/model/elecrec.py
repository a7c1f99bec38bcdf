"""
ELECRec
################################################

Reference:
    Yongjun Chen, Jia Li, Caiming Xiong. "ELECRec: Training Sequential Recommenders as
    Discriminators." In SIGIR 2022.

Reference code:
    https://github.com/YChen1993/ELECRec
"""

import torch
import torch.nn.functional as F
from torch import nn

from recbole_elecrec.model import backbones
from recbole_elecrec.model.network import init_weights
from recbole_elecrec.model.sampler import GeneratorSampler
from recbole_elecrec.model.sasrec_plus import SASRecPlus
from recbole_elecrec.optim import shared_parameters


class ELECRec(SASRecPlus):
    r"""ELECRec trains a SASRec generator with full-softmax next-item prediction (SASRec+),
    replaces a share of the true next items with the generator's samples, and trains a SASRec
    discriminator to tell at every position whether the item there is the true next item. Only
    the discriminator ranks.

    NOTE:
        Layout, alignment and backbone are SASRec+'s. A second reference quirk is off by default
        and can be switched on, with ``gen_loss_on_padding``, to train exactly as the authors'
        code: ``replace_padding`` (the sampler also writes drawn items into padded positions, which
        the discriminator then attends to).

        The reference draws replacements from its item table's unused mask row too; this model's
        item table has no such row.
    """

    SHARED_TYPES = ("none", "embed_only", "encoder_only", "full")
    PROJECT_TYPES = ("affine", "sum")
    DIS_OPT_VERSIONS = ("full", "mask_only")
    SIZES = ("embedding_size", "hidden_size", "n_layers", "n_heads", "inner_size")

    def __init__(self, config, dataset):
        super().__init__(config, dataset)

        # load parameters info
        self.model_shared_type = config["model_shared_type"]
        self.project_type = config["project_type"]
        self.temperature = config["temperature"]
        self.dis_opt_version = config["dis_opt_version"]
        self.dis_loss_weight = config["dis_loss_weight"]
        self.replace_padding = config["replace_padding"]
        # the trainer switches the discriminator off during generator warm-up
        self.train_discriminator = True

        # define layers
        self.discriminator = self._network(config, dataset, "dis")
        hidden_size = self.discriminator.item_embedding.embedding_dim  # its states' size
        self.dis_projection = nn.Linear(hidden_size, 1) if self.project_type == "affine" else None
        self.sampler = GeneratorSampler(
            sample_ratio=config["sample_ratio"],
            prob_power=config["prob_power"],
            item_sample_ratio=config["item_sample_ratio"],
            method=config["sampling_method"],
        )

        # parameters initialization (shared modules keep the generator's)
        self._init_network(self.discriminator, config, "dis")
        if self.dis_projection is not None:
            init_weights(self.dis_projection, config["dis_initializer_range"])
        self._share_modules()

    @classmethod
    def check_config(cls, config):
        super().check_config(config)
        cls.one_of(config, "model_shared_type", cls.SHARED_TYPES)
        cls.one_of(config, "project_type", cls.PROJECT_TYPES)
        cls.one_of(config, "dis_opt_version", cls.DIS_OPT_VERSIONS)
        cls.one_of(config, "sampling_method", GeneratorSampler.METHODS)
        if not 0.0 <= config["sample_ratio"] <= 1.0:
            raise ValueError(f"sample_ratio must be in [0, 1], got {config['sample_ratio']}")
        if not config["prob_power"] > 0:
            raise ValueError(f"prob_power must be > 0, got {config['prob_power']}")
        if not 0.0 < config["item_sample_ratio"] <= 1.0:
            raise ValueError(
                f"item_sample_ratio must be in (0, 1], got {config['item_sample_ratio']}"
            )
        if config["backbone"] != backbones.DEFAULT:
            if config["replace_padding"]:
                raise ValueError("replace_padding reproduces the authors' SASRec code: it needs "
                                 f"backbone SASRec, not {config['backbone']}")
            return  # both networks take the backbone's settings: they always fit
        shared = config["model_shared_type"]
        sizes = {prefix: {key: config[f"{prefix}_{key}"] for key in cls.SIZES}
                 for prefix in ("gen", "dis")}
        for sizes_of in sizes.values():  # embedding_size ~: the hidden size
            sizes_of["embedding_size"] = sizes_of["embedding_size"] or sizes_of["hidden_size"]
        keys = {"none": [], "embed_only": ["embedding_size"],
                "encoder_only": ["hidden_size", "n_layers", "n_heads", "inner_size"]}
        keys["full"] = [*keys["encoder_only"], "embedding_size"]
        for key in keys[shared]:
            if sizes["gen"][key] != sizes["dis"][key]:
                raise ValueError(
                    f"model_shared_type '{shared}' needs gen_{key} == dis_{key}, got "
                    f"{sizes['gen'][key]} and {sizes['dis'][key]}"
                    + (" (embedding sizes default to the hidden sizes)"
                       if key == "embedding_size" else "")
                )

    def _share_modules(self):
        embeddings, encoder = backbones.shared_parts(self.generator)
        if self.model_shared_type in ("embed_only", "full"):
            for name in embeddings:
                setattr(self.discriminator, name, getattr(self.generator, name))
        if self.model_shared_type in ("encoder_only", "full"):
            for name in encoder:
                setattr(self.discriminator, name, getattr(self.generator, name))

    def twice_updated_parameters(self):
        """What the reference optimizer updates twice a step (``shared_updates: twice``): the
        parameters generator and discriminator share, which its concatenated list holds twice."""
        return shared_parameters(self.generator, self.discriminator)

    def _uses_padding(self):
        return self.gen_loss_on_padding or (self.train_discriminator and self.replace_padding)

    # ------------------------------------------------------------------ training
    def calculate_loss(self, interaction):
        rows = self.training_rows(interaction)
        hidden = self.generator_states(rows)
        if not self.train_discriminator:
            gen_loss, _ = self.generator_loss(rows, hidden)
            gen_loss = self.gen_loss_weight * (gen_loss + self.regularization(self.generator))
            return gen_loss, torch.zeros_like(gen_loss)
        keep = self.keep_mask(rows.targets)
        gen_loss, drawn = self.generator_loss(rows, hidden, ~keep,
                                              self.sampler)
        gen_loss = self.gen_loss_weight * (gen_loss + self.regularization(self.generator))
        dis_loss = self.discriminator_loss(rows, self.shown_items(rows.targets, keep, drawn), keep)
        return gen_loss, self.dis_loss_weight * (dis_loss + self.regularization(self.discriminator))

    def keep_mask(self, targets):
        """Where the true target stays, [N]: each position with probability 1 - ``sample_ratio``,
        and every padded position unless ``replace_padding``."""
        keep = self.sampler.keep_mask(targets)
        if not self.replace_padding:
            keep |= targets == 0
        return keep

    @staticmethod
    def shown_items(targets, keep, drawn):
        """The items the discriminator is shown at the scored positions, [N]: the true target
        where ``keep``, elsewhere the generator's draw (``drawn``, in position order)."""
        shown = targets.clone()
        shown[~keep] = drawn
        return shown

    def head_logits(self, rows, shown):
        """The discriminator head's logit at each scored position of ``rows`` when it reads the
        items ``shown`` [N] there (elsewhere the rows' targets: padding, or in prefix rows the true
        items), [N]."""
        logits, offset = [], 0
        for (_, targets, positions), mask in zip(rows.chunks, rows.masks):
            count = int(mask.sum())
            dis_input = targets.clone()  # the true items where nothing is scored (prefix rows)
            dis_input[mask] = shown[offset:offset + count]
            hidden = self._scored_states(self.discriminator, dis_input, positions, mask)  # [n H]
            if self.project_type == "affine":
                logits.append(self.dis_projection(hidden).squeeze(-1))
            else:
                logits.append(hidden.sum(-1) / self.temperature)
            offset += count
        return torch.cat(logits)

    def discriminator_loss(self, rows, shown, keep):
        """Binary cross-entropy of "is the item shown the true next item" (a drawn item that is
        the true one counts as true), summed over real targets (under ``mask_only``: those that
        went through the sampler) and divided by the number of real targets."""
        logits = self.head_logits(rows, shown)
        is_target = rows.targets > 0
        label = (shown == rows.targets).float()
        weight = is_target.float() if self.dis_opt_version == "full" else (is_target & ~keep).float()
        loss = F.binary_cross_entropy_with_logits(logits, label, weight, reduction="sum")
        loss = loss / rows.real_divisor
        with torch.no_grad():
            kept, replaced = is_target & (label > 0), is_target & (label == 0)
            self.step_stats.update(
                dis_loss=loss.detach(),
                targets=is_target.sum(),
                replaced=replaced.sum(),
                kept_correct=(logits[kept] > 0).sum(),
                replaced_correct=(logits[replaced] <= 0).sum(),
            )
        return loss

    @torch.no_grad()
    def probe_logits(self, interaction, uniform=False, last_only=False):
        """For diagnostics: the head's logits at the real targets of ``interaction``'s training
        rows (``last_only``: at each row's last one, e.g. a test row's test item) after the
        sampler's replacement, by generator draws or (``uniform``) random items.
        Returns (logits [N], is_true [N])."""
        rows = self.training_rows(interaction)
        masks = [m & (t > 0) for m, (_, t, _) in zip(rows.masks, rows.chunks)]
        if last_only:
            masks = [last_position(mask) for mask in masks]
        rows = rows._replace(masks=masks, targets=torch.cat(
            [t[m] for (_, t, _), m in zip(rows.chunks, masks)]))
        if uniform:
            draw = torch.randint(1, self.n_items, rows.targets.shape, device=rows.targets.device)
            keep = self.sampler.keep_mask(rows.targets)
            shown = torch.where(keep, rows.targets, draw)
        else:
            keep = self.keep_mask(rows.targets)
            _, drawn = self.generator_loss(rows, self.generator_states(rows),
                                           ~keep, self.sampler)
            shown = self.shown_items(rows.targets, keep, drawn)
        return self.head_logits(rows, shown), shown == rows.targets

    # ------------------------------------------------------------------ ranking
    @property
    def ranker(self):
        """The network that scores items: ELECRec's discriminator."""
        return self.discriminator


def last_position(mask):
    """Each row's last True position of ``mask`` [B W], alone (rows without one: none)."""
    columns = torch.arange(mask.size(1), device=mask.device).expand_as(mask)
    last = torch.where(mask, columns, -1).max(1).values
    return F.one_hot(last.clamp(min=0), mask.size(1)).bool() & (last >= 0).unsqueeze(1)
