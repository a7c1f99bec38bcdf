"""shared_updates: twice, against torch's own update of a parameter listed twice."""

import warnings

import pytest
import torch

from conftest import make_model
from recbole_elecrec.optim import update_twice

LEARNERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD,
            "adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop}


def three_steps(learner, duplicated):
    """Parameters a and c updated twice a step, b once: by a duplicated list or update_twice."""
    torch.manual_seed(0)
    a, b, c = (torch.nn.Parameter(torch.randn(n, dtype=torch.float64)) for n in (5, 3, 4))
    settings = {"lr": 0.05, "weight_decay": 0.1}  # as RecBole builds its learners
    if duplicated:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # foreach=False: the loop that updates a tensor listed twice twice in sequence
                optimizer = LEARNERS[learner]([a, b, c, a, c], foreach=False, **settings)
        except ValueError as error:
            pytest.skip(f"this torch refuses duplicated parameter lists ({error})")
    else:
        optimizer = LEARNERS[learner]([a, b, c], **settings)
        update_twice(optimizer, [c, a])
    for step in range(3):
        optimizer.zero_grad()
        ((a ** 2).sum() + (b ** 3).sum() + step * a.sum() + c.sin().sum()).backward()
        optimizer.step()
    return [a.detach(), b.detach(), c.detach()], optimizer.state[a], optimizer.state[b]


@pytest.mark.parametrize("learner", LEARNERS)
def test_update_twice_is_torchs_update_of_a_parameter_listed_twice(learner):
    ours, our_a, our_b = three_steps(learner, duplicated=False)
    torchs, torch_a, torch_b = three_steps(learner, duplicated=True)
    for mine, theirs in zip(ours, torchs):
        torch.testing.assert_close(mine, theirs, atol=1e-12, rtol=0)
    if "step" in our_a:  # the step counter advanced twice a step for a, once for b
        assert float(our_a["step"]) == float(torch_a["step"]) == 6.0
        assert float(our_b["step"]) == float(torch_b["step"]) == 3.0


def test_update_twice_leaves_the_gradients_as_they_were():
    a, b = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    optimizer = torch.optim.Adam([a, b])
    update_twice(optimizer, [a])
    (a.sum() + 2 * b.sum()).backward()
    optimizer.step()
    assert a.grad.tolist() == [1.0, 1.0] and b.grad.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("model, mode, expected", [
    ("ELECRec", "full", ["generator.item_embedding", "generator.position_embedding",
                         "generator.trm_encoder"]),
    ("ELECRec", "embed_only", ["generator.item_embedding", "generator.position_embedding"]),
    ("ELECRec", "encoder_only", ["generator.trm_encoder"]),
    ("ELECRec", "none", []),
    ("SASRecPlus", "full", ["generator.LayerNorm", "generator.item_embedding",
                            "generator.position_embedding", "generator.trm_encoder"]),
])
def test_what_each_model_updates_twice(data_path, workdir, model, mode, expected):
    from recbole_elecrec.trainer import get_trainer

    config, (train, _, _), net = make_model(data_path, model, model_shared_type=mode,
                                            shared_updates="twice")
    twice = {id(p) for p in net.twice_updated_parameters()}
    names = {".".join(n.split(".")[:2]) for n, p in net.named_parameters() if id(p) in twice}
    assert sorted(names) == expected
    trainer = get_trainer(config["MODEL_TYPE"], model)(config, net)
    trainer._train_epoch(train, 0)
    batches = len(train)
    for name, param in net.named_parameters():
        assert int(trainer.optimizer.state[param]["step"]) == batches * (
            2 if id(param) in twice else 1), name


def test_shared_updates_is_checked(data_path, workdir):
    with pytest.raises(ValueError, match=r"shared_updates must be one of \['once', 'twice'\]"):
        make_model(data_path, shared_updates="thrice")
