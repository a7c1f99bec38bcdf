"""Files written whole or not at all, into places checked before anything is written."""

import contextlib
import os
import secrets
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path, exclusive=False):
    """Yield a temporary path beside ``path``; once the block has written it, it becomes ``path``.

    A process killed mid-write leaves ``path`` as it was (the rename within one directory is
    atomic); an exception removes the temporary file. With ``exclusive`` an existing ``path`` is
    never replaced (FileExistsError). The file gets the permissions the umask gives a new file.
    """
    path = Path(path)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        yield partial
        if exclusive:
            _link(partial, path)
            partial.unlink()
        else:
            os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_text_atomic(path, text):
    """``path.write_text(text)`` that never leaves a half-written file."""
    with atomic_path(path) as partial:
        Path(partial).write_text(text, encoding="utf-8")


def _link(source, target):
    """Give ``source`` the name ``target`` unless that exists (a hard link cannot replace)."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError:  # a filesystem without hard links
        if target.exists():
            raise FileExistsError(f"{target} exists") from None
        os.replace(source, target)


def check_writable_dir(path, setting):
    """Refuse a directory that cannot be created or written, without creating it."""
    path = Path(path)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"{setting}: {existing} is not a directory, so {path} cannot be one")
    try:  # os.access says yes to root even where nothing can be created (/proc)
        tempfile.TemporaryDirectory(dir=existing).cleanup()
    except OSError as error:
        raise ValueError(f"{setting}: {path} cannot be written ({existing}: {error.strerror})") \
            from None


def check_writable_file(path, setting):
    """Refuse a file path that is something else (a directory, a device) or whose directory
    cannot be created or written, without creating anything."""
    if Path(path).exists() and not Path(path).is_file():
        raise ValueError(f"{setting}: {path} is not a regular file")
    check_writable_dir(Path(path).parent, setting)
