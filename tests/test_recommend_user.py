"""recommend --user: a known user's top K after its test-time history, the protocol's mask
applied."""

import json
import subprocess
import sys

import pytest
import torch

from conftest import REPO, TINY, last_json, run_cli


def source_histories(data_path):
    """{user token: its items but the last (the held-out test item)}, from the generated file."""
    lines = (data_path / "tiny.txt").read_text().split("\n")
    return {user: items[:-1] for user, *items in (line.split() for line in lines if line)}


@pytest.fixture(scope="module")
def recommender(elecrec_run):
    from recbole_elecrec.recommend import Recommender

    cwd, out, _ = elecrec_run
    return Recommender.from_checkpoint(cwd / out["checkpoint"])


@pytest.mark.parametrize("user", ["3", "1"])  # user 1's history is longer than the model reads
def test_the_users_history_is_its_items_before_the_test_item(recommender, data_path, user):
    history = source_histories(data_path)[user]
    assert recommender.user_history(user) == history[-recommender.config["MAX_ITEM_LIST_LENGTH"]:]


@pytest.mark.parametrize("user", ["3", "1"])
def test_a_users_top_k_is_its_history_ranked_with_the_protocols_mask(recommender, data_path,
                                                                     user):
    history = source_histories(data_path)[user]
    # exclude: the whole history out, as a sequence with its seen items excluded
    assert recommender.recommend_user(user, k=8, history_mask="exclude") == \
        recommender.recommend(history, k=8, exclude_seen=True)
    # none: history items rank like any other
    top_none = recommender.recommend_user(user, k=8, history_mask="none")
    assert top_none == recommender.recommend(history, k=8, exclude_seen=False)
    # reference: the history scores 0 in the model's own ranking, padding never recommended
    ids = [recommender.token_ids[t] for t in history]
    scores = recommender._scores(recommender._sequence(ids))[0]
    scores[torch.tensor(ids)] = 0.0
    scores[0] = -torch.inf
    top = torch.topk(scores, 8)
    assert [t for t, _ in recommender.recommend_user(user, k=8, history_mask="reference")] == \
        [recommender.tokens[i] for i in top.indices.tolist()]


def test_the_model_s_own_protocol_is_the_default(recommender):
    protocol = recommender.config["history_mask"]
    assert recommender.recommend_user("3", k=5) == \
        recommender.recommend_user("3", k=5, history_mask=protocol)


def recommend_cli(cwd, *args):
    return subprocess.run([sys.executable, "-m", "recbole_elecrec.recommend", *args],
                          capture_output=True, text=True, cwd=cwd)


def test_the_command_answers_each_user_in_a_json_line(elecrec_run, recommender):
    cwd, out, _ = elecrec_run
    result = recommend_cli(cwd, f"--checkpoint={out['checkpoint']}", "--user", "3", "7",
                           "--k=4", "--history_mask=exclude")
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["user"] for line in lines] == ["3", "7"]
    for line in lines:
        assert line["items"] == recommender.user_history(line["user"])
        expected = recommender.recommend_user(line["user"], k=4, history_mask="exclude")
        assert [(r["item"], r["score"]) for r in line["recommendations"]] == \
            [(t, pytest.approx(s)) for t, s in expected]


@pytest.mark.parametrize("args, message", [
    (["--user", "3", "nobody"], "unknown user token 'nobody' (not in the training data)"),
    (["--user", "3", "--include_seen"], "--include_seen and --skip_unknown are for sequences"),
    (["--items=1 2", "--history_mask=none"], "--history_mask is for --user"),
])
def test_bad_user_requests_end_in_one_line(elecrec_run, args, message):
    cwd, out, _ = elecrec_run
    failed = recommend_cli(cwd, f"--checkpoint={out['checkpoint']}", *args)
    assert failed.returncode == 2 and failed.stdout == ""
    assert failed.stderr.strip().splitlines()[-1].startswith(f"error: {message}")


def test_a_model_that_reads_the_user_answers_a_user(data_path, tmp_path):
    """FPMC cannot score a bare sequence (it reads the user's embedding), but a user's row."""
    from recbole_elecrec.recommend import Recommender

    out = last_json(run_cli(tmp_path, "--model=FPMC", "--dataset=tiny",
                            f"--data_path={data_path}", *TINY))
    recommender = Recommender.from_checkpoint(tmp_path / out["checkpoint"])
    assert len(recommender.recommend_user("3", k=5)) == 5
    with pytest.raises(ValueError, match="FPMC scores a sequence with its user's embedding"):
        recommender.recommend(["1", "2"])
