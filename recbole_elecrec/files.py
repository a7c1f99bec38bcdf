"""Files written whole or not at all, into places checked before anything is written, and
files one run at a time may hold."""

import contextlib
import errno
import fcntl
import os
import re
import secrets
import shutil
import socket
import stat
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path, exclusive=False):
    """Yield a temporary path beside ``path``; once the block has written it, it becomes ``path``.

    A process killed mid-write leaves ``path`` as it was (the rename within one directory is
    atomic); an exception removes the temporary file, and a full disk becomes an OSError saying
    so in one line. With ``exclusive`` an existing ``path`` is never replaced (FileExistsError).
    The file gets the permissions the umask gives a new file.
    """
    path = Path(path)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        yield partial
        if exclusive:
            _link(partial, path)
            partial.unlink()
        else:
            os.replace(partial, path)
    except (OSError, RuntimeError) as error:
        if not _disk_full(error, path.parent):
            raise
        kept = f"the previous {path.name} is intact" if path.exists() else "nothing was written"
        raise OSError(errno.ENOSPC, f"cannot write {path}: the disk is full ({kept})") from None
    finally:
        partial.unlink(missing_ok=True)


def _disk_full(error, directory):
    """Whether ``error``, raised writing into ``directory``, means its disk is full: an OSError
    says so; torch.save's writer raises a RuntimeError that does not, and the free space tells."""
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    try:
        return shutil.disk_usage(directory).free == 0
    except OSError:
        return False


def remove_partials(path):
    """Remove the temporary files a process killed while saving ``path`` left beside it
    (``atomic_path``'s ``.NAME.HEX.partial``). Only for a path no live process writes: one this
    process holds (``held``), or saves under a name of its own run."""
    path = Path(path)
    name = re.compile(rf"\.{re.escape(path.name)}\.[0-9a-f]+\.partial")
    if path.parent.is_dir():
        for partial in path.parent.iterdir():
            if name.fullmatch(partial.name):
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


def read_lines(path, option=None):
    """The lines of a UTF-8 text file (a byte-order mark dropped), or one clear error naming it
    (and the ``option`` that gave it). Lines end at ``\n``, ``\r\n`` or ``\r`` only: not also
    where str.splitlines ends them (U+0085, U+2028, form feed)."""
    where = f"{option} {path}" if option else str(path)
    try:
        return Path(path).read_text(encoding="utf-8-sig").split("\n")
    except UnicodeDecodeError as error:
        raise ValueError(f"{where} is not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise ValueError(f"cannot read {where} ({error.strerror})") from None


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


def check_replaceable(path, setting, is_own, what):
    """``path``: a new file, or one of this package's own (``is_own(path)``: ``what``), which
    it may replace; anything else there, such as the user's file of the same name or a link to
    one, is refused before anything is written."""
    check_writable_file(path, setting)
    if Path(path).exists() and not is_own(Path(path)):
        raise ValueError(f"{setting}: {path} exists and is not {what}: not replacing it")


def first_line(path, size=4096):
    """The first line of a text file (at most ``size`` characters), or None where it cannot be
    read as UTF-8: enough to tell this package's own files without reading a large one."""
    try:
        with open(path, encoding="utf-8", newline="") as file:
            return file.readline(size).rstrip("\r\n")
    except (OSError, UnicodeDecodeError):
        return None


def lock_path(path):
    """The lock file of ``path``: beside it, named after it."""
    return Path(path).with_name(f"{Path(path).name}.lock")


@contextlib.contextmanager
def held(path, setting):
    """Hold ``path`` for this process while the block runs; another holder: one clear error.

    The hold is an exclusive ``flock`` of ``path.lock``, which the system drops however the
    process ends: a killed run leaves at most an unheld lock file, which the next run takes over.
    A file of that name that is not such a lock (the user's own) is refused, never truncated.
    Yields the lock's descriptor: a child process given it (``pass_fds``) holds ``path`` too,
    until both have ended.
    """
    lock = lock_path(path)
    descriptor = _lock(lock, path, setting)
    try:
        os.ftruncate(descriptor, 0)
        os.write(descriptor, _holder().encode())
        yield descriptor
    finally:
        lock.unlink(missing_ok=True)
        os.close(descriptor)


def check_not_held(path, setting):
    """Refuse ``path`` while another process holds it (``held``), or where its lock file is not
    one (``held`` would refuse it), creating nothing."""
    lock = lock_path(path)
    try:
        descriptor = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return
    except OSError:  # a link, or unreadable: not a lock file of this package
        raise ValueError(_not_a_lock(lock, setting)) from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        if not _is_lock(descriptor):
            raise ValueError(_not_a_lock(lock, setting))
    except BlockingIOError:
        raise ValueError(_in_use(lock, path, setting)) from None
    finally:
        os.close(descriptor)


def _lock(lock, path, setting):
    """A descriptor of ``lock`` that holds it exclusively."""
    while True:
        try:  # never through a link: the file it names would be truncated
            descriptor = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666)
        except OSError as error:
            if error.errno != errno.ELOOP:
                raise
            raise ValueError(_not_a_lock(lock, setting)) from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise ValueError(_in_use(lock, path, setting)) from None
        if not _is_lock(descriptor):
            os.close(descriptor)
            raise ValueError(_not_a_lock(lock, setting))
        try:
            if os.path.samestat(os.fstat(descriptor), os.stat(lock)):
                return descriptor
        except FileNotFoundError:
            pass
        os.close(descriptor)  # the holder before removed it as it ended: lock the new one


def _holder():
    """What a lock file holds: who holds it."""
    return f"process {os.getpid()} on {socket.gethostname()}"


def _is_lock(descriptor):
    """Whether the open file is a lock file ``held`` wrote: empty (just made) or naming its
    holder; a larger or other file is someone else's."""
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        return False
    text = os.pread(descriptor, 300, 0)
    return not text or re.fullmatch(rb"process \d+ on [^\n]*", text) is not None


def _not_a_lock(lock, setting):
    return (f"{setting}: {lock} exists and is not a lock file of this package: not replacing "
            "it (move it away, or give another file)")


def _in_use(lock, path, setting):
    try:
        holder = lock.read_text(encoding="utf-8").strip() or "just starting"
    except (OSError, UnicodeDecodeError):
        holder = "its lock file unreadable"
    return (f"{setting}: {path} is in use by another run ({holder}, holding {lock}): wait for "
            "that run to end, or give another file")
