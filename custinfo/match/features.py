"""Per-record features the comparisons and blocking keys read, built once in DuckDB.

Input columns come from `custinfo.normalize.normalize_frame`. Derived columns add what matching needs:
order-free name keys (`name_letters`: the sorted letters of the pinyin, so 张伟 / Zhang Wei / Zhangwei /
Wei Zhang agree), phone and email lists, and *shared* values: a phone, email or address used by several
distinct names is told apart from a private one: used by one name (private), by two (a couple's line, or
one person whose name was mistyped: `*_pair`), or by `shared_min_names` or more (a company switchboard, a
family landline, an office: `*_shared`), so that agreeing on it counts for as much as it says. Term
frequencies (`tf_<col>`) feed the term-frequency adjustment.
"""

from __future__ import annotations

import re

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

BASE_COLUMNS = (
    "name",
    "name_key",
    "name_pinyin",
    "gender",
    "birth_date",
    "phone",
    "phones",
    "email",
    "emails",
    "company",
    "company_key",
    "title",
    "title_key",
    "country",
    "province",
    "city",
    "district",
    "address",
    "address_key",
    "postcode",
    "national_id",
    "other_id",
    "qq",
    "wechat",
    "customer_ref",
)

_ID_WEIGHTS = "[7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]"

# A value given by the caller instead of made here (keycache.py: keys kept in the store) comes in
# column PRE<key> of the input, on the records where PRE_OK is true.
PRE = "pre_"
PRE_OK = "pre_ok"

# Derived from input columns only: name -> (SQL expression, input columns it reads).
_STAGE1: dict[str, tuple[str, tuple[str, ...]]] = {
    "phones_list": (
        "CASE WHEN phones IS NOT NULL THEN string_split(phones, ',') WHEN phone IS NOT NULL THEN [phone] END",
        ("phones", "phone"),
    ),
    "emails_list": (
        "CASE WHEN emails IS NOT NULL THEN string_split(lower(emails), ',')"
        " WHEN email IS NOT NULL THEN [lower(email)] END",
        ("emails", "email"),
    ),
    "name_letters": (
        "nullif(array_to_string(list_sort(string_split(replace(v, ' ', ''), '')), ''), '')",
        ("name_pinyin", "name_key"),
    ),
    "name_initials": (
        "nullif(array_to_string(list_sort(list_transform(list_filter(string_split(v, ' '),"
        " lambda t: t <> ''), lambda t: t[1])), ''), '')",
        ("name_pinyin",),
    ),
    "name_len": ("length(name_key)", ("name_key",)),
    "email_local": ("nullif(split_part(lower(email), '@', 1), '')", ("email",)),
    "address_tail": (
        "nullif(regexp_replace(v, '{admin}', ''), '')",
        ("address_key", "province", "city", "district"),
    ),
    "address_words": (
        # an address with no separator is one word: the (costly) split is skipped for it
        r"CASE WHEN regexp_matches(lower(v), '[^\pL\pN]') AND len({words}) >= 2"
        " THEN array_to_string(list_sort({words}), ' ') END".replace(
            "{words}",
            r"list_distinct(list_filter(regexp_split_to_array(lower(v), '[^\pL\pN]+'), lambda t: t <> ''))",
        ),
        ("address",),
    ),
    "address_digits": (
        "nullif(trim(regexp_replace(address_key, '[^0-9]+', ' ', 'g')), '')",
        ("address_key",),
    ),
    "national_id_valid": (
        "CASE WHEN regexp_matches(national_id, '^[0-9]{17}[0-9Xx]$') THEN substr('10X98765432',"
        " CAST(1 + list_sum(list_transform(range(17),"
        f" lambda i: TRY_CAST(substr(national_id, i + 1, 1) AS INTEGER) * {_ID_WEIGHTS}[i + 1]))"
        " % 11 AS BIGINT), 1) = upper(substr(national_id, 18, 1)) ELSE FALSE END",
        ("national_id",),
    ),
}
# Stage-1 columns computed once per distinct value `v` of this expression (names repeat a lot, and
# sorting letters is the dearest step), then joined back.
_PER_VALUE = {
    "name_letters": "coalesce(name_pinyin, name_key)",
    "name_initials": "name_pinyin",
    "address_tail": "address_key",
    "address_words": "address",
}
# Derived from stage-1 columns.
_STAGE2: dict[str, tuple[str, tuple[str, ...]]] = {
    "mobiles_list": (
        "nullif(list_filter(phones_list, lambda p: regexp_matches(p, '{mobile}')), [])",
        ("phones_list",),
    ),
}
# Derived from statistics over the whole set of records: value -> how many distinct names use it.
_SHARED = {
    "phones_private": "phones_list",
    "phones_pair": "phones_list",
    "phones_shared": "phones_list",
    "mobiles_private": "phones_list",
    "mobiles_pair": "phones_list",
    "emails_private": "emails_list",
    "emails_pair": "emails_list",
    "emails_shared": "emails_list",
    "address_key_names": "address_key",
    "address_key_shared": "address_key",
}
LIST_COLUMNS = frozenset(
    {
        "phones_list",
        "emails_list",
        "mobiles_list",
        "phones_private",
        "phones_pair",
        "phones_shared",
        "mobiles_private",
        "mobiles_pair",
        "emails_private",
        "emails_pair",
        "emails_shared",
    }
)
DERIVED_COLUMNS = tuple(_STAGE1) + tuple(_STAGE2) + tuple(_SHARED)


def all_columns() -> set[str]:
    """Every column a comparison level or blocking key may name."""
    return set(BASE_COLUMNS) | set(DERIVED_COLUMNS)


def needed_columns(columns: set[str]) -> tuple[list[str], list[str], list[str], list[str]]:
    """Split the columns settings read into (input, stage-1, stage-2, shared) with their dependencies."""
    shared = [c for c in _SHARED if c in columns]
    want = set(columns) | {_SHARED[c] for c in shared}
    if shared:
        want.add("name_letters")
    stage2 = [c for c in _STAGE2 if c in want]
    want |= {d for c in stage2 for d in _STAGE2[c][1]}
    stage1 = [c for c in _STAGE1 if c in want]
    base = {c for c in want if c in BASE_COLUMNS} | {d for c in stage1 for d in _STAGE1[c][1]}
    return sorted(base), stage1, stage2, shared


def frame_to_arrow(df: pd.DataFrame, columns: list[str]) -> dict[str, pa.Array]:
    """The given columns of `df` as Arrow string arrays (absent columns become all-null)."""
    out: dict[str, pa.Array] = {}
    n = len(df)
    for c in columns:
        if c not in df.columns:
            out[c] = pa.nulls(n, pa.string())
            continue
        s = df[c]
        try:
            arr = pa.Array.from_pandas(s, type=pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            mask = s.isna().to_numpy()
            arr = pa.array(np.where(mask, None, s.astype(str).to_numpy(dtype=object)), type=pa.string())
        out[c] = arr
    return out


def build_records(
    con: duckdb.DuckDBPyConnection,
    src: str,
    columns: set[str],
    tf_columns: set[str],
    *,
    mobile_pattern: str,
    shared_min_names: int,
    tf_source: str | None = None,
    stats_source: str | None = None,
) -> None:
    """Create table `recs` (idx, is_new, grp, features...) from table/view `src` (idx, is_new, grp, inputs).

    When `src` holds only some of the records (incremental matching), `tf_source` (input columns of all
    records) is where term frequencies are counted, and `stats_source` (a `recs` table of all records
    with phones_list, emails_list, address_key, name_letters) where names per phone, email and address
    are counted, for the values these records hold.
    """
    base, stage1, stage2, shared = needed_columns(columns | tf_columns)
    cleaned = ", ".join(f'nullif("{c}", \'\') AS "{c}"' for c in base)  # normalize_frame trimmed them
    s1 = "".join(f", {_STAGE1[c][0]} AS {c}" for c in stage1 if c not in _PER_VALUE)
    per_value = [c for c in stage1 if c in _PER_VALUE]
    admin = admin_prefix(con, src) if "address_tail" in per_value else ""
    # keys cached in the store (keycache.py) come as pre_<key>: made here only for the other records
    given = {r[0] for r in con.sql(f"DESCRIBE {src}").fetchall()} if per_value else set()
    pre = [c for c in per_value if f"{PRE}{c}" in given]
    cleaned += "".join(f", {PRE}{c}" for c in pre) + (f", {PRE_OK}" if pre else "")
    pv_ctes = "".join(
        f", pv_{c} AS (SELECT v, {_STAGE1[c][0].format(admin=admin)} AS {c} FROM (SELECT DISTINCT "
        f"{_PER_VALUE[c]} AS v "
        f"FROM c WHERE {_PER_VALUE[c]} IS NOT NULL{f' AND NOT {PRE_OK}' if c in pre else ''}))"
        for c in per_value
    )
    s1 += "".join(
        f", CASE WHEN c.{PRE_OK} THEN c.{PRE}{c} ELSE pv_{c}.{c} END AS {c}" if c in pre else f", pv_{c}.{c}"
        for c in per_value
    )
    pv_joins = "".join(f" LEFT JOIN pv_{c} ON {_PER_VALUE[c]} = pv_{c}.v" for c in per_value)
    pat = mobile_pattern.replace("'", "''")
    s2 = "".join(f", {_STAGE2[c][0].format(mobile=pat)} AS {c}" for c in stage2)
    sep = ", " if cleaned else ""
    drop = f" EXCLUDE ({', '.join([*(f'{PRE}{c}' for c in pre), PRE_OK])})" if pre else ""
    body = f"""WITH c AS MATERIALIZED (SELECT idx, is_new, grp{sep}{cleaned} FROM {src}){pv_ctes},
             s1 AS (SELECT c.*{drop}{s1} FROM c{pv_joins})
        SELECT *{s2} FROM s1"""
    # keep only what comparisons and blocking read: intermediate inputs (phones, province...) go
    keep = [c for c in base + stage1 + stage2 if c in columns | tf_columns | {"name_letters", "name_key"}]
    if not shared and not tf_columns:  # nothing to join on: build `recs` at once, not through a copy
        sel = "".join(f', "{c}"' for c in keep)
        con.execute(f"CREATE OR REPLACE TEMP TABLE recs AS SELECT idx, is_new, grp{sel} FROM ({body})")
        return
    con.execute(f"CREATE OR REPLACE TEMP TABLE recs0 AS {body}")
    joins, cols = (
        _shared_tables(con, shared, mobile_pattern, shared_min_names, stats_source) if shared else ([], [])
    )
    for c in sorted(tf_columns):
        j, col = _tf_table(con, c, tf_source if tf_source and c in BASE_COLUMNS else "recs0")
        joins.append(j)
        cols.append(col)
    sel = "".join(f', recs0."{c}"' for c in keep) + "".join(f", {c}" for c in cols)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE recs AS SELECT recs0.idx, recs0.is_new, recs0.grp{sel} "
        f"FROM recs0 {' '.join(joins)}"
    )
    # the statistics tables are read by this join alone: dropped with recs0 so they hold no memory
    drop_tables(con, "recs0", "sh_phones", "sh_emails", "sh_addr", *(f"tf_{c}" for c in tf_columns))


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    q = "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?"
    return bool(con.execute(q, [name]).fetchone()[0])


def drop_tables(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """Tables no step reads any more: dropped at once, so that DuckDB's memory limit is spent on what
    is still to come (a 10k ingest into a million records spilled ~240 MB to disk holding them)."""
    for t in names:
        con.execute(f"DROP TABLE IF EXISTS {t}")


_KEY_PUNCT = re.compile(r"[\s\W_]+")  # what normalize's match_key (address_key) removes


def admin_prefix(con: duckdb.DuckDBPyConnection, src: str) -> str:
    """Regex for the leading province / city / district names of an address key (those in the data).

    Made once per connection, from the first records it keys: resolve keys every record, then builds
    the full features of a neighbourhood of them, whose address tails must strip the names of all the
    records, as featurizing them all at once does (the neighbourhood's own names missed a city that
    only other records name, and its three scans of the records came a second time)."""
    try:
        return con.execute("SELECT regex FROM admin_names_regex").fetchall()[0][0]
    except duckdb.CatalogException:
        regex = _admin_regex(con, src)
    con.execute("CREATE TEMP TABLE admin_names_regex AS SELECT ?::VARCHAR AS regex", [regex])
    return regex


def _admin_regex(con: duckdb.DuckDBPyConnection, src: str) -> str:
    cols = [
        c
        for c in ("province", "city", "district")
        if c in {r[0] for r in con.sql(f"DESCRIBE {src}").fetchall()}
    ]
    if not cols:
        return "^$"
    union = " UNION ".join(f"SELECT DISTINCT {c} AS x FROM {src}" for c in cols)
    names = [
        r[0]
        for r in con.sql(
            f"SELECT x FROM ({union}) WHERE x IS NOT NULL AND length(x) BETWEEN 2 AND 20"
            " ORDER BY x LIMIT 20000"
        ).fetchall()
    ]
    if not names:
        return "^$"
    # address_key is lower case without spaces or punctuation: `sandy bay` leads it as `sandybay`
    forms = set(names) | {k for k in (_KEY_PUNCT.sub("", n.lower()) for n in names) if len(k) >= 2}
    # longest first (a name is not cut short by a shorter one it starts with), then by text: the same
    # regex in every process (set order changes with python's hash seed, and keycache.py fingerprints it)
    alt = "|".join(re.escape(n) for n in sorted(forms, key=lambda n: (-len(n), n)))
    return ("^(?:" + alt + ")+").replace("'", "''")


def _shared_tables(
    con: duckdb.DuckDBPyConnection,
    shared: list[str],
    mobile_pattern: str,
    k: int,
    stats_source: str | None = None,
) -> tuple[list[str], list[str]]:
    """Split phone/email lists into private and shared values; count names per address."""
    stats = stats_source or "recs0"
    pat = mobile_pattern.replace("'", "''")
    joins, cols = [], []
    for lst, prefix in (("phones_list", "phones"), ("emails_list", "emails")):
        wanted = [c for c in shared if _SHARED[c] == lst]
        if not wanted:
            continue
        aggs = {
            f"{prefix}_private": "list(v) FILTER (WHERE n <= 1)",
            f"{prefix}_pair": f"list(v) FILTER (WHERE n > 1 AND n < {k})",
            f"{prefix}_shared": f"list(v) FILTER (WHERE n >= {k})",
            "mobiles_private": f"list(v) FILTER (WHERE n <= 1 AND regexp_matches(v, '{pat}'))",
            "mobiles_pair": f"list(v) FILTER (WHERE n > 1 AND n < {k} AND regexp_matches(v, '{pat}'))",
        }
        sel = ", ".join(f"CASE WHEN len({aggs[c]}) > 0 THEN {aggs[c]} END AS {c}" for c in wanted)
        limit = " AND v IN (SELECT v FROM x)" if stats_source else ""
        # counted on these records themselves: their values are unnested once, not twice
        every = (
            f"SELECT unnest({lst}) AS v, name_letters FROM {stats} WHERE {lst} IS NOT NULL"
            if stats_source
            else "SELECT v, name_letters FROM x"
        )
        con.execute(f"""CREATE OR REPLACE TEMP TABLE sh_{prefix} AS
            WITH x AS MATERIALIZED (SELECT idx, unnest({lst}) AS v, name_letters FROM recs0
                                    WHERE {lst} IS NOT NULL),
                 a AS ({every}),
                 nv AS (SELECT v, count(DISTINCT name_letters) AS n FROM a WHERE TRUE{limit} GROUP BY v)
            SELECT idx, {sel} FROM x JOIN nv USING (v) GROUP BY idx""")
        joins.append(f"LEFT JOIN sh_{prefix} USING (idx)")
        cols += wanted
    addr = [c for c in shared if _SHARED[c] == "address_key"]
    if addr:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE sh_addr AS
            SELECT address_key AS sh_addr_key, count(DISTINCT name_letters) AS address_key_names,
                   count(DISTINCT name_letters) >= {k} AS address_key_shared
            FROM {stats} WHERE address_key IS NOT NULL
            {"AND address_key IN (SELECT address_key FROM recs0)" if stats_source else ""}
            GROUP BY address_key""")
        joins.append("LEFT JOIN sh_addr ON recs0.address_key = sh_addr.sh_addr_key")
        cols += addr
    return joins, cols


TF_KEPT = "tf_every_"  # prefix of the term frequencies of every value, kept for the next features


def _tf_table(con: duckdb.DuckDBPyConnection, col: str, source: str = "recs0") -> tuple[str, str]:
    """tf_<col>: the share of records (with a value) holding this record's value, counted on `source`.

    Counted on another source (every record, for features of some: incremental matching), the
    frequencies of every value are kept (table TF_KEPT<col>, dropped with the keys) and joined as
    they are: a second set of features then counts nothing again (its ~0.25 s of four columns)."""
    table = f"tf_{col}" if source == "recs0" else f"{TF_KEPT}{col}"
    if not has_table(con, table):
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {table} AS
            WITH s AS (SELECT nullif("{col}", '') AS v FROM {source}),
                 t AS (SELECT v, count(*) AS n FROM s WHERE v IS NOT NULL GROUP BY 1)
            SELECT v AS tf_{col}_v, CAST(n / (SELECT count(v) FROM s) AS FLOAT) AS tf_{col} FROM t""")
    return f'LEFT JOIN {table} ON recs0."{col}" = {table}.tf_{col}_v', f"tf_{col}"
