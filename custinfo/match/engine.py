"""The matching engine: block, compare, score and cluster a set of records (or a batch against customers).

Everything per pair runs in DuckDB (one in-memory database per call) or as numpy arrays; Python only
loops over the rare components whose consistency must be checked.
"""

from __future__ import annotations

import math
import os
import tempfile

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ConfigError, InputError
from .blocking import BlockingOptions, block
from .cluster import Clustering, UnionFind, cluster
from .compare import Gammas, compute_gammas, tf_columns
from .em import train_m
from .features import PRE, PRE_OK, admin_prefix, build_records, drop_tables, frame_to_arrow, needed_columns
from .incremental import (
    arrow_text,
    build_features,
    build_keys,
    canonical_ranks,
    chunked_text,
    incremental_records,
    index_difference,
    index_union,
    pair_ends,
    pairs_touching,
    prior_pool,
    refuse_repeated_ids,
    release_keys,
    select_pairs,
    u_pool,
    whole_customers,
)
from .keycache import CACHED, NAMES, KeysUpdate, MatchKeys, names_fingerprint, tail_fingerprint, usable
from .model import MatchModel
from .results import DedupeResult, IncrementalResult, ResolveResult, ScoredPairs
from .score import apply_rules, bayes_factor_weights, estimate_prior, estimate_u, probability, weight_of
from .settings import MatchSettings, load_settings

# A batch of at most this share of the records matched (new + stored) is a small batch: the caller
# holds the stored records' matching columns and little of the batch, so DuckDB may have more memory.
SMALL_BATCH_SHARE = 0.1


class Matcher:
    """Find the same customer across records with the given settings and (optional) trained model."""

    def __init__(
        self,
        settings: MatchSettings | None = None,
        model: MatchModel | None = None,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
    ):
        self.settings = settings if settings is not None else load_settings()
        if model is not None:
            problems = model.check(self.settings)
            if problems:
                raise ConfigError(
                    "the match model does not fit the match settings",
                    problems=problems,
                    hint="retrain it with `custinfo train` after changing comparisons",
                )
        self.model = model
        self.threads = threads
        self.memory_limit = memory_limit

    def input_columns(self) -> list[str]:
        """The columns of a frame of records that matching reads (with `customer_id` for stored ones):
        a caller holding many records need not load the others."""
        s = self.settings
        return ["record_id", "source_file", *needed_columns(s.columns | tf_columns(s))[0]]

    # -- plumbing -------------------------------------------------------------------------------
    def _connect(self, small_batch: bool = False) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB; `small_batch`: a batch of at most SMALL_BATCH_SHARE of the records
        matched, whose caller holds little else in memory (engine.memory_limit_small_batch)."""
        con = duckdb.connect(":memory:")
        # DuckDB draws a progress bar on stdout after 2 s: it would corrupt `--format json` and `-o -`
        con.execute("SET enable_progress_bar = false")
        con.execute("SET preserve_insertion_order = false")
        # An in-memory database still checkpoints (compresses every table) once 16 MB were written:
        # in a 10k ingest into a million records that fell inside one statement and cost ~1.5 s.
        # The tables live for one call; peak memory of the 1M first ingest was the same without it.
        con.execute("SET checkpoint_threshold = '1TB'")
        con.execute(f"SET temp_directory = '{tempfile.gettempdir()}/custinfo-duckdb-{os.getpid()}'")
        threads = self.threads or self.settings.threads
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        small = self.settings.memory_limit_small_batch if small_batch else None
        memory = self.memory_limit or small or self.settings.memory_limit
        if memory:
            con.execute(f"SET memory_limit = '{memory}'")
        return con

    def _load(
        self, con: duckdb.DuckDBPyConnection, frames: list[tuple[pd.DataFrame, bool, np.ndarray]]
    ) -> np.ndarray:
        """Register the frames as table `recs` with features; return record ids by record index."""
        s = self.settings
        ids = self._register(con, frames, needed_columns(s.columns | tf_columns(s))[0])
        build_records(
            con,
            "src",
            s.columns,
            tf_columns(s),
            mobile_pattern=s.mobile_pattern,
            shared_min_names=s.shared_min_names,
        )
        con.unregister("src")
        return ids

    def _register(
        self,
        con: duckdb.DuckDBPyConnection,
        frames: list[tuple[pd.DataFrame, bool, np.ndarray]],
        columns: list[str],
        ranks: list[np.ndarray] | None = None,
        pre: pa.Table | None = None,
    ) -> np.ndarray | pa.StringArray:
        """Table `src` (idx, is_new, grp, input columns) of all frames; return record ids by index.

        Records are numbered in frame order, or by `ranks` (one array of indexes per frame) when given;
        then the ids come as Arrow text (resolve needs python strings for only the records it
        re-clusters: making them for a million took ~0.3 s). `pre`: cached keys of the records of the
        frame that is not new (keycache.py), given as columns `pre_<key>` and `pre_ok`."""
        parts, ids, offset = [], [], 0
        for k, (df, is_new, grp) in enumerate(frames):
            if "record_id" not in df.columns:
                raise InputError(
                    "records need a `record_id` column",
                    key="record_id",
                    hint="add a unique id per row (e.g. the row number)",
                )
            n = len(df)
            ids.append(arrow_text(df["record_id"], None))  # astype(str), in Arrow
            idx = np.arange(offset, offset + n) if ranks is None else ranks[k]
            cols = {
                "idx": pa.array(np.asarray(idx, dtype=np.int32)),
                "is_new": pa.array(np.full(n, is_new)),
                "grp": pa.array(np.asarray(grp, dtype=np.int32)),
            }
            cols.update(frame_to_arrow(df, columns))
            if pre is not None:
                mine = not is_new
                for c in pre.column_names:
                    cols[PRE + c] = pre[c] if mine else pa.nulls(n, pa.string())
                cols[PRE_OK] = pa.array(np.full(n, mine))
            parts.append(pa.table(cols))
            offset += n
        # Arrow hashes a million ids in a fraction of the time pandas takes on python strings, and
        # makes the python strings of the ids faster than astype(str) (0.9 -> 0.4 CPU s at 1M)
        id_text = chunked_text(ids).combine_chunks() if ids else pa.array([], pa.string())
        if ranks is None:  # canonical_ranks, which gives the ranks, refused repeated ids already
            refuse_repeated_ids(id_text, sort=True)
        con.register("src", pa.concat_tables(parts))  # scanned in place, not copied
        if ranks is not None:
            return id_text.take(pa.array(np.argsort(np.concatenate(ranks)))) if len(id_text) else id_text
        return id_text.to_numpy(zero_copy_only=False)

    def _base_model(self) -> tuple[MatchModel, bool]:
        if self.model is not None:
            return self.model, bool(self.model.info.get("trained"))
        return MatchModel.from_settings(self.settings), False

    def _score(
        self,
        con: duckdb.DuckDBPyConnection,
        n: int,
        total_pairs: float,
        groups: np.ndarray | None = None,
        pool: np.ndarray | None = None,
        n_all: int | None = None,
        u_pairs: int | None = None,
        table: str = "pairs",
    ) -> tuple[Gammas, np.ndarray, np.ndarray, MatchModel, float]:
        """Levels, link weights and consistency weights of the candidate pairs, with u (and the prior)
        fitted to this data; `n_all` records in all (when only some were loaded)."""
        s = self.settings
        model, trained = self._base_model()
        if s.estimate_u and not trained:
            model = estimate_u(con, s, model, n, groups, max_pairs=u_pairs, pool=pool)
        gam = compute_gammas(con, s, table)
        bf = bayes_factor_weights(gam, s, model)
        lam = min(model.matches_per_record / max((n_all or n) - 1, 1), 0.5)
        if s.estimate_prior and not trained:
            lam = estimate_prior(bf, total_pairs, lam, pseudo_pairs=s.u_pseudo_pairs)
        prior = math.log2(lam / (1 - lam))
        w, c = apply_rules(gam, bf + np.float32(prior), s, model, prior)
        return gam, w, c, model, prior

    def _rescorer(self, con: duckdb.DuckDBPyConnection, model: MatchModel, prior: float):
        s = self.settings

        def rescore(li: np.ndarray, r: np.ndarray) -> np.ndarray:
            con.register("rescore_pairs", pa.table({"l": li.astype(np.int32), "r": r.astype(np.int32)}))
            gam = compute_gammas(con, s, "rescore_pairs")
            con.unregister("rescore_pairs")
            w, c = apply_rules(gam, bayes_factor_weights(gam, s, model) + np.float32(prior), s, model, prior)
            return _align(li, r, gam.left, gam.right, w), _align(li, r, gam.left, gam.right, c)

        return rescore

    def _nodes(self, ids: np.ndarray, init: np.ndarray, must_link, cannot_link):
        """Node per record after must-links (refused across a cannot-link), cannot pairs, conflicts."""
        pos = pd.Index(ids)
        conflicts: list[dict] = []
        ca, cb = _pair_index(pos, cannot_link)
        ma, mb = _pair_index(pos, must_link)
        same = init[ca] == init[cb]
        conflicts += [
            {"a": ids[a], "b": ids[b], "kind": "cannot_link", "reason": "records already one customer"}
            for a, b in zip(ca[same], cb[same], strict=True)
        ]
        uf = UnionFind(list(zip(init[ca[~same]].tolist(), init[cb[~same]].tolist(), strict=True)))
        for a, b in zip(ma.tolist(), mb.tolist(), strict=True):
            if not uf.union(int(init[a]), int(init[b])):
                conflicts.append(
                    {
                        "a": ids[a],
                        "b": ids[b],
                        "kind": "must_link",
                        "reason": "a cannot-link keeps these groups apart",
                    }
                )
        node = init.astype(np.int64).copy()
        if uf.parent:
            labels = np.fromiter(uf.parent.keys(), dtype=np.int64)
            roots = np.array([uf.find(x) for x in labels.tolist()], dtype=np.int64)
            hit = np.isin(node, labels)
            node[hit] = roots[_lookup(labels, node[hit])]
        node_of = np.unique(node, return_inverse=True)[1].astype(np.int64)
        return node_of, (ca[~same], cb[~same]), conflicts

    def _cluster(
        self, con, gam: Gammas, w, c, node_of: np.ndarray, cannot, model, prior, rescore=None
    ) -> Clustering:
        s = self.settings
        return cluster(
            node_of,
            gam.left,
            gam.right,
            w,
            c,
            threshold=weight_of(s.threshold),
            prior=prior,
            consistency=s.consistency,
            cannot=cannot,
            max_nodes=s.max_component,
            rescore=rescore or self._rescorer(con, model, prior),
        )

    # -- public API -----------------------------------------------------------------------------
    def dedupe(self, df: pd.DataFrame, must_link=(), cannot_link=()) -> DedupeResult:
        """Cluster the records of `df` (normalized, with record_id) into customers."""
        s = self.settings
        con = self._connect()
        try:
            n = len(df)
            ids = self._load(con, [(df, True, np.zeros(n, dtype=np.int32))])
            plan = block(con, s, BlockingOptions("dedupe", s.max_block_size, s.window))
            gam, w, c, model, prior = self._score(con, n, n * (n - 1) / 2)
            node_of, cannot, conflicts = self._nodes(ids, np.arange(n), must_link, cannot_link)
            cl = self._cluster(con, gam, w, c, node_of, cannot, model, prior)
        finally:
            con.close()
        score = _match_scores(cl, gam, w, node_of)
        clusters = _cluster_frame(ids, cl.label, score)
        stats = {
            "records": n,
            "pairs": len(gam),
            "prior_weight": prior,
            **cl.stats,
            "clusters": len(np.unique(cl.label)),
        }
        scored = ScoredPairs(ids, gam, w, s, cl.label)
        return DedupeResult(clusters, plan, scored, stats, conflicts)

    def link(self, left: pd.DataFrame, right: pd.DataFrame, must_link=(), cannot_link=()) -> DedupeResult:
        """Link two lists (each assumed free of duplicates): only pairs across the lists are compared."""
        s = self.settings
        con = self._connect()
        try:
            nl, nr = len(left), len(right)
            grp = np.r_[np.zeros(nl, dtype=np.int32), np.ones(nr, dtype=np.int32)]
            ids = self._load(con, [(left, True, grp[:nl]), (right, True, grp[nl:])])
            plan = block(con, s, BlockingOptions("link", s.max_block_size, s.window))
            gam, w, c, model, prior = self._score(con, nl + nr, nl * nr, groups=grp)
            node_of, cannot, conflicts = self._nodes(ids, np.arange(nl + nr), must_link, cannot_link)
            cl = self._cluster(con, gam, w, c, node_of, cannot, model, prior)
        finally:
            con.close()
        clusters = _cluster_frame(ids, cl.label, _match_scores(cl, gam, w, node_of))
        stats = {"records": nl + nr, "pairs": len(gam), "prior_weight": prior, **cl.stats}
        return DedupeResult(clusters, plan, ScoredPairs(ids, gam, w, s, cl.label), stats, conflicts)

    def match_incremental(
        self, new_df: pd.DataFrame, existing_df: pd.DataFrame, must_link=(), cannot_link=()
    ) -> IncrementalResult:
        """Group new records and say which existing customers (never split) each group joins.

        Only blocking keys are computed for every existing record; full features only for the records
        the batch is paired with (and their customers' other records), see incremental.py.
        """
        s = self.settings
        if "customer_id" not in existing_df.columns:
            raise InputError("existing records need a `customer_id` column", key="customer_id")
        cust = existing_df["customer_id"].astype(str).to_numpy(dtype=object)
        codes = pd.factorize(cust)[0].astype(np.int32)
        nn, ne = len(new_df), len(existing_df)
        con = self._connect()
        try:
            ids = self._register(
                con,
                [(new_df, True, np.full(nn, -1, dtype=np.int32)), (existing_df, False, codes)],
                needed_columns(s.columns | tf_columns(s))[0],
            )
            plan, pool = incremental_records(con, s, nn, codes)
            gam, w, c, model, prior = self._score(
                con, nn + ne, nn * (nn - 1) / 2 + nn * ne, pool=pool, u_pairs=max(s.u_max_pairs // 4, 1)
            )
            init = np.r_[np.arange(nn), nn + codes].astype(np.int64)
            node_of, cannot, conflicts = self._nodes(ids, init, must_link, cannot_link)
            cl = self._cluster(con, gam, w, c, node_of, cannot, model, prior)
            read = con.sql("SELECT count(*) FROM recs").fetchall()[0][0]
        finally:
            con.close()
        score = _match_scores(cl, gam, w, node_of)
        assign, group_customers = _groups(ids, cl.label, score, nn, cust)
        stats = {
            "new_records": nn,
            "existing_records": ne,
            "records_with_features": int(read),
            "pairs": len(gam),
            "prior_weight": prior,
            **cl.stats,
            "groups": len(group_customers),
            "merges": sum(1 for v in group_customers.values() if len(v) > 1),
        }
        return IncrementalResult(
            assign, group_customers, plan, ScoredPairs(ids, gam, w, s, cl.label), stats, conflicts
        )

    def resolve(
        self,
        new_df: pd.DataFrame,
        existing_df: pd.DataFrame,
        must_link=(),
        cannot_link=(),
        keys: MatchKeys | None = None,
    ) -> ResolveResult:
        """Re-cluster the neighbourhood of a batch from scratch, as if all records had come at once.

        The neighbourhood is the new records, every record of the existing customers they have a
        candidate pair with (above `incremental.resolve_all_up_to` records: a pair of at least
        `incremental.meet_at`, see _scored_hood), and every record of the customers those are linked
        to (one step further).
        Pairs come from blocking all records; u, term frequencies and shared values are measured over all
        records; records are numbered in an order that does not depend on the ingest order. Up to
        `incremental.resolve_all_up_to` records in all, every record is re-clustered (then the
        customers are those of ingesting everything at once, whatever the order of the batches).
        Existing customers may come out split or merged: see `ResolveResult` and merge/fold.py.

        `keys`: the existing records' cached match keys (keycache.py); those still valid are not made
        again. The result's `keys` are the ones to store: the new records', or every record's.
        """
        s = self.settings
        if "customer_id" not in existing_df.columns:
            raise InputError("existing records need a `customer_id` column", key="customer_id")
        # customer ids as Arrow text: codes in order of first appearance, as pd.factorize numbers them
        # (0.95 CPU s on a million python strings against 0.4 s); only the re-clustered become objects
        cust = arrow_text(existing_df["customer_id"], None)
        cust = cust.combine_chunks() if isinstance(cust, pa.ChunkedArray) else cust
        codes = pc.dictionary_encode(cust).indices.to_numpy(zero_copy_only=False).astype(np.int32)
        nn, ne = len(new_df), len(existing_df)
        ranks = canonical_ranks([new_df, existing_df])
        grp = np.empty(nn + ne, dtype=np.int64)
        grp[ranks[0]], grp[ranks[1]] = -1, codes
        con = self._connect(small_batch=nn <= SMALL_BATCH_SHARE * (nn + ne))
        try:
            frames = [(new_df, True, np.full(nn, -1, dtype=np.int32)), (existing_df, False, codes)]
            use = self._usable_keys(con, frames, keys)
            pre = keys.values.select(use) if use else None
            id_text = self._register(
                con, frames, needed_columns(s.columns | tf_columns(s))[0], ranks=ranks, pre=pre
            )
            plan, t, met, gam, w, c, model, prior, fresh = self._neighbourhood(
                con, np.sort(ranks[0]), grp, cached=use
            )
            ids = id_text.take(pa.array(t)).to_numpy(zero_copy_only=False)  # of the records re-clustered
            node_of, cannot, conflicts = self._nodes(ids, np.arange(len(t)), must_link, cannot_link)
            rescore = self._rescorer(con, model, prior)
            cl = self._cluster(
                con, gam, w, c, node_of, cannot, model, prior, rescore=lambda a, b: rescore(t[a], t[b])
            )
            read = con.sql("SELECT count(*) FROM recs_feat").fetchall()[0][0]
            # read after clustering, where a first ingest's memory peaks (its million keys held
            # through it raised the peak by ~65 MB)
            rows, whole, made = fresh
            if rows is None:  # the new records' keys, from their features (see _fresh_keys)
                rows = _key_rows(con, "recs_feat", new_only=True)
            update = _keys_update(rows, whole, made, id_text, ranks)
        finally:
            con.close()
        row = np.full(nn + ne, -1, dtype=np.int64)  # record index -> row of existing_df
        row[ranks[1]] = np.arange(ne)
        old = np.full(len(t), None, dtype=object)
        known = row[t] >= 0
        old[known] = cust.take(pa.array(row[t][known])).to_numpy(zero_copy_only=False)
        clusters = pd.DataFrame(
            {
                "record_id": ids,
                "group": pd.factorize(cl.label)[0].astype(int),
                "match_score": _match_scores(cl, gam, w, node_of),
                "customer_id": old,
                "met": met,
            }
        )
        stats = {
            "new_records": nn,
            "existing_records": ne,
            "resolved_records": len(t),
            "records_with_features": int(read),
            "pairs": len(gam),
            "prior_weight": prior,
            **cl.stats,
            "groups": int(clusters["group"].nunique()),
        }
        scored = ScoredPairs(ids, gam, w, s, cl.label)
        return ResolveResult(clusters, plan, scored, stats, conflicts, keys=update)

    def _usable_keys(self, con: duckdb.DuckDBPyConnection, frames, keys: MatchKeys | None) -> list[str]:
        """The cached keys still valid. The admin-name regex of the address tails is made here from
        every record (as keying them would make it first), to see whether the stored tails used it."""
        if keys is None or len(keys.values) != len(frames[1][0]):
            return []
        cols = ["province", "city", "district"]
        names = pa.concat_tables([pa.table(frame_to_arrow(df, cols)) for df, _, _ in frames])
        con.register("admin_src", names)
        try:
            regex = admin_prefix(con, "admin_src")
        finally:
            con.unregister("admin_src")
        return usable(keys, regex)

    def _neighbourhood(
        self, con: duckdb.DuckDBPyConnection, new_idx: np.ndarray, grp: np.ndarray, cached: list[str] = ()
    ):
        """Records to re-cluster (sorted indexes) and their scored pairs, renumbered 0..len-1; and the
        match keys to store (keycache.py): the new records', or every record's unless all of them
        were `cached`."""
        s = self.settings
        n = len(grp)
        build_keys(con, s)
        fresh = _fresh_keys(con, cached, every_new=len(new_idx) == n)
        met = np.zeros(n, dtype=bool)  # records of the customers the batch has a candidate pair with
        pool = u_pool(n, s.seed)
        if n <= s.resolve_all_up_to:  # small enough to re-decide everyone with today's parameters
            t0 = near = ppool = np.arange(n)
            plan = pairs_touching(con, s, t0, "pairs_b")
            met[whole_customers(index_union(n, new_idx, _ends_touching(con, "pairs_b", new_idx)), grp)] = True
        else:
            ppool = prior_pool(pool, s.seed)
            plan = pairs_touching(con, s, index_union(n, new_idx, ppool), "pairs_1")  # one blocking for both
            select_pairs(con, "pairs_1", ppool, "pairs_p", both=True)
            if len(new_idx) == n:  # a first ingest: every pair touches the batch (no copy of them all)
                con.execute("ALTER TABLE pairs_1 RENAME TO pairs_a")
            else:
                select_pairs(con, "pairs_1", new_idx, "pairs_a", both=False)
                con.execute("DROP TABLE pairs_1")
                meet = self._meet_weight()
                if meet is not None:
                    hood = self._scored_hood(con, new_idx, grp, pool, ppool, meet)
                    return (plan, *hood, fresh)
            t0 = whole_customers(index_union(n, new_idx, pair_ends(con, "pairs_a")), grp)
            met[:] = True  # every customer re-clustered here meets the batch or is linked to one that does
            rest = index_difference(n, t0, new_idx)
            if len(rest):  # existing customers met: look one step further
                pairs_touching(con, s, rest, "pairs_2")
                con.execute("CREATE TEMP TABLE pairs_b AS SELECT * FROM pairs_a UNION SELECT * FROM pairs_2")
                drop_tables(con, "pairs_a", "pairs_2")
            else:
                con.execute("ALTER TABLE pairs_a RENAME TO pairs_b")
            near = whole_customers(index_union(n, t0, pair_ends(con, "pairs_b")), grp)
        build_features(con, s, index_union(n, near, pool))
        release_keys(con)
        gam, w, c, model, prior = self._score_hood(con, n, pool, ppool, every_pair=len(t0) == n)
        t, gam, w, c = self._closed_hood(con, t0, grp, gam, w, c, model, prior)
        return plan, t, met[t], gam, w, c, model, prior, fresh

    def _meet_weight(self) -> float | None:
        """The weight a pair with a new record needs to bring its existing customer into the
        re-clustering (None: any candidate pair does): `incremental.meet_at`, never above the review
        band or the threshold."""
        s = self.settings
        at = min(s.meet_at, s.review_low, s.threshold)
        return weight_of(at) if at > 0 else None

    def _scored_hood(
        self, con: duckdb.DuckDBPyConnection, new_idx: np.ndarray, grp: np.ndarray, pool: np.ndarray,
        ppool: np.ndarray, meet: float,
    ):
        """The neighbourhood of a batch in a big store, met by scored pairs: the new records, every
        record of the existing customers with a pair of weight `meet` or more with one of them, and
        the customers those are linked to. `pairs_a` (pairs with a new record) and `pairs_p`
        (pairs among the prior pool) are blocked. Returns what _neighbourhood does, but the plan and keys.

        The pairs with the new records are scored first, with the prior pool's, as _score_hood scores
        a neighbourhood (the features of the batch, the records it has a pair with and the u pool; u
        and the prior come from the same samples of all records);
        customers met only by pairs far below the review band are left as they are stored, instead of
        being re-clustered with their one-step neighbours for nothing (10k into 1M: 38.6k customers
        met by a candidate pair, 10.8k by a pair of probability 0.01 or more)."""
        s = self.settings
        n = len(grp)
        featured = index_union(n, new_idx, pair_ends(con, "pairs_a"), pool)
        build_features(con, s, featured, last=False)
        con.execute("ALTER TABLE pairs_a RENAME TO pairs_b")
        gam, w, c, model, prior = self._score_hood(con, n, pool, ppool, every_pair=False)  # pairs_s
        new = np.zeros(n, dtype=bool)
        new[new_idx] = True
        sure = (new[gam.left] | new[gam.right]) & (w >= meet)  # not the prior pool's other pairs
        t0 = whole_customers(index_union(n, new_idx, gam.left[sure], gam.right[sure]), grp)
        rest = index_difference(n, t0, new_idx)
        if len(rest):  # existing customers met: look one step further
            pairs_touching(con, s, rest, "pairs_2")
            # the pairs with a new record (and the prior pool's) are scored already
            con.execute(
                "CREATE OR REPLACE TEMP TABLE pairs_2 AS SELECT * FROM pairs_2 ANTI JOIN pairs_s USING (l, r)"
            )
            near = whole_customers(index_union(n, t0, pair_ends(con, "pairs_2")), grp)
            build_features(con, s, index_difference(n, near, featured), last=True, append=True)
            g2, w2, c2 = self._weigh(con, "pairs_2", model, prior)
            gam, w, c = _concat_gammas(gam, g2), np.r_[w, w2], np.r_[c, c2]
        else:
            con.unregister("src")
        drop_tables(con, "pairs_s", "pairs_2")
        release_keys(con)
        t, gam, w, c = self._closed_hood(con, t0, grp, gam, w, c, model, prior)
        return t, np.ones(len(t), dtype=bool), gam, w, c, model, prior

    def _closed_hood(self, con, t0: np.ndarray, grp: np.ndarray, gam: Gammas, w, c, model, prior):
        """The records to re-cluster: `t0` and every customer a strong pair links to it; their pairs
        (of those scored, plus the pairs among the customers joined last), renumbered 0..len-1."""
        n = len(grp)
        on_t0 = np.zeros(n, dtype=bool)
        on_t0[t0] = True
        keep = on_t0[gam.left] | on_t0[gam.right]
        gam, w, c = _kept(keep, gam, w, c)
        strong = w >= weight_of(self.settings.threshold)
        t = whole_customers(index_union(n, t0, gam.left[strong], gam.right[strong]), grp)
        inside = np.zeros(n, dtype=bool)
        inside[t] = True
        keep = inside[gam.left] & inside[gam.right]
        gam, w, c = _kept(keep, gam, w, c)
        extra = t[~on_t0[t]]
        if len(extra):  # pairs among the customers joined in the last step
            g2, w2, c2 = self._pairs_among(con, extra, model, prior)
            gam, w, c = _concat_gammas(gam, g2), np.r_[w, w2], np.r_[c, c2]
        pos = np.full(n, -1, dtype=np.int64)
        pos[t] = np.arange(len(t))
        gam = Gammas(pos[gam.left].astype(np.int32), pos[gam.right].astype(np.int32), gam.g, gam.tf)
        return t, gam, w, c

    def _score_hood(
        self, con: duckdb.DuckDBPyConnection, n: int, pool: np.ndarray, ppool: np.ndarray, every_pair: bool
    ):
        """Levels and weights of the pairs in `pairs_b` and of those among the records of `ppool` (table
        `pairs_p`, unless `every_pair`: pairs_b holds every candidate pair).

        u is measured on random pairs of `pool` and the prior on the candidate pairs among `ppool`: both
        are samples of all records (every record up to U_SAMPLE / PRIOR_SAMPLE), never the batch, so the
        parameters do not depend on which records came in which batch."""
        s = self.settings
        con.execute("CREATE OR REPLACE VIEW recs AS SELECT * FROM recs_feat")
        if every_pair:
            con.execute("ALTER TABLE pairs_b RENAME TO pairs_s")
        else:
            con.execute("CREATE TEMP TABLE pairs_s AS SELECT * FROM pairs_b UNION SELECT * FROM pairs_p")
            drop_tables(con, "pairs_b", "pairs_p")
        model, trained = self._base_model()
        if s.estimate_u and not trained:
            model = estimate_u(con, s, model, n, max_pairs=max(s.u_max_pairs // 4, 1), pool=pool)
        gam = compute_gammas(con, s, "pairs_s")
        bf = bayes_factor_weights(gam, s, model)
        lam = min(model.matches_per_record / max(n - 1, 1), 0.5)
        if s.estimate_prior and not trained:
            in_pool = np.zeros(n, dtype=bool)
            in_pool[ppool] = True
            k = len(ppool)
            both = in_pool[gam.left] & in_pool[gam.right]
            lam = estimate_prior(bf[both], k * (k - 1) / 2, lam, pseudo_pairs=s.u_pseudo_pairs)
        prior = math.log2(lam / (1 - lam))
        w, c = apply_rules(gam, bf + np.float32(prior), s, model, prior)
        return gam, w, c, model, prior

    def _weigh(self, con: duckdb.DuckDBPyConnection, table: str, model: MatchModel, prior: float):
        """Levels, link weights and consistency weights of the pairs of `table`."""
        s = self.settings
        gam = compute_gammas(con, s, table)
        w, c = apply_rules(gam, bayes_factor_weights(gam, s, model) + np.float32(prior), s, model, prior)
        return gam, w, c

    def _pairs_among(self, con: duckdb.DuckDBPyConnection, idx: np.ndarray, model: MatchModel, prior: float):
        """Scored candidate pairs with both records in `idx` (blocked over all records)."""
        s = self.settings
        pairs_touching(con, s, idx, "pairs_c")
        con.execute("CREATE OR REPLACE VIEW recs AS SELECT * FROM recs_feat")
        con.execute("""CREATE TEMP TABLE pairs_cc AS SELECT * FROM pairs_c
            WHERE l IN (SELECT idx FROM seed_idx) AND r IN (SELECT idx FROM seed_idx)""")
        return self._weigh(con, "pairs_cc", model, prior)

    def train(self, df: pd.DataFrame) -> MatchModel:
        """Estimate u on random pairs and m by EM on the candidate pairs of `df`; no labels needed."""
        s = self.settings
        con = self._connect()
        try:
            n = len(df)
            self._load(con, [(df, True, np.zeros(n, dtype=np.int32))])
            block(con, s, BlockingOptions("dedupe", s.max_block_size, s.window))
            model, _ = self._base_model()
            model = estimate_u(con, s, model, n)
            gam = compute_gammas(con, s, "pairs", with_rules=True)
        finally:
            con.close()
        model, report = train_m(gam.g, gam.rules, s, model)
        bf = bayes_factor_weights(gam, s, model)
        lam = estimate_prior(bf, n * (n - 1) / 2, min(model.matches_per_record / max(n - 1, 1), 0.5))
        model.matches_per_record = float(lam * (n - 1))
        model.info = {
            "trained": True,
            "records": n,
            "pairs": len(gam),
            "u_pairs": model.info.get("u_pairs"),
            "rules": report,
        }
        return model

    def explain(
        self,
        rec_a,
        rec_b,
        context: pd.DataFrame | None = None,
        n_records: int | None = None,
        prior_weight: float | None = None,
    ) -> dict:
        """Why two records score as they do: per comparison the level, values, m, u and weight.

        `context` (the records matched with) gives term frequencies and shared phones; `prior_weight`
        (a result's `stats["prior_weight"]`) makes the total the one that run used.
        """
        from .explain import explain_pair

        return explain_pair(self, rec_a, rec_b, context, n_records, prior_weight)


def _fresh_keys(con: duckdb.DuckDBPyConnection, cached: list[str], every_new: bool) -> tuple:
    """(rows, whole, fingerprints) of the match keys to store: every record's (`whole`) when a
    key that `recs_keys` has was not all cached, else the new records'. Only every record's, when
    some are not new, are read here (from `recs_keys`); rows None: read the new records' from their
    features at the end (a first ingest's million keys are then not held through matching, where
    its memory peaks)."""
    have = {r[0] for r in con.execute("DESCRIBE recs_keys").fetchall()}
    whole = not {c for c in CACHED if c in have} <= set(cached)
    rows = _key_rows(con, "recs_keys", new_only=False) if whole and not every_new else None
    names = names_fingerprint() if set(NAMES) <= have else ""
    tail = ""
    if "address_tail" in have:
        tail = tail_fingerprint(con.execute("SELECT regex FROM admin_names_regex").fetchall()[0][0])
    return rows, whole, {"names_fp": names, "tail_fp": tail}


def _key_rows(con: duckdb.DuckDBPyConnection, table: str, new_only: bool) -> pa.Table:
    """idx and the CACHED keys (null where `table` lacks one) of its records, or of its new ones."""
    have = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
    sel = ", ".join(c if c in have else f"CAST(NULL AS VARCHAR) AS {c}" for c in CACHED)
    return con.sql(f"SELECT idx, {sel} FROM {table}{' WHERE is_new' if new_only else ''}").to_arrow_table()


def _keys_update(
    rows: pa.Table, whole: bool, made: dict, id_text: pa.Array, ranks: list[np.ndarray]
) -> KeysUpdate:
    """The keys to store, in the order the store reads its records: the new records in theirs (as
    the ingest appends them), and when `whole` the stored ones after them, in the order they were
    given (Delta reads the newest file first). Then the next ingest finds every record's keys at
    its own row (keycache.aligned: 0.34-0.61 s to look up a million record ids otherwise)."""
    at = np.full(len(id_text), -1, dtype=np.int64)
    at[rows["idx"].to_numpy()] = np.arange(rows.num_rows)
    order = np.r_[ranks[0], ranks[1]] if whole else ranks[0]
    ids = id_text.take(pa.array(order)) if len(order) else pa.array([], pa.string())
    rows = rows.take(pa.array(at[order]))
    out = pa.table({"record_id": ids, **{c: rows[c] for c in CACHED}})
    return KeysUpdate(out, whole, made)


def _ends_touching(con: duckdb.DuckDBPyConnection, table: str, idx: np.ndarray) -> np.ndarray:
    """Records paired in `table` with a record of `idx`."""
    con.register("touch_idx", pa.table({"idx": np.asarray(idx, dtype=np.int32)}))
    q = f"""SELECT l AS i FROM {table} WHERE r IN (SELECT idx FROM touch_idx)
        UNION SELECT r FROM {table} WHERE l IN (SELECT idx FROM touch_idx)"""
    out = con.sql(q).fetchnumpy()["i"].astype(np.int64)
    con.unregister("touch_idx")
    return out


def _kept(
    keep: np.ndarray, gam: Gammas, w: np.ndarray, c: np.ndarray
) -> tuple[Gammas, np.ndarray, np.ndarray]:
    """The pairs where `keep` is true (no copy when that is all of them, as on a first ingest)."""
    if keep.all():
        return gam, w, c
    return gam.take(keep), w[keep], c[keep]


def _concat_gammas(a: Gammas, b: Gammas) -> Gammas:
    return Gammas(
        np.r_[a.left, b.left],
        np.r_[a.right, b.right],
        np.concatenate([a.g, b.g]),
        {k: np.r_[v, b.tf[k]] for k, v in a.tf.items()},
    )


def _lookup(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Position in `keys` (unsorted, unique) of each of `values` (all present)."""
    order = np.argsort(keys)
    return order[np.searchsorted(keys, values, sorter=order)]


def _pair_index(pos: pd.Index, pairs) -> tuple[np.ndarray, np.ndarray]:
    """Record indexes of (id, id) pairs; pairs naming an unknown record are ignored."""
    pairs = list(pairs or [])
    if not pairs:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    a = pos.get_indexer([str(p[0]) for p in pairs])
    b = pos.get_indexer([str(p[1]) for p in pairs])
    ok = (a >= 0) & (b >= 0) & (a != b)
    return a[ok].astype(np.int64), b[ok].astype(np.int64)


def _align(ql: np.ndarray, qr: np.ndarray, gl: np.ndarray, gr: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Values computed for pairs (gl, gr), returned in the order of the query pairs (ql, qr)."""
    span = int(max(ql.max(initial=0), qr.max(initial=0), gl.max(initial=0), gr.max(initial=0))) + 1
    qk = ql.astype(np.int64) * span + qr
    gk = gl.astype(np.int64) * span + gr
    order = np.argsort(gk)
    return values[order[np.searchsorted(gk, qk, sorter=order)]]


def _match_scores(cl: Clustering, gam: Gammas, w: np.ndarray, node_of: np.ndarray) -> np.ndarray:
    """Per record: the best pair probability linking it into its cluster (NaN for singletons)."""
    n = len(cl.label)
    li = np.r_[gam.left, cl.extra_l].astype(np.int64)
    r = np.r_[gam.right, cl.extra_r].astype(np.int64)
    p = probability(np.r_[w, cl.extra_w].astype(np.float64))
    same = cl.label[li] == cl.label[r]
    score = np.full(n, -1.0)
    np.maximum.at(score, li[same], p[same])
    np.maximum.at(score, r[same], p[same])
    size = np.bincount(cl.label, minlength=int(cl.label.max(initial=0)) + 1)[cl.label]
    node_size = np.bincount(node_of)[node_of]
    score[(score < 0) & (node_size > 1)] = 1.0  # held in the cluster by a must-link or its customer
    score[(score < 0) | (size == 1)] = np.nan
    return score


def _cluster_frame(ids: np.ndarray, label: np.ndarray, score: np.ndarray) -> pd.DataFrame:
    """record_id, cluster_id (c + number in order of first appearance), cluster_size, match_score."""
    codes, _ = pd.factorize(label)
    size = np.bincount(codes)[codes]
    num = pc.utf8_lpad(pc.cast(pa.array(codes + 1), pa.string()), width=7, padding="0")
    cid = pc.binary_join_element_wise("c", num, "").to_numpy(zero_copy_only=False)
    return pd.DataFrame(
        {
            "record_id": ids,
            "cluster_id": cid,
            "cluster_size": size,
            "match_score": score,
        }
    )


def _groups(ids: np.ndarray, label: np.ndarray, score: np.ndarray, nn: int, cust: np.ndarray):
    """Group number per new record and the existing customers of each group."""
    codes, uniq = pd.factorize(label[:nn])
    assign = pd.DataFrame({"record_id": ids[:nn], "group": codes.astype(int), "match_score": score[:nn]})
    group_of_label = pd.Series(np.arange(len(uniq)), index=uniq)
    ex_label = label[nn:]
    hit = np.isin(ex_label, uniq)
    joined = pd.DataFrame({"group": group_of_label.reindex(ex_label[hit]).to_numpy(), "customer": cust[hit]})
    group_customers: dict[int, list[str]] = {int(g): [] for g in range(len(uniq))}
    for g, custs in joined.drop_duplicates().groupby("group")["customer"]:
        group_customers[int(g)] = sorted(custs.tolist())
    return assign, group_customers
