"""Training and evaluation speed of ELECRec's paths against SASRec+, in one process.

    python benchmarks/speed.py --dataset Beauty [--batches 20] [--data_path dataset] [--threads 2]
        [--compare softmax_chunk_rows=256,auto] [--clock cpu]

Times training steps (forward, backward, optimizer step) on the same batches for:
  fast           ELECRec without the reference's padding quirks, inverse-CDF sampling
  exact          ELECRec as the reference code runs it: both padding quirks, torch.multinomial,
                 shared weights updated twice a step (shared_updates: twice)
  sasrec_plus    SASRec+ (the generator alone), loss over real targets (same rows, same trimming)
  sasrec_plus_50 SASRec+ with its loss over all 50 positions (the reference's generator)
then one full test evaluation with the dataset's protocol. With --compare KEY=A,B,..., only the
fast path, once per value of the setting KEY, timed the same way (no evaluation). Each variant's optimizer is built as
training builds it; the variants are timed in interleaved rounds, so their ratios hold on a busy
machine too. Epoch seconds are seconds per batch times the batches of an epoch. Peak RSS is the
process's peak after the fast path's first step (its own) and at the end (the exact path's).
Seconds are wall-clock seconds, or with ``--clock cpu`` the process's CPU seconds: at one thread
on a machine shared with other jobs, these leave out the time the process waits for a core.

How far from the machine's limit: after the timing, each variant's timed steps (and the
evaluation) run once more while their matrix products (mm, addmm, bmm, baddbmm) are recorded by
shape and dtype; each shape is then timed alone on this machine, in float32 and in bf16. Printed
per variant: the products' GFLOP a step, the products' own seconds at the machine's measured rate
for those shapes, and the achieved fraction (those seconds over the measured step: 1.0 would be
a step that does nothing but its products, each as fast as alone); the same with the bf16 rate,
and the rates of the shapes with the most FLOPs. The last stdout line is a JSON object of the
figures.
"""

import argparse
import collections
import json
import platform
import resource
import time
from pathlib import Path

import torch
from recbole.data import data_preparation
from recbole.utils import init_seed
from torch.utils._python_dispatch import TorchDispatchMode

from recbole_elecrec.config import Config
from recbole_elecrec.errors import command_settings
from recbole_elecrec.model import ELECRec, SASRecPlus
from recbole_elecrec.optim import update_twice
from recbole_elecrec.quick_start import create_dataset
from recbole_elecrec.trainer import get_trainer

QUIRKS_OFF = {"gen_loss_on_padding": False, "replace_padding": False}
VARIANTS = {  # name: (model, settings)
    "fast": (ELECRec, {**QUIRKS_OFF, "sampling_method": "inverse_cdf", "shared_updates": "once"}),
    "exact": (ELECRec, {"gen_loss_on_padding": True, "replace_padding": True,
                        "sampling_method": "multinomial", "shared_updates": "twice"}),
    "sasrec_plus": (SASRecPlus, {"gen_loss_on_padding": False, "shared_updates": "once"}),
    "sasrec_plus_50": (SASRecPlus, {"gen_loss_on_padding": True, "shared_updates": "once"}),
}


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCKS["wall"]  # what every figure is timed by (--clock)

# matrix products by aten name: the index of their first factor among the arguments
PRODUCTS = {"mm": 0, "bmm": 0, "addmm": 1, "addmm_": 1, "baddbmm": 1, "baddbmm_": 1}


class ProductShapes(TorchDispatchMode):
    """Counts the matrix products run inside it by (batch, m, k, n, dtype):
    [batch] m x k @ k x n."""

    def __init__(self):
        super().__init__()
        self.calls = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        first = PRODUCTS.get(func.overloadpacket.__name__)
        if first is not None:
            a, b = args[first:first + 2]
            batch = a.shape[0] if a.dim() == 3 else 1
            self.calls[(batch, *a.shape[-2:], b.shape[-1], a.dtype)] += 1
        return func(*args, **(kwargs or {}))


def gflop(shape):
    batch, m, k, n, _ = shape
    return 2 * batch * m * k * n / 1e9


def product_seconds(shape, device, dtype=None, repeats=3, least_seconds=0.002):
    """Seconds of one product of ``shape`` (see ``ProductShapes``) in ``dtype`` (None: its own),
    contiguous random factors, alone: the best of ``repeats`` loops of at least
    ``least_seconds``."""
    batch, m, k, n, own = shape
    a = torch.randn(batch, m, k, device=device).to(dtype or own)
    b = torch.randn(batch, k, n, device=device).to(dtype or own)
    product = torch.bmm if batch > 1 else (lambda x, y: x[0] @ y[0])
    product(a, b)  # warm-up
    best, loops = float("inf"), 1
    for _ in range(repeats):
        while True:
            start = clock()
            for _ in range(loops):
                product(a, b)
            if device.type == "cuda":
                torch.cuda.synchronize()
            seconds = clock() - start
            if seconds >= least_seconds:
                break
            loops *= 2
        best = min(best, seconds / loops)
    return best


class MatmulRates:
    """The machine's seconds per product shape, float32 and bf16, each measured once."""

    def __init__(self, device):
        self.device, self.seconds = device, {}

    def of(self, shape, dtype=None):
        key = (shape[:4], dtype or shape[4])
        if key not in self.seconds:
            self.seconds[key] = product_seconds(shape, self.device, dtype)
        return self.seconds[key]

    def report(self, calls, measured_seconds, steps):
        """Figures of ``calls`` (a ProductShapes count over ``steps`` steps that took
        ``measured_seconds``): GFLOP a step, seconds of the products at the measured rate and at
        the bf16 rate, and the achieved fraction of each."""
        total = sum(gflop(shape) * count for shape, count in calls.items())
        at_rate = sum(self.of(shape) * count for shape, count in calls.items())
        at_bf16 = sum(self.of(shape, torch.bfloat16) * count for shape, count in calls.items())
        return {"gflop": round(total / steps, 3),
                "achieved_gflops": round(total / measured_seconds, 2),
                "matmul_seconds": round(at_rate / steps, 4),
                "fraction": round(at_rate / measured_seconds, 3),
                "bf16_matmul_seconds": round(at_bf16 / steps, 4),
                "bf16_fraction": round(at_bf16 / measured_seconds, 3)}

    def top_shapes(self, calls, count=5):
        """The ``count`` shapes with the most FLOPs: (shape, share of the FLOPs, float32 GFLOPS,
        bf16 GFLOPS)."""
        total = sum(gflop(shape) * n for shape, n in calls.items())
        ranked = sorted(calls, key=lambda shape: -gflop(shape) * calls[shape])[:count]
        return [(shape, gflop(shape) * calls[shape] / total,
                 gflop(shape) / self.of(shape, torch.float32),
                 gflop(shape) / self.of(shape, torch.bfloat16)) for shape in ranked]


def machine_name(device):
    """The GPU's or the CPU's model name."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpuinfo = Path("/proc/cpuinfo")
    names = [line.split(":", 1)[1].strip() for line in
             (cpuinfo.read_text().splitlines() if cpuinfo.exists() else [])
             if line.startswith("model name")]
    return names[0] if names else platform.processor() or "CPU"


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_variant(name, dataset_name, dataset, settings):
    """The variant's model and optimizer, as training builds them."""
    model_class, overrides = VARIANTS[name]
    config = Config(model_class.__name__, dataset_name, config_dict={**settings, **overrides})
    init_seed(config["seed"], True)
    model = model_class(config, dataset).to(config["device"])
    optimizer = torch.optim.Adam(model.parameters(), lr=config["learning_rate"],
                                 weight_decay=config["weight_decay"])
    if config["shared_updates"] == "twice":
        update_twice(optimizer, model.twice_updated_parameters())
    return model, optimizer


def training_step(model, optimizer, batch, device):
    """Seconds of one training step (forward, backward, optimizer step)."""
    model.train()
    batch = batch.to(device)
    start = clock()
    optimizer.zero_grad()
    losses = model.calculate_loss(batch)
    (sum(losses) if isinstance(losses, tuple) else losses).backward()
    optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return clock() - start


def time_variants(variants, batches, counts, device):
    """Seconds of each timed step of each variant, timed in interleaved rounds (one batch per
    variant a round) so that the machine's ups and downs hit all of them alike; a first round,
    untimed, warms caches up."""
    timings = {name: [] for name in variants}
    for i, batch in enumerate([batches[0]] + batches):
        for name, (model, optimizer) in variants.items():
            if i <= counts[name]:
                seconds = training_step(model, optimizer, batch, device)
                if i > 0:
                    timings[name].append(seconds)
    return timings


def count_products(variants, batches, counts, device):
    """The matrix products of each variant's timed steps, run again (see ``ProductShapes``)."""
    calls = {}
    for name, (model, optimizer) in variants.items():
        with ProductShapes() as shapes:
            for batch in batches[:counts[name]]:
                training_step(model, optimizer, batch, device)
        calls[name] = shapes.calls
    return calls


def print_machine(rates, calls, timings, device, evaluation=None):
    """The matmul figures of each variant (and the evaluation: (calls, seconds)); returns them."""
    figures = {name: rates.report(calls[name], sum(t), len(t)) for name, t in timings.items()}
    if evaluation:
        figures["evaluation"] = rates.report(*evaluation, 1)
    print(f"machine: {machine_name(device)}, {torch.get_num_threads()} threads; matrix products "
          f"at the rate this machine gives their shapes alone")
    print(f"{'':<32}{'GFLOP':>8}{'GFLOPS':>8}{'at rate':>9}{'fraction':>9}"
          f"{'at bf16':>9}{'fraction':>9}")
    for name, f in figures.items():
        print(f"{name:<32}{f['gflop']:>8.2f}{f['achieved_gflops']:>8.1f}"
              f"{f['matmul_seconds']:>8.3f}s"
              f"{f['fraction']:>9.3f}{f['bf16_matmul_seconds']:>8.3f}s{f['bf16_fraction']:>9.3f}")
    first = next(iter(timings))
    print(f"{first}: its products with the most FLOPs ([batch] m x k @ k x n, dtype)")
    for (batch, m, k, n, dtype), share, float32, bf16 in rates.top_shapes(calls[first]):
        print(f"  {batch} x {m} x {k} @ {k} x {n} {str(dtype)[6:]:<9}{share:>6.0%} of FLOPs, "
              f"{float32:6.1f} GFLOPS in float32, {bf16:6.1f} in bf16")
    return figures


def compared_variants(compare, dataset_name, dataset, settings):
    """The fast path once per value of ``compare`` ('KEY=A,B'), by name 'KEY=A'; a value
    RecBole would read as a number is one."""
    key, values = compare.split("=", 1)
    return {f"{key}={value}": build_variant(
        "fast", dataset_name, dataset, {**settings, key: int(value) if value.isdigit() else value})
        for value in values.split(",")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="Beauty")
    parser.add_argument("--data_path", default="dataset")
    parser.add_argument("--batches", type=int, default=20, help="timed batches per variant")
    parser.add_argument("--exact_batches", type=int, default=6, help="timed batches, exact path")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--compare", help="KEY=A,B,...: the fast path per value of KEY only")
    parser.add_argument("--clock", choices=CLOCKS, default="wall",
                        help="cpu: the process's CPU seconds (one thread on a busy machine)")
    args = parser.parse_args()
    global clock
    clock = CLOCKS[args.clock]
    if args.threads:
        torch.set_num_threads(args.threads)

    settings = {"data_path": args.data_path, "show_progress": False}
    base = Config("ELECRec", args.dataset, config_dict=settings)
    device = base["device"]
    dataset = create_dataset(base)
    train, _, test = data_preparation(base, dataset)
    batches = []
    for batch in train:
        batches.append(batch)
        if len(batches) == max(args.batches, args.exact_batches):
            break
    rows = sum(len(b) for b in batches) / len(batches)

    if args.compare:
        variants = compared_variants(args.compare, args.dataset, train._dataset, settings)
        counts = dict.fromkeys(variants, args.batches)
        timings = time_variants(variants, batches, counts, device)
        print(f"{args.dataset}: fast path, {len(train)} batches per epoch, "
              f"{torch.get_num_threads()} threads, {args.clock} clock")
        for name, t in timings.items():
            print(f"{name:<32}{sum(t) / len(t) * len(train):>8.1f} s/epoch")
        calls = count_products(variants, batches, counts, device)
        matmul = print_machine(MatmulRates(device), calls, timings, device)
        print(json.dumps({name: {"epoch_seconds": round(sum(t) / len(t) * len(train), 2),
                                 **matmul[name]} for name, t in timings.items()}))
        return

    # the fast path first, alone, so that the peak memory after its steps is its own
    variants = {"fast": build_variant("fast", args.dataset, train._dataset, settings)}
    training_step(*variants["fast"], batches[0], device)
    fast_peak_rss = peak_rss_mb()
    for name in VARIANTS:
        variants[name] = variants.get(name) or build_variant(name, args.dataset, train._dataset,
                                                             settings)
    counts = {name: args.exact_batches if name == "exact" else args.batches for name in VARIANTS}
    timings = time_variants(variants, batches, counts, device)
    per_batch = {name: sum(t) / len(t) for name, t in timings.items()}
    figures = {name: {"epoch_seconds": seconds * len(train), "rows_per_second": rows / seconds}
               for name, seconds in per_batch.items()}

    eval_config = Config("ELECRec", args.dataset, config_dict=settings)
    model = ELECRec(eval_config, train._dataset).to(device)
    trainer = get_trainer(eval_config["MODEL_TYPE"], "ELECRec")(eval_config, model)
    start = clock()
    trainer.evaluate(test, load_best_model=False)
    eval_seconds = clock() - start
    with ProductShapes() as eval_products:
        trainer.evaluate(test, load_best_model=False)

    print(f"{args.dataset}: {len(train)} batches of {base['train_batch_size']} per epoch, "
          f"{len(test.dataset)} test users, device {device}, {torch.get_num_threads()} threads, "
          f"{args.clock} clock")
    print(f"{'path':<16}{'s/epoch':>10}{'rows/s':>10}")
    for name, f in figures.items():
        print(f"{name:<16}{f['epoch_seconds']:>10.1f}{f['rows_per_second']:>10.0f}")
    print(f"peak RSS: {fast_peak_rss:.0f} MB after the fast path, {peak_rss_mb():.0f} MB in all")
    print(f"test evaluation: {eval_seconds:.2f} s")
    matmul = print_machine(MatmulRates(device),
                           count_products(variants, batches, counts, device), timings, device,
                           evaluation=(eval_products.calls, eval_seconds))
    summary = {
        "dataset": args.dataset,
        "fast_epoch_seconds": round(figures["fast"]["epoch_seconds"], 2),
        "exact_epoch_seconds": round(figures["exact"]["epoch_seconds"], 2),
        "sasrec_plus_epoch_seconds": round(figures["sasrec_plus"]["epoch_seconds"], 2),
        "sasrec_plus_all_positions_epoch_seconds": round(
            figures["sasrec_plus_50"]["epoch_seconds"], 2),
        "fast_over_sasrec_plus": round(figures["fast"]["epoch_seconds"]
                                       / figures["sasrec_plus"]["epoch_seconds"], 3),
        "exact_over_sasrec_plus_all_positions": round(
            figures["exact"]["epoch_seconds"] / figures["sasrec_plus_50"]["epoch_seconds"], 3),
        "exact_over_fast": round(figures["exact"]["epoch_seconds"]
                                 / figures["fast"]["epoch_seconds"], 3),
        "eval_seconds": round(eval_seconds, 2),
        "peak_rss_mb": round(fast_peak_rss),
        "exact_peak_rss_mb": round(peak_rss_mb()),
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "machine": machine_name(device),
        "threads": torch.get_num_threads(),
        "clock": args.clock,
        "matmul": matmul,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    with command_settings():  # the command line is this script's, not Config's
        main()
