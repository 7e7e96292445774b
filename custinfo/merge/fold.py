"""Fold a batch of new records into the known customers.

The matcher re-clusters the neighbourhood of the batch (the new records and the existing customers
they meet) from scratch and says, for every record in it, its group and the customer it belonged to.
The groups are reconciled with the existing ids:
- each existing customer's *home* is the group holding its largest part (ties: the part with its
  oldest record); a group that is home to customers keeps the oldest of their ids (ids are stable),
  the others are marked `merged` and redirect to it (`redirects`, found by `custinfo show OLD_ID`);
- a group that is home to nobody gets a fresh, never reused id: a new customer, or, when it holds
  existing records, a part split off its customer by new evidence (written to `history`);
- a group with the same records as before is left alone, so an unrelated ingest changes no one
  whose grouping the re-measured parameters confirm. In a small store, which is re-clustered whole,
  a customer the batch never met can still be re-decided: its history and redirects then give
  REDECIDED_REASON instead of "split by new evidence" / "new records linked both customers".
Golden records are recomputed only for the customers that changed, and every changed golden value
is written to `history` with the record that caused it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..store.tables import GOLDEN_FIELDS, INT_COLUMNS
from .survivorship import golden_columns, golden_records, text_array

SPLIT_REASON = "split by new evidence"
REDECIDED_REASON = "re-decided with match parameters measured on all records"


@dataclass
class Assignment:
    """Matcher output for the re-clustered neighbourhood of a batch."""

    group: pd.Series  # index record_id -> group label, for the new records and the existing ones re-decided
    before: pd.Series  # index record_id -> customer id before this batch (existing records of `group` only)
    score: pd.Series | None = None  # index record_id -> match score
    review: pd.DataFrame | None = None  # uncertain pairs: record_id_l, record_id_r, match_probability
    # customers of `before` the batch has no candidate pair with: re-decided only because u, the prior and
    # the statistics were measured again on all records (small stores are re-clustered whole)
    unmet: set = field(default_factory=set)
    keys: object | None = None  # match.keycache.KeysUpdate: the match keys the ingest stores

    @property
    def group_customers(self) -> dict:
        """Group -> the existing customers with records in it; together, every customer the batch touches
        (only their rows of membership and customers can change)."""
        pairs = pd.DataFrame({"group": self.group.reindex(self.before.index).to_numpy(),
                              "customer": self.before.to_numpy()}).drop_duplicates()
        pairs = pairs.sort_values(["group", "customer"])
        g, c = pairs["group"].to_numpy(), pairs["customer"].to_numpy(dtype=object)
        cuts = np.flatnonzero(g[1:] != g[:-1]) + 1
        out: dict = {k: [] for k in pd.unique(self.group.to_numpy())}
        if len(g):
            out.update(zip(g[np.r_[0, cuts]].tolist(), (p.tolist() for p in np.split(c, cuts)), strict=True))
        return out

    @property
    def customers(self) -> set:
        """Every existing customer the batch touches (only their rows of membership and customers change)."""
        return set(self.before.to_numpy())

    def whole_groups(self) -> pd.DataFrame:
        """The groups made of one existing customer's records and nothing else: columns customer_id
        (that customer) and records (how many of its records the group holds)."""
        if not len(self.before):  # a first ingest: no existing records (0.5 s for a million new ones)
            return pd.DataFrame({"customer_id": pd.Series([], dtype=object), "records": np.empty(0, int)})
        # on integer codes: a groupby of the ~95k record ids' customers as text took ~0.2 s
        cust, ids = pd.factorize(self.before.reindex(self.group.index).to_numpy(dtype=object))
        per = pd.DataFrame({"g": pd.factorize(self.group.to_numpy())[0], "c": cust}).groupby("g")["c"]
        agg = per.agg(["min", "max", "size"])
        pure = agg[(agg["min"] == agg["max"]) & (agg["min"] >= 0)]  # -1: a new record
        return pd.DataFrame({"customer_id": np.asarray(ids, dtype=object)[pure["min"].to_numpy()],
                             "records": pure["size"].to_numpy()})

    def without(self, customers: set) -> Assignment:
        """This assignment without the records of `customers`: customers each left whole in a group
        of its own (see `unchanged_customers`), which fold would keep exactly as they are."""
        if not customers:
            return self
        out = self.before.isin(customers).to_numpy()
        keep = ~self.group.index.isin(self.before.index[out])
        score = self.score
        if score is not None:  # the matcher gives both for the same records, in the same order
            same = score.index.equals(self.group.index)
            score = score[keep] if same else score[score.index.isin(self.group.index[keep])]
        return Assignment(self.group[keep], self.before[~out], score, self.review, self.unmet - customers)


def unchanged_customers(assignment: Assignment, stored_sizes: Callable[[set], pd.Series]) -> set:
    """The existing customers of `assignment` that come out exactly as they were: one group holds all
    their records (`stored_sizes(customers)`: customer id -> how many records it has in the store)
    and nothing else. Fold gives such a group its customer's id, moves none of its records and leaves its
    golden record alone; leaving them out of the assignment spares reading and folding their rows
    (a +10k ingest into a million records re-clusters ~39k customers, of which ~8k change)."""
    whole = assignment.whole_groups()
    if not len(whole):
        return set()
    stored = whole["customer_id"].map(stored_sizes(set(whole["customer_id"]))).to_numpy()
    return set(whole["customer_id"][stored == whole["records"].to_numpy()])


@dataclass
class FoldResult:
    membership: pd.DataFrame  # the full new membership table
    customers: pd.DataFrame  # the full new customers table
    history: pd.DataFrame
    redirects: pd.DataFrame
    stats: dict = field(default_factory=dict)
    review: pd.DataFrame | None = None
    # customer ids whose row in `customers` (or whose members) changed: a writer may rewrite only these
    changed_customers: set = field(default_factory=set)


def format_customer_id(n: int) -> str:
    return f"C{n:08d}"


@dataclass
class Reconciled:
    """Where the groups of an assignment go."""

    records: pd.DataFrame  # record_id, group, before (None for new), customer_id (after)
    merged: dict  # customer id that stops existing -> the id that absorbs it
    changed: set  # ids of the groups whose members changed
    fresh_new: int = 0  # fresh ids of groups made of new records only
    fresh_split: int = 0  # fresh ids of groups split off existing customers


def reconcile(assignment: Assignment, old_sizes: pd.Series, next_id) -> Reconciled:
    """Give every group an id; `old_sizes` counts each customer's records before the batch."""
    res = pd.DataFrame({"record_id": assignment.group.index, "group": assignment.group.to_numpy()})
    res["before"] = res["record_id"].map(assignment.before)
    ex = res.dropna(subset=["before"])
    # ids as integer codes in sort order: min() of text by group falls back to a python call per group
    # in pandas (6 s for 10k records joining a 100k store)
    rank = pd.factorize(ex["record_id"], sort=True)[0]
    parts = ex.assign(rank=rank).groupby(["before", "group"])["rank"].agg(["size", "min"]).reset_index()
    parts = parts.sort_values(["before", "size", "min"], ascending=[True, False, True], kind="stable")
    homes = parts.drop_duplicates("before")
    codes, ids = pd.factorize(homes["before"], sort=True)
    oldest = homes.assign(code=codes).groupby("group")["code"].transform("min").to_numpy()
    keep = pd.Series(np.asarray(ids, dtype=object)[oldest], index=homes.index)  # the oldest id at home there
    target = dict(zip(homes["group"], keep, strict=True))
    gone = homes["before"] != keep
    merged = dict(zip(homes.loc[gone, "before"], keep[gone], strict=True))
    groups = pd.unique(res["group"])
    fresh = [g for g in groups if g not in target]
    first = next_id(len(fresh)) if fresh else 0
    target.update({g: format_customer_id(first + i) for i, g in enumerate(fresh)})
    res["customer_id"] = res["group"].map(target)
    split = set(ex["group"]) & set(fresh)
    return Reconciled(res, merged, _changed_groups(res, old_sizes), len(fresh) - len(split), len(split))


def _changed_groups(res: pd.DataFrame, old_sizes: pd.Series) -> set:
    """Ids of the groups that are not exactly an existing customer's records as they were."""
    per = res.assign(same=res["before"] == res["customer_id"]).groupby("group").agg(
        n=("record_id", "size"), same=("same", "sum"), id=("customer_id", "first"))
    old_n = per["id"].map(old_sizes).fillna(-1)
    same = (per["same"] == per["n"]) & (old_n == per["n"])
    return set(per.loc[~same, "id"])


def fold(new: pd.DataFrame, existing: pd.DataFrame, membership: pd.DataFrame, customers: pd.DataFrame,
         assignment: Assignment, *, next_id, now: str, batch_id: str, trust: dict,
         survivorship: dict | None = None) -> FoldResult:
    """Apply `assignment`; `next_id(n)` reserves n customer numbers; `existing` carries customer_id."""
    resolved = set(assignment.before.index)
    touched = membership["customer_id"].isin(set(assignment.before))
    old_sizes = membership.loc[touched, "customer_id"].value_counts()
    rec = reconcile(assignment, old_sizes, next_id)
    r = rec.records
    moved = r[r["before"].notna() & (r["before"] != r["customer_id"])].set_index("record_id")["customer_id"]
    members = membership.copy()
    hit = members["record_id"].isin(moved.index)
    members.loc[hit, "customer_id"] = members.loc[hit, "record_id"].map(moved)
    if rec.merged:  # records outside the neighbourhood cannot belong to a merged customer, but be safe
        # map, not replace: Series.replace with a dict scans the column once per key (0.85 s for 300 merges)
        into = members["customer_id"].map(rec.merged)
        members["customer_id"] = into.where(into.notna(), members["customer_id"])
    new_members = r.loc[r["before"].isna(), ["record_id", "customer_id"]]
    members = pd.concat([members, new_members], ignore_index=True)

    affected = rec.changed - set(rec.merged)
    existing = existing[existing["record_id"].isin(resolved)] if "record_id" in existing.columns else existing
    existing = existing.drop(columns=["customer_id"], errors="ignore")
    # an empty frame in the concat makes pandas warn (FutureWarning on stderr: it broke --log-format json)
    recs = _stack(existing, new) if len(existing) else new.reset_index(drop=True)
    unmet = assignment.unmet
    redirects = [{"old_id": old, "new_id": keep, "at": now, "batch_id": batch_id,
                  "reason": REDECIDED_REASON if {old, keep} <= unmet else "new records linked both customers"}
                 for old, keep in sorted(rec.merged.items())]
    customers_out, history = regolden(recs, members, customers, affected, rec.merged, now=now,
                                      batch_id=batch_id, trust=trust, survivorship=survivorship,
                                      events=_split_events(r, rec.merged, unmet))
    joined = r[r["before"].isna() & r["customer_id"].isin(set(r["before"].dropna()))]["customer_id"].nunique()
    stats = {"new_customers": rec.fresh_new, "joined_existing": int(joined), "merges": len(rec.merged),
             "splits": rec.fresh_split}
    return FoldResult(members, customers_out, history, pd.DataFrame(redirects), stats,
                      changed_customers=affected | set(rec.merged))


def _stack(a: pd.DataFrame, b: pd.DataFrame, order: np.ndarray | None = None) -> pd.DataFrame:
    """The rows of `a` then `b` (then taken in `order`, if given), as python objects (None for missing),
    integer columns as Int64. pd.concat checked every value of a column missing in one frame in python
    (1.5 s per ingest of 10k records into a 1M store). Filled as one 2-D block, which the frame takes
    without a copy: a frame built from a dict of columns copied them all into one block again."""
    cols = list(dict.fromkeys([*a.columns, *b.columns]))
    block = np.empty((len(cols), len(a) + len(b)), dtype=object)
    for i, c in enumerate(cols):
        block[i, :len(a)], block[i, len(a):] = _objects(a, c), _objects(b, c)
    block = block if order is None else block[:, order]
    out = pd.DataFrame(block.T, columns=cols, dtype=object, copy=False)  # pandas 3 would infer its str
    for c in INT_COLUMNS.intersection(cols):
        out[c] = pd.array(out[c].to_numpy(), dtype="Int64")
    return out


def _objects(df: pd.DataFrame, c: str) -> np.ndarray:
    """Column `c` of `df` as python objects, None for missing (all None when `df` lacks it)."""
    if c not in df.columns:
        return np.full(len(df), None, dtype=object)
    return df[c].to_numpy(dtype=object, na_value=None)


def _split_events(r: pd.DataFrame, merged: dict, unmet: set) -> pd.DataFrame:
    """History rows for the records that left a surviving customer: one on each side of every move."""
    mv = r[r["before"].notna() & (r["before"] != r["customer_id"]) & ~r["before"].isin(merged.keys())]
    mv = mv.groupby(["before", "customer_id"])["record_id"].min().reset_index()
    if not len(mv):
        return mv
    ev = pd.DataFrame({"field": "*", "old_value": mv["before"], "new_value": mv["customer_id"],
                       "record_id": mv["record_id"],
                       "reason": mv["before"].isin(unmet).map({True: REDECIDED_REASON, False: SPLIT_REASON})})
    return pd.concat([ev.assign(customer_id=mv["before"]), ev.assign(customer_id=mv["customer_id"])],
                     ignore_index=True)


def regolden(records: pd.DataFrame, members: pd.DataFrame, customers: pd.DataFrame, affected: set,
             merged: dict, *, now: str, batch_id: str, trust: dict, survivorship: dict | None = None,
             reason: str = "updated", events: pd.DataFrame | None = None
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Recompute the golden records of `affected` customers; return the new customers table and history.

    `merged` maps customer ids that stop existing to the id that absorbs them; `events` are more history
    rows (customer_id, field, old_value, new_value, record_id, reason).
    """
    members = members[in_set(members["customer_id"], affected)]
    recs = _with_customer(records, members)
    golden = _golden_table(recs, trust, survivorship)
    golden["status"], golden["merged_into"], golden["updated_at"] = "active", None, now
    old = customers.set_index("customer_id", drop=False) if len(customers) else customers
    history = _history(old, golden, recs, merged, now, batch_id, reason, events)
    return _replace_rows(customers, golden, merged, now), history


def _with_customer(records: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """The records that have a row in `members` (in their order) with its customer_id as last column
    (replacing any of `records`): an inner merge on record_id, without copying every column when every
    record is kept (a merge copied all ~35 columns, +500 MB at the peak of a first ingest of a million
    records; a drop and a reset_index copied the 95k records of a +10k ingest twice, 0.1 s)."""
    if "customer_id" in records.columns:
        records = records.drop(columns=["customer_id"])
    # looked up in Arrow: pandas' map hashed a million python strings (1.2 s of a first 1M ingest)
    at = pc.index_in(text_array(records["record_id"]), value_set=text_array(members["record_id"]))
    cust = text_array(members["customer_id"]).take(at)
    keep = cust.is_valid().to_numpy(zero_copy_only=False)
    # a shallow copy when all are kept: the new column and index are its own, the caller's frame keeps its
    out = records.copy(deep=False) if keep.all() else records.take(np.flatnonzero(keep))
    out.index = pd.RangeIndex(len(out))
    out["customer_id"] = cust.to_numpy(zero_copy_only=False)[keep]
    return out


# Above this many records, golden records are built as Arrow columns and kept as Arrow text, never as
# python objects: those of a first ingest of a million records (half a million customers x 49 columns)
# set the peak memory of the whole ingest. Smaller batches get python objects, as the stored rows they
# are stacked with.
GOLDEN_ARROW_RECORDS = 50_000

# Golden text in Arrow strings with 32-bit offsets. pandas' "str" dtype (ARROW_TEXT) stores 64-bit ones,
# 8 bytes per row and column: 230 MB of offsets alone for half a million customers of ~57 columns. The
# store writes these arrays as they are, without a cast.
GOLDEN_TEXT = pd.ArrowDtype(pa.string())


def _golden_table(recs: pd.DataFrame, trust: dict, survivorship: dict | None) -> pd.DataFrame:
    """golden_records(recs) as a frame; when recs is large, Arrow text (Int64 counts) in customer id
    order, so that the sort of the new customers in `_replace_rows` is skipped on a first ingest."""
    if len(recs) <= GOLDEN_ARROW_RECORDS:
        return golden_records(recs, trust, survivorship)
    cols = golden_columns(recs, trust, survivorship)
    return pd.DataFrame({c: pd.array(a.to_numpy(zero_copy_only=False), dtype="Int64") if c in INT_COLUMNS
                         else pd.arrays.ArrowExtensionArray(a) for c, a in cols.items()})


def _replace_rows(customers: pd.DataFrame, golden: pd.DataFrame, merged: dict, now: str) -> pd.DataFrame:
    """Customers table with `golden` rows replaced/added and merged customers marked as such."""
    keep = customers[~customers["customer_id"].isin(golden["customer_id"])].copy() if len(customers) \
        else customers
    if merged and len(keep):
        hit = keep["customer_id"].isin(merged.keys())
        keep.loc[hit, "status"] = "merged"
        keep.loc[hit, "merged_into"] = keep.loc[hit, "customer_id"].map(merged)
        keep.loc[hit, "updated_at"] = now
    # Keep golden's first-seen from the older record of the customer if it had one.
    if len(customers):
        prev_first = customers.set_index("customer_id")["first_seen"]
        g_first = golden["customer_id"].map(prev_first)
        golden["first_seen"] = g_first.where(g_first.notna(), golden["first_seen"])
    if len(keep) and len(golden):
        # stacked column by column: pd.concat of a python-object column with a typed one (Int64, Arrow
        # text) checked every value for NA in python (0.4 s of a +10k ingest into a 1M store)
        ids = np.concatenate([f["customer_id"].to_numpy(dtype=object) for f in (keep, golden)])
        return _stack(keep, golden, order=np.argsort(ids, kind="stable"))
    if len(keep):
        out = keep.reset_index(drop=True)
    else:  # golden itself, so that its columns are replaced (and freed) one by one while sorting
        golden.index = pd.RangeIndex(len(golden))  # reset_index(drop=True) in place (pandas 4: no inplace)
        out = golden
    return _sort_in_place(out, "customer_id")


def _sort_in_place(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """`df` (which must own its index, 0..n-1) sorted by `key`, stable, one column at a time: sort_values
    copied every column at once, and on a first ingest of a million records (half a million golden
    records of ~50 columns) that copy set the peak memory of the whole ingest."""
    order = np.argsort(df[key].to_numpy(dtype=object), kind="stable")
    if (order[1:] > order[:-1]).all():
        return df
    for c in df.columns:
        df[c] = df[c].array.take(order)
    return df


def _history(old: pd.DataFrame, golden: pd.DataFrame, recs: pd.DataFrame, merged: dict, now: str,
             batch_id: str, reason: str = "updated", events: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per golden field whose value changed; one 'created' row per new customer."""
    known = set(old.index) if len(old) else set()
    parts = [pd.DataFrame({"customer_id": list(merged.values()), "field": "*",
                           "old_value": list(merged.keys()), "new_value": list(merged.values()),
                           "record_id": None, "reason": "merged"})]
    if events is not None and len(events):
        parts.append(events)
    is_new = ~golden["customer_id"].isin(known)
    # the four columns read, not all ~50 (on a first ingest every golden record is new: a whole copy)
    created = golden.loc[is_new, ["customer_id", "src_name", "src_phone", "src_email"]]
    parts.append(pd.DataFrame({
        "customer_id": created["customer_id"], "field": "*", "old_value": None,
        "new_value": created["customer_id"],
        "record_id": created["src_name"].fillna(created["src_phone"]).fillna(created["src_email"]),
        "reason": "created"}))
    g = golden[~is_new].set_index("customer_id")
    # the old values of every field in one lookup: one per field hashed the customer ids 20 times
    prev = old.loc[g.index, GOLDEN_FIELDS] if len(g) else None
    for f in GOLDEN_FIELDS if len(g) else []:
        before = prev[f]
        hit = (before.fillna("\0") != g[f].fillna("\0")).to_numpy()
        parts.append(pd.DataFrame({"customer_id": g.index[hit], "field": f,
                                   "old_value": before.to_numpy()[hit], "new_value": g[f].to_numpy()[hit],
                                   "record_id": g[f"src_{f}"].to_numpy()[hit], "reason": reason}))
    hist = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) \
        else pd.DataFrame(columns=["customer_id", "field", "old_value", "new_value", "record_id", "reason"])
    hist["changed_at"], hist["batch_id"] = now, batch_id
    return _with_sources(hist, recs)


def _with_sources(hist: pd.DataFrame, recs: pd.DataFrame) -> pd.DataFrame:
    """`hist` with the channel, source_file and source_row of each row's record (missing without one):
    a left merge on record_id, done in Arrow. The merge hashed the record ids as python objects and
    copied every column: on a first ingest of a million records it set the peak memory."""
    ids = _arrow(hist["record_id"])
    pos = pc.index_in(ids, value_set=_arrow(recs["record_id"]))
    for c in ("channel", "source_file", "source_row"):
        taken = pa.table({c: _arrow(recs[c]).take(pos)})
        hist[c] = taken.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype(), pa.string(): GOLDEN_TEXT}.get)[c]
    return hist


def in_set(values: pd.Series, keys) -> np.ndarray:
    """values.isin(keys) for text, in Arrow: pandas hashed a million python strings (~1 s per call on
    a first 1M ingest). Missing values are in no set."""
    return text_in(text_array(values), keys).to_numpy(zero_copy_only=False)


def text_in(values: pa.Array, keys) -> pa.BooleanArray:
    """Whether each text value is one of `keys` (compared as str); missing values are in no set."""
    wanted = pa.array([str(k) for k in keys], pa.string())
    return pc.is_in(values, value_set=wanted).fill_null(False)


def _arrow(values: pd.Series) -> pa.Array:
    """A column as one Arrow array (text as string, integers as int64), without python objects when it
    is Arrow-backed already."""
    arr = pa.array(values, from_pandas=True)
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if pa.types.is_large_string(arr.type) or pa.types.is_null(arr.type):
        return arr.cast(pa.string())
    return arr.cast(pa.int64()) if pa.types.is_integer(arr.type) else arr
