"""Faithfulness to the authors' code: their Beauty checkpoint, and one training step re-derived."""

import json
import math
import subprocess
import sys
import warnings

import pytest
import torch

from conftest import GPU_ID, REPO, SHARED, make_model, needs_shared, small_settings
from test_model import batch

BEAUTY = SHARED / "data" / "elecrec" / "Beauty.txt"
CHECKPOINT = SHARED / "checkpoints" / "ELECRec-Beauty-0.pt"
AUTHORS_README = {"hit@5": 0.0703, "ndcg@5": 0.0503, "hit@10": 0.0964, "ndcg@10": 0.0587,
                  "hit@20": 0.1311, "ndcg@20": 0.0674}


@needs_shared("data/elecrec/Beauty.txt", "checkpoints/ELECRec-Beauty-0.pt")
@pytest.mark.parametrize("attention", ["recbole", "fused"])
def test_authors_beauty_checkpoint_gives_their_numbers(tmp_path, attention):
    prepared = subprocess.run([sys.executable, "-m", "recbole_elecrec.data", "prepare", "Beauty",
                               "--source", str(BEAUTY), "--data_path", str(tmp_path / "data")],
                              capture_output=True, text=True)
    assert prepared.returncode == 0, prepared.stderr
    result = subprocess.run(
        [sys.executable, str(REPO / "run_recbole.py"), "--model=ELECRec", "--dataset=Beauty",
         f"--data_path={tmp_path / 'data'}", "--eval_only", f"--reference_checkpoint={CHECKPOINT}",
         "--show_progress=False", f"--gpu_id={GPU_ID}", f"--attention={attention}"],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    test = json.loads(result.stdout.strip().splitlines()[-1])["test"]
    assert {k: test[k] for k in AUTHORS_README} == AUTHORS_README


def as_reference_state(model, dataset):
    """An ELECRec's discriminator in the authors' layout (raw-id rows + an unused mask row)."""
    renames = [("discriminator.item_embedding.", "item_embeddings."),
               ("discriminator.position_embedding.", "position_embeddings."),
               ("discriminator.LayerNorm.", "LayerNorm."),
               ("discriminator.trm_encoder.", "item_encoder."),
               ("multi_head_attention.", "attention."), ("feed_forward.", "intermediate."),
               ("dis_projection.", "dis_projection.")]
    state = {}
    for key, value in model.state_dict().items():
        if not key.startswith(("discriminator.", "dis_projection.")):
            continue
        for old, new in renames:
            key = key.replace(old, new)
        state[key] = value.clone()
    raw = [int(t) for t in dataset.field2id_token["item_id"][1:]]
    table = torch.zeros(max(raw) + 2, state["item_embeddings.weight"].size(1))
    table[[0] + raw] = state["item_embeddings.weight"]
    state["item_embeddings.weight"] = table
    return state


def test_reference_import_round_trip(data_path, workdir, tmp_path):
    from recbole_elecrec.quick_start import evaluate_checkpoint

    settings = small_settings(data_path)
    _, (train, _, _), model = make_model(data_path)
    torch.save(as_reference_state(model, train._dataset), tmp_path / "ref.pt")
    saved = tmp_path / "imported.pth"
    evaluate_checkpoint(tmp_path / "ref.pt", "ELECRec", "tiny", config_dict=settings,
                        reference=True, save_as=saved)
    state = torch.load(saved, weights_only=False)["state_dict"]
    for key, value in model.state_dict().items():
        if key.startswith(("discriminator.", "dis_projection.")):
            assert torch.equal(state[key], value), key


def test_reference_checkpoint_that_does_not_fit(data_path, workdir, tmp_path):
    from recbole_elecrec.quick_start import evaluate_checkpoint

    settings = small_settings(data_path)

    def refused(state, pattern):
        torch.save(state, tmp_path / "ref.pt")
        with pytest.raises(ValueError, match=pattern):
            evaluate_checkpoint(tmp_path / "ref.pt", "ELECRec", "tiny", config_dict=settings,
                                reference=True)

    _, (train, _, _), wide = make_model(data_path, gen_hidden_size=32, dis_hidden_size=32)
    refused(as_reference_state(wide, train._dataset), r"has shape \(\d+, 32\), expected \(\d+, 16\)")
    _, _, deep = make_model(data_path, gen_n_layers=2, dis_n_layers=2)
    refused(as_reference_state(deep, train._dataset), "it has discriminator.trm_encoder.layer.1")
    refused({"item_embeddings.weight": torch.zeros(5, 16)}, "has 5 item rows; dataset tiny needs 62")
    refused({"unknown.weight": torch.zeros(1)}, "key ELECRec does not know: unknown.weight")
    (tmp_path / "ref.pt").write_text("not a checkpoint")
    with pytest.raises(ValueError, match="not a readable PyTorch state_dict"):
        evaluate_checkpoint(tmp_path / "ref.pt", "ELECRec", "tiny", config_dict=settings,
                            reference=True)


# ---------------------------------------------------------------- one training step, re-derived
def layer_norm(x, w, b, eps=1e-12):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * w + b


def encoder(p, net, seq, n_layers, n_heads):
    """SASRec as the spec describes it, on a left-padded window with positions 0..L-1."""
    length = seq.size(1)
    items = p[f"{net}.item_embedding.weight"][seq]
    real = (seq > 0)[..., None]
    items = torch.where(real, items, items.detach())  # padding_idx 0: the row gets no gradient
    x = items + p[f"{net}.position_embedding.weight"][:length]
    x = layer_norm(x, p[f"{net}.LayerNorm.weight"], p[f"{net}.LayerNorm.bias"])
    allowed = torch.tril(torch.ones(length, length, dtype=torch.bool)) & (seq > 0)[:, None, :]
    additive = (~allowed).float()[:, None] * -10000.0  # [B 1 L L]
    for i in range(n_layers):
        a = f"{net}.trm_encoder.layer.{i}.multi_head_attention"
        f = f"{net}.trm_encoder.layer.{i}.feed_forward"

        def heads(t):
            return t.view(t.size(0), length, n_heads, -1).transpose(1, 2)

        q, k, v = (heads(x @ p[f"{a}.{n}.weight"].t() + p[f"{a}.{n}.bias"])
                   for n in ("query", "key", "value"))
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.size(-1)) + additive
        context = (torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(x.shape)
        out = context @ p[f"{a}.dense.weight"].t() + p[f"{a}.dense.bias"]
        x = layer_norm(out + x, p[f"{a}.LayerNorm.weight"], p[f"{a}.LayerNorm.bias"])
        h = x @ p[f"{f}.dense_1.weight"].t() + p[f"{f}.dense_1.bias"]
        h = h * 0.5 * (1.0 + torch.erf(h / math.sqrt(2.0)))
        h = h @ p[f"{f}.dense_2.weight"].t() + p[f"{f}.dense_2.bias"]
        x = layer_norm(h + x, p[f"{f}.LayerNorm.weight"], p[f"{f}.LayerNorm.bias"])
    return x


ROWS = [[5, 6, 7, 8], [9], [10, 11, 12, 13, 14, 15], [16, 17]]
ANSWERS = [20, 21, 22, 23]
WEIGHTS = {"gen_loss_weight": 0.9, "dis_loss_weight": 0.6}


def step_model(data_path, mode, quirks, **overrides):
    """A 2-layer ELECRec without dropout, with trained-looking weights (not the init)."""
    config, _, model = make_model(
        data_path, model_shared_type=mode, gen_loss_on_padding=quirks, replace_padding=quirks,
        gen_n_layers=2, dis_n_layers=2, gen_hidden_dropout_prob=0.0, gen_attn_dropout_prob=0.0,
        dis_hidden_dropout_prob=0.0, dis_attn_dropout_prob=0.0, length_bucket_rows=2,
        **WEIGHTS, **overrides,
    )
    torch.manual_seed(0)
    for param in model.parameters():
        param.data.normal_(0, 0.3)
    return config, model


def fix_draws(monkeypatch, model):
    """Draws as functions of what the sampler sees, so they do not depend on how the model lays
    out or orders positions: it proposes the generator's top item, and keeps the true target
    unless its id is divisible by 3 (padding included)."""
    monkeypatch.setattr(model.sampler, "draw", lambda logits: logits.argmax(-1))
    monkeypatch.setattr(model.sampler, "keep_mask", lambda t: t % 3 != 0)


def spec_batch(length=50):
    """Inputs and next-item targets, left-padded to the window (the spec's layout)."""
    inputs = torch.zeros(len(ROWS), length, dtype=torch.long)
    targets = torch.zeros_like(inputs)
    for i, (row, answer) in enumerate(zip(ROWS, ANSWERS)):
        inputs[i, length - len(row):] = torch.tensor(row)
        targets[i, length - len(row):] = torch.tensor(row[1:] + [answer])
    return inputs, targets


def spec_leaves(model):
    """The model's parameter values as fresh leaves, by name (shared names, one leaf)."""
    leaves = {}
    return {name: leaves.setdefault(id(t), t.detach().clone().requires_grad_())
            for name, t in model.named_parameters(remove_duplicate=False)}


def spec_losses(p, quirks):
    """The spec's generator and discriminator losses; returns them and the replaced sequence."""
    inputs, targets = spec_batch()
    is_target = targets > 0
    h_g = encoder(p, "generator", inputs, 2, 2)
    logits = h_g @ p["generator.item_embedding.weight"].t()
    ce = torch.logsumexp(logits, -1) - logits.gather(-1, targets[..., None]).squeeze(-1)
    gen = ce.mean() if quirks else ce[is_target].mean()
    drawn = logits[..., 1:].argmax(-1) + 1
    sampled = torch.where(targets % 3 != 0, targets, drawn)
    if not quirks:
        sampled = torch.where(is_target, sampled, torch.zeros_like(sampled))
    h_d = encoder(p, "discriminator", sampled, 2, 2)
    prob = torch.sigmoid((h_d @ p["dis_projection.weight"].t()).squeeze(-1)
                         + p["dis_projection.bias"]) + 1e-24
    label = (sampled == targets).float()
    bce = label * torch.log(prob) + (1 - label) * torch.log(1 - prob)
    dis = -(bce * is_target).sum() / is_target.sum()
    return gen, dis, sampled


# the softmax of all positions at once, and of 7 at a time (the last chunk partial)
CHUNKS = pytest.mark.parametrize("chunk", [0, 7])


def gradient_tolerance(attention, quirks):
    """With the padding quirk the loss reaches padded queries, which attend to no item: all their
    scores are -10000 + s, rounded in float32 to steps of 1e-3, by the fused kernel otherwise than
    by the spec's explicit sum; elsewhere both attentions agree with it to 1e-6."""
    return 1e-5 if attention == "fused" and quirks else 1e-6


@CHUNKS
@pytest.mark.parametrize("attention", ["fused", "recbole"])
@pytest.mark.parametrize("quirks", [True, False])
@pytest.mark.parametrize("mode", ["none", "embed_only", "encoder_only", "full"])
def test_training_step_matches_an_independent_recomputation(data_path, workdir, monkeypatch,
                                                              mode, quirks, attention, chunk):
    _, model = step_model(data_path, mode, quirks, softmax_chunk_rows=chunk, attention=attention)
    fix_draws(monkeypatch, model)
    seen = []
    encode = model._encode

    def spy(network, seq, positions):
        if network is model.discriminator:
            seen.extend(tuple(row[row > 0].tolist()) for row in seq)
        return encode(network, seq, positions)

    monkeypatch.setattr(model, "_encode", spy)

    # the model's step
    gen_loss, dis_loss = model.calculate_loss(batch(model, ROWS, ANSWERS))
    model.zero_grad()
    (gen_loss + dis_loss).backward()

    # the spec's step, with its own leaves for the same parameter values
    p = spec_leaves(model)
    ref_gen, ref_dis, sampled = spec_losses(p, quirks)
    (0.9 * ref_gen + 0.6 * ref_dis).backward()

    _, targets = spec_batch()
    is_target = targets > 0
    assert sorted(seen) == sorted(tuple(row[row > 0].tolist()) for row in sampled)
    assert 0 < int(((sampled != targets) & is_target).sum()) < int(is_target.sum())
    assert gen_loss.item() == pytest.approx(0.9 * ref_gen.item(), abs=1e-6)
    assert dis_loss.item() == pytest.approx(0.6 * ref_dis.item(), abs=1e-6)
    tolerance = gradient_tolerance(attention, quirks)
    for name, param in model.named_parameters():
        torch.testing.assert_close(param.grad, p[name].grad, atol=tolerance, rtol=0, msg=name)


def authors_adam(p, updates):
    """The spec's optimizer on the leaves ``p``: Adam over the generator's parameter list followed
    by the discriminator's (shared tensors in both: ``twice``), or over each tensor once."""
    gen = [t for name, t in p.items() if name.startswith("generator.")]
    dis = [t for name, t in p.items() if name.startswith(("discriminator.", "dis_projection."))]
    params = gen + dis if updates == "twice" else list({id(t): t for t in gen + dis}.values())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns that duplicates will one day be an error
            # foreach=False: torch's loop, which updates a tensor listed twice twice in sequence
            return torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), weight_decay=0.0,
                                    foreach=False)
    except ValueError as error:
        pytest.skip(f"this torch refuses duplicated parameter lists ({error})")


@CHUNKS
@pytest.mark.parametrize("updates", ["twice", "once"])
@pytest.mark.parametrize("quirks", [True, False])
@pytest.mark.parametrize("mode", ["none", "embed_only", "encoder_only", "full"])
def test_two_optimizer_steps_match_the_authors_optimizer(data_path, workdir, monkeypatch, mode,
                                                         quirks, updates, chunk):
    from recbole_elecrec.trainer import get_trainer

    config, model = step_model(data_path, mode, quirks, shared_updates=updates,
                               softmax_chunk_rows=chunk)
    # in float64: Adam divides by the gradient's size, so float32 rounding noise on a gradient
    # near 0 would become an lr-sized step of either sign
    model.double()
    fix_draws(monkeypatch, model)
    trainer = get_trainer(config["MODEL_TYPE"], "ELECRec")(config, model)  # builds the optimizer
    p = spec_leaves(model)
    reference = authors_adam(p, updates)
    start = {name: t.detach().clone() for name, t in p.items()}
    for _ in range(2):  # the second step reads the moments the first one left
        trainer.optimizer.zero_grad()
        sum(model.calculate_loss(batch(model, ROWS, ANSWERS))).backward()
        trainer.optimizer.step()
        reference.zero_grad()
        gen, dis = spec_losses(p, quirks)[:2]
        (0.9 * gen + 0.6 * dis).backward()
        reference.step()
        for name, param in model.named_parameters():
            torch.testing.assert_close(param.detach(), p[name].detach(), atol=1e-6, rtol=0,
                                       msg=name)
    # a shared tensor moved as far as the construction says: about 2 x 2 lr-sized Adam steps
    # when updated twice, 2 when once (so updating it once or twice cannot pass for the other)
    name = "generator.position_embedding.weight"
    moved = (p[name] - start[name]).abs().max().item()
    shared = mode in ("embed_only", "full") and updates == "twice"
    assert moved == pytest.approx(4e-3 if shared else 2e-3, rel=0.05)
