"""The two kernels whose variants are settings: the generator's chunked softmax over the item
table (``softmax_chunk_rows``) and the encoders' attention (``attention``), in one process.

    python benchmarks/kernels.py [--repeats 5] [--threads 1]

Prints the median milliseconds of interleaved repeats (the variants alternate their order each
round, so a busy machine hits them alike): ``item_softmax`` forward and backward with draws at half
the positions (H = 64) per rows per chunk, with what 'auto' picks here, and at those rows with
float32 and bf16 products (``precision``; where the CPU has bf16); then RecBole's and the
fused encoder (2 layers, H = 64, 256 x 50 rows) in training (attention dropout 0.5 and 0) and in
evaluation.
"""

import argparse
import copy
import time

import torch
from recbole.model.abstract_recommender import SequentialRecommender
from recbole.model.layers import TransformerEncoder

from recbole_elecrec.model.item_softmax import chunk_rows, item_softmax
from recbole_elecrec.model.network import fuse_attention
from recbole_elecrec.model.sampler import GeneratorSampler
from recbole_elecrec.model.sasrec_plus import has_bf16

SOFTMAX_SIZES = [(1750, 12101), (1750, 40000), (512, 100000)]  # (positions, items)
CHUNK_ROWS = [16, 32, 64, 128, 256]


def interleaved_medians(runs, repeats):
    """Median seconds of each of ``runs`` (name: function), after one untimed round."""
    times = {name: [] for name in runs}
    for round_ in range(repeats + 1):
        for name in (list(runs) if round_ % 2 else list(runs)[::-1]):
            start = time.perf_counter()
            runs[name]()
            if round_:
                times[name].append(time.perf_counter() - start)
    return {name: sorted(t)[len(t) // 2] for name, t in times.items()}


def softmax_runs(positions, n_items, rows_choices, dtype=None):
    torch.manual_seed(0)
    hidden = torch.randn(positions, 64, requires_grad=True)
    table = (torch.randn(n_items, 64) * 0.1).requires_grad_()
    targets = torch.randint(1, n_items, (positions,))
    draw = torch.rand(positions) < 0.5
    sampler = GeneratorSampler(0.5, 1.0, 1.0, "inverse_cdf")

    def run(rows):
        loss, _ = item_softmax(hidden, table, targets, targets > 0, draw, sampler, rows, dtype)
        loss.backward()
        hidden.grad = table.grad = None

    return {rows: (lambda rows=rows: run(rows)) for rows in rows_choices}


def encoder_runs(attn_dropout, training, rows=256, length=50):
    torch.manual_seed(0)
    recbole = TransformerEncoder(n_layers=2, n_heads=2, hidden_size=64, inner_size=256,
                                 hidden_dropout_prob=0.5, attn_dropout_prob=attn_dropout,
                                 hidden_act="gelu", layer_norm_eps=1e-12).train(training)
    encoders = {"recbole": recbole, "fused": fuse_attention(copy.deepcopy(recbole))}
    items = torch.randint(1, 100, (rows, length))
    for row in range(rows):
        items[row, :row % length] = 0  # left padding of every length
    mask = SequentialRecommender.get_attention_mask(None, items)
    hidden = torch.randn(rows, length, 64)

    def run(encoder):
        with torch.set_grad_enabled(training):
            out = encoder(hidden, mask, output_all_encoded_layers=False)[-1]
            if training:
                out.sum().backward()

    return {name: (lambda encoder=encoder: run(encoder)) for name, encoder in encoders.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"item_softmax, ms by rows per chunk, {args.threads} thread(s):")
    for positions, n_items in SOFTMAX_SIZES:
        medians = interleaved_medians(softmax_runs(positions, n_items, CHUNK_ROWS), args.repeats)
        line = "  ".join(f"{rows}: {seconds * 1000:.0f}" for rows, seconds in medians.items())
        auto = chunk_rows("auto", n_items, "cpu")
        print(f"  {positions} x {n_items}: {line}  (auto: {auto})")
        if has_bf16("cpu"):
            runs = {str(dtype)[6:]: softmax_runs(positions, n_items, [auto], dtype)[auto]
                    for dtype in (torch.float32, torch.bfloat16)}
            medians = interleaved_medians(runs, args.repeats)
            print(f"    {auto} rows: " + "  ".join(f"{name} products {seconds * 1000:.0f}"
                                                 for name, seconds in medians.items()))
    print("encoder, ms:")
    for name, dropout, training in [("training, attention dropout 0.5", 0.5, True),
                                    ("training, attention dropout 0", 0.0, True),
                                    ("evaluation", 0.5, False)]:
        medians = interleaved_medians(encoder_runs(dropout, training), args.repeats)
        print(f"  {name}: " + "  ".join(f"{variant} {seconds * 1000:.1f}"
                                        for variant, seconds in medians.items()))


if __name__ == "__main__":
    main()
