"""Writing checkpoints: whole or not at all, and never over a file the run did not write."""

import os
from pathlib import Path

import torch

from recbole_elecrec.files import atomic_path


class RunFiles:
    """The checkpoint files one run wrote: the only ones it replaces, and the only ones it
    evaluates (and so reports) as its own while each is still the file it wrote."""

    def __init__(self):
        self._written = {}  # path -> which file this run wrote there (``identity``)

    def save(self, path, contents):
        """Write ``contents`` (plain data: ``format.contents``) to ``path``; a run killed while
        saving keeps the previous file, and a file of another's is never replaced."""
        path = str(path)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            with atomic_path(path, exclusive=not self.owns(path)) as partial:
                torch.save(contents, partial)
        except FileExistsError:
            raise ValueError(f"{path} exists and was not written by this run: not replacing it")\
                from None
        self._written[path] = identity(path)

    def adopt(self, path):
        """Count ``path``, where it exists, as this run's (the run a training state continues
        wrote it)."""
        if Path(path).is_file():
            self._written[str(path)] = identity(path)

    def owns(self, path):
        """Whether ``path`` is still the file this run last wrote there."""
        try:
            return self._written.get(str(path)) == identity(path)
        except FileNotFoundError:
            return False

    def check_own(self, path):
        """Refuse a file this run wrote that was replaced since."""
        if str(path) in self._written and not self.owns(path):
            raise ValueError(f"{path} was replaced since this run wrote it (by another run "
                             "given the same file?): not evaluating it as this run's model")


def identity(path):
    """Which file ``path`` is (every save renames a new file into place)."""
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns
