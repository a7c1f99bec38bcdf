"""ELECRec and its "+" control around RecBole's sequential models (``backbone``)."""

import subprocess
import sys

import pytest
import torch

from conftest import REPO, TINY, last_json, make_model, run_cli, small_settings
from recbole_elecrec.config import Config
from recbole_elecrec.model import backbones
from recbole_elecrec.trainer import get_trainer
from test_model import batch

# RecBole's settings of each backbone, made small
SMALL = {
    "GRU4Rec": {"embedding_size": 16, "hidden_size": 16},
    "NextItNet": {"embedding_size": 16, "block_num": 1},
    "NARM": {"embedding_size": 16, "hidden_size": 16},
    "STAMP": {"embedding_size": 16},
    "LightSANs": {"hidden_size": 16, "inner_size": 32, "n_layers": 1},
    "SRGNN": {"embedding_size": 16},
    "GCSAN": {"hidden_size": 16, "inner_size": 32, "n_layers": 1},
}
assert set(SMALL) == set(backbones.BACKBONES)


def backbone_model(data_path, backbone, model="ELECRec", **overrides):
    return make_model(data_path, model=model, backbone=backbone, **SMALL[backbone], **overrides)


@pytest.mark.parametrize("model", ["ELECRec", "SASRecPlus"])
@pytest.mark.parametrize("backbone", list(backbones.BACKBONES))
def test_each_backbone_trains_an_epoch_and_ranks(data_path, workdir, backbone, model):
    config, (train, _, test), net = backbone_model(data_path, backbone, model)
    assert isinstance(net.generator, backbones.BACKBONES[backbone].model)
    users = len(set(train.dataset.inter_feat["user_id"].tolist()))
    prefix_rows = backbones.BACKBONES[backbone].layout == "prefix"
    assert config["prefix_augmentation"] is prefix_rows
    assert (len(train.dataset) > users) is prefix_rows  # prefix rows, or one row per user
    trainer = get_trainer(config["MODEL_TYPE"], model)(config, net)
    loss = trainer._train_epoch(train, 0)
    assert all(torch.isfinite(torch.as_tensor(part)) for part in
               (loss if isinstance(loss, tuple) else [loss]))
    net.eval()
    inter = next(iter(test))[0]
    with torch.no_grad():
        scores = net.full_sort_predict(inter)
    assert scores.shape == (len(inter), net.n_items) and torch.isfinite(scores).all()


@pytest.mark.parametrize("backbone", ["GRU4Rec", "NextItNet"])
def test_states_at_every_position_end_in_recboles_own(data_path, workdir, backbone):
    """The per-position states, read where RecBole's forward reads, are its output."""
    _, _, net = backbone_model(data_path, backbone)
    network = net.discriminator
    network.eval()
    seq = torch.tensor([[3, 4, 5, 0, 0], [7, 8, 0, 0, 0]])
    lengths = torch.tensor([3, 2])
    with torch.no_grad():
        states = backbones.BACKBONES[backbone].states(network, seq)
        if backbone == "GRU4Rec":
            expected, got = network(seq, lengths), states[[0, 1], lengths - 1]
        else:  # NextItNet reads the last column
            expected, got = network(seq), states[:, -1]
        torch.testing.assert_close(got, expected)
        # causal: a position's state does not change with what follows it
        torch.testing.assert_close(backbones.BACKBONES[backbone].states(network, seq[:, :2]),
                                   states[:, :2])


def test_positions_layout_is_left_aligned_with_a_target_at_every_position(data_path, workdir):
    _, _, net = backbone_model(data_path, "GRU4Rec", length_bucket_rows=0)
    rows = net.training_rows(batch(net, [[3, 4, 5], [7]], [9, 8]))
    [(inputs, targets, positions)] = rows.chunks
    assert inputs.tolist() == [[7, 0, 0], [3, 4, 5]] and positions is None  # sorted by length
    assert targets.tolist() == [[8, 0, 0], [4, 5, 9]]
    assert rows.targets.tolist() == [8, 4, 5, 9]


def test_prefix_layout_scores_each_rows_last_target(data_path, workdir, monkeypatch):
    _, _, net = backbone_model(data_path, "NARM", model_shared_type="none")
    rows = net.training_rows(batch(net, [[3, 4, 5], [7]], [9, 8]))
    [(inputs, targets, _)] = rows.chunks
    assert inputs.shape == (2, 50) and rows.targets.tolist() == [9, 8]
    assert rows.masks[0].nonzero().tolist() == [[0, 2], [1, 0]]
    # the discriminator reads the row's true items and, at the scored position, the item shown
    seen = []
    monkeypatch.setattr(net.discriminator, "forward",
                        lambda seq, lengths: seen.append((seq, lengths)) or torch.zeros(2, 16))
    net.head_logits(rows, torch.tensor([6, 2]))
    seq, lengths = seen[0]
    assert seq[:, :3].tolist() == [[4, 5, 6], [2, 0, 0]] and lengths.tolist() == [3, 1]


@pytest.mark.parametrize("mode", ["none", "embed_only", "encoder_only", "full"])
@pytest.mark.parametrize("backbone", ["GRU4Rec", "STAMP"])
def test_sharing_modes_tie_the_backbones_parts(data_path, workdir, backbone, mode):
    _, _, net = backbone_model(data_path, backbone, model_shared_type=mode)
    gen = dict(net.generator.named_parameters())
    dis = dict(net.discriminator.named_parameters())
    tied = {name for name in gen if gen[name] is dis.get(name)}
    embeddings = {"item_embedding.weight"}
    expected = {"none": set(), "embed_only": embeddings, "encoder_only": set(gen) - embeddings,
                "full": set(gen)}[mode]
    assert tied == expected


@pytest.mark.parametrize("setting, message", [
    ({"backbone": "Caser"}, "backbone must be one of ['SASRec', 'GRU4Rec', 'NextItNet', 'NARM', "
                            "'STAMP', 'LightSANs', 'SRGNN', 'GCSAN'], got 'Caser'"),
    ({"backbone": "BERT4Rec"}, "backbone must be one of"),
    ({"backbone": "GRU4Rec", "gen_loss_on_padding": True}, "needs backbone SASRec, not GRU4Rec"),
    ({"backbone": "GRU4Rec", "replace_padding": True}, "needs backbone SASRec, not GRU4Rec"),
    ({"backbone": "NARM", "prefix_augmentation": False}, "prefix_augmentation must be True"),
])
def test_backbones_that_cannot_be_wrapped_are_refused(data_path, workdir, setting, message):
    with pytest.raises(ValueError) as error:
        Config("ELECRec", "tiny", config_dict=small_settings(data_path, **setting))
    assert message in str(error.value) and "\n" not in str(error.value)


def test_backbone_reads_its_recbole_settings(data_path, workdir):
    config = Config("SASRecPlus", "tiny", config_dict={"data_path": str(data_path),
                                                       "backbone": "GRU4Rec", "num_layers": 2})
    assert (config["embedding_size"], config["hidden_size"], config["num_layers"]) == (64, 128, 2)
    assert "embedding_size" not in Config("SASRecPlus", "tiny",
                                          config_dict={"data_path": str(data_path)})


@pytest.mark.slow
def test_command_line_trains_and_evaluates_a_backbone(data_path, tmp_path):
    result = last_json(run_cli(tmp_path, "--model=ELECRec", "--backbone=GRU4Rec",
                               "--dataset=tiny", f"--data_path={data_path}", "--embedding_size=16",
                               "--hidden_size=16", *TINY))
    assert result["model"] == "ELECRec" and set(result["test"]) >= {"hit@10", "ndcg@10"}


def test_importing_the_models_leaves_anomaly_detection_off():
    # the backbones import RecBole's sequential models, whose sine.py turns it on at import
    code = "import torch, recbole_elecrec.model\nprint(torch.is_anomaly_enabled())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.stdout.split() == ["False"], result.stderr[-2000:]


def test_authors_weights_need_the_sasrec_backbone(data_path, workdir, tmp_path):
    from recbole_elecrec.quick_start import evaluate_checkpoint

    torch.save({"item_embeddings.weight": torch.zeros(62, 16)}, tmp_path / "ref.pt")
    settings = small_settings(data_path, backbone="GRU4Rec", **SMALL["GRU4Rec"])
    with pytest.raises(ValueError, match="SASRec backbone, not GRU4Rec"):
        evaluate_checkpoint(tmp_path / "ref.pt", "ELECRec", "tiny", config_dict=settings,
                            reference=True)


@pytest.mark.parametrize("model", ["ELECRec", "SASRecPlus"])
@pytest.mark.parametrize("backbone", ["NextItNet", "GCSAN"])
def test_a_backbones_own_regularizer_joins_each_networks_loss(data_path, workdir, backbone, model):
    _, (train, _, _), net = backbone_model(data_path, backbone, model, reg_weight=0.1,
                                           gen_loss_weight=0.7, dis_loss_weight=0.3)
    interaction = next(iter(train))

    def losses():
        torch.manual_seed(0)  # the same dropout and draws with and without the regularizer
        loss = net.calculate_loss(interaction)
        return [part.item() for part in (loss if isinstance(loss, tuple) else [loss])]

    def l2(network):  # RecBole's terms, written out: NextItNet's RegLoss and residual blocks
        if backbone == "GCSAN":  # EmbLoss: the norm over the number of rows
            weight = network.item_embedding.weight
            return 0.1 * weight.norm(2).item() / weight.shape[0]
        weights = [network.item_embedding.weight, network.final_layer.weight]
        weights += [p for n, p in network.residual_blocks.named_parameters()
                    if n.endswith("weight")]
        return 0.1 * sum(w.norm(2).item() for w in weights)

    regularized = losses()
    weighted = [(0.7, net.generator)] + ([(0.3, net.discriminator)] if model == "ELECRec" else [])
    expected = [weight * l2(network) for weight, network in weighted]
    for _, network in weighted:
        network.reg_weight = 0.0
    plain = losses()
    # float32 losses near 7: differences good to about 1e-6
    assert [r - p for r, p in zip(regularized, plain)] == pytest.approx(expected, abs=3e-6)
    assert all(e > 1e-4 for e in expected)  # so the tolerance is under 3% of each term


@pytest.mark.parametrize("backbone", ["NARM", "STAMP"])
def test_plus_of_a_prefix_backbone_is_its_recbole_training(data_path, workdir, backbone):
    """With one state per sequence, "+" is the backbone's own CE on the prefix rows (so
    benchmarks give such a backbone no separate "+" cell)."""
    _, (train, _, _), net = backbone_model(data_path, backbone, "SASRecPlus",
                                           loss_type="CE", gen_loss_weight=1.0)
    interaction = next(iter(train))
    net.eval()  # no dropout: both losses see the same network
    recbole_loss = net.generator.calculate_loss(interaction)
    torch.testing.assert_close(net.calculate_loss(interaction), recbole_loss)
    assert len(interaction) > 1 and recbole_loss.item() > 1.0
