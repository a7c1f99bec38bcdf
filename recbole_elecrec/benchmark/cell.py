"""``python -m recbole_elecrec.benchmark.cell RUNNER_PID ARGS``: a benchmark cell, the run
``python -m recbole_elecrec ARGS``, which ends with the runner that started it however that
ends (``kill -9`` too): a cell left running would keep training and writing its files while the
next runner runs it again."""

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def end_with(runner):
    """End this process as the runner stops its cells (SIGTERM) once ``runner``, its parent, has
    ended: Linux signals it; elsewhere a thread watches for the parent to change."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    else:
        threading.Thread(target=_watch, args=(runner,), daemon=True).start()
    if os.getppid() != runner:  # it ended before this process started watching
        os.kill(os.getpid(), signal.SIGTERM)


def _watch(runner):
    while os.getppid() == runner:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


if __name__ == "__main__":
    end_with(int(sys.argv[1]))
    from recbole_elecrec.cli import main

    sys.exit(main(sys.argv[2:]))
