"""Distributed runs with 2 CPU processes on gloo: same step, same metrics, a loadable model."""

import json
import socket
import subprocess
import sys

import pytest
import torch
import torch.multiprocessing as mp

import ddp_worker
from conftest import REPO, full_result, write_elecrec_file
from recbole_elecrec.data.prepare import prepare

pytestmark = pytest.mark.slow  # each test starts processes that train or evaluate


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


@pytest.mark.parametrize("sharing", [{"model_shared_type": "none"},
                                     {"model_shared_type": "full", "shared_updates": "twice"}])
def test_one_step_equals_the_single_process_step(data_path, workdir, tmp_path, sharing):
    settings = {**ddp_worker.STEP_SETTINGS, **sharing}
    config, trainer, (train, _, _) = ddp_worker.build_trainer(data_path, "tiny", **settings)
    batch = next(iter(train))
    torch.save(batch.interaction, tmp_path / "batch.pt")
    ddp_worker.deterministic_sampler(trainer.model)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer._train_epoch(ddp_worker.OneBatch([batch]), 0)
    single = trainer.model.state_dict()

    mp.spawn(ddp_worker.one_step, nprocs=2, join=True, args=(
        2, free_port(), data_path, tmp_path / "batch.pt", tmp_path / "ddp.pt", settings))
    distributed = torch.load(tmp_path / "ddp.pt")
    moved = 0
    for key, value in single.items():
        torch.testing.assert_close(distributed[key], value, atol=1e-6, rtol=0, msg=key)
        moved += not torch.equal(value, before[key])
    assert moved > 10  # the step changed the weights, so the comparison means something


@pytest.mark.parametrize("history_mask", ["exclude", "reference"])
def test_distributed_evaluation_gives_the_single_process_metrics(data_path, workdir, tmp_path,
                                                                 history_mask):
    # 81 users: the shards are uneven, so DistributedSampler repeats a user on one rank
    write_elecrec_file(tmp_path / "odd.txt", n_users=81, seed=5)
    prepare("odd", source=tmp_path / "odd.txt", data_path=data_path, overwrite=True)  # per param
    config, trainer, (_, _, test) = ddp_worker.build_trainer(data_path, "odd",
                                                             history_mask=history_mask)
    torch.save(trainer.model.state_dict(), tmp_path / "weights.pt")
    single = dict(trainer.evaluate(test, load_best_model=False))
    mp.spawn(ddp_worker.evaluate, nprocs=2, join=True, args=(
        2, free_port(), data_path, "odd", tmp_path / "weights.pt", tmp_path / "ddp.json",
        history_mask))
    assert json.loads((tmp_path / "ddp.json").read_text()) == {
        "test": single, "by_protocol": trainer.by_protocol, "check": trainer.history_check}


def test_two_process_training_run_saves_a_loadable_model(tmp_path):
    toy = ["--dataset=toy", f"--data_path={REPO / 'benchmarks' / 'data'}",
           "--load_col={'inter': ['user_id', 'item_id', 'timestamp']}", "--show_progress=False",
           "--gpu_id="]
    # as a module: the spawned processes start from recbole_elecrec.__main__
    trained = subprocess.run(
        [sys.executable, "-m", "recbole_elecrec", "--model=ELECRec", "--epochs=2",
         "--nproc=2", f"--port={free_port()}", *toy], capture_output=True, text=True, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr[-3000:]
    out = json.loads(trained.stdout.strip().splitlines()[-1])
    full = full_result(tmp_path, out)
    assert full["config"]["ddp_backend"] is None and out["device"] == "cpu"
    assert len(full["history"]) == 2
    again = subprocess.run(
        [sys.executable, str(REPO / "run_recbole.py"), "--model=ELECRec", "--eval_only",
         f"--checkpoint={out['checkpoint']}", *toy], capture_output=True, text=True, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads(again.stdout.strip().splitlines()[-1])["test"] == out["test"]
