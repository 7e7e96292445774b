"""Blocking: which record pairs are worth comparing, as DuckDB joins on declared keys.

Each rule pairs records that share every key of its `on` list (a list column such as `phones_list`
pairs records sharing any one of its values). A block larger than `max_block_size` (a common name,
a company switchboard) is not dropped: it is split by the rule's `refine` keys in turn, and a block
still too large is compared in a sorted neighbourhood (each record with its `window` nearest by name)
so recall degrades gracefully instead of pairs exploding. The plan reports what each rule produced.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from .features import LIST_COLUMNS, drop_tables
from .settings import BlockingRule, MatchSettings

MODES = ("dedupe", "incremental", "link")


@dataclass(frozen=True)
class BlockingOptions:
    mode: str = "dedupe"  # dedupe: all pairs; incremental: pairs with a new record; link: across sources
    max_block_size: int = 100
    window: int = 10


def _pair_filter(mode: str) -> str:
    if mode == "incremental":
        return " AND (a.is_new OR b.is_new)"
    if mode == "link":
        return " AND a.grp <> b.grp"
    return ""


def _key_table(con: duckdb.DuckDBPyConnection, rule: BlockingRule, mode: str) -> None:
    """Table bk(idx, is_new, grp, k): each record's key for this rule (one row per list value).

    `k` is a 64-bit hash of the key text, and a refined key the hash of (key, refine value): blocks
    are grouped, joined and counted on integers, not on texts that grow with each refine step
    (resolve of a 10k batch against a million records: 15.9 -> 14.2 CPU s, the same clusters).
    Two different keys of one rule share a block only if their hashes collide (odds ~3e-8 for a
    rule with a million distinct keys): as if they were the same key."""
    parts, listcol = [], None
    for key in rule.on:
        if key.column in LIST_COLUMNS:
            listcol = key.column
            parts.append(f"left(lv, {key.prefix})" if key.prefix else "lv")
        else:
            parts.append(key.sql("recs"))
    notnull = " AND ".join(f"{p} IS NOT NULL" for p in parts)
    keyexpr = parts[0] if len(parts) == 1 else "concat_ws('|', " + ", ".join(parts) + ")"
    # a list column is unnested in the select list (fast), not as a lateral join
    source = (
        f'(SELECT *, unnest("{listcol}") AS lv FROM recs WHERE "{listcol}" IS NOT NULL) recs'
        if listcol
        else "recs"
    )
    # a record has one key unless a list holds a value twice: DISTINCT (a hash of every row) only then
    distinct = "DISTINCT " if listcol else ""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE bk AS
        SELECT {distinct}recs.idx, recs.is_new, recs.grp, hash(CAST({keyexpr} AS VARCHAR)) AS k
        FROM {source} WHERE {notnull}""")
    if mode == "incremental":  # only blocks holding a new record can yield pairs
        con.execute("""CREATE OR REPLACE TEMP TABLE bk AS
            SELECT * FROM bk WHERE k IN (SELECT k FROM bk WHERE is_new)""")


def _refine(con: duckdb.DuckDBPyConnection, rule: BlockingRule, cap: int, table: str = "bk") -> int:
    """Split blocks of `table` (default bk) over `cap` by the refine keys in turn; return how many
    blocks were split."""
    refined = 0
    for key in rule.refine:
        # the big blocks are found once per step: counted, then keyed again from the same table
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE bkbig AS SELECT k FROM {table} GROUP BY k HAVING count(*) > {cap}"
        )
        big = con.execute("SELECT count(*) FROM bkbig").fetchone()[0]
        if not big:
            break
        refined += big
        # only the records of big blocks are keyed again (and read from recs); the rest keep their key
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT idx, is_new, grp, k FROM {table} WHERE k NOT IN (SELECT k FROM bkbig)
            UNION ALL
            SELECT bk.idx, bk.is_new, bk.grp,
                   hash(bk.k, coalesce(CAST({key.sql("recs")} AS VARCHAR), '~')) AS k
            FROM {table} bk JOIN bkbig ON bk.k = bkbig.k JOIN recs ON recs.idx = bk.idx""")
    con.execute("DROP TABLE IF EXISTS bkbig")
    return refined


def _rule_pairs(con: duckdb.DuckDBPyConnection, rule_id: int, opts: BlockingOptions, sort_col: str) -> dict:
    """Append this rule's pairs to `cand`; small blocks fully, giant blocks by sorted neighbourhood."""
    cap, flt = opts.max_block_size, _pair_filter(opts.mode)
    con.execute("CREATE OR REPLACE TEMP TABLE bks AS SELECT k, count(*) AS n FROM bk GROUP BY k")
    stats = con.execute(f"""SELECT count(*), coalesce(max(n), 0), count(*) FILTER (WHERE n > {cap})
        FROM bks""").fetchone()
    con.execute(f"""CREATE OR REPLACE TEMP TABLE bk AS
        SELECT bk.*, n > {cap} AS big FROM bk JOIN (SELECT k, n FROM bks WHERE n > 1) s USING (k)""")
    con.execute("DROP TABLE bks")
    before = con.execute("SELECT count(*) FROM cand").fetchone()[0]
    con.execute(f"""INSERT INTO cand SELECT a.idx, b.idx, {rule_id} FROM bk a JOIN bk b
        ON a.k = b.k AND a.idx < b.idx WHERE NOT a.big AND NOT b.big{flt}""")
    if stats[2]:
        order = f'recs."{sort_col}", ' if sort_col else ""
        con.execute(f"""CREATE OR REPLACE TEMP TABLE bkw AS
            SELECT bk.idx, bk.is_new, bk.grp, bk.k,
                   row_number() OVER (PARTITION BY bk.k ORDER BY {order}bk.idx) AS rn
            FROM bk JOIN recs ON recs.idx = bk.idx WHERE bk.big""")
        con.execute(f"""INSERT INTO cand SELECT least(a.idx, b.idx), greatest(a.idx, b.idx), {rule_id}
            FROM bkw a JOIN bkw b ON a.k = b.k AND b.rn > a.rn AND b.rn <= a.rn + {opts.window}
            WHERE a.idx <> b.idx{flt}""")
    after = con.execute("SELECT count(*) FROM cand").fetchone()[0]
    return {
        "blocks": int(stats[0]),
        "largest_block": int(stats[1]),
        "capped_blocks": int(stats[2]),
        "pairs": int(after - before),
    }


def block(con: duckdb.DuckDBPyConnection, settings: MatchSettings, opts: BlockingOptions) -> list[dict]:
    """Create table `pairs(l, r, rules)` from table `recs`; return the plan, one dict per rule."""
    if opts.mode not in MODES:
        raise ValueError(f"unknown blocking mode {opts.mode!r}")
    con.execute("CREATE OR REPLACE TEMP TABLE cand (l INTEGER, r INTEGER, rule SMALLINT)")
    cols = {r[0] for r in con.execute("DESCRIBE recs").fetchall()}
    sort_col = "name_letters" if "name_letters" in cols else ("name_key" if "name_key" in cols else "")
    plan = []
    for i, rule in enumerate(settings.blocking_rules):
        _key_table(con, rule, opts.mode)
        ropts = BlockingOptions(opts.mode, rule.max_block_size or opts.max_block_size, opts.window)
        refined = _refine(con, rule, ropts.max_block_size)
        info = _rule_pairs(con, i, ropts, sort_col)
        plan.append(
            {
                "rule": rule.name,
                "on": [str(k) for k in rule.on],
                "refine": [str(k) for k in rule.refine],
                "refined_blocks": refined,
                **info,
            }
        )
    _collect_pairs(con, plan)
    con.execute("DROP TABLE IF EXISTS bk")
    con.execute("DROP TABLE IF EXISTS bkw")
    return plan


def _collect_pairs(con: duckdb.DuckDBPyConnection, plan: list[dict]) -> None:
    """Table `pairs` from `cand`: one row per pair with the rules that produced it; counts new pairs."""
    con.execute("""CREATE OR REPLACE TEMP TABLE pairs AS
        SELECT l, r, CAST(bit_or(CAST(1 AS BIGINT) << rule) AS BIGINT) AS rules, min(rule) AS first_rule
        FROM cand GROUP BY l, r""")
    new = dict(con.execute("SELECT first_rule, count(*) FROM pairs GROUP BY 1").fetchall())
    for i, p in enumerate(plan):
        p["new_pairs"] = int(new.get(i, 0))
    con.execute("DROP TABLE cand")


# -- blocks of every record, kept to pair any seed set (Matcher.resolve blocks several times) ---------


def block_keys(con: duckdb.DuckDBPyConnection, settings: MatchSettings, window: int) -> None:
    """Tables `bkc_<i>(idx, k, n, rn)` from `recs`: per rule, every record's block (after refining) as
    blocking all records at once makes it (`k`: a number per block), blocks of one record left out;
    `n` is its size; `rn` orders a block too big
    for all its pairs (the sorted neighbourhood). `pairs_within` then pairs any seed set with a join on
    these keys instead of keying every record again. All four columns are 32-bit (the tables of a
    million records hold ~2.5M rows, kept while DuckDB works near its memory limit)."""
    cols = {r[0] for r in con.execute("DESCRIBE recs").fetchall()}
    sort_col = "name_letters" if "name_letters" in cols else ("name_key" if "name_key" in cols else "")
    order = f'recs."{sort_col}", ' if sort_col else ""
    refined = []
    for i, rule in enumerate(settings.blocking_rules):
        cap = rule.max_block_size or settings.max_block_size
        _key_table(con, rule, "dedupe")
        # Blocks within the cap keep their key and count; only the records of bigger blocks (a few
        # percent) are refined, in a table of their own: refining rewrote and counted every key of a
        # million records once per refine key. The two parts are numbered apart (bks, then s), so a
        # refined block never joins an unrefined one.
        # Each block is numbered (`k` of bkc_<i> is that number): pairs_within joins on integers.
        con.execute("""CREATE OR REPLACE TEMP TABLE bks AS
            SELECT k, count(*) AS n, row_number() OVER () AS b FROM bk GROUP BY k HAVING count(*) > 1""")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE bkr AS
            SELECT bk.idx, bk.is_new, bk.grp, bk.k FROM bk JOIN bks USING (k) WHERE bks.n > {cap}""")
        refined.append(_refine(con, rule, cap, "bkr"))
        con.execute(f"""CREATE OR REPLACE TEMP TABLE bkc_{i} AS
            WITH s AS (SELECT k, count(*) AS n, (SELECT count(*) FROM bks) + row_number() OVER () AS b
                       FROM bkr GROUP BY k HAVING count(*) > 1),
                 b AS (SELECT bkr.idx, s.b, s.n FROM bkr JOIN s USING (k))
            SELECT bk.idx, CAST(bks.b AS INTEGER) AS k, CAST(bks.n AS INTEGER) AS n,
                   CAST(NULL AS INTEGER) AS rn
            FROM bk JOIN bks USING (k) WHERE bks.n <= {cap}
            UNION ALL
            SELECT idx, CAST(b AS INTEGER) AS k, CAST(n AS INTEGER), CAST(NULL AS INTEGER) AS rn
            FROM b WHERE n <= {cap}
            UNION ALL
            SELECT b.idx, CAST(b.b AS INTEGER), CAST(b.n AS INTEGER),
                   CAST(row_number() OVER (PARTITION BY b.b ORDER BY {order}b.idx) AS INTEGER)
            FROM b JOIN recs ON recs.idx = b.idx WHERE b.n > {cap}""")
    drop_tables(con, "bk", "bks", "bkr")
    rows = ", ".join(f"({i}, {n}, {int(window)})" for i, n in enumerate(refined)) or f"(-1, 0, {int(window)})"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE bkc_done AS SELECT * FROM (VALUES {rows}) t(rule, refined, win)"
    )


def pairs_within(con: duckdb.DuckDBPyConnection, settings: MatchSettings, seed: str) -> list[dict]:
    """Table `pairs(l, r, rules, first_rule)`: the pairs of blocking every record (`block_keys`) that
    touch a record of table `seed(idx)`; the same pairs as `block` in incremental mode with `is_new`
    marking the seed, found by joining only the blocks that hold a seed record. The plan counts the
    blocks (of two or more records) holding a seed record."""
    done = dict(con.execute("SELECT rule, refined FROM bkc_done").fetchall())
    window = con.execute("SELECT any_value(win) FROM bkc_done").fetchone()[0]
    con.execute("CREATE OR REPLACE TEMP TABLE cand (l INTEGER, r INTEGER, rule SMALLINT)")
    plan = []
    for i, rule in enumerate(settings.blocking_rules):
        cap = rule.max_block_size or settings.max_block_size
        con.execute(f"""CREATE OR REPLACE TEMP TABLE bsel AS
            WITH ks AS (SELECT DISTINCT k FROM bkc_{i} WHERE idx IN (SELECT idx FROM {seed}))
            SELECT c.*, c.idx IN (SELECT idx FROM {seed}) AS s
            FROM bkc_{i} c WHERE c.k IN (SELECT k FROM ks)""")
        stats = con.execute(f"""SELECT count(*), coalesce(max(n), 0), count(*) FILTER (WHERE n > {cap})
            FROM (SELECT k, any_value(n) AS n FROM bsel GROUP BY k)""").fetchone()
        # an INSERT returns how many rows it added: cand (millions of rows) is not counted twice per rule
        added = con.execute(f"""INSERT INTO cand SELECT a.idx, b.idx, {i} FROM bsel a JOIN bsel b
            ON a.k = b.k AND a.idx < b.idx WHERE a.n <= {cap} AND (a.s OR b.s)""").fetchall()[0][0]
        if stats[2]:
            added += con.execute(f"""INSERT INTO cand SELECT least(a.idx, b.idx), greatest(a.idx, b.idx), {i}
                FROM bsel a JOIN bsel b ON a.k = b.k AND b.rn > a.rn AND b.rn <= a.rn + {int(window)}
                WHERE a.n > {cap} AND a.idx <> b.idx AND (a.s OR b.s)""").fetchall()[0][0]
        plan.append(
            {
                "rule": rule.name,
                "on": [str(k) for k in rule.on],
                "refine": [str(k) for k in rule.refine],
                "refined_blocks": int(done.get(i, 0)),
                "blocks": int(stats[0]),
                "largest_block": int(stats[1]),
                "capped_blocks": int(stats[2]),
                "pairs": int(added),
            }
        )
    _collect_pairs(con, plan)
    con.execute("DROP TABLE IF EXISTS bsel")
    return plan
