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
from recbole.model.abstract_recommender import SequentialRecommender
from recbole.utils import InputType

from recbole_elecrec.distributed import global_divisor
from recbole_elecrec.model.network import SASRecNetwork, init_weights
from recbole_elecrec.model.sampler import GeneratorSampler
from recbole_elecrec.optim import SHARED_UPDATES, shared_parameters


class ELECRec(SequentialRecommender):
    r"""ELECRec trains a SASRec generator with full-softmax next-item prediction, replaces a share
    of the true next items with the generator's samples, and trains a SASRec discriminator to tell
    at every position whether the item there is the true next item. Only the discriminator ranks.

    NOTE:
        Sequences are handled right-aligned, the most recent item at the last of
        ``MAX_ITEM_LIST_LENGTH`` positions, with position ids counted from the left edge of that
        window (``seq_alignment: reference``, as the authors' code and weights). With
        ``seq_alignment: recbole`` position 0 is the first item, as in RecBole's SASRec: outputs
        at real positions are then those of a left-aligned sequence, and the authors' weights no
        longer apply.

        Two behaviours of the reference code are off by default and can be switched on to train
        exactly as the authors' code: ``gen_loss_on_padding`` (padded positions enter the
        generator's cross-entropy as item 0) and ``replace_padding`` (the sampler also writes
        drawn items into padded positions, which the discriminator then attends to). With both
        off, all-padding columns and padded positions cost nothing.

        The reference draws replacements from its item table's unused mask row too; this model's
        item table has no such row.
    """

    input_type = InputType.POINTWISE

    SHARED_TYPES = ("none", "embed_only", "encoder_only", "full")
    PROJECT_TYPES = ("affine", "sum")
    DIS_OPT_VERSIONS = ("full", "mask_only")
    ALIGNMENTS = ("reference", "recbole")
    RANKING_CHUNK = 256  # rows encoded together when ranking

    def __init__(self, config, dataset):
        super().__init__(config, dataset)
        self.check_config(config)

        # load parameters info
        self.model_shared_type = config["model_shared_type"]
        self.project_type = config["project_type"]
        self.temperature = config["temperature"]
        self.dis_opt_version = config["dis_opt_version"]
        self.gen_loss_weight = config["gen_loss_weight"]
        self.dis_loss_weight = config["dis_loss_weight"]
        self.seq_alignment = config["seq_alignment"]
        self.gen_loss_on_padding = config["gen_loss_on_padding"]
        self.replace_padding = config["replace_padding"]
        self.length_bucket_rows = config["length_bucket_rows"]
        # the trainer switches the discriminator off during generator warm-up
        self.train_discriminator = True
        # statistics of the last training step, read by the trainer
        self.step_stats = {}

        # define layers
        self.generator = SASRecNetwork.from_config(config, "gen", self.n_items, self.max_seq_length)
        self.discriminator = SASRecNetwork.from_config(
            config, "dis", self.n_items, self.max_seq_length
        )
        self.dis_projection = (
            nn.Linear(config["dis_hidden_size"], 1) if self.project_type == "affine" else None
        )
        self.sampler = GeneratorSampler(
            sample_ratio=config["sample_ratio"],
            prob_power=config["prob_power"],
            item_sample_ratio=config["item_sample_ratio"],
            method=config["sampling_method"],
        )

        # parameters initialization (shared modules end up with the generator's init)
        self.discriminator.apply(lambda m: init_weights(m, config["dis_initializer_range"]))
        if self.dis_projection is not None:
            init_weights(self.dis_projection, config["dis_initializer_range"])
        self.generator.apply(lambda m: init_weights(m, config["gen_initializer_range"]))
        self._share_modules()

    @classmethod
    def check_config(cls, config):
        """Reject out-of-range or inconsistent settings with one clear message."""

        def one_of(key, allowed):
            if config[key] not in allowed:
                raise ValueError(f"{key} must be one of {list(allowed)}, got '{config[key]}'")

        one_of("model_shared_type", cls.SHARED_TYPES)
        one_of("project_type", cls.PROJECT_TYPES)
        one_of("dis_opt_version", cls.DIS_OPT_VERSIONS)
        one_of("seq_alignment", cls.ALIGNMENTS)
        one_of("sampling_method", GeneratorSampler.METHODS)
        one_of("shared_updates", SHARED_UPDATES)
        if not 0.0 <= config["sample_ratio"] <= 1.0:
            raise ValueError(f"sample_ratio must be in [0, 1], got {config['sample_ratio']}")
        if not config["prob_power"] > 0:
            raise ValueError(f"prob_power must be > 0, got {config['prob_power']}")
        if not 0.0 < config["item_sample_ratio"] <= 1.0:
            raise ValueError(
                f"item_sample_ratio must be in (0, 1], got {config['item_sample_ratio']}"
            )
        if config["project_type"] == "sum" and not config["temperature"] > 0:
            raise ValueError(f"temperature must be > 0, got {config['temperature']}")
        shared = config["model_shared_type"]
        keys = {"embed_only": ["hidden_size"], "encoder_only": ["hidden_size", "n_layers",
                "n_heads", "inner_size"]}
        keys["full"] = keys["encoder_only"]
        for key in keys.get(shared, []):
            if config[f"gen_{key}"] != config[f"dis_{key}"]:
                raise ValueError(
                    f"model_shared_type '{shared}' needs gen_{key} == dis_{key}, got "
                    f"{config[f'gen_{key}']} and {config[f'dis_{key}']}"
                )

    def _share_modules(self):
        if self.model_shared_type in ("embed_only", "full"):
            self.discriminator.item_embedding = self.generator.item_embedding
            self.discriminator.position_embedding = self.generator.position_embedding
        if self.model_shared_type in ("encoder_only", "full"):
            self.discriminator.trm_encoder = self.generator.trm_encoder

    def twice_updated_parameters(self):
        """What the reference optimizer updates twice a step (``shared_updates: twice``): the
        parameters generator and discriminator share, which its concatenated list holds twice."""
        return shared_parameters(self.generator, self.discriminator)

    # ------------------------------------------------------------------ sequence layout
    def _right_align(self, seq, seq_len, width):
        """RecBole's left-aligned rows [B L'] -> right-aligned in ``width`` columns, 0-padded left."""
        src = torch.arange(seq.size(1) - width, seq.size(1), device=seq.device)
        src = src.unsqueeze(0) - (seq.size(1) - seq_len).unsqueeze(1)  # [B W]
        return seq.gather(1, src.clamp(min=0)) * (src >= 0)

    def _position_ids(self, seq_len, width):
        """Position ids of the last ``width`` columns of the ``max_seq_length`` window."""
        pos = torch.arange(self.max_seq_length - width, self.max_seq_length, device=seq_len.device)
        pos = pos.unsqueeze(0).expand(seq_len.size(0), -1)
        if self.seq_alignment == "recbole":  # count from each sequence's first item
            pos = (pos - (self.max_seq_length - seq_len).unsqueeze(1)).clamp(min=0)
        return pos

    def _encode(self, network, item_seq, position_ids):
        return network(item_seq, position_ids, self.get_attention_mask(item_seq))  # [B W H]

    def _training_sequences(self, item_seq, seq_len, pos_item, width):
        """Right-aligned inputs and next-item targets at every position, [B width] each."""
        # item_seq followed by the target: inputs are its first, targets its last `width` items
        extended = F.pad(item_seq, (0, 1)).scatter(1, seq_len.unsqueeze(1), pos_item.unsqueeze(1))
        extended = self._right_align(extended, seq_len + 1, width + 1)
        inputs = extended[:, :-1]
        targets = extended[:, 1:] * (inputs > 0)
        return inputs, targets, self._position_ids(seq_len, width)

    def _training_chunks(self, interaction):
        """The batch as (inputs, targets, position_ids) chunks.

        With a reference padding quirk every position matters: one chunk, the full window.
        Otherwise rows are sorted by length and cut into chunks of ``length_bucket_rows``
        (0: one chunk), each only as wide as its longest row.
        """
        item_seq = interaction[self.ITEM_SEQ]
        seq_len = interaction[self.ITEM_SEQ_LEN]
        pos_item = interaction[self.POS_ITEM_ID]
        if self.gen_loss_on_padding or self.replace_padding:
            return [self._training_sequences(item_seq, seq_len, pos_item, self.max_seq_length)]
        order = torch.argsort(seq_len)
        size = self.length_bucket_rows or len(order)
        return [
            self._training_sequences(item_seq[rows], seq_len[rows], pos_item[rows],
                                     int(seq_len[rows].max()))
            for rows in order.split(size)
        ]

    # ------------------------------------------------------------------ training
    def _discriminator_logits(self, hidden):
        if self.project_type == "affine":
            return self.dis_projection(hidden).squeeze(-1)
        return hidden.sum(-1) / self.temperature

    def _discriminate(self, items, mask, positions):
        """The head's logits for ``items`` [N] laid at the ``mask`` [B W] positions of rows that
        are padding elsewhere, one per item."""
        dis_input = torch.zeros(mask.shape, dtype=items.dtype, device=items.device)
        dis_input[mask] = items
        hidden = self._encode(self.discriminator, dis_input, positions)
        return self._discriminator_logits(hidden[mask])

    def calculate_loss(self, interaction):
        chunks = self._training_chunks(interaction)
        # positions that need the generator's logits: every one if a quirk uses padding
        all_positions = self.gen_loss_on_padding or (
            self.train_discriminator and self.replace_padding
        )
        masks = [torch.ones_like(t, dtype=torch.bool) if all_positions else t > 0
                 for _, t, _ in chunks]
        targets = torch.cat([t[m] for (_, t, _), m in zip(chunks, masks)])  # [N]
        is_target = targets > 0
        gen_scored = is_target if all_positions and not self.gen_loss_on_padding else None
        # losses are sums over positions divided by these (means, also over a distributed batch)
        gen_divisor, dis_divisor = global_divisor(
            targets.new_tensor(len(targets)) if gen_scored is None else gen_scored.sum(),
            is_target.sum(),
        )

        # 1. generator: next-item cross-entropy over the item table
        hidden = torch.cat([self._encode(self.generator, inputs, positions)[m]
                            for (inputs, _, positions), m in zip(chunks, masks)])
        logits = hidden @ self.generator.item_embedding.weight.t()  # [N n_items]
        if gen_scored is None:
            gen_loss = F.cross_entropy(logits, targets, reduction="sum") / gen_divisor
        else:
            gen_loss = F.cross_entropy(logits[gen_scored], targets[gen_scored], reduction="sum")
            gen_loss = gen_loss / gen_divisor
        self.step_stats = {"gen_loss": gen_loss.detach()}
        if not self.train_discriminator:
            return self.gen_loss_weight * gen_loss, torch.zeros_like(gen_loss)

        # 2. sampler: replace a share of the targets with the generator's proposals
        with torch.no_grad():
            logits = logits.detach()
            if self.replace_padding:
                drawn = self.sampler.sample_items(logits)
            else:
                drawn = torch.zeros_like(targets)
                drawn[is_target] = self.sampler.sample_items(
                    logits[is_target] if all_positions else logits
                )
            keep = self.sampler.keep_mask(targets)
            if not self.replace_padding:
                keep |= ~is_target
            sampled = torch.where(keep, targets, drawn)
            label = (sampled == targets).float()

        # 3. discriminator: is the item at each position the true next item?
        logit, offset = [], 0
        for (_, _, positions), m in zip(chunks, masks):
            count = int(m.sum())
            logit.append(self._discriminate(sampled[offset:offset + count], m, positions))
            offset += count
        prob = torch.sigmoid(torch.cat(logit)) + 1e-24
        weight = is_target.float()
        if self.dis_opt_version == "mask_only":
            weight = weight * (~keep).float()
        bce = label * torch.log(prob) + (1 - label) * torch.log(1 - prob)
        dis_loss = -(bce * weight).sum() / dis_divisor

        with torch.no_grad():
            kept, replaced = is_target & (label > 0), is_target & (label == 0)
            self.step_stats.update(
                dis_loss=dis_loss.detach(),
                targets=is_target.sum(),
                replaced=replaced.sum(),
                kept_correct=(prob[kept] > 0.5).sum(),
                replaced_correct=(prob[replaced] <= 0.5).sum(),
            )
        return self.gen_loss_weight * gen_loss, self.dis_loss_weight * dis_loss

    # ------------------------------------------------------------------ ranking
    def forward(self, item_seq, item_seq_len):
        """The discriminator's hidden state at the most recent item, [B H].

        Rows are encoded in chunks of similar length, each only as wide as its longest row:
        padding never changes a real position's state, so this only saves work.
        """
        order = torch.argsort(item_seq_len)
        outputs = []
        for rows in order.split(self.RANKING_CHUNK):
            seq_len = item_seq_len[rows]
            width = int(seq_len.max())
            inputs = self._right_align(item_seq[rows], seq_len, width)
            hidden = self._encode(self.ranker, inputs, self._position_ids(seq_len, width))
            outputs.append(hidden[:, -1])
        return torch.cat(outputs)[torch.argsort(order)]

    @property
    def ranker(self):
        """The network that scores items: ELECRec's discriminator."""
        return self.discriminator

    def predict(self, interaction):
        seq_output = self.forward(interaction[self.ITEM_SEQ], interaction[self.ITEM_SEQ_LEN])
        test_item_emb = self.ranker.item_embedding(interaction[self.ITEM_ID])
        return (seq_output * test_item_emb).sum(-1)  # [B]

    def full_sort_predict(self, interaction):
        seq_output = self.forward(interaction[self.ITEM_SEQ], interaction[self.ITEM_SEQ_LEN])
        return seq_output @ self.ranker.item_embedding.weight.t()  # [B n_items]


class SASRecPlus(ELECRec):
    r"""SASRec+ of the ELECRec paper: SASRec trained with full-softmax cross-entropy at every
    position of one row per user. It is ELECRec's generator alone (same settings, ``gen_*``,
    same data and padding switches), which here also ranks.
    """

    def __init__(self, config, dataset):
        super().__init__(config, dataset)
        self.train_discriminator = False
        del self.discriminator, self.dis_projection

    def calculate_loss(self, interaction):
        return super().calculate_loss(interaction)[0]

    def twice_updated_parameters(self):
        """With ``shared_updates: twice``, every parameter: the control for ELECRec's doubled
        update of the weights it shares."""
        return list(self.parameters())

    @property
    def ranker(self):
        return self.generator
