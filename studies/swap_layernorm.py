"""A copy of an ELECRec checkpoint whose ranking network uses the generator's embedding LayerNorm.

    python studies/swap_layernorm.py ELECRec.pth OUT.pth
    python -m recbole_elecrec.compare ELECRec.pth OUT.pth --split valid

Under `full` or `embed_only` sharing the discriminator ranks with the generator's item and
position embeddings but normalises them with its own LayerNorm, the one part of its input path
that only the discriminator's loss trains. The copy differs from the input in that LayerNorm
alone, so a paired comparison of the two isolates what the discriminator's LayerNorm adds to the
ranking. The input file is never written.
"""

import argparse
import sys
from pathlib import Path

import torch

from recbole_elecrec.checkpoint import read_checkpoint
from recbole_elecrec.files import atomic_path

SHARED_EMBEDDINGS = ("full", "embed_only")


def swap_layernorm(source, target):
    """Write ``target``: ``source`` with discriminator.LayerNorm := generator.LayerNorm."""
    if Path(target).exists():
        raise ValueError(f"{target} exists; choose a new file")
    checkpoint = read_checkpoint(source)
    config = checkpoint["config"]
    if config["model"] != "ELECRec":
        raise ValueError(f"{source} holds model {config['model']}, not ELECRec")
    if config["model_shared_type"] not in SHARED_EMBEDDINGS:
        raise ValueError(f"{source}: model_shared_type '{config['model_shared_type']}' gives the "
                         f"networks separate embeddings; the swap needs one of {SHARED_EMBEDDINGS}")
    state = checkpoint["state_dict"]
    for name in ("weight", "bias"):
        state[f"discriminator.LayerNorm.{name}"] = state[f"generator.LayerNorm.{name}"].clone()
    with atomic_path(target, exclusive=True) as partial:  # whole, and never over another file
        torch.save(checkpoint, partial)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="ELECRec checkpoint (.pth, as run_recbole.py saves it)")
    parser.add_argument("target", help="where to write the copy (must not exist)")
    args = parser.parse_args(argv)
    try:
        swap_layernorm(args.source, args.target)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
