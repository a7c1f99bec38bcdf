"""benchmarks/speed.py runs what each variant names, and counts and rates its products."""

import importlib.util
import json
import subprocess
import sys

import pytest
import torch

from conftest import REPO, make_model, small_settings
from recbole_elecrec.model.sasrec_plus import has_bf16


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


def test_the_products_are_counted_by_shape_and_dtype(speed):
    a, b = torch.randn(5, 3), torch.randn(3, 4)
    linear = torch.nn.Linear(3, 4)
    with speed.ProductShapes() as shapes:
        a @ b
        torch.addmm(torch.zeros(5, 4), a, b)
        torch.bmm(torch.randn(2, 5, 3), torch.randn(2, 3, 7))
        with torch.autocast("cpu", torch.bfloat16):
            linear(a)
        a + 1  # not a product
    assert shapes.calls == {(1, 5, 3, 4, torch.float32): 2, (2, 5, 3, 7, torch.float32): 1,
                            (1, 5, 3, 4, torch.bfloat16): 1}
    assert speed.gflop((2, 5, 3, 7, torch.float32)) == 2 * 2 * 5 * 3 * 7 / 1e9


def test_the_achieved_fraction_is_the_products_seconds_at_the_measured_rate_over_the_step(speed):
    rates = speed.MatmulRates(torch.device("cpu"))
    small, large = (1, 10, 10, 10, torch.float32), (1, 100, 10, 100, torch.float32)
    rates.seconds = {(small[:4], torch.float32): 1e-6, (large[:4], torch.float32): 1e-4,
                     (small[:4], torch.bfloat16): 5e-7, (large[:4], torch.bfloat16): 2e-5}
    calls = {small: 4, large: 2}  # over 2 steps that took 0.01 s
    report = rates.report(calls, 0.01, 2)
    assert report["gflop"] == round((4 * 2e-6 + 2 * 2e-4) / 2, 3)
    assert report["matmul_seconds"] == round((4e-6 + 2e-4) / 2, 4)
    assert report["fraction"] == round((4e-6 + 2e-4) / 0.01, 3)
    assert report["bf16_fraction"] == round((2e-6 + 4e-5) / 0.01, 3)
    (top, share, float32, bf16), _ = rates.top_shapes(calls)
    assert top == large and share == pytest.approx(4e-4 / 4.08e-4)
    assert float32 == pytest.approx(2e-4 / 1e-4) and bf16 == pytest.approx(2e-4 / 2e-5)


def test_a_product_shape_is_timed_alone_in_either_dtype(speed):
    for dtype in (None, torch.bfloat16):
        seconds = speed.product_seconds((2, 8, 4, 8, torch.float32), torch.device("cpu"), dtype,
                                        repeats=1, least_seconds=1e-4)
        assert 0 < seconds < 0.1


@pytest.mark.skipif(not has_bf16("cpu"), reason="this CPU has neither AVX-512-BF16 nor AMX")
def test_compare_times_each_precision(speed, data_path, workdir):
    _, (train, _, _), _ = make_model(data_path)
    variants = speed.compared_variants("precision=float32,bf16", "tiny", train._dataset,
                                       small_settings(data_path))
    assert [net.low_precision for net, _ in variants.values()] == [None, torch.bfloat16]


def test_precision_compares_a_curve_with_the_float32_band(tmp_path):
    def cell(folder, label, seed, curve):
        (tmp_path / folder / "cells").mkdir(parents=True, exist_ok=True)
        record = {"label": label, "seed": seed, "status": "ok", "best_epoch": 1,
                  "best_valid": {"ndcg@20": max(curve)}, "seconds_per_epoch": 1.0,
                  "test": {"ndcg@10": 0.1, "hit@10": 0.2},
                  "history": [{"valid": {"ndcg@20": value}} for value in curve]}
        (tmp_path / folder / "cells" / f"{seed}.json").write_text(json.dumps(record))

    cell("full", "ELECRec", 1, [0.1, 0.2, 0.3, 0.4])
    cell("full", "ELECRec", 2, [0.2, 0.3, 0.4, 0.5])
    cell("low", "ELECRec bf16", 1, [0.15, 0.35, 0.3, 0.45])  # above the band once, by 0.05
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "precision.py"),
                           "--bf16", str(tmp_path / "low"), "--float32", str(tmp_path / "full")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert ("validation ndcg@20: inside the float32 seeds' band at 3 of 4 epochs; farthest "
            "outside 0.0500") in done.stdout
    assert (tmp_path / "low" / "curves.png").stat().st_size > 0
