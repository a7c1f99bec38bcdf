"""benchmarks/speed.py times what each of its variants names."""

import importlib.util

import pytest
import torch

from conftest import REPO, make_model, small_settings


@pytest.fixture(scope="module")
def speed():
    spec = importlib.util.spec_from_file_location("speed", REPO / "benchmarks" / "speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name, model, quirks, method, twice", [
    ("fast", "ELECRec", False, "inverse_cdf", False),
    ("exact", "ELECRec", True, "multinomial", True),
    ("sasrec_plus", "SASRecPlus", False, None, False),
    ("sasrec_plus_50", "SASRecPlus", True, None, False),
])
def test_each_variant_runs_what_it_names(speed, data_path, workdir, name, model, quirks, method,
                                         twice):
    _, (train, _, _), _ = make_model(data_path)
    net, optimizer = speed.build_variant(name, "tiny", train._dataset, small_settings(data_path))
    assert type(net).__name__ == model and net.gen_loss_on_padding == quirks
    if model == "ELECRec":
        assert net.replace_padding == quirks and net.sampler.method == method
    speed.training_step(net, optimizer, next(iter(train)), torch.device("cpu"))
    shared = {id(p) for p in net.twice_updated_parameters()}
    steps = {int(optimizer.state[p]["step"]) for p in net.parameters() if id(p) in shared}
    assert steps == ({2} if twice else {1})


def test_compare_times_the_fast_path_once_per_value(speed, data_path, workdir):
    _, (train, _, _), _ = make_model(data_path)
    variants = speed.compared_variants("softmax_chunk_rows=7,auto", "tiny", train._dataset,
                                       small_settings(data_path))
    assert list(variants) == ["softmax_chunk_rows=7", "softmax_chunk_rows=auto"]
    assert variants["softmax_chunk_rows=7"][0].softmax_chunk_rows == 7
    assert isinstance(variants["softmax_chunk_rows=auto"][0].softmax_chunk_rows, int)
    for net, _ in variants.values():
        assert not net.gen_loss_on_padding and net.sampler.method == "inverse_cdf"


def test_the_kernel_benchmark_times_every_variant():
    spec = importlib.util.spec_from_file_location("kernels", REPO / "benchmarks" / "kernels.py")
    kernels = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(kernels)
    medians = kernels.interleaved_medians(kernels.softmax_runs(20, 50, [4, 16]), 1)
    assert set(medians) == {4, 16} and all(seconds > 0 for seconds in medians.values())
    for dropout, training in [(0.5, True), (0.0, False)]:
        runs = kernels.encoder_runs(dropout, training, rows=4, length=6)
        assert set(kernels.interleaved_medians(runs, 1)) == {"recbole", "fused"}
