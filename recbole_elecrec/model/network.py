"""The SASRec encoder that ELECRec's generator and discriminator are both made of."""

import torch
from torch import nn
from recbole.model.layers import MultiHeadAttention, TransformerEncoder

ATTENTIONS = ("fused", "recbole")


class FusedMultiHeadAttention(MultiHeadAttention):
    """RecBole's attention layer (its parameters, names, additive mask and attention dropout) with
    scores, softmax, dropout and weighted sum in one ``scaled_dot_product_attention`` call: where
    torch has a fused kernel for it (on CPU: without dropout) no [B heads L L] tensor is kept."""

    def forward(self, input_tensor, attention_mask):
        heads = [self.transpose_for_scores(layer(input_tensor)).transpose(1, 2)  # [B heads L d]
                 for layer in (self.query, self.key, self.value)]
        dropout = self.attn_dropout.p if self.training else 0.0
        context = nn.functional.scaled_dot_product_attention(
            *heads, attn_mask=attention_mask.to(input_tensor.dtype), dropout_p=dropout)
        context = context.transpose(1, 2).reshape(*input_tensor.shape[:-1], self.all_head_size)
        hidden_states = self.out_dropout(self.dense(context))
        return self.LayerNorm(hidden_states + input_tensor)


def fuse_attention(encoder):
    """Run ``encoder``'s (RecBole's TransformerEncoder) attention layers as
    ``FusedMultiHeadAttention``: their class changes, their parameters stay, so state_dicts and the
    seeded init are those of RecBole's layers."""
    for layer in encoder.layer:
        layer.multi_head_attention.__class__ = FusedMultiHeadAttention
    return encoder


class SASRecNetwork(nn.Module):
    """Item + position embedding -> LayerNorm -> dropout -> RecBole's TransformerEncoder, its
    attention ``fused`` (``FusedMultiHeadAttention``) or RecBole's own.

    Parameter names follow RecBole's SASRec, so the encoder part of a state_dict is
    interchangeable with it, whichever the attention.

    An ``embedding_size`` other than ``hidden_size`` adds ELECTRA's projections: the embeddings are
    mapped to the hidden size before the encoder and the states back to the embedding size after
    it, so a small generator can share a larger discriminator's item table.
    """

    # what ELECRec's model_shared_type ties (embed_only, encoder_only): the reference's choice,
    # in which the embeddings' LayerNorm stays each network's own
    SHARED_PARTS = (("item_embedding", "position_embedding"), ("trm_encoder",))

    def __init__(self, n_items, max_seq_length, hidden_size, n_layers, n_heads, inner_size,
                 hidden_dropout_prob, attn_dropout_prob, hidden_act, layer_norm_eps,
                 attention="recbole", embedding_size=None):
        super().__init__()
        embedding_size = embedding_size or hidden_size
        self.item_embedding = nn.Embedding(n_items, embedding_size, padding_idx=0)
        self.position_embedding = nn.Embedding(max_seq_length, embedding_size)
        projected = embedding_size != hidden_size
        self.embedding_projection = nn.Linear(embedding_size, hidden_size) if projected else None
        self.output_projection = nn.Linear(hidden_size, embedding_size) if projected else None
        self.trm_encoder = TransformerEncoder(
            n_layers=n_layers,
            n_heads=n_heads,
            hidden_size=hidden_size,
            inner_size=inner_size,
            hidden_dropout_prob=hidden_dropout_prob,
            attn_dropout_prob=attn_dropout_prob,
            hidden_act=hidden_act,
            layer_norm_eps=layer_norm_eps,
        )
        if attention == "fused":
            fuse_attention(self.trm_encoder)
        self.LayerNorm = nn.LayerNorm(embedding_size, eps=layer_norm_eps)
        self.dropout = nn.Dropout(hidden_dropout_prob)

    @classmethod
    def from_config(cls, config, prefix, n_items, max_seq_length):
        """Build from the ``{prefix}_*`` keys (``gen_`` or ``dis_``) and the shared ones."""
        return cls(
            n_items,
            max_seq_length,
            hidden_size=config[f"{prefix}_hidden_size"],
            n_layers=config[f"{prefix}_n_layers"],
            n_heads=config[f"{prefix}_n_heads"],
            inner_size=config[f"{prefix}_inner_size"],
            hidden_dropout_prob=config[f"{prefix}_hidden_dropout_prob"],
            attn_dropout_prob=config[f"{prefix}_attn_dropout_prob"],
            hidden_act=config["hidden_act"],
            layer_norm_eps=config["layer_norm_eps"],
            attention=config["attention"],
            embedding_size=config[f"{prefix}_embedding_size"],
        )

    @classmethod
    def training_bytes(cls, config, prefix, n_items, max_seq_length):
        """The bytes ``from_config`` makes a network of take to train with Adam (float32 weights,
        their gradients, two moments), counted on the meta device: nothing is allocated."""
        with torch.device("meta"):
            network = cls.from_config(config, prefix, n_items, max_seq_length)
        return 4 * 4 * sum(parameter.numel() for parameter in network.parameters())

    def forward(self, item_seq, position_ids, attention_mask):
        """States of every position, in the item embeddings' space [B L E].
        ``attention_mask``: additive, [B 1 L L]."""
        hidden = self.item_embedding(item_seq) + self.position_embedding(position_ids)
        hidden = self.dropout(self.LayerNorm(hidden))
        if self.embedding_projection is not None:
            hidden = self.embedding_projection(hidden)
        hidden = self.trm_encoder(hidden, attention_mask, output_all_encoded_layers=False)[-1]
        if self.output_projection is not None:
            hidden = self.output_projection(hidden)
        return hidden


def init_weights(module, std):
    """BERT-style init, as the reference: N(0, std) weights (padding row included), zero biases."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        module.weight.data.normal_(mean=0.0, std=std)
    elif isinstance(module, nn.LayerNorm):
        module.bias.data.zero_()
        module.weight.data.fill_(1.0)
    if isinstance(module, nn.Linear) and module.bias is not None:
        module.bias.data.zero_()
