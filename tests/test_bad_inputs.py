"""Every bad input to every command: one `error:` line, exit status 2, no traceback, nothing
written, no code run; and checkpoints that survive an interrupted save and runs that share a
folder or a training_state."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import cases_checkpoints
import cases_data
import cases_settings
from cases_checkpoints import RunsCode
from conftest import REPO, TINY, small_settings

# downloads fail at once, as without network
OFFLINE = {**{k: v for k, v in os.environ.items() if k.lower() != "no_proxy"},
           "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"}
RUN = [arg for arg in TINY if not arg.startswith("--epochs")]  # the cases' own epochs come first
BEST = "{best}"  # the best model of a tiny ELECRec run (absolute path)
RUNS_CODE = ["could run code"]  # the words refusing a crafted checkpoint

# (id, command, arguments, words the error line holds)
CASES = [
    ("unknown-model", "run", ["--model=NoSuchModel", "--dataset=tiny"], ["unknown model"]),
    ("unknown-dataset", "run", ["--dataset=nope"], ["unknown dataset 'nope'"]),
    ("sample-ratio-range", "run", ["--dataset=tiny", "--sample_ratio=1.5"], ["sample_ratio"]),
    ("sample-ratio-text", "run", ["--dataset=tiny", "--sample_ratio=abc"], ["sample_ratio", "abc"]),
    ("sample-ratio-nan", "run", ["--dataset=tiny", "--sample_ratio=nan"], ["sample_ratio", "nan"]),
    ("size-text", "run", ["--dataset=tiny", "--gen_hidden_size=abc"], ["gen_hidden_size"]),
    ("learning-rate", "run", ["--dataset=tiny", "--learning_rate=-1"], ["learning_rate"]),
    ("epochs-zero", "run", ["--dataset=tiny", "--epochs=0"], ["epochs must be positive"]),
    ("epochs-negative", "run", ["--dataset=tiny", "--epochs=-1"], ["epochs must be positive"]),
    ("epochs-fraction", "run", ["--dataset=tiny", "--epochs=1.5"], ["epochs must be an integer"]),
    ("epochs-twice", "run", ["--dataset=tiny", "--epochs=1", "--epochs=2"], ["--epochs", "twice"]),
    ("epochs-space", "run", ["--dataset=tiny", "--epochs", "5"], ["unrecognized argument"]),
    ("batch-size", "run", ["--dataset=tiny", "--train_batch_size=0"], ["train_batch_size"]),
    ("threads-zero", "run", ["--dataset=tiny", "--threads=0"], ["threads must be positive"]),
    ("nproc-zero", "run", ["--dataset=tiny", "--nproc=0"], ["nproc"]),
    ("nproc-negative", "run", ["--dataset=tiny", "--nproc=-1"], ["nproc"]),
    ("world-size", "run", ["--dataset=tiny", "--nproc=2", "--world_size=1"], ["world_size"]),
    ("valid-metric", "run", ["--dataset=tiny", "--valid_metric=NoSuch@10"],
     ["valid_metric", "ndcg@20"]),
    ("metrics", "run", ["--dataset=tiny", "--metrics=['NoSuch']"], ["metrics", "NoSuch"]),
    ("topk", "run", ["--dataset=tiny", "--topk=0"], ["topk"]),
    ("history-mask", "run", ["--dataset=tiny", "--history_mask=hide"], ["history_mask"]),
    ("boolean", "run", ["--dataset=tiny", "--reproducibility=maybe"], ["reproducibility"]),
    ("shared-sizes", "run",
     ["--dataset=tiny", "--model_shared_type=full", "--dis_hidden_size=32"],
     ["gen_hidden_size == dis_hidden_size"]),
    ("checkpoint-dir-proc", "run", ["--dataset=tiny", "--checkpoint_dir=/proc/x"],
     ["checkpoint_dir", "/proc/x"]),
    ("checkpoint-dir-file", "run", ["--dataset=tiny", "--checkpoint_dir=file/saved"],
     ["checkpoint_dir", "not a directory"]),
    ("result-file", "run", ["--dataset=tiny", "--result_file=/proc/x/result.json"],
     ["result_file"]),
    ("result-file-not-a-file", "run", ["--dataset=tiny", "--result_file=."],
     ["result_file", "not a regular file"]),
    ("result-file-other-file", "run", ["--dataset=tiny", "--result_file=file"],
     ["result_file", "file exists", "not a result"]),
    ("result-file-checkpoint", "run", ["--dataset=tiny", "--result_file=corrupt.pth"],
     ["result_file", "corrupt.pth exists", "not a result"]),
    ("result-file-other-json", "run", ["--dataset=tiny", "--result_file=other.json"],
     ["result_file", "other.json exists", "not a result"]),
    ("state-directory", "run", ["--dataset=tiny", "--training_state=folder"],
     ["training_state", "not a regular file"]),
    ("state-corrupt", "run", ["--dataset=tiny", "--training_state=corrupt.pth"],
     ["not a readable PyTorch checkpoint"]),
    ("state-plain-checkpoint", "run", ["--dataset=tiny", f"--training_state={BEST}"],
     ["not a training_state file"]),
    ("state-other-model", "run", ["--model=SASRec", "--dataset=tiny", "--training_state=state.pth"],
     ["continues ELECRec on tiny, not SASRec on tiny"]),
    ("state-other-settings", "run",
     ["--dataset=tiny", "--training_state=state.pth", "--learning_rate=0.01"],
     ["other settings", "learning_rate 0.001 there, 0.01 now"]),
    ("state-with-nproc", "run", ["--dataset=tiny", "--nproc=2", "--training_state=new.pth"],
     ["single-process"]),
    ("config-file-syntax", "run", ["--dataset=tiny", "--config_files=bad.yaml"],
     ["bad.yaml is not valid YAML", "line 2"]),
    ("config-file-missing", "run", ["--dataset=tiny", "--config_files=missing.yaml"],
     ["config_files", "missing.yaml"]),
    ("config-file-alias-bomb", "run", ["--dataset=tiny", "--config_files=bomb.yaml"],
     ["config_files", "bomb.yaml", "aliases expand it past 10000 values"]),
    ("config-file-recursive-alias", "run", ["--dataset=tiny", "--config_files=loop.yaml"],
     ["config_files", "loop.yaml", "aliases expand"]),
    ("eval-without-checkpoint", "run", ["--dataset=tiny", "--eval_only"], ["--checkpoint"]),
    ("eval-missing", "run", ["--eval_only", "--checkpoint=missing.pth"], ["checkpoint not found"]),
    ("eval-corrupt", "run", ["--eval_only", "--checkpoint=corrupt.pth"],
     ["not a readable PyTorch checkpoint"]),
    ("eval-other-dataset", "run", ["--dataset=tiny_big", "--eval_only", f"--checkpoint={BEST}"],
     ["does not fit"]),
    ("reference-missing", "run", ["--dataset=tiny", "--reference_checkpoint=missing.pt"],
     ["missing.pt"]),
    ("save-checkpoint-taken", "run",
     ["--dataset=tiny", "--reference_checkpoint=corrupt.pth", "--save_checkpoint=file"],
     ["save_checkpoint", "exists"]),
    ("download-recbole", "run", ["--dataset=ml-1m", "--data_path=downloads"],
     ["could not download dataset 'ml-1m'"]),
    ("download-paper", "run", ["--dataset=Beauty", "--data_path=downloads"],
     ["could not download", "python -m recbole_elecrec.data prepare Beauty --source PATH"]),
    ("source-to-run", "run", ["--dataset=tiny", "--source=Beauty.txt"],
     ["python -m recbole_elecrec.data prepare"]),
    ("recommend-input-directory", "recommend", [f"--checkpoint={BEST}", "--input=folder"],
     ["--input folder"]),
    ("recommend-input-latin1", "recommend", [f"--checkpoint={BEST}", "--input=latin1.txt"],
     ["not UTF-8"]),
    ("recommend-bad-second-line", "recommend", [f"--checkpoint={BEST}", "--input=sequences.txt"],
     ["sequence 2", "unknown item token 'nope'"]),
    ("recommend-k", "recommend", [f"--checkpoint={BEST}", "--items=1 2", "--k=0"], ["--k"]),
    ("recommend-missing-checkpoint", "recommend", ["--checkpoint=missing.pth", "--items=1"],
     ["checkpoint not found"]),
    # a checkpoint whose config, unpickled, runs code: as torch.save and as RecBole save it
    ("crafted-eval", "run", ["--eval_only", "--checkpoint=crafted.pth"],
     ["crafted.pth", *RUNS_CODE]),
    ("crafted-eval-protocol-4", "run", ["--eval_only", "--checkpoint=crafted4.pth"],
     ["crafted4.pth", *RUNS_CODE]),
    ("crafted-training-state", "run", ["--dataset=tiny", "--training_state=crafted.pth"],
     ["crafted.pth", *RUNS_CODE]),
    ("crafted-recommend", "recommend", ["--checkpoint=crafted.pth", "--items=1"],
     ["crafted.pth", *RUNS_CODE]),
    ("crafted-compare", "compare", ["crafted4.pth", BEST], ["crafted4.pth", *RUNS_CODE]),
    ("crafted-probe", "probe", ["crafted.pth"], ["crafted.pth", *RUNS_CODE]),
    ("compare-three", "compare", [BEST, BEST, BEST], ["two checkpoints", "got 3", "ls -t"]),
    ("compare-one", "compare", [BEST], ["two checkpoints", "got 1"]),
    ("prepare-escaping-name", "prepare", ["../../escaped", "--source=good.txt"],
     ["dataset name '../../escaped'"]),
    ("prepare-empty-name", "prepare", ["", "--source=good.txt"], ["dataset name ''"]),
    ("prepare-latin1", "prepare", ["d", "--source=latin1.txt", "--data_path=out"],
     ["not UTF-8"]),
    ("prepare-unicode-digits", "prepare", ["d", "--source=unicode.txt", "--data_path=out"],
     ["'٣' is not an integer id"]),
    ("prepare-source-directory", "prepare", ["d", "--source=folder", "--data_path=out"],
     ["is a directory"]),
    ("prepare-malformed-url", "prepare", ["d", "--source=http://[bad", "--data_path=out"],
     ["not a valid URL"]),
    ("prepare-data-path-file", "prepare", ["d", "--source=good.txt", "--data_path=file"],
     ["data_path", "not a directory"]),
    ("prepare-data-path-proc", "prepare", ["d", "--source=good.txt", "--data_path=/proc/x"],
     ["data_path", "/proc/x"]),
    ("prepare-offline", "prepare", ["Beauty", "--data_path=out"],
     ["could not download", "--source PATH"]),
    ("prepare-exists", "prepare", ["d", "--source=good.txt", "--data_path=prepared"],
     ["d.inter exists", "--overwrite"]),
    *cases_data.CASES,
    *cases_settings.CASES,
    *cases_checkpoints.CASES,
]


def save_crafted(path, protocol=2):
    """A checkpoint as a user is sent one: a state_dict, and a config that runs code."""
    torch.save({"state_dict": {}, "config": RunsCode()}, path, pickle_protocol=protocol)


def billion_laughs(levels=9):
    """A small YAML file whose aliases expand it into 9 ** levels values."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def lay_out_inputs(cwd, state):
    """The files the cases name, in the case's working directory."""
    (cwd / "folder").mkdir()
    (cwd / "file").write_text("not a directory\n")
    (cwd / "bad.yaml").write_text("epochs: 1\n  learning_rate: [0.1\n")
    (cwd / "corrupt.pth").write_bytes(b"not a checkpoint")
    (cwd / "latin1.txt").write_bytes("1 2 3 4 caf\xe9\n".encode("latin-1"))
    (cwd / "unicode.txt").write_text("1 2 3 \u0663\n", encoding="utf-8")
    (cwd / "good.txt").write_text("1 2 3 4\n")
    (cwd / "sequences.txt").write_text("1 2 3\nnope\n")
    (cwd / "other.json").write_text('{"a": 1}\n')
    (cwd / "bomb.yaml").write_text(billion_laughs())
    (cwd / "loop.yaml").write_text("a: &a [*a]\n")
    (cwd / "prepared" / "d").mkdir(parents=True)
    (cwd / "prepared" / "d" / "d.inter").write_text("user_id:token\titem_id:token\n")
    save_crafted(cwd / "crafted.pth")
    save_crafted(cwd / "crafted4.pth", protocol=4)
    shutil.copy(state, cwd / "state.pth")
    for cases in (cases_data, cases_settings, cases_checkpoints):
        cases.lay_out(cwd)


def snapshot(cwd):
    return {path: path.stat().st_mtime_ns for path in cwd.rglob("*")}


@pytest.fixture(scope="session")
def made(data_path, tmp_path_factory):
    """A training_state of a tiny ELECRec run stopped after one of two epochs, and its best
    model; made in-process, with the best model at an absolute path."""
    from recbole_elecrec.quick_start import build

    root = tmp_path_factory.mktemp("made")
    state = root / "state.pth"
    settings = small_settings(data_path, epochs=2, training_state=str(state),
                              checkpoint_dir=str(root / "saved"))

    class Interrupted(Exception):
        pass

    def stop(epoch_idx, valid_score):
        raise Interrupted  # as if killed once the state is written

    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        _, trainer, (train, valid, _) = build("ELECRec", "tiny", config_dict=settings)
        with pytest.raises(Interrupted):
            trainer.fit(train, valid, callback_fn=stop)
    return state, Path(trainer.saved_model_file)


def case_args(case, data_path, best):
    """The case's arguments; a training run gets the tiny settings and the test data."""
    _, command, args, _ = case
    args = [arg.replace(BEST, str(best)) for arg in args]
    if command == "run":  # the tiny settings the case does not set itself
        defaults = [*RUN, "--epochs=1", f"--data_path={data_path}"]
        given = {arg.partition("=")[0] for arg in args}
        args += [arg for arg in defaults if arg.partition("=")[0] not in given]
    return args


@pytest.fixture(scope="session")
def outcomes(data_path, made, tmp_path_factory):
    """Every case, each in a directory of its own holding the files the cases name, run by
    run_mains.py: its command's main() as the script calls it, all in one process (a process
    per case would import torch and RecBole over 50 times: minutes on 2 cores)."""
    root = tmp_path_factory.mktemp("bad")
    state, best = made
    plan, before = [], {}
    for case in CASES:
        cwd = root / case[0]
        cwd.mkdir()
        lay_out_inputs(cwd, state)
        before[case[0]] = snapshot(cwd)
        plan.append({"command": case[1], "args": case_args(case, data_path, best),
                     "cwd": str(cwd)})
    (root / "cases.json").write_text(json.dumps(plan))
    done = subprocess.run([sys.executable, str(REPO / "tests" / "run_mains.py"),
                           str(root / "cases.json"), str(root / "results.json")],
                          capture_output=True, text=True, cwd=root, env=OFFLINE)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((root / "results.json").read_text())
    return {case[0]: (result, before[case[0]], snapshot(root / case[0]))
            for case, result in zip(CASES, results)}


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_bad_input_is_refused_in_one_line_and_nothing_is_written(outcomes, case):
    name, _, _, words = case
    result, before, after = outcomes[name]
    stdout, stderr = result["stdout"], result["stderr"]
    report = f"exit {result['returncode']}\nstdout: {stdout[-1500:]}\nstderr: {stderr[-3000:]}"
    assert result["returncode"] == 2, report
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, report
    assert "Traceback" not in stderr, report
    assert all(word in errors[0] for word in words), report
    assert "lightgbm" not in errors[0]
    assert stdout == "", report
    assert after == before, report  # nothing created, nothing touched


def test_the_crafted_checkpoint_runs_code_when_unpickled(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for protocol in (2, 4):
        save_crafted(tmp_path / "crafted.pth", protocol)
        torch.load(tmp_path / "crafted.pth", weights_only=False)
        assert (tmp_path / "marker").is_file()  # so the cases below would have made it
        (tmp_path / "marker").unlink()


@pytest.mark.parametrize("name", [case[0] for case in CASES
                                  if case[0].startswith(("crafted-", "pickle-received-"))])
def test_a_crafted_checkpoint_runs_no_code(outcomes, name):
    result, _, after = outcomes[name]
    assert result["returncode"] == 2
    assert not [path for path in after if path.name == "marker"]


@pytest.mark.parametrize("name", [case[0] for case in CASES if case[0].startswith("ckpt-calls-")])
def test_a_checkpoint_calling_a_config_runs_no_code_and_reads_no_file(outcomes, name):
    result, _, after = outcomes[name]
    assert result["returncode"] == 2
    assert not [path for path in after if path.name == "marker"]
    assert "hunter2" not in result["stdout"] + result["stderr"]  # secret.yaml's, never read
    assert not [path for path in after if path.is_file() and path.name != "secret.yaml"
                and b"hunter2" in path.read_bytes()]


def test_checkpoints_are_plain_data(elecrec_run):
    """torch's weights-only unpickler reads them with nothing allowed beyond its own types."""
    cwd, out, _ = elecrec_run
    checkpoint = torch.load(cwd / out["checkpoint"], weights_only=True)
    assert checkpoint["config"]["model"] == "ELECRec" and "device" not in checkpoint["config"]
    assert isinstance(checkpoint["best_valid_score"], float)


def tiny_trainer(data_path, **overrides):
    from recbole_elecrec.quick_start import build

    settings = small_settings(data_path, **{"epochs": 1, **overrides})
    _, trainer, (train, valid, _) = build("ELECRec", "tiny", config_dict=settings)
    return trainer, train, valid


def test_an_interrupted_save_keeps_the_previous_checkpoint(data_path, workdir, monkeypatch):
    from recbole_elecrec.checkpoint.allowlist import load_checkpoint

    trainer, train, valid = tiny_trainer(data_path)
    trainer.fit(train, valid)
    path = Path(trainer.saved_model_file)
    before = path.read_bytes()

    def killed_mid_write(obj, file, *args, **kwargs):
        Path(file).write_bytes(before[:100])
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", killed_mid_write)
    with pytest.raises(KeyboardInterrupt):
        trainer._save_checkpoint(1)
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == [path.name]  # no partial file left behind
    assert load_checkpoint(path)["epoch"] == 0


def test_runs_sharing_a_checkpoint_dir_keep_their_own_models(data_path, workdir, monkeypatch):
    from recbole_elecrec.checkpoint.allowlist import load_checkpoint

    # both started in the same second, which once gave them the same file
    monkeypatch.setattr("recbole_elecrec.trainer.get_local_time", lambda: "Jan-01-2030_00-00-00")
    first, train, valid = tiny_trainer(data_path, seed=1)
    second, train2, valid2 = tiny_trainer(data_path, seed=2)
    first.fit(train, valid)
    second.fit(train2, valid2)
    assert first.saved_model_file != second.saved_model_file
    for trainer in (first, second):
        saved = load_checkpoint(trainer.saved_model_file)["state_dict"]
        assert all(torch.equal(v, saved[k]) for k, v in trainer.model.state_dict().items())

    # a file the run did not write is never replaced
    taken = Path(first.saved_model_file)
    before = taken.read_bytes()
    second.saved_model_file = str(taken)
    with pytest.raises(ValueError, match="not written by this run"):
        second._save_checkpoint(1)
    assert taken.read_bytes() == before


def test_a_training_state_in_use_is_refused(data_path, workdir, capsys):
    from recbole_elecrec.cli import main

    state = workdir / "run.state"
    second = [*RUN, "--epochs=2", f"--data_path={data_path}", "--dataset=tiny",
              f"--training_state={state}"]
    outcomes = []

    def files():
        return {path: path.stat().st_mtime_ns for path in workdir.rglob("*") if path.is_file()}

    def start_second(epoch_idx, valid_score):  # while the first trains, its state written
        before = files()
        outcomes.append((main(second), capsys.readouterr(), files() == before))

    first, train, valid = tiny_trainer(data_path, epochs=2, training_state=str(state))
    first.fit(train, valid, callback_fn=start_second)
    for code, output, untouched in outcomes:
        errors = [line for line in output.err.splitlines() if line.startswith("error:")]
        assert code == 2 and output.out == "" and untouched, output.err
        assert len(errors) == 1 and "in use by another run" in errors[0], output.err
        assert f"{state}.lock" in errors[0]
    assert len(outcomes) == 2
    assert not state.exists() and not Path(f"{state}.lock").exists()


def test_a_training_state_is_held_only_while_its_run_lives(data_path, workdir):
    from recbole_elecrec.checkpoint.allowlist import load_checkpoint
    from recbole_elecrec.files import held

    state = workdir / "run.state"
    trainer, train, valid = tiny_trainer(data_path, training_state=str(state))
    with held(state, "training_state"):  # another run took it since this one started
        with pytest.raises(ValueError, match="in use by another run"):
            trainer.fit(train, valid)
    # the lock file of a run killed outright is no longer held: the next run takes it over
    Path(f"{state}.lock").write_text("process 1 on a host that is gone")
    trainer, train, valid = tiny_trainer(data_path, training_state=str(state))
    trainer.fit(train, valid)
    saved = load_checkpoint(trainer.saved_model_file)["state_dict"]
    assert all(torch.equal(v, saved[k]) for k, v in trainer.model.state_dict().items())
    assert not Path(f"{state}.lock").exists()


def test_a_run_evaluates_its_checkpoint_only_while_it_is_the_file_it_wrote(data_path, workdir):
    first, train, valid = tiny_trainer(data_path, seed=1)
    second, train2, valid2 = tiny_trainer(data_path, seed=2)
    first.fit(train, valid)
    second.fit(train2, valid2)
    # another process wrote its model over the first run's file
    os.replace(second.saved_model_file, first.saved_model_file)
    with pytest.raises(ValueError, match="replaced since this run wrote it"):
        first.evaluate(valid, load_best_model=True)


def test_property_files_are_read_with_the_same_limit(data_path, workdir):
    from recbole_elecrec.config import Config

    config = Config("ELECRec", "tiny", config_dict=small_settings(data_path))
    (workdir / "tiny.yaml").write_text(billion_laughs())  # as a dataset's own YAML file
    with pytest.raises(ValueError, match="tiny.yaml is refused: its aliases expand it past"):
        config._update_internal_config_dict(workdir / "tiny.yaml")


@pytest.mark.parametrize("model", ["ELECRec", "SASRec"])
def test_checkpoints_as_this_package_and_recbole_save_them_load(data_path, workdir, model):
    from recbole.trainer import Trainer

    from recbole_elecrec.checkpoint import read_checkpoint
    from recbole_elecrec.checkpoint.format import contents
    from recbole_elecrec.checkpoint.settings import saved_config
    from recbole_elecrec.quick_start import build

    _, trainer, _ = build(model, "tiny", config_dict=small_settings(data_path))
    trainer._save_checkpoint(0)
    # as RecBole's own method saves (pickle protocol 4, the whole Config pickled), which this
    # package's once called
    Trainer._save_checkpoint(trainer, 0, saved_model_file=str(workdir / "recbole.pth"))
    # as this package once saved training states: the Config, numpy numbers and random state
    import numpy as np

    old = {**contents(trainer, 0), "config": trainer.config, "best_valid_score": np.float64(.5),
           "random": {"numpy": np.random.get_state()}}
    torch.save(old, workdir / "old_state.pth")
    loaded = read_checkpoint(workdir / "old_state.pth")
    assert loaded["best_valid_score"] == 0.5 and type(loaded["best_valid_score"]) is float
    assert loaded["random"]["numpy"][1] == np.random.get_state()[1].tolist()
    for path in (trainer.saved_model_file, workdir / "recbole.pth", workdir / "old_state.pth"):
        checkpoint = read_checkpoint(path)
        config = saved_config(checkpoint, path)
        assert config.model_class is type(trainer.model) and config["model"] == model
        assert config["MODEL_TYPE"] == trainer.config["MODEL_TYPE"]
        assert config["train_batch_size"] == trainer.config["train_batch_size"]
        saved = checkpoint["state_dict"]
        assert all(torch.equal(v, saved[k]) for k, v in trainer.model.state_dict().items())


def test_a_lock_file_not_a_runs_is_never_truncated(data_path, workdir, capsys):
    """A file of the lock's name that a run did not write (the user's own, or a link to one) is
    refused, as the run starts and as it takes the hold, and left as it was."""
    from recbole_elecrec.cli import main
    from recbole_elecrec.files import held

    state, lock, notes = workdir / "run.state", workdir / "run.state.lock", workdir / "notes"
    for make_lock in (lambda: lock.write_text("my notes\n"), lambda: lock.symlink_to(notes)):
        notes.write_text("my notes\n")
        make_lock()
        code = main([*RUN, "--epochs=1", f"--data_path={data_path}", "--dataset=tiny",
                     f"--training_state={state}"])
        output = capsys.readouterr()
        assert code == 2 and output.out == "", output.err
        assert output.err.startswith(f"error: training_state: {lock} exists and is not a lock "
                                     "file of this package"), output.err
        assert len(output.err.splitlines()) == 1
        with pytest.raises(ValueError, match="is not a lock file of this package"):
            with held(state, "training_state"):
                pass
        assert notes.read_text() == "my notes\n" and lock.read_text() == "my notes\n"
        assert sorted(p.name for p in workdir.iterdir()) == ["notes", "run.state.lock"]
        lock.unlink()
