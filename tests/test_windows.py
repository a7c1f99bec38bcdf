"""Windows gathered per batch give RecBole's augmented rows exactly; the lean read gives its ids;
the protocol masks from the history keys give the dense ones."""

import numpy as np
import pytest
import torch
from recbole.data.dataset import SequentialDataset

from conftest import small_settings
from recbole_elecrec.config import Config
from recbole_elecrec.data import HistorySequentialDataset
from recbole_elecrec.data.windows import narrow
from recbole_elecrec.protocols import in_keys, negative_share


@pytest.fixture(scope="module")
def log_path(tmp_path_factory):
    """Users of 2 to 80 interactions (beyond a window of 10), an extra float and token column,
    rows not in time order, tokens not in id order."""
    root = tmp_path_factory.mktemp("log")
    rng = np.random.default_rng(0)
    lines = []
    for user in rng.permutation(60):
        for _ in range(rng.integers(2, 80)):
            lines.append(f"u{user}\ti{rng.zipf(1.5) % 90}\t{rng.integers(0, 10 ** 9)}\t"
                         f"{rng.random():.6f}\tc{rng.integers(0, 4)}")
    rng.shuffle(lines)
    (root / "log").mkdir()
    (root / "log" / "log.inter").write_text(
        "user_id:token\titem_id:token\ttimestamp:float\trating:float\tkind:token\n"
        + "\n".join(lines) + "\n")
    return root


def datasets(log_path, tmp_path):
    settings = small_settings(log_path, load_col={
        "inter": ["user_id", "item_id", "timestamp", "rating", "kind"]},
        MAX_ITEM_LIST_LENGTH=10, checkpoint_dir=str(tmp_path))
    config = Config("SASRec", "log", config_dict=settings)
    return SequentialDataset(config), HistorySequentialDataset(config)


def test_windows_are_recboles_rows(log_path, tmp_path):
    theirs, ours = datasets(log_path, tmp_path)
    assert ours.field2id_token["user_id"].tolist() == theirs.field2id_token["user_id"].tolist()
    assert ours.field2id_token["kind"].tolist() == theirs.field2id_token["kind"].tolist()
    splits = zip(theirs.build(), ours.build())
    for expected, got in [(theirs, ours), *splits]:  # every row, then each split's
        rows = got[np.arange(len(got))]
        assert len(got) == len(expected)
        assert set(rows.columns) == set(expected.inter_feat.columns) | {"history_length"}
        for field in expected.inter_feat.columns:
            assert rows[field].dtype == expected.inter_feat[field].dtype, field
            assert torch.equal(rows[field], expected.inter_feat[field]), field
        matrices = (expected.inter_matrix(form="csr", value_field="rating"),
                    got.inter_matrix(form="csr", value_field="rating"))
        assert (matrices[0] != matrices[1]).nnz == 0
    # a window holds the last 10 interactions; the history every one before the target
    assert int(rows["item_length"].max()) == 10 < int(rows["history_length"].max())


def test_stored_columns_are_narrow(log_path, tmp_path):
    _, ours = datasets(log_path, tmp_path)
    ours.build()
    assert ours.windows.columns["item_id"].dtype == torch.int8  # under 128 items
    assert ours.inter_feat["user_id"].dtype == torch.int8
    assert ours.inter_feat["timestamp"].dtype == torch.float32
    assert narrow(torch.tensor([0, 2 ** 31])).dtype == torch.int64
    assert narrow(torch.tensor([-1, 40000])).dtype == torch.int32


def test_history_keys_and_negative_counts_match_dense_ones():
    generator = torch.Generator().manual_seed(0)
    scores = torch.randn(7, 300, generator=generator)
    rows = torch.randint(0, 7, (90,), generator=generator)
    items = torch.randint(0, 300, (90,), generator=generator)
    keys = torch.unique(rows * 300 + items)
    dense = torch.zeros(7, 300, dtype=torch.bool)
    dense[rows, items] = True
    index = scores.topk(40, dim=1).indices
    assert torch.equal(in_keys(keys, index, 300), dense.gather(1, index))
    assert not in_keys(keys[:0], index, 300).any()
    expected = (scores[:, 1:] < 0).float().mean(1)
    assert torch.equal(negative_share(scores, cells=600), expected)  # blocks of 2 rows


def test_a_model_reading_the_rows_windows_gets_recboles_stored_rows(log_path, tmp_path):
    settings = small_settings(log_path, load_col={"inter": ["user_id", "item_id", "timestamp"]},
                              MAX_ITEM_LIST_LENGTH=10, checkpoint_dir=str(tmp_path))
    config = Config("FEARec", "log", config_dict=settings)
    for theirs, ours in zip(SequentialDataset(config).build(),
                            HistorySequentialDataset(config).build()):
        for field in theirs.inter_feat.columns:  # stored, not gathered per batch
            assert torch.equal(ours.inter_feat[field], theirs.inter_feat[field]), field
