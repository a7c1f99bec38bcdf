"""The wheel a user installs holds the package, its property files and the licence."""

import shutil
import subprocess
import sys
import zipfile

from conftest import REPO


def test_the_wheel_ships_the_property_files_and_the_licence(tmp_path):
    source = tmp_path / "source"  # a copy, so that building writes nothing into the repository
    source.mkdir()
    for name in ("setup.py", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    for folder in ("recbole_elecrec", "properties"):
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "-q", "-w", str(tmp_path / "wheel"), str(source)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = (tmp_path / "wheel").glob("recbole_elecrec-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(name.endswith(".dist-info/licenses/LICENSE") or name.endswith(".dist-info/LICENSE")
               for name in names), names
    assert "recbole_elecrec/properties/model/ELECRec.yaml" in names
    assert "recbole_elecrec/properties/overall.yaml" in names
    assert "recbole_elecrec/model/elecrec.py" in names
