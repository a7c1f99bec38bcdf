"""Distributed training on torch.distributed: the backend that fits the device, exact metrics.

RecBole 1.2.1 hard-codes nccl with one GPU per process, and averages per-rank metrics weighted by
batch counts (and counts the users that DistributedSampler repeats to even out the shards).
"""

import datetime
import gc
import logging
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

from recbole_elecrec.errors import INPUT_ERRORS, command_settings, error_message

BACKENDS = ("nccl", "gloo")


def process_device(config):
    """The device of a distributed process (local_rank): its GPU under nccl, the CPU under gloo;
    refuses a backend that does not fit."""
    use_cuda = bool(config["use_gpu"]) and torch.cuda.is_available() and config["gpu_id"] != ""
    backend = config["ddp_backend"] or ("nccl" if use_cuda else "gloo")
    if backend not in BACKENDS:
        raise ValueError(f"ddp_backend must be one of {list(BACKENDS)}, got '{backend}'")
    if backend == "nccl" and not use_cuda:
        raise ValueError("ddp_backend 'nccl' needs CUDA GPUs; use 'gloo' on the CPU")
    return torch.device("cuda", config["local_rank"]) if use_cuda else torch.device("cpu")


def init_process_group(config):
    """Join the process group described by ``config`` (local_rank, offset, world_size, ip, port,
    device: ``process_device``'s)."""
    device = config["device"]
    if device.type == "cuda":
        torch.cuda.set_device(device)
    rank = config["local_rank"] + config["offset"]
    dist.init_process_group(
        backend=config["ddp_backend"] or ("nccl" if device.type == "cuda" else "gloo"),
        rank=rank,
        world_size=config["world_size"],
        store=join(config, rank),
    )


def join(config, rank):
    """The store every process of the run meets at (rank 0 serves it at ip:port), once all
    ``world_size`` have joined. Waits ``ddp_join_timeout`` seconds at most (torch's default is
    half an hour), saying first what for where some processes are another node's to start."""
    world, timeout = config["world_size"], config["ddp_join_timeout"]
    address = f"{config['ip']}:{config['port']}"
    others = world - config["nproc"]
    if rank == 0 and others > 0:
        print(f"waiting up to {timeout:g} s for {others} more process{'es' * (others > 1)}, of "
              f"other nodes, to join at {address} (world_size {world}; start each node's run "
              "with --group_offset = the processes of the nodes before it)", file=sys.stderr,
              flush=True)
    try:
        return dist.TCPStore(config["ip"], int(config["port"]), world, is_master=rank == 0,
                             timeout=datetime.timedelta(seconds=timeout))
    except dist.DistError as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"world_size {world}: not every process joined at {address} within "
                         f"ddp_join_timeout ({timeout:g} s): {reason}") from None


def spawn(fn, nprocs, args=()):
    """``torch.multiprocessing.spawn(fn, args, nprocs)``, where a process that fails on bad input
    (a data file the checks before spawning did not see, say) ends the run with its error, as
    a single-process run does, rather than with every process's traceback."""
    errors = mp.get_context("spawn").SimpleQueue()
    spawn_log = logging.getLogger("torch.multiprocessing.spawn")
    level = spawn_log.level
    # its warning that it terminates the other processes: the error says why
    spawn_log.setLevel(logging.ERROR)
    try:
        mp.spawn(_run_as_command, args=(fn, errors, *args), nprocs=nprocs, join=True)
    except mp.ProcessExitedException:
        if errors.empty():
            raise
        raise ValueError(errors.get()) from None
    finally:
        spawn_log.setLevel(level)


def _run_as_command(rank, fn, errors, *args):
    """``fn(rank, *args)`` as the command runs it (a spawned process starts without the
    command's settings: ``command_settings``), an input error sent to ``errors`` as its line and
    the process ended with status 2 (its traceback would be spawn's report)."""
    try:
        with command_settings():
            fn(rank, *args)
    except INPUT_ERRORS as error:
        errors.put(error_message(error))
        sys.exit(2)


def distribute(trainer):
    """Make ``trainer``, built as for one process, one process of a distributed run: its model
    wrapped for DDP (on its GPU, or on the CPU), its metrics computed over every rank's users,
    and its checkpoint the file rank 0 names (every rank loads what rank 0 writes)."""
    config = trainer.config
    on_gpu = config["device"].type == "cuda"
    trainer.distributed_model = DistributedDataParallel(
        trainer.model, device_ids=[config["local_rank"]] if on_gpu else None)
    trainer.evaluator = GatheringEvaluator(trainer.evaluator)
    name = [trainer.saved_model_file]
    dist.broadcast_object_list(name, src=0)
    trainer.saved_model_file = name[0]


def finish(trainer):
    """End this process's part of a distributed run. Every rank's last collective is done first
    (a barrier), and the DDP wrapper, whose reducer holds the process group, is released before
    the group is destroyed: released later, by a garbage collection that holds the GIL, its
    destructor joins gloo's threads while one of them waits for the GIL, and the process hangs."""
    dist.barrier()
    trainer.distributed_model = None
    gc.collect()
    dist.destroy_process_group()


class GatheringEvaluator:
    """RecBole's Evaluator over the users of every rank at once.

    DistributedSampler (no shuffling) deals sample i to rank i % world_size and pads the last
    round with repeats of the first samples; the repeats are dropped before gathering, so the
    metrics equal the single-process ones exactly.
    """

    def __init__(self, evaluator):
        self.evaluator = evaluator
        self.sample_size = None  # samples of the loader being evaluated, set per evaluation

    def evaluate(self, struct):
        for key in ("rec.topk", "rec.meanrank", "rec.score", "rec.items", "data.label"):
            if key in struct:
                struct[key] = self.gather(struct[key])
        return self.evaluator.evaluate(struct)

    def gather(self, rows):
        """This rank's per-sample ``rows`` joined with every other rank's, repeats dropped."""
        world, rank = dist.get_world_size(), dist.get_rank()
        own = -(-(self.sample_size - rank) // world)  # samples this rank really holds
        parts = [None] * world
        dist.all_gather_object(parts, rows[:own])
        return torch.cat(parts)
