"""The fused attention is RecBole's TransformerEncoder: the same parameters, state_dict names and
results (forward and backward, float32), with RecBole's additive -10000 mask."""

import copy

import pytest
import torch
from recbole.model.abstract_recommender import SequentialRecommender
from recbole.model.layers import TransformerEncoder

from conftest import make_model
from recbole_elecrec.model.network import FusedMultiHeadAttention, SASRecNetwork, fuse_attention

SIZES = dict(n_layers=2, n_heads=2, hidden_size=16, inner_size=32, hidden_act="gelu",
             layer_norm_eps=1e-12)


def encoders(hidden_dropout=0.0, attn_dropout=0.0):
    """RecBole's encoder and a fused copy of it, the same weights."""
    torch.manual_seed(0)
    recbole = TransformerEncoder(hidden_dropout_prob=hidden_dropout,
                                 attn_dropout_prob=attn_dropout, **SIZES)
    return recbole, fuse_attention(copy.deepcopy(recbole))


def recbole_mask(items):
    """The mask the models pass, RecBole's ``get_attention_mask``: causal, padding (item 0) not
    attended to, additive -10000."""
    return SequentialRecommender.get_attention_mask(None, items)


def inputs(batch=5, length=7):
    """Hidden states and RecBole's extended mask: causal, padded items (0) not attended to,
    one row all padding."""
    torch.manual_seed(1)
    items = torch.randint(1, 9, (batch, length))
    for row in range(batch):
        items[row, :row + 1] = 0  # left padding, the last row fully padded
    return torch.randn(batch, length, SIZES["hidden_size"]), recbole_mask(items)


def outputs_and_gradients(encoder, hidden, mask, weights):
    hidden = hidden.clone().requires_grad_(True)
    out = encoder(hidden, mask, output_all_encoded_layers=False)[-1]
    (out * torch.linspace(-1, 1, out.numel()).view_as(out) * weights).sum().backward()
    grads = {name: parameter.grad for name, parameter in encoder.named_parameters()}
    return out.detach(), hidden.grad, grads


def assert_all_close(got, expected, tolerance):
    torch.testing.assert_close(got[0], expected[0], atol=tolerance, rtol=0)
    torch.testing.assert_close(got[1], expected[1], atol=tolerance, rtol=0)
    for name, grad in expected[2].items():
        torch.testing.assert_close(got[2][name], grad, atol=tolerance, rtol=0, msg=name)


@pytest.mark.parametrize("training", [False, True])
def test_forward_and_backward_match_recboles_layer(training):
    """Within 1e-5 where a position attends to some item. A padded query attends to none: all
    its scores are -10000 + s, which float32 rounds to steps of 1e-3, differently in each; its
    output still agrees, its gradients (which the padding quirk's loss reaches) to 1e-4."""
    recbole, fused = encoders(hidden_dropout=0.0, attn_dropout=0.0)
    recbole.train(training)
    fused.train(training)
    hidden, mask = inputs()
    attends = (mask.amax(-1) == 0).transpose(1, 2).float()  # [B L 1]
    for weights, tolerance in ((attends, 1e-5), (torch.ones_like(attends), 1e-4)):
        for encoder in (recbole, fused):
            encoder.zero_grad()
        expected, got = (outputs_and_gradients(encoder, hidden, mask, weights)
                         for encoder in (recbole, fused))
        assert_all_close(got, expected, tolerance)


def sasrec_network(attention):
    torch.manual_seed(2)
    return SASRecNetwork(9, 7, hidden_dropout_prob=0.0, attn_dropout_prob=0.0,
                         attention=attention, **SIZES)


def test_state_dicts_and_seeded_init_are_recboles():
    recbole, fused = encoders()
    assert list(fused.state_dict()) == list(recbole.state_dict())
    assert all(isinstance(layer.multi_head_attention, FusedMultiHeadAttention)
               for layer in fused.layer)
    networks = {attention: sasrec_network(attention) for attention in ("fused", "recbole")}
    fused_state, recbole_state = networks["fused"].state_dict(), networks["recbole"].state_dict()
    assert list(fused_state) == list(recbole_state)
    for name, value in recbole_state.items():
        assert torch.equal(fused_state[name], value), name


def test_a_recbole_checkpoint_loads_into_the_fused_network_and_gives_its_outputs():
    recbole = sasrec_network("recbole").eval()
    fused = SASRecNetwork(9, 7, hidden_dropout_prob=0.0, attn_dropout_prob=0.0,
                          attention="fused", **SIZES).eval()
    fused.load_state_dict(recbole.state_dict())
    items = torch.tensor([[0, 0, 3, 4, 5, 1, 2], [0, 0, 0, 0, 0, 0, 8]])
    positions = torch.arange(7).expand(2, -1)
    mask = recbole_mask(items)
    torch.testing.assert_close(fused(items, positions, mask), recbole(items, positions, mask),
                               atol=1e-5, rtol=0)


def test_attention_dropout_applies_in_training_only():
    """The attention weights' dropout (SDPA's dropout_p) acts in training, not in eval."""
    _, fused = encoders(hidden_dropout=0.0, attn_dropout=0.5)
    hidden, mask = inputs()
    fused.eval()
    first, second = (fused(hidden, mask)[-1] for _ in range(2))
    torch.testing.assert_close(first, second, atol=0, rtol=0)
    fused.train()
    torch.manual_seed(3)
    first, second = (fused(hidden, mask)[-1] for _ in range(2))
    assert not torch.allclose(first, second)
    _, without = encoders(hidden_dropout=0.0, attn_dropout=0.0)
    without.train()
    assert not torch.allclose(first, without(hidden, mask)[-1])


@pytest.mark.parametrize("model,networks", [("ELECRec", ("generator", "discriminator")),
                                            ("SASRecPlus", ("generator",))])
@pytest.mark.parametrize("attention", ["fused", "recbole"])
def test_the_setting_chooses_the_attention_of_every_network(data_path, model, networks,
                                                            attention):
    _, _, built = make_model(data_path, model, attention=attention, model_shared_type="none")
    for network in networks:
        fused = [isinstance(layer.multi_head_attention, FusedMultiHeadAttention)
                 for layer in getattr(built, network).trm_encoder.layer]
        assert fused == [attention == "fused"] * len(fused), network
