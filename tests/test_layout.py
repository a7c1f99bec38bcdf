"""The package's modules import each other without a circle, lazy imports included."""

import ast
import graphlib
import subprocess
import sys

import pytest
from conftest import REPO

PACKAGE = REPO / "recbole_elecrec"


def module_name(path):
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path, modules):
    """The package's modules that ``path`` imports anywhere in it (a function's body too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from a import b`: the module a.b where b is one, else a
            names = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules
                     else node.module for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in modules)
    return found - {module_name(path)}


def import_graph():
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(path) for path in paths}
    return {module_name(path): imported_modules(path, modules) for path in paths}


def test_the_package_has_no_import_circle():
    graph = import_graph()
    assert {"recbole_elecrec.config", "recbole_elecrec.checkpoint.format"} <= graph.keys()
    assert "recbole_elecrec.config" in graph["recbole_elecrec.checkpoint.format"]
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        pytest.fail("import circle: " + " -> ".join(error.args[1]))


def test_each_concern_has_its_room():
    graph = import_graph()
    package = "recbole_elecrec."
    # the settings-file reader is the ground floor; the rules stand below Config
    assert graph[package + "settings_file"] == set()
    assert package + "config" not in graph[package + "rules"]
    # the model layer does not reach into process concerns
    for module, imported in graph.items():
        if module.startswith(package + "model"):
            assert package + "distributed" not in imported, module
    # checkpoints are written and training states kept by checkpoint/, which the trainer calls
    assert {package + "checkpoint.save", package + "checkpoint.state"} <= graph[package + "trainer"]
    assert package + "checkpoint.settings" in graph[package + "quick_start"]


def test_reading_a_settings_or_benchmark_file_imports_neither_torch_nor_recbole(tmp_path):
    (tmp_path / "s.yaml").write_text("epochs: 5\n")
    (tmp_path / "b.yaml").write_text("datasets: [ml-100k]\nmodels: [{model: SASRec}]\n")
    code = ("import sys; from recbole_elecrec.settings_file import SettingsLoader, read_settings; "
            "from recbole_elecrec.benchmark.spec import read_spec; "
            f"assert read_settings({str(tmp_path / 's.yaml')!r}, SettingsLoader, 'x') == "
            f"{{'epochs': 5}}; assert read_spec({str(tmp_path / 'b.yaml')!r})['datasets'] == "
            "['ml-100k']; print(sorted(m for m in ('torch', 'recbole') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                         check=True)
    assert out.stdout.strip() == "[]"
