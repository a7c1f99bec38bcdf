"""History masking in sequential full ranking, for ELECRec and RecBole's baselines alike."""

import math

import pytest
import torch

from conftest import make_model
from recbole_elecrec.utils import get_trainer


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
