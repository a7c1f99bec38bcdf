"""training_state: an interrupted run continues where it stopped, as if never interrupted."""

from pathlib import Path

import pytest
import torch

from conftest import small_settings


class Interrupted(Exception):
    pass


def build_run(data_path, state_file, **overrides):
    from recbole_elecrec.quick_start import build

    settings = small_settings(data_path, **{"epochs": 4, "stopping_step": 10, "seed": 3,
                                            "training_state": str(state_file), **overrides})
    _, trainer, (train, valid, _) = build("ELECRec", "tiny", config_dict=settings)
    return trainer, train, valid


def stop_after(epoch):
    def callback(epoch_idx, valid_score):
        if epoch_idx == epoch:
            raise Interrupted  # as if the process were killed once the state is written
    return callback


@pytest.fixture(params=["once", "twice"])
def runs(data_path, workdir, monkeypatch, request):
    updates = request.param  # twice: the optimizer state holds two updates a step
    whole, train, valid = build_run(data_path, workdir / "whole.pth", shared_updates=updates)
    whole.fit(train, valid)

    state = workdir / "cut.pth"
    first, train, valid = build_run(data_path, state, shared_updates=updates)
    with pytest.raises(Interrupted):
        first.fit(train, valid, callback_fn=stop_after(1))
    assert state.is_file()
    second, train, valid = build_run(data_path, state, shared_updates=updates)
    second.fit(train, valid)
    return whole, first, second, state


def test_an_interrupted_run_ends_as_an_uninterrupted_one(runs):
    whole, first, second, state = runs
    assert second.start_epoch == 2
    assert list(second.train_loss_dict) == [2, 3]  # only the remaining epochs ran
    for key, value in whole.model.state_dict().items():
        assert torch.equal(value, second.model.state_dict()[key]), key
    strip = [{k: v for k, v in h.items() if k != "train_seconds"} for h in whole.history]
    assert [{k: v for k, v in h.items() if k != "train_seconds"} for h in second.history] == strip
    assert second.best_valid_result == whole.best_valid_result
    assert second.saved_model_file == first.saved_model_file  # the best model of the whole run
    assert not state.exists()  # training ended: nothing left to continue
    assert not (state.parent / "whole.pth").exists()


@pytest.fixture
def cut_state(data_path, workdir):
    """A training_state of a two-epoch run stopped after its first epoch, and that run."""
    state = workdir / "state.pth"
    trainer, train, valid = build_run(data_path, state, epochs=2)
    with pytest.raises(Interrupted):
        trainer.fit(train, valid, callback_fn=stop_after(0))
    return state, trainer


def test_state_of_another_model_is_refused(data_path, cut_state):
    from recbole_elecrec.quick_start import build

    state, trainer = cut_state
    before = state.read_bytes()
    settings = small_settings(data_path, epochs=2, training_state=str(state))
    with pytest.raises(ValueError, match="continues ELECRec on tiny, not SASRec on tiny"):
        build("SASRec", "tiny", config_dict=settings)
    assert state.read_bytes() == before  # left as it was

    Path(trainer.saved_model_file).unlink()
    with pytest.raises(ValueError, match="whose best model .* is gone"):
        build_run(data_path, state, epochs=2)
    assert state.read_bytes() == before


def test_resume_with_other_settings_is_refused(data_path, cut_state):
    state, _ = cut_state
    before = state.read_bytes()
    with pytest.raises(ValueError) as error:
        build_run(data_path, state, epochs=2, learning_rate=0.01, sample_ratio=0.3)
    assert str(error.value).endswith(
        "continues a run with other settings: learning_rate 0.001 there, 0.01 now; "
        "sample_ratio 0.5 there, 0.3 now")
    # the best model stays where the run wrote it: a state never names where a run writes
    with pytest.raises(ValueError, match="checkpoint_dir 'saved' there, 'elsewhere' now"):
        build_run(data_path, state, checkpoint_dir="elsewhere")
    assert state.read_bytes() == before
    # what is shown and how long it trains may change
    trainer, train, valid = build_run(data_path, state, epochs=3, show_progress=True)
    trainer.fit(train, valid)
    assert list(trainer.train_loss_dict) == [1, 2] and not state.exists()


def test_a_resumed_run_removes_the_partial_files_a_killed_save_left(data_path, cut_state):
    state, trainer = cut_state
    best = Path(trainer.saved_model_file)
    # a run killed while writing the state and its best model; and another file's partial
    left = [state.with_name(f".state.pth.{'a1b2c3d4'}.partial"),
            best.with_name(f".{best.name}.0badf00d.partial")]
    other = best.with_name(".other.pth.0badf00d.partial")
    for path in [*left, other]:
        path.write_bytes(b"half a checkpoint")
    resumed, train, valid = build_run(data_path, state, epochs=2)
    resumed.fit(train, valid)
    assert not any(path.exists() for path in left)
    assert other.exists()  # not a file this run writes


def test_interactions_changed_under_a_run_are_refused_and_warned_about(data_path, workdir,
                                                                       caplog):
    """Rows appended to the .inter (the same users, items and token order): continuing the run
    is refused, evaluating its model warns that the figures are not the trained run's."""
    import shutil

    from recbole_elecrec.quick_start import evaluate_checkpoint

    copy = workdir / "data"
    shutil.copytree(data_path / "tiny", copy / "tiny")
    state = workdir / "state.pth"
    first, train, valid = build_run(copy, state)
    with pytest.raises(Interrupted):
        first.fit(train, valid, callback_fn=stop_after(0))
    inter = copy / "tiny" / "tiny.inter"
    last = inter.read_text().splitlines()[-1].split("\t")
    with inter.open("a") as file:  # the last user's last item again, later
        file.write(f"{last[0]}\t{last[1]}\t{float(last[2]) + 1}\n")
    with pytest.raises(ValueError, match="tiny's interactions differ from those the model was"):
        build_run(copy, state)
    caplog.clear()
    evaluate_checkpoint(first.saved_model_file)
    assert any("interactions differ" in r.getMessage() and r.levelname == "WARNING"
               for r in caplog.records)
