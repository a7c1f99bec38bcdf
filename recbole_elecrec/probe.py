"""Does a trained ELECRec discriminator tell true next items from replacements?

    python -m recbole_elecrec.probe MODEL.pth [--split train|test] [--batches N] [--seed 0]

On training rows of the checkpoint's dataset (eval mode: no dropout), or with ``--split test`` on
each test user's test item, a share ``sample_ratio`` of the true next items is replaced, once by draws from the model's own generator (what training
shows the discriminator) and once by uniformly random items (the easiest negatives). For both,
prints the discriminator head's mean probability and its accuracy at 0.5 on true and on replaced
items, and the AUC of true against replaced (0.5: the head does not discriminate). The last line
is a JSON object of the figures. The authors' released model is probed after converting it
(``run_recbole.py --eval_only --reference_checkpoint=... --save_checkpoint=model.pth``).
"""

import argparse
import json
import sys

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from recbole_elecrec.errors import command, quiet_recbole_warnings
from recbole_elecrec.quick_start import load_data_and_model

NEGATIVES = ("generator", "uniform")
SPLITS = ("train", "test")


def auc(positive, negative):
    """P(a positive scores above a negative), ties counted half: the ROC AUC."""
    if len(positive) == 0 or len(negative) == 0:
        raise ValueError("AUC needs at least one true and one replaced item")
    labels = np.r_[np.ones(len(positive)), np.zeros(len(negative))]
    return float(roc_auc_score(labels, torch.cat([positive, negative]).double().cpu().numpy()))


@torch.no_grad()
def head_probabilities(model, data, negatives="generator", batches=20, last_only=False):
    """The head's probabilities on true and on replaced items of the first ``batches`` batches of
    ``data`` (None: all), at every real target or (``last_only``) each row's last:
    (true [P], replaced [R])."""
    if negatives not in NEGATIVES:
        raise ValueError(f"negatives must be one of {list(NEGATIVES)}, got '{negatives}'")
    model.eval()
    true, replaced = [], []
    for index, batch in enumerate(data):
        if index == batches:
            break
        interaction = batch[0] if isinstance(batch, tuple) else batch  # evaluation: (rows, ...)
        logits, is_true = model.probe_logits(interaction.to(model.device),
                                             uniform=negatives == "uniform", last_only=last_only)
        prob = torch.sigmoid(logits)
        true.append(prob[is_true])
        replaced.append(prob[~is_true])
    return torch.cat(true), torch.cat(replaced)


def summarize(true, replaced):
    """Counts, mean probabilities, accuracies at 0.5 and AUC of the head's probabilities."""
    return {
        "true": len(true), "replaced": len(replaced),
        "mean_prob_true": true.mean().item(), "mean_prob_replaced": replaced.mean().item(),
        "acc_true": (true > 0.5).float().mean().item(),
        "acc_replaced": (replaced <= 0.5).float().mean().item(),
        "auc": auc(true, replaced),
    }


def probe(model_file, batches=None, seed=0, split="train"):
    """Probe the ELECRec in ``model_file`` on ``batches`` batches of the ``split`` (None: 20
    training batches, or every test user); returns its figures for both kinds of negatives."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}, got '{split}'")
    if batches is not None and batches < 1:
        raise ValueError(f"batches must be at least 1, got {batches}")
    config, model, _, train_data, _, test_data = load_data_and_model(model_file)
    if config["model"] != "ELECRec":
        raise ValueError(f"{model_file} holds model {config['model']}; the probe needs ELECRec")
    data = train_data if split == "train" else test_data
    if batches is None and split == "train":
        batches = 20
    figures = {}
    for negatives in NEGATIVES:
        torch.manual_seed(seed)  # reproducible keep/replace draws
        figures[negatives] = summarize(*head_probabilities(
            model, data, negatives, batches, last_only=split == "test"))
    return {"model": config["model"], "dataset": config["dataset"], "checkpoint": str(model_file),
            "split": split, "sample_ratio": config["sample_ratio"], "negatives": figures}


@command
def main(argv=None):
    quiet_recbole_warnings()
    parser = argparse.ArgumentParser(prog="python -m recbole_elecrec.probe",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint",
                        help="an ELECRec checkpoint (.pth, as run_recbole.py saves it)")
    parser.add_argument("--split", default="train", choices=SPLITS,
                        help="training rows (every real target) or each test user's test item")
    parser.add_argument("--batches", type=int, default=None,
                        help="batches to probe (default: 20 training batches; every test user)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the replacement draws")
    args = parser.parse_args(argv)
    result = probe(args.checkpoint, args.batches, args.seed, args.split)
    print(f"{result['dataset']}, {result['checkpoint']}, {result['split']}, "
          f"sample_ratio {result['sample_ratio']}")
    print(f"{'negatives':<11}{'true':>8}{'replaced':>10}{'p(true)':>10}{'p(repl.)':>10}"
          f"{'acc true':>10}{'acc repl.':>11}{'AUC':>8}")
    for name, f in result["negatives"].items():
        print(f"{name:<11}{f['true']:>8}{f['replaced']:>10}{f['mean_prob_true']:>10.4f}"
              f"{f['mean_prob_replaced']:>10.4f}{f['acc_true']:>10.4f}{f['acc_replaced']:>11.4f}"
              f"{f['auc']:>8.4f}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
