"""The command wrapper: how every command ends on bad input (one ``error:`` line on stderr and
exit status 2), and what it alone sets for the whole process while it runs (RecBole's warnings
quieted; its command line its own)."""

import contextlib
import functools
import importlib
import re
import sys
import warnings

# what bad input raises: a bad name or setting, a missing key, a file that cannot be read or
# written (a command's own checks raise ValueError with the line to print)
INPUT_ERRORS = (ValueError, KeyError, OSError)


def error_message(error):
    """One line for an input error (``str(KeyError)`` adds quotes; OSError names its file)."""
    if isinstance(error, KeyError) and error.args:
        return error.args[0]
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return " ".join(str(error).split())


def command(main):
    """A command's ``main``, ending on an input error with its one line and status 2, and on
    Ctrl-C with one line and status 130 (the shell's for SIGINT); files are written whole or
    not at all, so what an interrupted run leaves is usable."""
    @functools.wraps(main)
    def wrapped(argv=None):
        try:
            with command_settings():
                return main(argv)
        except INPUT_ERRORS as error:
            print(f"error: {error_message(error)}", file=sys.stderr)
            return 2
        except (MemoryError, RuntimeError) as error:
            if not out_of_memory(error):
                raise
            print(f"error: out of memory ({out_of_memory(error)}): lower the settings that size "
                  "the model or its data (hidden sizes, MAX_ITEM_LIST_LENGTH, batch sizes)",
                  file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            return interrupted()
    return wrapped


_running = False  # whether a command runs in this process now (``command_settings``)


@contextlib.contextmanager
def command_settings():
    """What a command (and each process it starts) sets for the whole process while it runs,
    and only then: RecBole's deprecation warnings quieted, and the command line its own."""
    global _running
    outer, _running = _running, True
    try:
        with warnings.catch_warnings():
            quiet_recbole_warnings()
            yield
    finally:
        _running = outer


def running_command():
    """Whether one of this package's commands runs now: it owns the command line (``Config``
    then reads none of it)."""
    return _running


def out_of_memory(error):
    """What a failed allocation says it asked for (torch's CPU and GPU allocators; a
    MemoryError), or None for any other error."""
    text = " ".join(str(error).split())
    asked = re.search(r"tried to allocate (\d+) bytes", text)
    if asked:
        return f"{int(asked.group(1)) / 2 ** 30:.1f} GiB asked for"
    asked = re.search(r"Tried to allocate ([\d.]+ [KMGT]?i?B)", text)
    if asked:
        return f"{asked.group(1)} asked for"
    return "MemoryError" if isinstance(error, MemoryError) else None


def interrupted():
    """Ctrl-C's one line; the shell's status for SIGINT."""
    print("interrupted (a run with --training_state continues from its last validated epoch "
          "when started again)", file=sys.stderr)
    return 130


def run_script(module):
    """The exit status of ``module``'s command (its ``main``), imported here: a Ctrl-C while
    torch and RecBole load, the first seconds of every command, ends in the same one line as
    one later rather than in an import's traceback."""
    try:
        main = importlib.import_module(module).main
    except KeyboardInterrupt:
        return interrupted()
    return main()


def diverged(what):
    """The error of a training run whose numbers overflowed (``what`` says which), naming the
    setting that makes them so."""
    return ValueError(f"training diverged: {what}: lower learning_rate")


def quiet_recbole_warnings():
    """RecBole 1.2.1 calls APIs that current torch and pandas deprecate, once per epoch or column."""
    warnings.filterwarnings("ignore", message=r".*torch\.cuda\.amp\.GradScaler", category=FutureWarning)
    warnings.filterwarnings("ignore", message=r".*chained assignment", category=FutureWarning)
    # pandas 3's arrays are read-only; RecBole makes tensors of them that nothing writes to
    warnings.filterwarnings("ignore", message="The given NumPy array is not writable",
                            category=UserWarning)
