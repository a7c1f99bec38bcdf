"""Training and evaluation speed of ELECRec's paths against SASRec+, in one process.

    python benchmarks/speed.py --dataset Beauty [--batches 20] [--data_path dataset] [--threads 2]

Times training steps (forward, backward, optimizer step) on the same batches for:
  fast           ELECRec without the reference's padding quirks, inverse-CDF sampling
  exact          ELECRec as the reference code runs it: both padding quirks, torch.multinomial,
                 shared weights updated twice a step (shared_updates: twice)
  sasrec_plus    SASRec+ (the generator alone), loss over real targets (same rows, same trimming)
  sasrec_plus_50 SASRec+ with its loss over all 50 positions (the reference's generator)
then one full test evaluation with the dataset's protocol. Each variant's optimizer is built as
training builds it. Epoch seconds are seconds per batch times the batches of an epoch. Peak RSS
is the process's peak after each stage (the fast path runs first, so its figure is its own). The
last stdout line is a JSON object of the figures.
"""

import argparse
import json
import resource
import sys
import time

import torch
from recbole.data import data_preparation
from recbole.utils import init_seed

from recbole_elecrec.config import Config
from recbole_elecrec.model import ELECRec, SASRecPlus
from recbole_elecrec.optim import update_twice
from recbole_elecrec.quick_start import create_dataset
from recbole_elecrec.utils import get_trainer

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


def time_training(model, optimizer, batches, device):
    model.train()
    timings = []
    for batch in batches:
        batch = batch.to(device)
        start = time.perf_counter()
        optimizer.zero_grad()
        losses = model.calculate_loss(batch)
        (sum(losses) if isinstance(losses, tuple) else losses).backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        timings.append(time.perf_counter() - start)
    timings = timings[1:] if len(timings) > 2 else timings  # first step warms caches up
    return sum(timings) / len(timings)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="Beauty")
    parser.add_argument("--data_path", default="dataset")
    parser.add_argument("--batches", type=int, default=20, help="timed batches per variant")
    parser.add_argument("--exact_batches", type=int, default=6, help="timed batches, exact path")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    sys.argv = sys.argv[:1]  # RecBole's Config reads --key=value from argv

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

    figures = {}
    for name in VARIANTS:
        model, optimizer = build_variant(name, args.dataset, train._dataset, settings)
        n = args.exact_batches if name == "exact" else args.batches
        per_batch = time_training(model, optimizer, batches[:n], device)
        figures[name] = {"epoch_seconds": per_batch * len(train),
                         "rows_per_second": rows / per_batch, "peak_rss_mb": peak_rss_mb()}

    eval_config = Config("ELECRec", args.dataset, config_dict=settings)
    model = ELECRec(eval_config, train._dataset).to(device)
    trainer = get_trainer(eval_config["MODEL_TYPE"], "ELECRec")(eval_config, model)
    start = time.perf_counter()
    trainer.evaluate(test, load_best_model=False)
    eval_seconds = time.perf_counter() - start

    print(f"{args.dataset}: {len(train)} batches of {base['train_batch_size']} per epoch, "
          f"{len(test.dataset)} test users, device {device}, {torch.get_num_threads()} threads")
    print(f"{'path':<16}{'s/epoch':>10}{'rows/s':>10}{'peak RSS MB':>13}")
    for name, f in figures.items():
        print(f"{name:<16}{f['epoch_seconds']:>10.1f}{f['rows_per_second']:>10.0f}"
              f"{f['peak_rss_mb']:>13.0f}")
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
        "peak_rss_mb": round(figures["fast"]["peak_rss_mb"]),
        "exact_peak_rss_mb": round(figures["exact"]["peak_rss_mb"]),
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
