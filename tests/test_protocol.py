"""History masking in sequential full ranking, for ELECRec and RecBole's baselines alike."""

import math

import pytest
import torch

from conftest import make_model
from recbole_elecrec.trainer import get_trainer


def scores_of_first_batch(data_path, model_name, mask):
    config, (_, _, test), model = make_model(data_path, model=model_name, history_mask=mask)
    trainer = get_trainer(config["MODEL_TYPE"], model_name)(config, model)
    result = trainer.evaluate(test, load_best_model=False)
    batch = next(iter(test))
    with torch.no_grad():
        interaction, scores, _, positive_i = trainer._full_sort_batch_eval(batch)
    raw = model.full_sort_predict(interaction).detach()
    rows, items = test._dataset.history_index(interaction)
    return result, scores, raw, (rows, items), positive_i


@pytest.mark.parametrize("model_name", ["ELECRec", "SASRec"])
def test_exclude_masks_the_whole_history(data_path, workdir, model_name):
    _, scores, raw, (rows, items), _ = scores_of_first_batch(data_path, model_name, "exclude")
    assert len(rows) > 0
    assert torch.isinf(scores[rows, items]).all() and torch.isinf(scores[:, 0]).all()
    untouched = torch.ones_like(scores, dtype=torch.bool)
    untouched[rows, items] = False
    untouched[:, 0] = False
    assert torch.equal(scores[untouched], raw[untouched])


@pytest.mark.parametrize("model_name", ["ELECRec", "SASRec"])
def test_reference_scores_history_zero_and_keeps_padding(data_path, workdir, model_name):
    _, scores, raw, (rows, items), _ = scores_of_first_batch(data_path, model_name, "reference")
    assert (scores[rows, items] == 0).all()
    untouched = torch.ones_like(scores, dtype=torch.bool)
    untouched[rows, items] = False
    assert torch.equal(scores[untouched], raw[untouched])  # padding column included


def test_none_is_recboles_behaviour(data_path, workdir):
    _, scores, raw, (rows, items), _ = scores_of_first_batch(data_path, "ELECRec", "none")
    assert torch.isinf(scores[:, 0]).all()
    assert torch.equal(scores[:, 1:], raw[:, 1:])


def test_protocols_give_different_metrics(data_path, workdir):
    results = {m: scores_of_first_batch(data_path, "ELECRec", m)[0] for m in
               ("none", "exclude", "reference")}
    assert all(0 <= v <= 1 and not math.isnan(v) for r in results.values() for v in r.values())
    assert results["none"] != results["exclude"]


def evaluated(data_path, model_name, masks, scores=None):
    """{mask: (trainer, its configured metrics)}: one model's test evaluation under each mask
    (the model's scores replaced by ``scores(interaction)`` when given)."""
    config, (_, _, test), model = make_model(data_path, model=model_name)
    if scores is not None:
        model.full_sort_predict = scores
    results = {}
    for mask in masks:
        config["history_mask"] = mask
        trainer = get_trainer(config["MODEL_TYPE"], model_name)(config, model)
        results[mask] = trainer, dict(trainer.evaluate(test, load_best_model=False))
    return results


@pytest.mark.parametrize("model_name", ["ELECRec", "SASRec", "GRU4Rec"])
def test_one_evaluation_gives_every_protocol_as_a_run_configured_with_it(data_path, workdir,
                                                                         model_name):
    results = evaluated(data_path, model_name, ("none", "exclude", "reference"))
    for configured, (trainer, result) in results.items():
        assert trainer.by_protocol[configured] == result
        for other, (_, other_result) in results.items():
            assert trainer.by_protocol[other] == other_result, (configured, other)
    assert results["none"][1] != results["exclude"][1]


def below_zero(n_items):
    return lambda interaction: -1 - torch.rand(len(interaction), n_items)


def test_history_first_warning_fires_for_reference_only(data_path, workdir):
    from recbole_elecrec.protocols import history_first_warning

    n_items = make_model(data_path)[1][0]._dataset.item_num
    runs = evaluated(data_path, "ELECRec", ("reference", "exclude"), below_zero(n_items))
    reference, exclude = runs["reference"][0], runs["exclude"][0]
    assert reference.history_check["history_first_share"] == 1.0
    assert reference.history_check["negative_score_share"] == 1.0
    assert "'exclude'" in history_first_warning(reference.history_check)
    assert exclude.history_check["history_first_share"] == 0.0
    assert history_first_warning(exclude.history_check) is None


def test_a_run_result_holds_every_protocol(elecrec_run):
    from conftest import full_result

    cwd, out, _ = elecrec_run
    full = full_result(cwd, out)
    assert set(full["test_by_protocol"]) == {"none", "exclude", "reference"}
    assert full["test_by_protocol"][full["config"]["history_mask"]] == out["test"]
    assert set(full["history_check"]) >= {"history_first_share", "negative_score_share"}
    assert set(full["history"][-1]["valid_by_protocol"]) == {"none", "exclude", "reference"}


@pytest.mark.parametrize("configured", ["none", "exclude", "reference"])
def test_each_protocol_s_top_k_is_that_of_the_masked_scores(data_path, workdir, configured):
    from recbole_elecrec.protocols import HISTORY_MASKS, mask

    config, _, model = make_model(data_path, history_mask=configured)
    collector = get_trainer(config["MODEL_TYPE"], "ELECRec")(config, model).eval_collector
    assert collector.start(True)
    generator = torch.Generator().manual_seed(0)
    n_rows, n_items, k = 9, 300, max(config["topk"])
    scores = torch.randn(n_rows, n_items, generator=generator)
    # repeated history items, rows of long and of short histories, rows 6 and 8 with none
    rows = torch.randint(0, n_rows - 1, (400,), generator=generator) ** 2 // (n_rows - 2)
    items = torch.randint(1, n_items, (400,), generator=generator)
    scores[rows[:30], items[:30]] += 3  # history items among the best scores
    scores[:3, 0] += 4  # and the padding item
    # row 4: every score below 0 and 5 history items, which reference ranks first (tied at 0)
    scores[4] = -0.01 - scores[4].abs()
    rows, items = torch.cat((rows, torch.full((5,), 4))), torch.cat((items, torch.arange(1, 6)))
    wanted = torch.rand(n_rows, n_items, generator=generator) < 0.5  # each row's positives
    positive_u, positive_i = wanted.nonzero(as_tuple=True)

    returned = collector.collect_protocols(scores.clone(), (rows, items), positive_u, positive_i)
    assert torch.equal(returned, mask(scores.clone(), (rows, items), configured))
    for protocol in HISTORY_MASKS:
        top = mask(scores.clone(), (rows, items), protocol).topk(k, dim=1).indices
        struct = collector.data_struct if protocol == configured else collector.structs[protocol]
        collected, expected = struct.get("rec.topk"), wanted.gather(1, top).int()
        assert torch.equal(collected[:, k], wanted.sum(1).int())  # the positives' count
        collected = collected[:, :k]
        untied = torch.arange(n_rows) != 4
        assert torch.equal(collected[untied], expected[untied]), protocol
        assert torch.equal(collected[4].sum(), expected[4].sum()), protocol  # ties in any order
