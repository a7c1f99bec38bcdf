"""RecBole's sequential models as the generator and discriminator networks (``backbone``).

A backbone network is an instance of RecBole's own model class, built and initialized with that
model's settings (RecBole's ``properties/model/<Backbone>.yaml``, overridable as usual); only its
encoder is used, under this package's losses. Its layout depends on what the encoder gives:

- ``positions`` (GRU4Rec, NextItNet): a causal hidden state at every position. One row per user,
  left-aligned as RecBole lays out sequences, a next-item target at every position.
- ``prefix`` (NARM, STAMP, LightSANs, SRGNN, GCSAN): one state per sequence. RecBole's prefix
  rows, one target per row.

A backbone whose RecBole training adds a regularizer to its loss (NextItNet, GCSAN: ``reg_weight``)
adds it to each network's loss here too: under sharing, a shared weight is regularized by both.

SASRec, the default, is this package's own network (``network.SASRecNetwork``), on one
right-aligned row per user (the authors' layout).
"""

from pathlib import Path
from typing import Callable, NamedTuple, Optional

import recbole
import recbole_elecrec.model.zoo  # noqa: F401 (first: RecBole's models, side effect off)
from recbole.model.sequential_recommender import (
    GCSAN, GRU4Rec, LightSANs, NARM, NextItNet, SRGNN, STAMP,
)
from torch import nn


def gru4rec_states(network, item_seq):
    """GRU4Rec's output at every position (its ``forward`` keeps the last real one)."""
    output, _ = network.gru_layers(network.emb_dropout(network.item_embedding(item_seq)))
    return network.dense(output)


def nextitnet_states(network, item_seq):
    """NextItNet's output at every position (its ``forward`` keeps the last column)."""
    return network.final_layer(network.residual_blocks(network.item_embedding(item_seq)))


def nextitnet_regularizer(network):
    """What NextItNet's ``calculate_loss`` adds: L2 of the embedding and output weights, and of
    the residual blocks, each weighted by ``reg_weight``."""
    weights = [network.item_embedding.weight, network.final_layer.weight]
    return network.reg_weight * network.reg_loss(weights) + network.reg_loss_rb()


def gcsan_regularizer(network):
    """What GCSAN's ``calculate_loss`` adds: ``reg_weight`` x L2 of the item embeddings."""
    return network.reg_weight * network.reg_loss(network.item_embedding.weight).squeeze(0)


class Backbone(NamedTuple):
    model: type  # RecBole's model class
    states: Optional[Callable] = None  # (network, left-aligned item_seq) -> [B L H]; None: prefix
    # network -> the term RecBole's own training adds to the model's loss (None: nothing)
    regularizer: Optional[Callable] = None

    @property
    def layout(self):
        return "positions" if self.states else "prefix"


DEFAULT = "SASRec"
BACKBONES = {
    "GRU4Rec": Backbone(GRU4Rec, gru4rec_states),
    "NextItNet": Backbone(NextItNet, nextitnet_states, nextitnet_regularizer),
    "NARM": Backbone(NARM),
    "STAMP": Backbone(STAMP),
    "LightSANs": Backbone(LightSANs),
    "SRGNN": Backbone(SRGNN),
    "GCSAN": Backbone(GCSAN, regularizer=gcsan_regularizer),
}
SUPPORTED = (DEFAULT, *BACKBONES)


def layout(name):
    """``right_aligned`` (SASRec), ``positions`` or ``prefix``: see the module's docstring."""
    return "right_aligned" if name == DEFAULT else BACKBONES[name].layout


def regularization(name, network):
    """The regularizer of backbone ``name`` on ``network``: what RecBole's own training of that
    model adds to its loss (0 where it adds nothing)."""
    backbone = BACKBONES.get(name)
    return backbone.regularizer(network) if backbone and backbone.regularizer else 0.0


def settings_file(name):
    """RecBole's settings of backbone ``name``, or None (SASRec's are the ``gen_``/``dis_`` ones,
    and an unsupported name is refused when the settings are checked)."""
    if not isinstance(name, str) or name not in BACKBONES:
        return None
    return Path(recbole.__file__).parent / "properties" / "model" / f"{name}.yaml"


def shared_parts(network):
    """(embedding parts, encoder parts) of a network: the attribute names that ELECRec's
    ``model_shared_type`` ties between generator and discriminator.

    A RecBole network's embedding parts are its embedding tables; its encoder is every other
    part that holds weights, so ``full`` ties the whole network.
    """
    if hasattr(network, "SHARED_PARTS"):
        return network.SHARED_PARTS
    embeddings = tuple(n for n, m in network.named_children() if isinstance(m, nn.Embedding))
    encoder = tuple(n for n, m in network.named_children()
                    if n not in embeddings and any(True for _ in m.parameters()))
    return embeddings, encoder + tuple(n for n, _ in network.named_parameters(recurse=False))
