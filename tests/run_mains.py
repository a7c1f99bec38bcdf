"""Run commands as their scripts do, one after another in one process (torch imported once).

    python run_mains.py CASES.json RESULTS.json

CASES.json holds ``[{"command": "run" | "recommend" | "compare" | "probe" | "prepare" | "hyper" | "benchmark", "args":
[...], "cwd": DIR}]``.
Each case calls its command's ``main()`` with ``sys.argv`` set, in ``cwd``, with stdout and
stderr captured at the file descriptors (so child processes' output is caught too); an uncaught
exception prints its traceback there, as the interpreter would. RESULTS.json gets, per case,
``{"returncode", "stdout", "stderr"}``.
"""

import importlib
import json
import os
import sys
import tempfile
import traceback

COMMANDS = {  # command: (module with main(), arguments before the case's)
    "run": ("recbole_elecrec.cli", []),
    "recommend": ("recbole_elecrec.recommend", []),
    "compare": ("recbole_elecrec.compare", []),
    "probe": ("recbole_elecrec.probe", []),
    "prepare": ("recbole_elecrec.data.__main__", ["prepare"]),
    "hyper": ("recbole_elecrec.hyper", []),
    "benchmark": ("recbole_elecrec.benchmark", []),
}


def call(command, args):
    """The exit status of the command's script: ``sys.exit(main())``."""
    module, before = COMMANDS[command]
    sys.argv = [module, *before, *args]
    try:
        return importlib.import_module(module).main() or 0
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # noqa: B902 - what the interpreter reports for an uncaught error
        traceback.print_exc()
        return 1


def run_captured(case):
    home = os.getcwd()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        saved = os.dup(1), os.dup(2)
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        try:
            os.chdir(case["cwd"])
            code = call(case["command"], case["args"])
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.chdir(home)
        out.seek(0)
        err.seek(0)
        return {"returncode": code, "stdout": out.read(), "stderr": err.read()}


def main():
    cases_file, results_file = sys.argv[1:3]
    with open(cases_file, encoding="utf-8") as f:
        cases = json.load(f)
    results = [run_captured(case) for case in cases]
    with open(results_file, "w", encoding="utf-8") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
