"""RecBole 1.2.1 on current numpy and pandas, and installed without its dependency list."""

import math
import subprocess
import sys

import pytest

from conftest import REPO, small_settings
from recbole_elecrec.config import Config
from recbole_elecrec.quick_start import create_dataset


def test_without_recbole_the_import_error_says_what_to_run():
    code = ("import importlib.metadata as m\n"
            "version = m.version\n"
            "def hidden(name):\n"
            "    if name == 'recbole':\n"
            "        raise m.PackageNotFoundError(name)\n"
            "    return version(name)\n"
            "m.version = hidden\n"
            "import recbole_elecrec\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "ImportError: recbole_elecrec needs recbole 1.2.1 (not installed): "
        "pip install --no-deps recbole==1.2.1")


@pytest.mark.parametrize("model", ["SASRec", "ELECRec"])
def test_a_missing_float_value_gets_its_column_mean(tmp_path, model):
    # RecBole fills it in place, which under pandas' copy-on-write fills a copy
    folder = tmp_path / "gaps"
    folder.mkdir()
    rows = [f"{user}\t{item}\t{'' if (user, item) == (1, 2) else user + item}\t{item}"
            for user in (1, 2, 3) for item in (1, 2, 3, 4)]
    (folder / "gaps.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n" + "\n".join(rows) + "\n")
    config = Config(model, "gaps", config_dict=small_settings(
        tmp_path, load_col={"inter": ["user_id", "item_id", "rating", "timestamp"]},
        checkpoint_dir=str(tmp_path / "saved")))
    ratings = create_dataset(config).inter_feat["rating"].tolist()
    known = [user + item for user in (1, 2, 3) for item in (1, 2, 3, 4) if (user, item) != (1, 2)]
    assert not any(math.isnan(value) for value in ratings)
    assert ratings.count(pytest.approx(sum(known) / len(known))) == 1


def test_recbole_models_count_their_flops_without_distutils(data_path, workdir, monkeypatch):
    # RecBole's get_flops needs thop, which imports distutils, gone from Python 3.12
    monkeypatch.setitem(sys.modules, "distutils", None)
    for name in [name for name in sys.modules if name.split(".")[0] == "thop"]:
        monkeypatch.delitem(sys.modules, name)
    from conftest import make_model
    from recbole_elecrec.quick_start import count_flops

    length, hidden, inner, heads = 50, 16, 32, 2
    config, (train, _, _), model = make_model(
        data_path, "SASRec", hidden_size=hidden, inner_size=inner, n_layers=1, n_heads=heads,
        MAX_ITEM_LIST_LENGTH=length)
    projections = 4 * 2 * length * hidden * hidden  # query, key, value, output
    scores_and_mix = 2 * (2 * length * length * hidden)  # QK^T and attention @ V, all heads
    feed_forward = 2 * 2 * length * hidden * inner
    assert count_flops(model, train._dataset, config) == projections + scores_and_mix + feed_forward
    assert "thop" not in sys.modules
