"""Training and evaluation speed of ELECRec's paths against SASRec+, in one process.

    python benchmarks/speed.py --dataset Beauty [--batches 20] [--data_path dataset] [--threads 2]
        [--compare softmax_chunk_rows=256,auto]

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
process's peak after the fast path's first step (its own) and at the end (the exact path's). The
last stdout line is a JSON object of the figures.
"""

import argparse
import json
import resource
import time

import torch
from recbole.data import data_preparation
from recbole.utils import init_seed

from recbole_elecrec.config import Config
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
    start = time.perf_counter()
    optimizer.zero_grad()
    losses = model.calculate_loss(batch)
    (sum(losses) if isinstance(losses, tuple) else losses).backward()
    optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def time_variants(variants, batches, counts, device):
    """Mean seconds per step of each variant, timed in interleaved rounds (one batch per variant
    a round) so that the machine's ups and downs hit all of them alike; a first round, untimed,
    warms caches up."""
    timings = {name: [] for name in variants}
    for i, batch in enumerate([batches[0]] + batches):
        for name, (model, optimizer) in variants.items():
            if i <= counts[name]:
                seconds = training_step(model, optimizer, batch, device)
                if i > 0:
                    timings[name].append(seconds)
    return {name: sum(t) / len(t) for name, t in timings.items()}


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
    args = parser.parse_args()
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
        per_batch = time_variants(variants, batches, dict.fromkeys(variants, args.batches), device)
        print(f"{args.dataset}: fast path, {len(train)} batches per epoch, "
              f"{torch.get_num_threads()} threads")
        for name, seconds in per_batch.items():
            print(f"{name:<32}{seconds * len(train):>8.1f} s/epoch")
        print(json.dumps({name: round(seconds * len(train), 2)
                          for name, seconds in per_batch.items()}))
        return

    # the fast path first, alone, so that the peak memory after its steps is its own
    variants = {"fast": build_variant("fast", args.dataset, train._dataset, settings)}
    training_step(*variants["fast"], batches[0], device)
    fast_peak_rss = peak_rss_mb()
    for name in VARIANTS:
        variants[name] = variants.get(name) or build_variant(name, args.dataset, train._dataset,
                                                             settings)
    counts = {name: args.exact_batches if name == "exact" else args.batches for name in VARIANTS}
    per_batch = time_variants(variants, batches, counts, device)
    figures = {name: {"epoch_seconds": seconds * len(train), "rows_per_second": rows / seconds}
               for name, seconds in per_batch.items()}

    eval_config = Config("ELECRec", args.dataset, config_dict=settings)
    model = ELECRec(eval_config, train._dataset).to(device)
    trainer = get_trainer(eval_config["MODEL_TYPE"], "ELECRec")(eval_config, model)
    start = time.perf_counter()
    trainer.evaluate(test, load_best_model=False)
    eval_seconds = time.perf_counter() - start

    print(f"{args.dataset}: {len(train)} batches of {base['train_batch_size']} per epoch, "
          f"{len(test.dataset)} test users, device {device}, {torch.get_num_threads()} threads")
    print(f"{'path':<16}{'s/epoch':>10}{'rows/s':>10}")
    for name, f in figures.items():
        print(f"{name:<16}{f['epoch_seconds']:>10.1f}{f['rows_per_second']:>10.0f}")
    print(f"peak RSS: {fast_peak_rss:.0f} MB after the fast path, {peak_rss_mb():.0f} MB in all")
    print(f"test evaluation: {eval_seconds:.2f} s")
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
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
