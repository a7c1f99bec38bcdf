"""Memory a run needs, refused before it is allocated: an allocation larger than the machine
either fails deep in torch or RecBole with a traceback, or is killed by the system without a
word."""

import torch

GIB = 2 ** 30


def available_memory(device):
    """Bytes that ``device`` can still allocate: the GPU's free memory, or the system's
    MemAvailable (Linux; None where it cannot be read: nothing is refused then)."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open("/proc/meminfo", encoding="ascii") as file:
            fields = dict(line.split(":", 1) for line in file)
        return int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return None


def check_memory(needed, device, what, settings):
    """Refuse, before allocating them, ``needed`` bytes that ``device`` does not have, naming
    ``what`` needs them and the ``settings`` that size it."""
    available = available_memory(device)
    if available is not None and needed > available:
        raise ValueError(f"{settings}: {what}: {needed / GIB:.1f} GiB needed, "
                         f"{available / GIB:.1f} GiB of {device.type} memory available")
