"""Sequential datasets: whole-history bookkeeping for evaluation, one training row per user."""

import numpy as np
import torch
from recbole.data.dataset import SequentialDataset
from recbole.data.interaction import Interaction
from recbole.utils import FeatureSource, FeatureType


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

    def _load_inter_feat(self, token, dataset_path):
        """Without a time column, a row's position in the file is its time.

        Sequential datasets sort each user's interactions by ``TIME_FIELD``; a file without one
        (only users and items, in order) then trains in the order its lines have.
        """
        super()._load_inter_feat(token, dataset_path)
        if self.time_field in self.inter_feat:
            return
        reason = (f"has no time column '{self.time_field}' (TIME_FIELD)" if self.time_field
                  else "has no time column (TIME_FIELD is not set)")
        self.time_field = self.time_field or "file_order"
        self.inter_feat[self.time_field] = np.arange(len(self.inter_feat), dtype=np.float64)
        self.set_field_property(self.time_field, FeatureType.FLOAT, FeatureSource.INTERACTION, 1)
        self.field2bucketnum[self.time_field] = 2  # as RecBole gives every loaded float field
        self.order_note = f"{token}.inter {reason}: each user's interactions keep their file order"

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
        self.sort(by=[self.uid_field, self.time_field], ascending=True)
        uids = self.inter_feat[self.uid_field].numpy()
        self.user_items = self.inter_feat[self.iid_field].numpy().copy()
        self.user_items_indptr = np.concatenate(
            [[0], np.cumsum(np.bincount(uids, minlength=self.user_num))]
        )
        super().data_augmentation()

        # rows stay sorted by user then time: a user's k-th row (from 0) has k + 1 items before it
        row_uids = self.inter_feat[self.uid_field].numpy()
        first_row = np.searchsorted(row_uids, row_uids, side="left")
        history_length = np.arange(len(row_uids)) - first_row + 1
        self.set_field_property(
            self.history_length_field, FeatureType.TOKEN, FeatureSource.INTERACTION, 1
        )
        self.inter_feat.update(
            Interaction({self.history_length_field: torch.from_numpy(history_length)})
        )

    def history_index(self, interaction):
        """``(rows, items)`` index pairs of every row's whole history, for masking a score matrix."""
        uids = interaction[self.uid_field].cpu().numpy()
        lengths = interaction[self.history_length_field].cpu().numpy()
        rows = np.repeat(np.arange(len(uids)), lengths)
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        items = self.user_items[np.repeat(self.user_items_indptr[uids], lengths) + offsets]
        return torch.from_numpy(rows), torch.from_numpy(items)

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
            train = train.copy(train.inter_feat[torch.from_numpy(order[is_last])])
        return [train, valid, test]
