"""ELECRec's layout, sharing modes, gradients and settings checks."""

import pytest
import torch
from recbole.data.interaction import Interaction

from conftest import make_model, small_settings
from recbole_elecrec.config import Config


def batch(model, rows, targets):
    """An interaction with RecBole's left-aligned item lists."""
    seq = torch.zeros(len(rows), model.max_seq_length, dtype=torch.long)
    for i, row in enumerate(rows):
        seq[i, : len(row)] = torch.tensor(row)
    return Interaction({
        model.ITEM_SEQ: seq,
        model.ITEM_SEQ_LEN: torch.tensor([len(r) for r in rows]),
        model.POS_ITEM_ID: torch.tensor(targets),
    })


def test_training_rows_are_right_aligned_with_next_item_targets(data_path, workdir):
    _, _, model = make_model(data_path, gen_loss_on_padding=True, replace_padding=True)
    inter = batch(model, [[3, 4, 5], [7]], [9, 8])
    [(inputs, targets, positions)] = model.training_rows(inter).chunks
    assert inputs.shape == (2, 50)  # the reference quirks need every column
    assert inputs[0, -4:].tolist() == [0, 3, 4, 5] and inputs[1, -2:].tolist() == [0, 7]
    assert targets[0, -4:].tolist() == [0, 4, 5, 9] and targets[1, -2:].tolist() == [0, 8]
    assert int((targets > 0).sum()) == 4 and int((inputs > 0).sum()) == 4
    assert positions[0].tolist() == list(range(50))


def test_without_quirks_rows_are_bucketed_by_length_and_trimmed(data_path, workdir):
    _, _, model = make_model(data_path, length_bucket_rows=2)  # quirks off: the defaults
    rows, answers = [[3, 4, 5], [7], [1, 2, 3, 4, 5, 6], [8, 9]], [9, 8, 7, 6]
    chunks = model.training_rows(batch(model, rows, answers)).chunks
    assert [c[0].tolist() for c in chunks] == [[[0, 7], [8, 9]], [[0, 0, 0, 3, 4, 5], [1, 2, 3, 4, 5, 6]]]
    assert [c[1].tolist() for c in chunks] == [[[0, 8], [9, 6]], [[0, 0, 0, 4, 5, 9], [2, 3, 4, 5, 6, 7]]]
    assert chunks[0][2].tolist() == [[48, 49]] * 2  # the reference's position ids
    model.length_bucket_rows = 0  # one chunk, as wide as the longest row
    [(inputs, _, _)] = model.training_rows(batch(model, rows, answers)).chunks
    assert inputs.shape == (4, 6)


def test_truncated_history_keeps_the_most_recent_items(data_path, workdir):
    _, _, model = make_model(data_path)
    row = list(range(1, 51))  # RecBole keeps the last 50 items before the target
    [(inputs, targets, _)] = model.training_rows(batch(model, [row], [55])).chunks
    assert inputs[0].tolist() == row and targets[0].tolist() == row[1:] + [55]


def test_recbole_alignment_counts_positions_from_the_first_item(data_path, workdir):
    _, _, model = make_model(data_path, seq_alignment="recbole")
    positions = model._position_ids(torch.tensor([3, 1]), 4)
    assert positions.tolist() == [[0, 0, 1, 2], [0, 0, 0, 0]]


@pytest.mark.parametrize("alignment", ["reference", "recbole"])
def test_ranking_state_equals_a_plain_encoder_pass(data_path, workdir, alignment):
    """forward() = the discriminator run on the sequence laid out as each alignment defines it."""
    _, _, model = make_model(data_path, seq_alignment=alignment)
    model.eval()
    model.RANKING_CHUNK = 2  # rows are encoded in length-sorted chunks: make it split
    rows = [[3, 4, 5], [7], list(range(1, 21))]
    inter = batch(model, rows, [1, 1, 1])
    expected = []
    for row in rows:
        if alignment == "reference":  # left-padded window, positions from its left edge
            seq = torch.tensor([[0] * (50 - len(row)) + row])
            out = model.discriminator(seq, torch.arange(50)[None], model.get_attention_mask(seq))
            expected.append(out[0, -1])
        else:  # RecBole's layout: left-aligned, position 0 = first item
            seq = torch.tensor([row + [0] * (50 - len(row))])
            out = model.discriminator(seq, torch.arange(50)[None], model.get_attention_mask(seq))
            expected.append(out[0, len(row) - 1])
    with torch.no_grad():
        got = model.forward(inter[model.ITEM_SEQ], inter[model.ITEM_SEQ_LEN])
    torch.testing.assert_close(got, torch.stack(expected).detach(), atol=1e-5, rtol=1e-5)


SHARED = {
    "none": set(),
    "embed_only": {"item_embedding", "position_embedding"},
    "encoder_only": {"trm_encoder"},
    "full": {"item_embedding", "position_embedding", "trm_encoder"},
}


@pytest.mark.parametrize("mode", list(SHARED))
def test_sharing_modes_tie_exactly_their_modules(data_path, workdir, mode):
    _, _, model = make_model(data_path, model_shared_type=mode)
    for name in ["item_embedding", "position_embedding", "trm_encoder", "LayerNorm"]:
        tied = getattr(model.generator, name) is getattr(model.discriminator, name)
        assert tied == (name in SHARED[mode]), name
    gen = {id(p) for p in model.generator.parameters()}
    dis = {id(p) for p in model.discriminator.parameters()}
    shared_numel = sum(p.numel() for p in model.generator.parameters() if id(p) in dis)
    expected = sum(
        p.numel() for n in SHARED[mode] for p in getattr(model.generator, n).parameters()
    )
    assert shared_numel == expected and (len(gen & dis) > 0) == (mode != "none")


def test_generator_warm_up_trains_the_generator_only(data_path, workdir):
    _, (train, _, _), model = make_model(data_path, model_shared_type="none")
    model.train_discriminator = False
    gen_loss, dis_loss = model.calculate_loss(next(iter(train)))
    (gen_loss + dis_loss).backward()
    assert float(dis_loss) == 0.0
    assert all(p.grad is None for p in model.discriminator.parameters())
    assert all(p.grad is not None for p in model.generator.parameters())


@pytest.mark.parametrize("setting, message", [
    ({"sample_ratio": 1.5}, "sample_ratio must be in [0, 1]"),
    ({"sample_ratio": -0.1}, "sample_ratio must be in [0, 1]"),
    ({"prob_power": 0}, "prob_power must be > 0"),
    ({"item_sample_ratio": 0.0}, "item_sample_ratio must be in (0, 1]"),
    ({"item_sample_ratio": 1.2}, "item_sample_ratio must be in (0, 1]"),
    ({"model_shared_type": "half"}, "model_shared_type must be one of"),
    ({"project_type": "mlp"}, "project_type must be one of"),
    ({"dis_opt_version": "x"}, "dis_opt_version must be one of"),
    ({"seq_alignment": "left"}, "seq_alignment must be one of"),
    ({"sampling_method": "gumbel"}, "sampling_method must be one of"),
    ({"history_mask": "hide"}, "history_mask must be one of"),
    ({"model_shared_type": "full", "dis_hidden_size": 32}, "needs gen_hidden_size == dis_hidden_size"),
    ({"model_shared_type": "embed_only", "dis_hidden_size": 32}, "needs gen_embedding_size"),
    ({"model_shared_type": "embed_only", "gen_embedding_size": 8}, "needs gen_embedding_size"),
    ({"gen_embedding_size": 0}, "gen_embedding_size must be positive"),
    ({"model_shared_type": "encoder_only", "dis_n_layers": 2}, "needs gen_n_layers == dis_n_layers"),
])
def test_out_of_range_settings_are_rejected(data_path, workdir, setting, message):
    with pytest.raises(ValueError) as error:  # refused as the config is built
        Config("ELECRec", "tiny", config_dict=small_settings(data_path, **setting))
    assert message in str(error.value)


def test_unshared_networks_may_differ_in_size(data_path, workdir):
    _, _, model = make_model(data_path, model_shared_type="none", dis_hidden_size=32,
                             dis_n_layers=2)
    assert model.discriminator.item_embedding.embedding_dim == 32
    assert len(model.discriminator.trm_encoder.layer) == 2
    assert model.generator.item_embedding.embedding_dim == 16


def test_sasrec_plus_is_the_generator_alone(data_path, workdir):
    config, (train, _, test), model = make_model(data_path, model="SASRecPlus")
    assert config["gen_hidden_size"] == 16 and config["gen_loss_on_padding"] is False
    assert all(name.startswith("generator.") for name, _ in model.named_parameters())
    loss = model.calculate_loss(next(iter(train)))
    assert loss.dim() == 0
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    model.eval()
    inter = next(iter(test))[0]
    seq_len = inter[model.ITEM_SEQ_LEN]
    seq = model._right_align(inter[model.ITEM_SEQ], seq_len, 50)
    with torch.no_grad():
        scores = model.full_sort_predict(inter)
        state = model.generator(seq, model._position_ids(seq_len, 50),
                                model.get_attention_mask(seq))[:, -1]
    torch.testing.assert_close(scores, state @ model.generator.item_embedding.weight.t(),
                               atol=1e-5, rtol=1e-5)
