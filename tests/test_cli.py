"""run_recbole.py end to end: training, the JSON result, eval-only, and bad input."""

import json
import subprocess
import sys

import pytest
import torch

from conftest import REPO, TINY, full_result, last_json, run_cli


def test_elecrec_one_epoch(elecrec_run):
    cwd, out, result = elecrec_run
    assert out["model"] == "ELECRec" and out["dataset"] == "tiny"
    metrics = {f"{m}@{k}" for m in ("hit", "ndcg") for k in (5, 10, 20)}
    assert set(out["best_valid"]) == metrics and set(out["test"]) == metrics
    assert all(0 <= v <= 1 for v in out["test"].values())
    assert "gen_loss" in result.stderr and "dis_acc_replaced" in result.stderr
    assert (cwd / out["checkpoint"]).is_file()


def test_last_line_is_short_and_the_result_file_beside_the_log_has_the_rest(elecrec_run):
    cwd, out, result = elecrec_run
    assert len(result.stdout.strip().splitlines()[-1]) < 2048
    assert "history" not in out and "config" not in out
    log = next((cwd / "log" / "ELECRec").glob("*.log"))
    assert cwd / out["result_file"] == log.with_suffix(".json")
    full = full_result(cwd, out)
    assert len(full["history"]) == 1 and "gen_loss" in full["history"][0]
    assert full["config"]["model"] == "ELECRec" and full["config"]["epochs"] == 1
    summary = {key: value for key, value in out.items() if key != "result_file"}
    assert {key: full[key] for key in summary} == summary


def test_eval_only_reproduces_the_test_metrics(elecrec_run, data_path):
    cwd, out, _ = elecrec_run
    again = last_json(run_cli(cwd, "--model=ELECRec", "--dataset=tiny", f"--data_path={data_path}",
                              "--eval_only", f"--checkpoint={out['checkpoint']}",
                              "--result_file=eval/result.json", *TINY))
    assert again["test"] == out["test"] and again["best_valid"] == out["best_valid"]
    assert again["result_file"] == "eval/result.json"
    assert full_result(cwd, again)["config"]["dataset"] == "tiny"


def test_eval_only_takes_model_dataset_and_data_path_from_the_checkpoint(elecrec_run):
    cwd, out, _ = elecrec_run
    again = last_json(run_cli(cwd, "--eval_only", f"--checkpoint={out['checkpoint']}", *TINY))
    assert (again["model"], again["dataset"]) == ("ELECRec", "tiny")
    assert again["test"] == out["test"]


def test_load_data_and_model(elecrec_run, data_path, monkeypatch):
    from recbole_elecrec.quick_start import load_data_and_model
    from recbole_elecrec.utils import get_trainer

    cwd, out, _ = elecrec_run
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["pytest"])
    config, model, _, _, _, test = load_data_and_model(out["checkpoint"])
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
    assert dict(trainer.evaluate(test, load_best_model=False)) == out["test"]


def test_sasrec_runs_without_extra_flags(sasrec_run):
    _, out = sasrec_run
    assert out["model"] == "SASRec" and set(out["test"]) >= {"hit@10", "ndcg@10"}


@pytest.mark.parametrize("before", [False, True])
def test_model_lookup_leaves_anomaly_detection_as_it_was(before):
    # RecBole's sine.py turns it on at import; in a fresh process, as a run starts
    code = (f"import torch; torch.autograd.set_detect_anomaly({before})\n"
            "from recbole_elecrec.utils import get_model\n"
            "for name in ('SASRec', 'GRU4Rec', 'BERT4Rec', 'SINE'): get_model(name)\n"
            "print(torch.is_anomaly_enabled())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [str(before)]


def assert_one_line_error(result, cwd, *words):
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    lines = [l for l in result.stderr.splitlines() if l.startswith("error:")]
    assert len(lines) == 1, result.stderr[-2000:]
    for word in words:
        assert word in lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize("args, words", [
    (["--model=NoSuchModel", "--dataset=tiny"], ["unknown model 'NoSuchModel'"]),
    (["--model=ELECRec", "--dataset=nope"], ["unknown dataset 'nope'"]),
    (["--model=ELECRec", "--dataset=tiny", "--sample_ratio=1.5"], ["sample_ratio"]),
    (["--model=ELECRec", "--dataset=tiny", "--model_shared_type=full", "--dis_hidden_size=32"],
     ["gen_hidden_size == dis_hidden_size"]),
    (["--model=ELECRec", "--dataset=tiny", "--eval_only"], ["--checkpoint"]),
    (["--model=ELECRec", "--dataset=tiny", "--eval_only", "--checkpoint=missing.pth"],
     ["checkpoint not found"]),
])
def test_bad_input_one_line_and_nothing_written(data_path, tmp_path, args, words):
    result = run_cli(tmp_path, *args, f"--data_path={data_path}", *TINY)
    assert_one_line_error(result, tmp_path, *words)
    assert list(tmp_path.iterdir()) == []


def test_checkpoint_of_another_dataset_is_rejected(elecrec_run, data_path):
    cwd, out, _ = elecrec_run
    result = run_cli(cwd, "--model=ELECRec", "--dataset=tiny_big", f"--data_path={data_path}",
                     "--eval_only", f"--checkpoint={out['checkpoint']}", *TINY)
    assert_one_line_error(result, cwd, "does not fit", "item_embedding")


def test_malformed_atomic_file(tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "broken.inter").write_text(
        "user_id:token\titem_id:token\ttimestamp:float\n1\t2\tnot-a-number\n")
    result = run_cli(tmp_path, "--model=ELECRec", "--dataset=broken", f"--data_path={tmp_path}",
                     *TINY)
    assert_one_line_error(result, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken"]


def test_resume_continues_from_the_saved_epoch(elecrec_run, data_path, monkeypatch):
    from recbole_elecrec.compat import load_checkpoint
    from recbole_elecrec.quick_start import build

    cwd, out, _ = elecrec_run
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["pytest"])
    settings = {"data_path": str(data_path), "epochs": 2, "show_progress": False, "gpu_id": "",
                "load_col": {"inter": ["user_id", "item_id", "timestamp"]}}
    _, trainer, (train, valid, _) = build("ELECRec", "tiny", config_dict=settings)
    trainer.resume_checkpoint(out["checkpoint"])
    saved = load_checkpoint(out["checkpoint"])["state_dict"]
    assert trainer.start_epoch == 1
    assert all(torch.equal(v, saved[k]) for k, v in trainer.model.state_dict().items())
    trainer.fit(train, valid, saved=False)
    assert list(trainer.train_loss_dict) == [1]  # only the remaining epoch ran


def test_epoch_statistics_reach_tensorboard(elecrec_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    cwd, _, _ = elecrec_run
    wanted = {f"ELECRec/{k}" for k in ("gen_loss", "dis_loss", "dis_acc_kept",
                                        "dis_acc_replaced", "replace_rate")}
    found = set()
    for run_dir in (cwd / "log_tensorboard").iterdir():
        events = EventAccumulator(str(run_dir))
        events.Reload()
        found |= set(events.Tags()["scalars"])
    assert wanted <= found


def recommend_cli(cwd, *args):
    return subprocess.run([sys.executable, "-m", "recbole_elecrec.recommend", *args],
                          capture_output=True, text=True, cwd=cwd)


def test_recommend_top_k_for_new_sequences(elecrec_run, monkeypatch):
    from recbole_elecrec.recommend import Recommender

    cwd, out, _ = elecrec_run
    (cwd / "seqs.txt").write_text("\ufeff1 2 3\n\n40 41\n", encoding="utf-8")  # a BOM
    result = recommend_cli(cwd, f"--checkpoint={out['checkpoint']}", "--input=seqs.txt", "--k=5")
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["items"] for line in lines] == [["1", "2", "3"], ["40", "41"]]

    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["pytest"])
    recommender = Recommender.from_checkpoint(out["checkpoint"])
    for line in lines:
        top = line["recommendations"]
        assert len(top) == 5 and not {r["item"] for r in top} & set(line["items"])
        scores = [r["score"] for r in top]
        assert scores == sorted(scores, reverse=True)
        # the same ranking as the model's own scores, seen items and padding removed
        expected = recommender.recommend(line["items"], k=5)
        assert [r["item"] for r in top] == [t for t, _ in expected]
    with_seen = recommender.recommend(["1", "2", "3"], k=60, exclude_seen=False)
    assert {"1", "2", "3"} <= {t for t, _ in with_seen} and "[PAD]" not in dict(with_seen)


def test_recommend_unknown_tokens(elecrec_run):
    cwd, out, _ = elecrec_run
    failed = recommend_cli(cwd, f"--checkpoint={out['checkpoint']}", "--items=1 nope")
    assert failed.returncode == 2 and failed.stdout == ""
    assert failed.stderr.strip().splitlines()[-1] == (
        "error: sequence 1: unknown item token 'nope' (not in the training data)")
    skipped = recommend_cli(cwd, f"--checkpoint={out['checkpoint']}", "--items=1 nope",
                            "--skip_unknown", "--k=3")
    assert skipped.returncode == 0 and "warning: skipping unknown item token 'nope'" in skipped.stderr
    answer = json.loads(skipped.stdout)
    assert answer["items"] == ["1"] and len(answer["recommendations"]) == 3


def test_a_checkpoint_from_before_a_setting_existed_loads_with_its_default(elecrec_run, tmp_path):
    from recbole_elecrec.quick_start import load_data_and_model

    cwd, out, _ = elecrec_run
    checkpoint = torch.load(cwd / out["checkpoint"], weights_only=False)
    for key in ("backbone", "shared_updates"):
        del checkpoint["config"].final_config_dict[key]
    torch.save(checkpoint, tmp_path / "old.pth")
    config, model, *_ = load_data_and_model(tmp_path / "old.pth")
    assert (config["backbone"], config["shared_updates"]) == ("SASRec", "once")
    assert type(model).__name__ == "ELECRec"
