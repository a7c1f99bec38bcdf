"""Sequential datasets: whole-history bookkeeping for evaluation, one training row per user."""

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from recbole.data.dataset import SequentialDataset
from recbole.data.interaction import Interaction
from recbole.utils import FeatureSource, FeatureType

from recbole_elecrec.data.inter_file import column_note
from recbole_elecrec.data.reader import read_inter, remap_categorical
from recbole_elecrec.data.windows import SequenceWindows


# RecBole models that read windows from the dataset's rows themselves, not from their batches
# (FEARec draws same-target sequences in training): their rows keep the windows, as RecBole's
READS_STORED_WINDOWS = ("FEARec",)


class HistorySequentialDataset(SequentialDataset):
    """RecBole's ``SequentialDataset`` that remembers every user's whole item history.

    Each augmented row gets a ``history_length`` field (how many of its user's interactions
    precede its target), so evaluation can mask the whole history, not only the last
    ``MAX_ITEM_LIST_LENGTH`` items that ``item_id_list`` holds.
    """

    history_length_field = "history_length"
    # set when the .inter file has no time column: one line for the run's log
    order_note = None
    # set when rows repeat another row's user, item and time: one warning line for the run
    duplicate_note = None
    # what this package's reader read (``reader.read_inter``): one line for the run's log
    read_note = None
    # set when the default load leaves columns of the .inter file out: one line for the run's log
    column_note = None

    def _load_inter_feat(self, token, dataset_path):
        """Without a time column, a row's position in the file is its time.

        Sequential datasets sort each user's interactions by ``TIME_FIELD``; a file without one
        (only users and items, in order) then trains in the order its lines have. Columns that
        a default load left out (``inter_file.default_columns``) are named in ``column_note``.
        """
        super()._load_inter_feat(token, dataset_path)
        if self.benchmark_filename_list is None:
            self.column_note = column_note(self.config, Path(dataset_path) / f"{token}.inter")
        if self.time_field in self.inter_feat:
            return
        reason = (f"has no time column '{self.time_field}' (TIME_FIELD)" if self.time_field
                  else "has no time column (TIME_FIELD is not set)")
        self.time_field = self.time_field or "file_order"
        self.inter_feat[self.time_field] = np.arange(len(self.inter_feat), dtype=np.float64)
        self.set_field_property(self.time_field, FeatureType.FLOAT, FeatureSource.INTERACTION, 1)
        self.field2bucketnum[self.time_field] = 2  # as RecBole gives every loaded float field
        self.order_note = f"{token}.inter {reason}: each user's interactions keep their file order"

    def _load_feat(self, filepath, source):
        """The .inter file through ``reader.read_inter`` (one lean read that checks its rows);
        other files, and what that reader does not read, through RecBole's."""
        if source == FeatureSource.INTERACTION and self.benchmark_filename_list is None:
            frame = read_inter(self, filepath)
            if frame is not None:
                return frame
        return super()._load_feat(filepath, source)

    def _remap(self, remap_list):
        """Token columns read as categories remapped from their codes, to the ids RecBole's
        ``pd.factorize`` of every token would give."""
        categorical = any(isinstance(feat[field].dtype, pd.CategoricalDtype)
                          for feat, field, _ in remap_list)
        remapped = remap_categorical(remap_list) if categorical else None
        if remapped is None:
            return super()._remap(remap_list)
        ids, tokens = remapped
        token_id = {token: i for i, token in enumerate(tokens)}
        for (feat, field, _), column_ids in zip(remap_list, ids):
            if field not in self.field2id_token:
                self.field2id_token[field], self.field2token_id[field] = tokens, token_id
            feat[field] = column_ids

    def _filter_by_inter_num(self):
        """RecBole's, skipped where its intervals keep every user and item (its default,
        [0,inf)): it counts them with Python's Counter, the slowest step of a large load."""
        keys = ("user_inter_num_interval", "item_inter_num_interval")
        if all(keeps_all(self._parse_intervals_str(self.config[key])) for key in keys):
            return
        super()._filter_by_inter_num()

    def leave_one_out(self, group_by, leave_one_mode):
        """RecBole's leave-one-out split, vectorized: the same rows in the same order (its
        groups in order of first appearance, each in row order), without its Python loop over
        every row."""
        held = {"valid_and_test": 2, "valid_only": 1, "test_only": 1}.get(leave_one_mode)
        if group_by is None or held is None:
            return super().leave_one_out(group_by, leave_one_mode)
        codes, _ = pd.factorize(self.inter_feat[group_by].numpy())
        order = np.argsort(codes, kind="stable")
        counts = np.bincount(codes)
        grouped = codes[order]
        from_end = np.repeat(np.cumsum(counts), counts) - 1 - np.arange(len(order))
        split = np.where(from_end < np.minimum(held, counts - 1)[grouped], held - from_end, 0)
        if leave_one_mode == "test_only":
            split[split == 1] = 2
        self._drop_unused_col()
        return [self.copy(take(self.inter_feat, order[split == part])) for part in range(3)]

    def _remove_duplication(self):
        """Count (and with ``drop_duplicate_rows`` drop) rows that repeat another row's user,
        item and time: a doubled row puts a user's target into its own history."""
        super()._remove_duplication()
        columns = [self.uid_field, self.iid_field, self.time_field]
        repeated = self.inter_feat.duplicated(subset=columns)
        count = int(repeated.sum())
        if not count:
            return
        if self.config["drop_duplicate_rows"]:
            self.inter_feat = self.inter_feat[~repeated]
            self.duplicate_note = f"dropped {count} rows repeating another row's user, item and time"
        else:
            self.duplicate_note = (f"{count} rows repeat another row's user, item and time "
                                   "(set drop_duplicate_rows: True to drop them)")

    def _data_processing(self):
        """Then each user's interactions in the order of their exact times: RecBole sorts them
        later as float32, which cannot tell apart Unix seconds within 2 minutes; its sort is
        stable, so this order is kept."""
        super()._data_processing()
        frame = self.inter_feat
        order = np.lexsort((frame[self.time_field].to_numpy(np.float64),
                            frame[self.uid_field].to_numpy()))
        self.inter_feat = frame.iloc[order].reset_index(drop=True)

    def data_augmentation(self):
        """RecBole's rows, one per interaction after a user's first, without their windows:
        each column is kept once (``windows``) and a batch's windows are gathered when it is
        formed (``__getitem__``)."""
        self._aug_presets()
        self._check_field("uid_field", "time_field")
        self.sort(by=[self.uid_field, self.time_field], ascending=True)
        list_fields = {field: getattr(self, f"{field}_list_field")
                       for field in self.inter_feat.interaction if field != self.uid_field}
        self.windows = SequenceWindows.from_sorted(
            self.inter_feat, self.uid_field, self.user_num, list_fields, self.max_item_list_len)
        self.user_items = self.windows.columns[self.iid_field][:-1].numpy()
        self.user_items_indptr = self.windows.indptr
        self.set_field_property(
            self.history_length_field, FeatureType.TOKEN, FeatureSource.INTERACTION, 1
        )
        self.inter_feat = Interaction(self.windows.rows(
            self.inter_feat, self.uid_field, self.item_list_length_field,
            self.history_length_field))
        if self.config["model"] in READS_STORED_WINDOWS:  # RecBole's rows, windows and all
            self.inter_feat = self.windows.fill(self.inter_feat, self.item_list_length_field)
            del self.windows

    def __getitem__(self, index, join=True):
        if not hasattr(self, "windows"):  # pre-split files (benchmark_filename) hold their lists
            return super().__getitem__(index, join)
        batch = self.windows.fill(self.inter_feat[index], self.item_list_length_field)
        return self.join(batch) if join else batch

    def inter_matrix(self, form="coo", value_field=None):
        """The rows' targets and each user's first interaction (the start of its rows of window
        length 1), as RecBole's sequential datasets count them."""
        if not hasattr(self, "windows"):
            return super().inter_matrix(form, value_field)
        rows = self.inter_feat
        starts = torch.nonzero(rows[self.item_list_length_field] == 1)[:, 0]
        first = self.windows.fill(rows[starts], self.item_list_length_field)
        fields = [self.uid_field, self.iid_field] + ([value_field] if value_field else [])
        joined = {}
        for field in fields:
            list_field = self.windows.list_fields.get(field)
            head = first[list_field][:, 0] if list_field else first[field]
            joined[field] = torch.cat((rows[field].to(head.dtype), head))
        return self._create_sparse_matrix(Interaction(joined), self.uid_field, self.iid_field,
                                          form, value_field)

    def history_index(self, interaction):
        """``(rows, items)`` index pairs of every row's whole history, for masking a score matrix."""
        uids = interaction[self.uid_field].cpu().numpy()
        lengths = interaction[self.history_length_field].cpu().numpy()
        rows = np.repeat(np.arange(len(uids)), lengths)
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        items = self.user_items[np.repeat(self.user_items_indptr[uids], lengths) + offsets]
        return torch.from_numpy(rows), torch.from_numpy(items.astype(np.int64))

    def _fill_nan(self):
        """RecBole's, with each filled column assigned back: its ``feat[field].fillna(...,
        inplace=True)`` fills a copy under pandas 3's copy-on-write and leaves the gaps."""
        for feat_name in self.feat_name_list:
            feat = getattr(self, feat_name)
            for field in feat:
                ftype = self.field2type[field]
                if ftype == FeatureType.TOKEN:
                    feat[field] = feat[field].fillna(value=0)
                elif ftype == FeatureType.FLOAT:
                    feat[field] = feat[field].fillna(value=feat[field].mean())
                else:
                    dtype = np.int64 if ftype == FeatureType.TOKEN_SEQ else np.float64
                    feat[field] = feat[field].apply(
                        lambda x: np.array([], dtype=dtype) if isinstance(x, float) else x)


class ELECRecDataset(HistorySequentialDataset):
    """ELECRec's training data: by default one row per user, its longest training prefix.

    The model reads a next-item target at every position of that row (as the reference code
    does), so RecBole's prefix rows would repeat each target up to 50 times; set
    ``prefix_augmentation: True`` to train on them anyway. Validation and test rows are RecBole's
    leave-one-out rows, unchanged.
    """

    def data_augmentation(self):
        counts = np.bincount(self.inter_feat[self.uid_field].numpy())
        short = np.flatnonzero((counts > 0) & (counts < 3))
        if len(short):
            token = self.id2token(self.uid_field, short[0])
            raise ValueError(
                f"user '{token}' has {counts[short[0]]} interactions ({len(short)} users have "
                "fewer than 3): leave-one-out needs at least 3 per user (train, validation, "
                "test); filter them with user_inter_num_interval: '[3,inf)'"
            )
        super().data_augmentation()

    def build(self):
        train, valid, test = super().build()
        if not self.config["prefix_augmentation"]:
            uids = train.inter_feat[self.uid_field].numpy()
            lengths = train.inter_feat[self.history_length_field].numpy()
            order = np.lexsort((lengths, uids))
            is_last = np.r_[uids[order][1:] != uids[order][:-1], True]
            train = train.copy(take(train.inter_feat, order[is_last]))
        return [train, valid, test]


def take(interaction, index):
    """The rows ``index`` (a numpy array) of an Interaction, indexed as tensors: Interaction's
    own indexing turns an array into a Python list first."""
    index = torch.from_numpy(np.asarray(index, dtype=np.int64))
    return Interaction({field: values[index] for field, values in interaction.interaction.items()})


def keeps_all(intervals):
    """Whether RecBole's parsed ``*_inter_num_interval`` keeps every count, 0 included (a
    user or item of a .user or .item file without interactions)."""
    return intervals is None or any(
        high == float("inf") and (low < 0 or (low == 0 and left == "["))
        for left, low, high, _ in intervals)
