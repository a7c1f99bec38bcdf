"""The SASRec encoder that ELECRec's generator and discriminator are both made of."""

import torch
from torch import nn
from recbole.model.layers import TransformerEncoder


class SASRecNetwork(nn.Module):
    """Item + position embedding -> LayerNorm -> dropout -> RecBole's TransformerEncoder.

    Parameter names follow RecBole's SASRec, so the encoder part of a state_dict is
    interchangeable with it.
    """

    # what ELECRec's model_shared_type ties (embed_only, encoder_only): the reference's choice,
    # in which the embeddings' LayerNorm stays each network's own
    SHARED_PARTS = (("item_embedding", "position_embedding"), ("trm_encoder",))

    def __init__(self, n_items, max_seq_length, hidden_size, n_layers, n_heads, inner_size,
                 hidden_dropout_prob, attn_dropout_prob, hidden_act, layer_norm_eps):
        super().__init__()
        self.item_embedding = nn.Embedding(n_items, hidden_size, padding_idx=0)
        self.position_embedding = nn.Embedding(max_seq_length, hidden_size)
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
        self.LayerNorm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
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
        )

    @classmethod
    def training_bytes(cls, config, prefix, n_items, max_seq_length):
        """The bytes ``from_config`` makes a network of take to train with Adam (float32 weights,
        their gradients, two moments), counted on the meta device: nothing is allocated."""
        with torch.device("meta"):
            network = cls.from_config(config, prefix, n_items, max_seq_length)
        return 4 * 4 * sum(parameter.numel() for parameter in network.parameters())

    def forward(self, item_seq, position_ids, attention_mask):
        """Hidden states of every position. ``attention_mask``: additive, [B 1 L L]."""
        hidden = self.item_embedding(item_seq) + self.position_embedding(position_ids)
        hidden = self.dropout(self.LayerNorm(hidden))
        return self.trm_encoder(hidden, attention_mask, output_all_encoded_layers=False)[-1]  # [B L H]


def init_weights(module, std):
    """BERT-style init, as the reference: N(0, std) weights (padding row included), zero biases."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        module.weight.data.normal_(mean=0.0, std=std)
    elif isinstance(module, nn.LayerNorm):
        module.bias.data.zero_()
        module.weight.data.fill_(1.0)
    if isinstance(module, nn.Linear) and module.bias is not None:
        module.bias.data.zero_()
