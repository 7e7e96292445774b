"""Consent and purpose: what each customer agreed to (or refused), when, and where it was said.

Sources are the normalized consent columns (``consent_email``, ``consent_marketing``, ``opt_out``:
'Y' / 'N' / empty, as configured under ``consent.columns``) and phrases in notes such as 退订,
不接受营销, 勿扰, unsubscribe or do not call (``consent.notes``). Each row gives at most one record
per purpose; inside one row a refusal beats a grant (a note saying 退订 next to a ticked box is
read as a refusal). Across rows the latest record wins; at the same instant, refusal wins again.

An ``opt_out`` of 'N' records nothing: not having opted out is not consent (PIPL asks for an
explicit opt-in for marketing). Customers with no record for a purpose get the configured default.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import pandas as pd

from .policy import PURPOSES, ConsentColumn, ConsentPolicy, SecurityPolicy

RECORD_COLUMNS = ["record_id", "purpose", "granted", "at", "channel", "source_file", "batch_id", "basis"]
DEFAULT_CONSENT = {"marketing": False, "email": True, "sms": True, "call": True}
_DEFAULT_POLICY = ConsentPolicy(
    columns=(ConsentColumn("consent_email", ("email",), "grant"),
             ConsentColumn("consent_marketing", ("marketing",), "grant"),
             ConsentColumn("opt_out", ("marketing", "email", "sms", "call"), "withdraw")),
    notes={"退订": ("marketing", "email", "sms"), "不接受营销": ("marketing",), "拒绝营销": ("marketing",),
           "勿扰": ("marketing", "call", "sms"), "不要打电话": ("call",), "拒接": ("call",),
           "unsubscribe": ("marketing", "email"), "do not call": ("call",), "do not email": ("email",),
           "do not contact": ("marketing", "email", "sms", "call")},
    default=DEFAULT_CONSENT,
)
_YES = frozenset({"y", "yes", "true", "1", "是", "同意", "接受", "已同意", "t"})
_NO = frozenset({"n", "no", "false", "0", "否", "不同意", "拒绝", "不接受", "f"})


def yes_no(value: object) -> bool | None:
    """'Y' / 'N' (and yes/no, 1/0, 是/否, true/false) -> True / False; anything else None."""
    if value is None or isinstance(value, float) and pd.isna(value):
        return None
    if isinstance(value, bool):
        return value
    v = str(value).strip().lower()
    return True if v in _YES else False if v in _NO else None


def consent_records(df: pd.DataFrame, channel: str | None, source_file: str | None,
                    batch_id: str | None, policy: SecurityPolicy | ConsentPolicy | None = None
                    ) -> pd.DataFrame:
    """Consent records of normalized rows: one per row and purpose that says something.

    ``df`` needs ``record_id``; a ``customer_id`` column is added after it only when ``df`` has
    one (so a join with membership does not meet an empty twin). ``at`` is the row's
    ``created_at`` when it parses, else ``ingested_at``, else now (UTC).
    """
    cp = _consent_policy(policy)
    df = df.reset_index(drop=True)  # positions, so a duplicated index cannot mix rows up
    parts = [_from_column(df, c) for c in cp.columns if c.column in df.columns]
    if "notes" in df.columns:
        parts += _from_notes(df["notes"], cp.notes)
    parts = [p for p in parts if not p.empty]
    if not parts:
        return _empty_records(with_customer="customer_id" in df.columns)
    long = pd.concat(parts)
    long["row"] = long.index
    grouped = long.groupby(["row", "purpose"], sort=True).agg(
        granted=("granted", "all"), basis=("basis", lambda b: ",".join(dict.fromkeys(b))))
    grouped = grouped.reset_index()
    rows = grouped["row"]
    at = _row_times(df.loc[rows.unique()])  # only rows that said something: most say nothing
    out = pd.DataFrame({
        "record_id": df.loc[rows, "record_id"].to_numpy() if "record_id" in df.columns else rows.to_numpy(),
        "purpose": grouped["purpose"].to_numpy(),
        "granted": grouped["granted"].astype(bool).to_numpy(),
        "at": at.loc[rows].to_numpy(),
        "channel": channel, "source_file": source_file, "batch_id": batch_id,
        "basis": grouped["basis"].to_numpy(),
    })
    out["at"] = pd.to_datetime(out["at"], utc=True)
    if "customer_id" in df.columns:
        out.insert(1, "customer_id", df.loc[rows, "customer_id"].to_numpy())
    return out


def _consent_policy(policy: SecurityPolicy | ConsentPolicy | None) -> ConsentPolicy:
    if policy is None:
        return _DEFAULT_POLICY
    return policy.consent if isinstance(policy, SecurityPolicy) else policy


def consent_columns(policy: SecurityPolicy | ConsentPolicy | None = None) -> set[str]:
    """The columns `consent_records` reads (a caller with wide rows passes just these)."""
    cp = _consent_policy(policy)
    return {"record_id", "customer_id", "created_at", "ingested_at", "notes"} | {c.column for c in cp.columns}


def _empty_records(with_customer: bool) -> pd.DataFrame:
    cols = RECORD_COLUMNS[:1] + ["customer_id"] * with_customer + RECORD_COLUMNS[1:]
    out = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    out["granted"] = out["granted"].astype(bool)
    out["at"] = pd.to_datetime(out["at"], utc=True)
    return out


def _row_times(df: pd.DataFrame) -> pd.Series:
    now = pd.Timestamp(dt.datetime.now(dt.timezone.utc))
    at = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    for col in ("created_at", "ingested_at"):
        if col in df.columns:
            values = df[col].astype(object)
            distinct = pd.unique(values.dropna())  # a batch has one ingested_at: parsed once, not per row
            if not len(distinct):
                continue
            parsed = pd.to_datetime(pd.Series(distinct, dtype=object), errors="coerce", utc=True,
                                    format="mixed")
            by_value = pd.Series(parsed.to_numpy(), index=pd.Index(distinct, dtype=object))
            at = at.fillna(pd.Series(by_value.reindex(values).to_numpy(), index=df.index))
    return at.fillna(now)


def _from_column(df: pd.DataFrame, spec: ConsentColumn) -> pd.DataFrame:
    col = df[spec.column]
    said = col.map({v: yes_no(v) for v in pd.unique(col.dropna())})  # per distinct value, not per row
    said = said[said.notna()]
    if spec.means == "withdraw":
        said = said[said.astype(bool)]  # 'N' = not opted out, which is not a grant
        granted = pd.Series(False, index=said.index)
    else:
        granted = said.astype(bool)
    return _expand(granted, spec.purposes, f"column:{spec.column}")


def _from_notes(notes: pd.Series, phrases: dict[str, Sequence[str]] | object) -> list[pd.DataFrame]:
    text = notes.astype("string").str.lower()
    parts = []
    for phrase, purposes in dict(phrases).items():  # type: ignore[call-overload]
        hit = text.str.contains(phrase.lower(), regex=False).fillna(False).astype(bool)
        if hit.any():
            parts.append(_expand(pd.Series(False, index=hit[hit].index), tuple(purposes), f"notes:{phrase}"))
    return parts


def _expand(granted: pd.Series, purposes: Iterable[str], basis: str) -> pd.DataFrame:
    frames = [pd.DataFrame({"purpose": p, "granted": granted.astype(bool), "basis": basis},
                           index=granted.index) for p in purposes]
    return pd.concat(frames) if frames else pd.DataFrame(columns=["purpose", "granted", "basis"])


def latest_consent(consents: pd.DataFrame, key: str = "customer_id") -> pd.DataFrame:
    """The record that counts per ``key`` and purpose: latest ``at``; at a tie, the refusal."""
    if consents.empty:
        return consents.iloc[0:0]
    c = consents.dropna(subset=[key]).copy()
    c["_at"] = pd.to_datetime(c["at"], utc=True)
    c = c.sort_values([key, "purpose", "_at", "granted"], ascending=[True, True, True, False],
                      kind="mergesort")
    return c.groupby([key, "purpose"], sort=False).tail(1).drop(columns="_at")


def has_consent(consents: pd.DataFrame, customer_ids: Iterable[str] | pd.Series,
                purpose: str | Sequence[str], *, default: bool | None = None,
                policy: SecurityPolicy | ConsentPolicy | None = None,
                key: str = "customer_id") -> pd.Series:
    """Boolean Series indexed by customer id: may we use this customer's data for ``purpose``?

    Several purposes (e.g. ``["marketing", "email"]``) must all be consented. Without a record,
    ``default`` if given, else the policy's ``consent.default`` (marketing: False).
    """
    ids = pd.Index(pd.unique(pd.Series(list(customer_ids), dtype=object)))
    wanted = [purpose] if isinstance(purpose, str) else list(purpose)
    for p in wanted:
        if p not in PURPOSES:
            raise ValueError(f"unknown purpose '{p}' (use one of: {', '.join(PURPOSES)})")
    cp = _consent_policy(policy)
    latest = latest_consent(consents, key) if not consents.empty else consents
    result = pd.Series(True, index=ids, dtype=bool)
    for p in wanted:
        fallback = default if default is not None else bool(cp.default.get(p, False))
        said = pd.Series(dtype=bool)
        if not latest.empty:
            rows = latest[latest["purpose"] == p]
            said = pd.Series(rows["granted"].astype(bool).to_numpy(), index=rows[key].to_numpy())
        result &= said.reindex(ids).fillna(fallback).astype(bool)
    result.index.name = key
    return result
