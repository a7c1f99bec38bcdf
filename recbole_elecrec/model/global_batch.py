"""Loss divisors over the global batch: what makes a distributed step the step of one process."""

import torch
import torch.distributed as dist


def global_divisor(*counts):
    """Per count: its sum over all ranks divided by the world size (the count itself when not
    distributed). A rank's loss *sum* divided by it makes DDP's averaged gradient the gradient of
    the mean over the global batch, however the targets are spread over the ranks."""
    counts = torch.stack([c.detach().float() for c in counts])
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(counts)
        counts /= dist.get_world_size()
    return counts.unbind()
