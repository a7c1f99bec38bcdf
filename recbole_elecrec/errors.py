"""How every command ends on bad input: one ``error:`` line on stderr and exit status 2; and
the warnings of RecBole's that no command prints."""

import functools
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
            return main(argv)
        except INPUT_ERRORS as error:
            print(f"error: {error_message(error)}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("interrupted (a run with --training_state continues from its last validated "
                  "epoch when started again)", file=sys.stderr)
            return 130
    return wrapped


def quiet_recbole_warnings():
    """RecBole 1.2.1 calls APIs that current torch and pandas deprecate, once per epoch or column."""
    warnings.filterwarnings("ignore", message=r".*torch\.cuda\.amp\.GradScaler", category=FutureWarning)
    warnings.filterwarnings("ignore", message=r".*chained assignment", category=FutureWarning)
