"""Which of a checkpoint's settings a later run takes as its own: one set of settings that do
not change what a run computes, for a continued run and for an evaluation alike."""

from conftest import small_settings
from recbole_elecrec.checkpoint.settings import (EVALUATION_SETTINGS, RUN_SETTINGS,
                                                 changed_settings, checkpoint_config)
from recbole_elecrec.config import Config


def config(data_path, **settings):
    return Config("ELECRec", "tiny", config_dict=small_settings(data_path, **settings))


def test_a_continued_run_may_change_how_it_runs_and_how_long_but_not_what_it_computes(
        data_path, workdir):
    saved = config(data_path, threads=1, epochs=5, worker=0, learning_rate=0.01)
    assert changed_settings(saved, config(data_path, threads=2, epochs=9, worker=1,
                                          learning_rate=0.01)) == {}
    assert changed_settings(saved, config(data_path, threads=1, epochs=5, worker=0,
                                          learning_rate=0.02)) == {"learning_rate": (0.01, 0.02)}
    # its best model lies in checkpoint_dir, under the name its state holds
    moved = changed_settings(saved, config(data_path, threads=1, epochs=5, worker=0,
                                           learning_rate=0.01, checkpoint_dir="elsewhere"))
    assert list(moved) == ["checkpoint_dir"]


def test_an_evaluation_takes_this_run_s_settings_and_the_evaluation_settings_given(
        data_path, workdir):
    saved = config(data_path, threads=1, topk=[10], learning_rate=0.01, valid_metric="NDCG@10")
    given = config(data_path, threads=2, topk=[5], learning_rate=0.02, valid_metric="NDCG@5")
    explicit = {"threads", "topk", "learning_rate", "valid_metric"}
    evaluated, differ = checkpoint_config(saved, given, explicit, "x.pth")
    assert evaluated["threads"] == 2 and "threads" not in differ  # how this process runs
    assert evaluated["topk"] == [5] and differ["topk"] == ([10], [5])  # what it measures
    assert evaluated["learning_rate"] == 0.01 and differ["learning_rate"] == (0.01, 0.02)
    assert not RUN_SETTINGS & EVALUATION_SETTINGS


def test_a_setting_newer_than_the_saved_run_counts_at_its_default(data_path, workdir):
    saved = config(data_path)
    for key in ("precision", "gen_embedding_size"):  # as a run saved before they existed
        del saved.final_config_dict[key]
    assert changed_settings(saved, config(data_path)) == {}
    assert changed_settings(saved, config(data_path, precision="float32",
                                          dis_embedding_size=16)) == {
        "dis_embedding_size": (None, 16)}
