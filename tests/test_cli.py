"""run_recbole.py end to end: training, the JSON result, eval-only, and bad input."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import GPU_ID, REPO, TINY, full_result, last_json, run_cli, small_settings


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


def test_the_log_counts_the_data_file_as_loaded(elecrec_run, data_path):
    """Before the split, which keeps one row per (user, prefix): each first item goes uncounted."""
    cwd, _, _ = elecrec_run
    rows = len((data_path / "tiny" / "tiny.inter").read_text().splitlines()) - 1
    log = next((cwd / "log" / "ELECRec").glob("*.log")).read_text()
    assert f"The number of inters: {rows}\n" in log, log[:3000]


def test_the_python_api_keeps_recbole_s_deprecation_warnings_quiet(data_path, workdir):
    import warnings

    from recbole_elecrec.quick_start import build

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        build("ELECRec", "tiny", config_dict=small_settings(data_path))
    deprecations = [str(w.message) for w in caught if issubclass(w.category, FutureWarning)
                    and ("chained assignment" in str(w.message) or "GradScaler" in str(w.message))]
    assert deprecations == []


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
    from recbole_elecrec.trainer import get_trainer

    cwd, out, _ = elecrec_run
    monkeypatch.chdir(cwd)
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
    from recbole_elecrec.checkpoint.allowlist import load_checkpoint
    from recbole_elecrec.quick_start import build

    cwd, out, _ = elecrec_run
    monkeypatch.chdir(cwd)
    settings = {"data_path": str(data_path), "epochs": 2, "show_progress": False, "gpu_id": GPU_ID,
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
    checkpoint = torch.load(cwd / out["checkpoint"], weights_only=True)
    for key in ("backbone", "shared_updates"):
        del checkpoint["config"][key]
    torch.save(checkpoint, tmp_path / "old.pth")
    config, model, *_ = load_data_and_model(tmp_path / "old.pth")
    assert (config["backbone"], config["shared_updates"]) == ("SASRec", "once")
    assert type(model).__name__ == "ELECRec"


def tiny_run_args(data_path, *args, epochs=1):
    tiny = [arg for arg in TINY if not arg.startswith("--epochs=")]
    return [*tiny, f"--epochs={epochs}", "--model=ELECRec", "--dataset=tiny",
            f"--data_path={data_path}", *args]


def one_error_line(captured):
    assert "Traceback" not in captured.err, captured.err[-3000:]
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, captured.err[-3000:]
    return errors[0]


def test_a_result_file_that_cannot_be_replaced_leaves_the_result_beside_the_log(
        data_path, workdir, monkeypatch, capsys):
    import errno

    from recbole_elecrec import cli

    (workdir / "result.json").write_text(json.dumps(dict.fromkeys(cli.RESULT_KEYS)))
    write = cli.write_text_atomic

    def immutable(path, text):  # as a read-only or immutable file of an earlier run
        if path.name == "result.json":
            raise PermissionError(errno.EPERM, "Operation not permitted")
        write(path, text)

    monkeypatch.setattr(cli, "write_text_atomic", immutable)
    assert cli.main(tiny_run_args(data_path, "--result_file=result.json")) == 2
    captured = capsys.readouterr()
    error = one_error_line(captured)
    summary = json.loads(captured.out.splitlines()[-1])
    assert "result.json (Operation not permitted)" in error
    assert f"it is in {summary['result_file']}" in error
    assert full_result(workdir, summary)["test"] == summary["test"]


def test_a_result_that_cannot_be_written_anywhere_it_belongs_goes_to_a_temporary_file(
        tmp_path, monkeypatch):
    import errno

    from recbole_elecrec import cli

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cli, "write_text_atomic", full)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    result = {"model": "ELECRec", "test": {"hit@10": 0.5}, "log_file": "log/run.log"}
    summary, problem = cli.save_result(result, "out/result.json")
    assert Path(summary["result_file"]).parent == tmp_path
    assert json.loads(Path(summary["result_file"]).read_text()) == result
    assert problem == (f"could not write the result to out/result.json (the disk is full), "
                       f"log/run.json (the disk is full): it is in {summary['result_file']}")


def test_a_full_disk_while_saving_keeps_the_previous_checkpoint_and_state(
        data_path, workdir, monkeypatch, capsys):
    import errno

    from recbole_elecrec.checkpoint import read_checkpoint
    from recbole_elecrec.cli import main

    save, saves = torch.save, []

    def full_after_two(obj, file, *args, **kwargs):  # the first checkpoint and state fit
        saves.append(file)
        if len(saves) > 2:
            Path(file).write_bytes(b"part")
            raise OSError(errno.ENOSPC, "No space left on device")
        save(obj, file, *args, **kwargs)

    monkeypatch.setattr(torch, "save", full_after_two)
    state = workdir / "run.state"
    assert main(tiny_run_args(data_path, f"--training_state={state}", epochs=2)) == 2
    captured = capsys.readouterr()
    error = one_error_line(captured)
    assert "the disk is full" in error and "is intact" in error and captured.out == ""
    checkpoint = next((workdir / "saved").iterdir())
    assert read_checkpoint(checkpoint)["epoch"] == 0
    assert read_checkpoint(state)["epoch"] == 0
    assert not list(workdir.rglob("*.partial"))


def test_torch_saves_failure_on_a_full_disk_is_told_as_one(tmp_path, monkeypatch):
    import shutil

    from recbole_elecrec.files import atomic_path

    # torch's writer says "unexpected pos 576 vs 534" when the disk fills: the free space tells
    usage = shutil.disk_usage(tmp_path)
    for free, raised in [(0, OSError), (usage.free, RuntimeError)]:
        monkeypatch.setattr(shutil, "disk_usage", lambda path: usage._replace(free=free))
        with pytest.raises(raised) as error:
            with atomic_path(tmp_path / "model.pth"):
                raise RuntimeError("[enforce fail at inline_container.cc:672] unexpected pos")
        if raised is OSError:
            assert str(error.value.strerror) == (
                f"cannot write {tmp_path / 'model.pth'}: the disk is full (nothing was written)")
    assert list(tmp_path.iterdir()) == []


def config_of(data_path, argv, files=None, **settings):
    """The Config of a command line's ``--key=value`` settings over ``settings``."""
    from recbole_elecrec.config import Config
    from recbole_elecrec.settings_file import settings_from_args

    return Config("ELECRec", "tiny", config_file_list=files,
                  config_dict={**small_settings(data_path, **settings),
                               **settings_from_args(argv)})


@pytest.mark.parametrize("argv, words", [
    (["--epochs", "5"], "unrecognized argument '--epochs'"),
    (["epochs=5"], "unrecognized argument 'epochs=5'"),
    (["--=5"], "unrecognized argument '--=5'"),
    (["--epochs=5", "--epochs=6"], "--epochs is given twice, as '5' and '6'"),
])
def test_command_line_settings_are_key_value_pairs_given_once(argv, words):
    from recbole_elecrec.settings_file import settings_from_args

    with pytest.raises(ValueError, match=re.escape(words)):
        settings_from_args(argv)
    assert settings_from_args(["--note=a=b", "--epochs=5", "--epochs=5"]) == {
        "note": "a=b", "epochs": "5"}


def test_a_path_given_as_a_number_is_that_path(data_path, workdir, monkeypatch):
    (workdir / "settings.yaml").write_text("data_path: 7\n")
    config = config_of(data_path, ["--checkpoint_dir=5", "--training_state=6"],
                       files=["settings.yaml"])
    assert (config["checkpoint_dir"], config["training_state"]) == ("5", "6")
    assert config.file_config_dict["data_path"] == "7"
    assert config_of(data_path, ["--training_state=None"])["training_state"] is None


def test_unknown_settings_not_near_a_known_one_are_kept(data_path, workdir, monkeypatch):
    # a custom model's own settings; a YAML merge may override what it brings in
    (workdir / "custom.yaml").write_text("base: &base {my_layers: 3}\nmine:\n  <<: *base\n"
                                         "  my_layers: 4\n")
    config = config_of(data_path, ["--my_custom_flag=1"], files=["custom.yaml"],
                       note="x")
    assert config["my_custom_flag"] == 1 and config["mine"] == {"my_layers": 4}
    assert config["note"] == "x"


def settings_keys(spec):
    """The keys of every ``settings`` mapping in a benchmark or study file."""
    if isinstance(spec, list):
        return [key for item in spec for key in settings_keys(item)]
    if not isinstance(spec, dict):
        return []
    keys = list(spec.get("settings") or {}) if isinstance(spec.get("settings"), dict) else []
    return keys + [key for value in spec.values() for key in settings_keys(value)]


def test_the_settings_this_repository_uses_are_not_taken_for_misspelt_ones():
    import yaml

    from recbole_elecrec.rules import check_names

    used = set()
    for path in [*(REPO / "benchmarks").glob("*.yaml"), *(REPO / "studies").glob("*.yaml")]:
        used.update(settings_keys(yaml.safe_load(path.read_text())))
    for path in (REPO / "hyper").glob("*.hyper"):
        used.update(line.split()[0] for line in path.read_text().splitlines() if line.strip())
    assert {"epochs", "sample_ratio", "gen_hidden_size"} <= used
    check_names(used)


def test_ctrl_c_ends_a_command_in_one_line_with_status_130(monkeypatch, capsys):
    from recbole_elecrec import cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run", interrupted)
    monkeypatch.setattr(sys, "argv", ["run_recbole.py"])
    assert cli.main(["--model=ELECRec"]) == 130
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert captured.err.startswith("interrupted") and "--training_state" in captured.err


@pytest.mark.parametrize("model, files", [
    ("ELECRec", ["recbole/properties/overall.yaml", "properties/overall.yaml",
                 "model/SASRecPlus.yaml", "model/ELECRec.yaml"]),
    ("SASRec", ["recbole/properties/overall.yaml", "properties/model/SASRec.yaml",
                "properties/overall.yaml"]),
])
def test_settings_lists_every_property_file_of_the_model_in_order(capsys, model, files):
    from recbole_elecrec import settings

    assert settings.main([model]) == 0
    out = capsys.readouterr().out
    headers = [line for line in out.splitlines() if line.startswith("--- ")]
    assert len(headers) == len(files)
    assert all(header.endswith(name) for header, name in zip(headers, files)), headers
    assert "sample_ratio:" in out if model == "ELECRec" else "sample_ratio:" not in out
    assert "threads: ~" in out and "learning_rate:" in out


def test_a_python_run_is_quiet_with_state_warning(data_path, workdir, capfd):
    """RecBole's ``state`` (its log level) and ``show_progress``: no config, model or epoch
    lines; the result comes back all the same."""
    from recbole_elecrec.quick_start import run

    result = run("ELECRec", "tiny", config_dict=small_settings(
        data_path, epochs=1, state="warning", show_progress=False))
    out, err = capfd.readouterr()
    assert out == "" and "INFO" not in err and "ELECRec(" not in err, err[-2000:]
    assert result["test"]["ndcg@10"] >= 0
