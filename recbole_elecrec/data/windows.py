"""Sequence windows formed when a batch is, not stored for every row.

RecBole's sequential datasets store, for every interaction after a user's first, the
``MAX_ITEM_LIST_LENGTH`` values before it of every loaded column (``item_id_list``, ...): 600
bytes an interaction for int64 items and float32 times, which puts logs of tens of millions of
interactions out of reach of one machine. Here each column is kept once, as a flat array sorted by user then time; a row is
(its target's position, its window length), and a batch's windows are gathered from the flat
arrays when the batch is formed: the same values, dtypes and zero padding as RecBole's.
"""

import numpy as np
import torch

# the row field holding the flat position of a row's target: its window ends just before
WINDOW_END = "window_end"


def narrow(tensor):
    """``tensor`` in the narrowest of int8/16/32 that holds its values (int64 beyond); floats
    and other dtypes as they are."""
    if tensor.dtype not in (torch.int64, torch.int32, torch.int16) or not len(tensor):
        return tensor
    low, high = int(tensor.min()), int(tensor.max())
    for dtype in (torch.int8, torch.int16, torch.int32):
        info = torch.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return tensor.to(dtype)
    return tensor


class SequenceWindows:
    """Each loaded column once, flat and sorted by user then time, and the windows of rows.

    ``columns`` {field: flat tensor}, ``list_fields`` {field: its list field},
    ``dtypes`` {field: the dtype RecBole gives it and its list}, ``indptr`` the flat offset
    of each user's first interaction (length users + 1).
    """

    def __init__(self, columns, list_fields, dtypes, indptr, max_len):
        # a zero row at the end: the padding every window position past its length reads
        self.columns = {field: torch.cat((values, values.new_zeros((1,) + values.shape[1:])))
                        for field, values in columns.items()}
        self.list_fields, self.dtypes = list_fields, dtypes
        self.indptr, self.max_len = indptr, max_len
        self.padding = int(indptr[-1])

    @classmethod
    def from_sorted(cls, inter_feat, uid_field, user_num, list_fields, max_len):
        """From an Interaction sorted by user then time (RecBole's ``inter_feat``)."""
        uids = inter_feat[uid_field].numpy()
        indptr = np.zeros(user_num + 1, dtype=np.int64)
        np.cumsum(np.bincount(uids, minlength=user_num), out=indptr[1:])
        columns = {field: narrow(inter_feat[field]) for field in list_fields}
        dtypes = {field: values.dtype for field, values in inter_feat.interaction.items()}
        return cls(columns, list_fields, dtypes, indptr, max_len)

    def rows(self, inter_feat, uid_field, length_field, history_field):
        """RecBole's augmented rows, without their windows: one per interaction after a user's
        first, in the same order, holding the target's fields, its window length (at most
        ``max_len``), its whole history length and ``WINDOW_END``. Row fields are narrowed;
        ``fill`` widens a batch's back."""
        position = np.arange(self.padding)
        start = self.indptr[:-1][inter_feat[uid_field].numpy()]
        target = torch.from_numpy(np.flatnonzero(position > start))
        history = narrow(torch.from_numpy(position - start)[target])
        fields = {field: narrow(values[target]) for field, values in inter_feat.interaction.items()}
        fields[length_field] = history.clamp(max=self.max_len)
        fields[history_field] = history
        fields[WINDOW_END] = narrow(target)
        return fields

    def fill(self, batch, length_field):
        """Add the windows of ``batch`` (rows of ``rows``) in place, every field in RecBole's
        dtype, and drop ``WINDOW_END``."""
        end = batch[WINDOW_END].long()
        length = batch[length_field].long()
        offset = torch.arange(self.max_len)
        position = torch.where(offset < length[:, None], end[:, None] - length[:, None] + offset,
                               self.padding)
        del batch.interaction[WINDOW_END]
        for field, values in batch.interaction.items():
            wide = self.dtypes.get(field, torch.int64)  # RecBole's, or int64 for row counts
            if values.dtype != wide:
                batch.interaction[field] = values.to(wide)
        for field, list_field in self.list_fields.items():
            batch.interaction[list_field] = self.columns[field][position].to(self.dtypes[field])
        return batch
