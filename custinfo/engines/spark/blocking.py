"""Blocking on Spark: the candidate pairs of the match settings' blocking rules, as Spark joins.

The same rules, keys, giant-block guard and plan as `custinfo.match.blocking` (which does it in
DuckDB): records sharing every key of a rule are paired; a block over the rule's cap is split by
its `refine` keys in turn, and a block still too big is paired in a sorted neighbourhood (each
record with its `window` next by name, then record index). All rules are keyed in one DataFrame
(`rule`, `k`), so the whole plan is a handful of Spark jobs, not a few per rule.
"""

from __future__ import annotations

from functools import reduce

import pyarrow as pa
import pyarrow.compute as pc

from ...match.blocking import MODES, BlockingOptions
from ...match.features import LIST_COLUMNS
from ...match.settings import BlockingRule, BlockKey, MatchSettings


def _part(key: BlockKey, value=None):
    """The key part as a column: the key's column (or `value`, a list element), cut to its prefix."""
    from pyspark.sql import functions as F

    c = F.col(key.column) if value is None else value
    return F.substring(c, 1, key.prefix) if key.prefix else c


def _rule_key_array(rule: BlockingRule):
    """A column: the array of this record's keys for `rule` (one per list value), or null."""
    from pyspark.sql import functions as F

    listcol = next((k.column for k in rule.on if k.column in LIST_COLUMNS), None)

    def key_of(lv):
        parts = [_part(k, lv) if k.column in LIST_COLUMNS else _part(k) for k in rule.on]
        ok = reduce(lambda a, b: a & b, [p.isNotNull() for p in parts])
        k = parts[0] if len(parts) == 1 else F.concat_ws("|", *parts)
        return F.when(ok, k.cast("string"))

    if listcol:
        return F.transform(F.col(listcol), lambda lv: key_of(lv))
    return F.array(key_of(None))


def _all_keys(recs, rules, mode: str):
    """(rule, idx, is_new, grp, k) for every rule, from one scan of `recs` (a small plan, not a union)."""
    from pyspark.sql import functions as F

    per_rule = F.array(
        *[F.struct(F.lit(i).alias("rule"), _rule_key_array(r).alias("ks")) for i, r in enumerate(rules)]
    )
    bk = (
        recs.select("idx", "is_new", "grp", F.explode(per_rule).alias("x"))
        .select("idx", "is_new", "grp", F.col("x.rule").alias("rule"), F.explode("x.ks").alias("k"))
        .where(F.col("k").isNotNull())
        .distinct()
    )
    if mode == "incremental":  # only blocks holding a new record can yield pairs
        bk = bk.join(bk.where("is_new").select("rule", "k").distinct(), ["rule", "k"], "left_semi")
    return bk


def _by_rule(rules, value, default=None):
    """A column: value(rule) for the row's rule (None where value gives None)."""
    from pyspark.sql import functions as F

    expr = None
    for i, r in enumerate(rules):
        v = value(r)
        if v is None:
            continue
        expr = F.when(F.col("rule") == i, v) if expr is None else expr.when(F.col("rule") == i, v)
    if expr is None:
        return F.lit(default)
    return expr.otherwise(F.lit(default)) if default is not None else expr


def _refine(bk, rules, cap):
    """Split blocks over the cap by each rule's refine keys in turn; `_kJ`/`_bigJ` keep each stage."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    w = Window.partitionBy("rule", "k")
    stages = max((len(r.refine) for r in rules), default=0)
    for j in range(stages):
        val = _by_rule(rules, lambda r, j=j: _part(r.refine[j]).cast("string") if len(r.refine) > j else None)
        can = _by_rule(rules, lambda r, j=j: F.lit(True) if len(r.refine) > j else None, False)
        big = (F.count("*").over(w) > cap) & can
        bk = bk.select("*", big.alias(f"_big{j}"), F.col("k").alias(f"_k{j}"))
        refined = F.when(F.col(f"_big{j}"), F.concat(F.col("k"), F.lit("|"), F.coalesce(val, F.lit("~"))))
        bk = bk.select(
            *[refined.otherwise(F.col("k")).alias("k") if c == "k" else F.col(c) for c in bk.columns]
        )
    return bk, stages


def _mode_filter(mode: str):
    """The pair condition of the blocking mode, over the aliases `a` and `b` (None: every pair)."""
    from pyspark.sql import functions as F

    if mode == "incremental":
        return F.col("a.is_new") | F.col("b.is_new")
    if mode == "link":
        return F.col("a.grp") != F.col("b.grp")
    return None


def _joined(a, b, cond, mode: str):
    j = a.join(b, cond)
    extra = _mode_filter(mode)
    return j.where(extra) if extra is not None else j


def _small_pairs(bk, mode: str):
    """Every pair inside each block within the cap."""
    from pyspark.sql import functions as F

    s = bk.where(~F.col("big")).select("rule", "k", "idx", "is_new", "grp")
    cond = (
        (F.col("a.rule") == F.col("b.rule"))
        & (F.col("a.k") == F.col("b.k"))
        & (F.col("a.idx") < F.col("b.idx"))
    )
    j = _joined(s.alias("a"), s.alias("b"), cond, mode)
    return j.select(F.col("a.idx").alias("l"), F.col("b.idx").alias("r"), F.col("a.rule").alias("rule"))


def _window_pairs(bk, recs, sort_col: str, window: int, mode: str):
    """Pairs of the blocks still too big: each record with the next `window` in name order (an
    equi-join on rank + offset, so a giant block costs window x its size, not its square)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    big = bk.where(F.col("big")).select("rule", "k", "idx", "is_new", "grp")
    order = [F.col("idx").asc()]
    if sort_col:
        big = big.join(recs.select("idx", F.col(sort_col).alias("_s")), "idx")
        order = [F.col("_s").asc_nulls_last(), *order]  # DuckDB sorts NULLs last
    ranked = big.withColumn("rn", F.row_number().over(Window.partitionBy("rule", "k").orderBy(*order)))
    ahead = ranked.withColumn("_off", F.explode(F.sequence(F.lit(1), F.lit(window)))).withColumn(
        "rn2", F.col("rn") + F.col("_off")
    )
    cond = (
        (F.col("a.rule") == F.col("b.rule"))
        & (F.col("a.k") == F.col("b.k"))
        & (F.col("a.rn2") == F.col("b.rn"))
    )
    j = _joined(ahead.alias("a"), ranked.alias("b"), cond, mode).where(F.col("a.idx") != F.col("b.idx"))
    return j.select(
        F.least("a.idx", "b.idx").alias("l"),
        F.greatest("a.idx", "b.idx").alias("r"),
        F.col("a.rule").alias("rule"),
    )


def _keys(recs, settings: MatchSettings, opts: BlockingOptions):
    """All rules' keys after refinement, with the final block size `n` and `big`; and the stages."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    rules = settings.blocking_rules
    bk = _all_keys(recs, rules, opts.mode)
    refcols = sorted({k.column for r in rules for k in r.refine})
    if refcols:
        bk = bk.join(recs.select("idx", *refcols), "idx")
    cap = _by_rule(rules, lambda r: F.lit(r.max_block_size or opts.max_block_size))
    bk, stages = _refine(bk.select("*", cap.alias("cap")), rules, F.col("cap"))
    bk = bk.select("*", F.count("*").over(Window.partitionBy("rule", "k")).alias("n"))
    return bk.select("*", (F.col("n") > F.col("cap")).alias("big")), stages


def _block_stats(bk, stages: int) -> dict[int, dict]:
    """Per rule: blocks, largest block, capped blocks and refined blocks, as the DuckDB plan counts them."""
    from pyspark.sql import functions as F

    refined = [F.countDistinct(F.when(F.col(f"_big{j}"), F.col(f"_k{j}"))) for j in range(stages)]
    agg = bk.groupBy("rule").agg(
        F.countDistinct("k").alias("blocks"),
        F.max("n").alias("largest_block"),
        F.countDistinct(F.when(F.col("big"), F.col("k"))).alias("capped_blocks"),
        (reduce(lambda a, b: a + b, refined) if refined else F.lit(0)).alias("refined_blocks"),
    )
    return {r["rule"]: r.asDict() for r in agg.collect()}


def spark_block(recs, settings: MatchSettings, opts: BlockingOptions) -> tuple[pa.Table, list[dict]]:
    """Candidate pairs (l, r, rules, first_rule) of the Spark DataFrame `recs`, and the plan.

    `recs` holds the feature table the DuckDB engine builds (idx, is_new, grp, keys...); the pairs
    come back to the driver as Arrow (they are small: two ints and a bitmask each), the plan as
    `custinfo.match.blocking.block` returns it. Two Spark jobs: block statistics, then the pairs.
    """
    from pyspark.sql import functions as F

    if opts.mode not in MODES:
        raise ValueError(f"unknown blocking mode {opts.mode!r}")
    rules = settings.blocking_rules
    sort_col = (
        "name_letters"
        if "name_letters" in recs.columns
        else ("name_key" if "name_key" in recs.columns else "")
    )
    bk, stages = _keys(recs, settings, opts)
    bk = bk.cache()
    stats = _block_stats(bk, stages)
    kept = bk.where(F.col("n") > 1)
    cand = _small_pairs(kept, opts.mode)
    if any(st.get("capped_blocks") for st in stats.values()):
        cand = cand.unionByName(_window_pairs(kept, recs, sort_col, opts.window, opts.mode))
    # per pair: the rules that produced it, and how often each did (the plan counts them)
    counts = [
        F.sum(F.when(F.col("rule") == i, 1).otherwise(0)).cast("int").alias(f"_n{i}")
        for i in range(len(rules))
    ]
    pairs = cand.groupBy("l", "r").agg(
        F.expr("bit_or(shiftleft(CAST(1 AS BIGINT), rule))").alias("rules"),
        F.min("rule").alias("first_rule"),
        *counts,
    )
    tbl = pairs.select(
        F.col("l").cast("int"),
        F.col("r").cast("int"),
        "rules",
        F.col("first_rule").cast("short"),
        *[f"_n{i}" for i in range(len(rules))],
    ).toArrow()
    bk.unpersist()
    per_rule = {i: int(pc.sum(tbl.column(f"_n{i}")).as_py() or 0) for i in range(len(rules))}
    first = tbl.column("first_rule").to_numpy()
    new = {i: int((first == i).sum()) for i in range(len(rules))}
    pairs_tbl = tbl.select(["l", "r", "rules", "first_rule"])
    plan = []
    for i, rule in enumerate(rules):
        st = stats.get(i, {})
        plan.append(
            {
                "rule": rule.name,
                "on": [str(k) for k in rule.on],
                "refine": [str(k) for k in rule.refine],
                "refined_blocks": int(st.get("refined_blocks") or 0),
                "blocks": int(st.get("blocks") or 0),
                "largest_block": int(st.get("largest_block") or 0),
                "capped_blocks": int(st.get("capped_blocks") or 0),
                "pairs": int(per_rule.get(i, 0)),
                "new_pairs": int(new.get(i, 0)),
            }
        )
    return pairs_tbl, plan
