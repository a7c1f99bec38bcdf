"""
SASRecPlus
################################################

Reference:
    Yongjun Chen, Jia Li, Caiming Xiong. "ELECRec: Training Sequential Recommenders as
    Discriminators." In SIGIR 2022 (its "SASRec+" baseline).
"""

from typing import NamedTuple

import torch
import torch.nn.functional as F
from recbole.model.abstract_recommender import SequentialRecommender
from recbole.utils import InputType

from recbole_elecrec.model import backbones
from recbole_elecrec.model.global_batch import global_divisor
from recbole_elecrec.model.item_softmax import chunk_rows, item_softmax
from recbole_elecrec.model.network import SASRecNetwork, init_weights
from recbole_elecrec.memory import check_memory

# precision: the dtype of the training step's products (None: float32)
PRECISIONS = {"float32": None, "bf16": torch.bfloat16}


def expected_device(config):
    """The model's device: ``config["device"]``, or where settings are checked before RecBole
    sets it, the one it will pick (a GPU if one is named and present)."""
    if config["device"] is not None:
        return torch.device(config["device"])
    gpu = config["use_gpu"] and str(config["gpu_id"] or "") and torch.cuda.is_available()
    return torch.device("cuda" if gpu else "cpu")


def has_bf16(device):
    """Whether ``device`` multiplies in bf16 natively: a CPU with AVX-512-BF16 or AMX, a CUDA GPU
    with bf16. Elsewhere torch emulates it, slower than float32."""
    device = torch.device(device)
    if device.type == "cpu":
        return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    return device.type == "cuda" and torch.cuda.is_bf16_supported(including_emulation=False)


class TrainingRows(NamedTuple):
    """A batch laid out for training: chunks of rows, and the positions that are scored."""

    chunks: list  # (inputs [B W], next-item targets [B W], position ids [B W] or None) per chunk
    masks: list  # [B W] bool per chunk: the positions whose outputs are used
    targets: torch.Tensor  # [N] the targets at those positions, chunk by chunk (0 = padding)
    # the losses' divisors (see global_divisor), from one all-reduce a step under DDP:
    real_divisor: torch.Tensor  # real targets (> 0)
    scored_divisor: torch.Tensor  # targets in the generator's loss (also padding, if it counts)


class SASRecPlus(SequentialRecommender):
    r"""SASRec+ of the ELECRec paper: SASRec trained with full-softmax cross-entropy at every
    position of one row per user. It is ELECRec's generator, which here also ranks (same
    ``gen_*`` settings, data and padding switches).

    NOTE:
        Sequences are handled right-aligned, the most recent item at the last of
        ``MAX_ITEM_LIST_LENGTH`` positions, with position ids counted from the left edge of that
        window (``seq_alignment: reference``, as the authors' code and weights). With
        ``seq_alignment: recbole`` position 0 is the first item, as in RecBole's SASRec.

        ``gen_loss_on_padding`` (off by default) is the reference code's treatment of padded
        positions: they enter the cross-entropy as item 0. With it off, padded positions cost
        nothing and rows are encoded in length buckets (``length_bucket_rows``).

        With ``backbone`` another RecBole sequential model replaces the SASRec network, in the
        layout its encoder allows (``model/backbones.py``): one left-aligned row per user with a
        target at every position, or RecBole's prefix rows with one target per row.
    """

    input_type = InputType.POINTWISE

    ALIGNMENTS = ("reference", "recbole")
    RANKING_CHUNK = 256  # rows encoded together when ranking

    def __init__(self, config, dataset):
        super().__init__(config, dataset)

        # load parameters info
        self.gen_loss_weight = config["gen_loss_weight"]
        self.seq_alignment = config["seq_alignment"]
        self.gen_loss_on_padding = config["gen_loss_on_padding"]
        self.length_bucket_rows = config["length_bucket_rows"]
        self.softmax_chunk_rows = chunk_rows(config["softmax_chunk_rows"], self.n_items,
                                             config["device"])
        self.backbone = config["backbone"]
        self.layout = backbones.layout(self.backbone)
        self.low_precision = PRECISIONS[config["precision"]]
        # statistics of the last training step, read by the trainer
        self.step_stats = {}

        # define layers and initialize them
        self.generator = self._network(config, dataset, "gen")
        self._init_network(self.generator, config, "gen")

    @classmethod
    def check_config(cls, config):
        """Reject out-of-range or inconsistent settings with one clear message (``rules``
        runs it once, with the rules every model's settings share: ranges, the trainer's)."""
        cls.one_of(config, "seq_alignment", cls.ALIGNMENTS)
        cls.one_of(config, "backbone", backbones.SUPPORTED)
        backbone = config["backbone"]
        cls.one_of(config, "precision", PRECISIONS)
        if config["precision"] == "bf16" and backbone != backbones.DEFAULT:
            raise ValueError(f"precision bf16 runs SASRec's encoders: it needs backbone SASRec, "
                             f"not {backbone}")
        if config["precision"] == "bf16" and not has_bf16(expected_device(config)):
            raise ValueError(f"precision bf16 needs a CPU with AVX-512-BF16 or AMX, or a CUDA GPU "
                             f"with bf16, and device {expected_device(config)} has neither: use "
                             f"precision float32")
        if backbone != backbones.DEFAULT and config["gen_loss_on_padding"]:
            raise ValueError(f"gen_loss_on_padding reproduces the authors' SASRec code: it needs "
                             f"backbone SASRec, not {backbone}")
        if backbones.layout(backbone) == "prefix" and not config["prefix_augmentation"]:
            raise ValueError(f"backbone {backbone} gives one state per sequence and trains on "
                             "RecBole's prefix rows: prefix_augmentation must be True")

    def _network(self, config, dataset, prefix):
        """A ``gen`` or ``dis`` network: SASRec from the ``{prefix}_*`` settings, or the
        backbone's RecBole model from its own."""
        if self.backbone == backbones.DEFAULT:
            sizes = (self.n_items, self.max_seq_length)
            check_memory(SASRecNetwork.training_bytes(config, prefix, *sizes), config["device"],
                         f"training its {prefix} network (weights, gradients, Adam's moments)",
                         f"{prefix}_hidden_size {config[f'{prefix}_hidden_size']} "
                         f"({prefix}_inner_size {config[f'{prefix}_inner_size']}, {prefix}_n_layers "
                         f"{config[f'{prefix}_n_layers']}, MAX_ITEM_LIST_LENGTH "
                         f"{self.max_seq_length}, {self.n_items} items)")
            return SASRecNetwork.from_config(config, prefix, *sizes)
        return backbones.BACKBONES[self.backbone].model(config, dataset)

    def _init_network(self, network, config, prefix):
        """SASRec's init, as the reference's; RecBole's models initialize themselves."""
        if self.backbone == backbones.DEFAULT:
            network.apply(lambda m: init_weights(m, config[f"{prefix}_initializer_range"]))

    @staticmethod
    def one_of(config, key, allowed):
        if config[key] not in allowed:
            raise ValueError(f"{key} must be one of {list(allowed)}, got '{config[key]}'")

    def twice_updated_parameters(self):
        """With ``shared_updates: twice``, every parameter: the control for ELECRec's doubled
        update of the weights its two networks share."""
        return list(self.parameters())

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
        """Inputs and next-item targets at every position, [B width] each, and position ids:
        right-aligned for SASRec; left-aligned, as RecBole's, for the other backbones (which
        take no position ids)."""
        # item_seq followed by the target: inputs are its first, targets its last `width` items
        extended = F.pad(item_seq, (0, 1)).scatter(1, seq_len.unsqueeze(1), pos_item.unsqueeze(1))
        if self.layout != "right_aligned":
            inputs = item_seq[:, :width]
            return inputs, extended[:, 1:width + 1] * (inputs > 0), None
        extended = self._right_align(extended, seq_len + 1, width + 1)
        inputs = extended[:, :-1]
        targets = extended[:, 1:] * (inputs > 0)
        return inputs, targets, self._position_ids(seq_len, width)

    def _uses_padding(self):
        """Whether padded positions take part in training (a reference quirk is on)."""
        return self.gen_loss_on_padding

    def training_rows(self, interaction):
        """The batch laid out for training.

        When padded positions take part, every position is scored: one chunk, the full window.
        Otherwise rows are sorted by length and cut into chunks of ``length_bucket_rows``
        (0: one chunk), each only as wide as its longest row, and real targets are scored
        (the chunks' dropout masks are drawn per chunk: with dropout, another chunk size is
        another random draw, as another seed is; without, the same loss). In the prefix layout only each row's last target is scored, in one full-window chunk:
        the backbone sees the rows exactly as RecBole gives them.
        """
        item_seq = interaction[self.ITEM_SEQ]
        seq_len = interaction[self.ITEM_SEQ_LEN]
        pos_item = interaction[self.POS_ITEM_ID]
        if self.layout == "prefix":
            chunks = [self._training_sequences(item_seq, seq_len, pos_item, item_seq.size(1))]
            masks = [F.one_hot(seq_len - 1, item_seq.size(1)).bool()]
        elif self._uses_padding():
            chunks = [self._training_sequences(item_seq, seq_len, pos_item, self.max_seq_length)]
            masks = [torch.ones_like(chunks[0][1], dtype=torch.bool)]
        else:
            order = torch.argsort(seq_len)
            size = self.length_bucket_rows or len(order)
            chunks = [
                self._training_sequences(item_seq[rows], seq_len[rows], pos_item[rows],
                                         int(seq_len[rows].max()))
                for rows in order.split(size)
            ]
            masks = [targets > 0 for _, targets, _ in chunks]
        targets = torch.cat([t[m] for (_, t, _), m in zip(chunks, masks)])
        real = (targets > 0).sum()
        scored = targets.new_tensor(targets.numel()) if self.gen_loss_on_padding else real
        return TrainingRows(chunks, masks, targets, *global_divisor(real, scored))

    def _scored_states(self, network, inputs, positions, mask):
        """The network's hidden states at the scored positions ``mask`` of a chunk, [n H]: under
        ``precision: bf16`` the encoder runs under autocast and its states return to float32."""
        if self.low_precision is None:
            return self._states_at(network, inputs, positions, mask)
        with torch.autocast(self.device.type, self.low_precision):
            states = self._states_at(network, inputs, positions, mask)
        return states.float()

    def _states_at(self, network, inputs, positions, mask):
        if self.layout == "prefix":  # one state per row: at its last item, the scored one
            return network(inputs, mask.long().argmax(1) + 1)
        if self.layout == "positions":
            return backbones.BACKBONES[self.backbone].states(network, inputs)[mask]
        return self._encode(network, inputs, positions)[mask]

    # ------------------------------------------------------------------ training
    def generator_states(self, rows):
        """The generator's hidden states at the scored positions of ``rows``, [N H]."""
        return torch.cat([self._scored_states(self.generator, inputs, positions, mask)
                          for (inputs, _, positions), mask in zip(rows.chunks, rows.masks)])

    def generator_loss(self, rows, hidden, draw=None, sampler=None):
        """Next-item cross-entropy over the item table at the states ``hidden`` [N H], a mean over
        the scored targets (padded positions count as item 0 under ``gen_loss_on_padding``), and
        one item drawn by ``sampler`` at each position where ``draw`` [N] is True. The softmax is
        formed ``softmax_chunk_rows`` positions at a time (``model/item_softmax.py``). Returns
        (loss, drawn items in position order)."""
        scored = rows.targets > 0
        if self.gen_loss_on_padding:
            scored = torch.ones_like(scored)
        total, drawn = item_softmax(hidden, self.generator.item_embedding.weight, rows.targets,
                                    scored, draw, sampler, self.softmax_chunk_rows,
                                    self.low_precision)
        loss = total / rows.scored_divisor
        self.step_stats = {"gen_loss": loss.detach()}
        return loss, drawn

    def calculate_loss(self, interaction):
        rows = self.training_rows(interaction)
        gen_loss, _ = self.generator_loss(rows, self.generator_states(rows))
        return self.gen_loss_weight * (gen_loss + self.regularization(self.generator))

    def regularization(self, network):
        """The backbone's own regularizer of ``network`` (NextItNet's, GCSAN's), part of that
        network's loss; 0 for the others."""
        return backbones.regularization(self.backbone, network)

    # ------------------------------------------------------------------ ranking
    @property
    def ranker(self):
        """The network that scores items."""
        return self.generator

    def forward(self, item_seq, item_seq_len):
        """The ranking network's hidden state at the most recent item, [B H].

        SASRec's rows are encoded in chunks of similar length, each only as wide as its longest
        row: padding never changes a real position's state, so this only saves work. A
        ``positions`` backbone reads the batch up to its longest row (it is causal), a
        ``prefix`` one the batch as RecBole gives it.
        """
        if self.layout == "prefix":
            return self.ranker(item_seq, item_seq_len)
        if self.layout == "positions":
            inputs = item_seq[:, :int(item_seq_len.max())]
            states = backbones.BACKBONES[self.backbone].states(self.ranker, inputs)
            return self.gather_indexes(states, item_seq_len - 1)
        order = torch.argsort(item_seq_len)
        outputs = []
        for rows in order.split(self.RANKING_CHUNK):
            seq_len = item_seq_len[rows]
            width = int(seq_len.max())
            inputs = self._right_align(item_seq[rows], seq_len, width)
            hidden = self._encode(self.ranker, inputs, self._position_ids(seq_len, width))
            outputs.append(hidden[:, -1])
        return torch.cat(outputs)[torch.argsort(order)]

    def predict(self, interaction):
        seq_output = self.forward(interaction[self.ITEM_SEQ], interaction[self.ITEM_SEQ_LEN])
        test_item_emb = self.ranker.item_embedding(interaction[self.ITEM_ID])
        return (seq_output * test_item_emb).sum(-1)  # [B]

    def full_sort_predict(self, interaction):
        seq_output = self.forward(interaction[self.ITEM_SEQ], interaction[self.ITEM_SEQ_LEN])
        return seq_output @ self.ranker.item_embedding.weight.t()  # [B n_items]
