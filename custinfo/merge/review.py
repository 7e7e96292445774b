"""The review round-trip: uncertain pairs out to Excel, people's decisions back in.

`export_review` writes one row per open uncertain pair, both records' fields side by side, cells
that differ highlighted, and a `decision` drop-down (same / different / skip). `import_review`
applies the filled-in decisions as must-link / cannot-link in one commit. A pair already decided
the same way is left alone, so importing a file twice changes nothing the second time; a row whose
records no longer exist is reported, with its row number, and skipped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..store.store import Store
from .assign import decision_pairs
from .decisions import _Session

FIELDS = [
    "name",
    "phone",
    "phones",
    "email",
    "company",
    "title",
    "city",
    "address",
    "birth_date",
    "gender",
    "channel",
    "source_file",
    "source_row",
]
DECISIONS = {"same": "must_link", "different": "cannot_link", "skip": None, "": None}
SHEET = "review"


def open_pairs(store: Store) -> pd.DataFrame:
    """Uncertain pairs whose records still exist, in different or the same customer, not yet decided."""
    m = store.manifest()
    pairs = store.frame("review_pairs", manifest=m).drop_duplicates(
        ["record_id_l", "record_id_r"], keep="last"
    )
    members = store.frame("membership", manifest=m)
    cid = dict(zip(members["record_id"], members["customer_id"], strict=True))
    pairs = pairs[pairs["record_id_l"].isin(cid) & pairs["record_id_r"].isin(cid)]
    must, cannot = decision_pairs(store.frame("decisions", manifest=m))
    decided = {tuple(sorted(p)) for p in must + cannot}
    keys = [tuple(sorted(k)) for k in zip(pairs["record_id_l"], pairs["record_id_r"], strict=True)]
    pairs = pairs[[k not in decided for k in keys]]
    pairs = pairs.assign(customer_l=pairs["record_id_l"].map(cid), customer_r=pairs["record_id_r"].map(cid))
    return pairs.sort_values("match_probability", ascending=False).reset_index(drop=True)


def review_frame(store: Store) -> pd.DataFrame:
    """The review sheet's rows: ids, probability, decision (empty), fields of A and B side by side."""
    pairs = open_pairs(store)
    recs = store.frame("records").set_index("record_id")[[f for f in FIELDS]]
    a = recs.reindex(pairs["record_id_l"]).reset_index(drop=True)
    b = recs.reindex(pairs["record_id_r"]).reset_index(drop=True)
    out = pd.DataFrame(
        {
            "record_a": pairs["record_id_l"],
            "record_b": pairs["record_id_r"],
            "same_customer_now": pairs["customer_l"] == pairs["customer_r"],
            "match_probability": pairs["match_probability"].astype(float).round(3),
            "decision": "",
        }
    )
    for f in FIELDS:
        out[f"{f}_a"], out[f"{f}_b"] = a[f].values, b[f].values
    return out


def export_review(store: Store, path: str | Path) -> int:
    """Write the review workbook; return the number of pairs."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    from ..report.writers import is_formula_risk, neutralize_formula  # the guard every export uses

    df = review_frame(store)
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(list(df.columns))
    for c in ws[1]:
        c.font = Font(bold=True)
    diff = PatternFill("solid", fgColor="FFF2CC")
    for row in df.itertuples(index=False):
        ws.append(
            [
                (neutralize_formula(v) if is_formula_risk(v) else v)
                if isinstance(v, str)
                else (None if v is None or v != v else v)
                for v in row
            ]
        )
    dec_col = df.columns.get_loc("decision") + 1
    dv = DataValidation(
        type="list",
        formula1='"same,different,skip"',
        allow_blank=True,
        error="choose same, different or skip",
        showErrorMessage=True,
    )
    ws.add_data_validation(dv)
    if len(df):
        letter = ws.cell(row=1, column=dec_col).column_letter
        dv.add(f"{letter}2:{letter}{len(df) + 1}")
    for f in FIELDS:
        ca = df.columns.get_loc(f"{f}_a") + 1
        for r in range(2, len(df) + 2):
            va, vb = ws.cell(r, ca).value, ws.cell(r, ca + 1).value
            if va is not None and vb is not None and str(va) != str(vb):
                ws.cell(r, ca).fill = diff
                ws.cell(r, ca + 1).fill = diff
    ws.freeze_panes = "F2"
    for col in ws.columns:
        ws.column_dimensions[col[0].column_letter].width = 16
    _save_private(wb, Path(path))
    return len(df)


def _save_private(wb, path: Path) -> None:
    import os

    old = os.umask(0o077)
    try:
        wb.save(path)
    finally:
        os.umask(old)


@dataclass
class ReviewImport:
    applied: list[dict] = field(default_factory=list)
    unchanged: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def read_decisions(path: str | Path) -> pd.DataFrame:
    """The filled-in sheet as a frame; a clear error if it is not a review workbook."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError) as exc:
        raise InputError(
            f"not a readable xlsx ({exc})",
            file=str(path),
            hint="pass the workbook written by `custinfo review export`",
        ) from None
    if SHEET not in wb.sheetnames:
        raise InputError(
            f"no sheet named '{SHEET}'",
            file=str(path),
            hint="pass the workbook written by `custinfo review export`",
        )
    rows = list(wb[SHEET].iter_rows(values_only=True))
    if not rows or not {"record_a", "record_b", "decision"} <= set(rows[0]):
        raise InputError(
            "the review sheet has no record_a / record_b / decision columns",
            file=str(path),
            row=1,
            hint="do not rename or delete the header row",
        )
    df = pd.DataFrame(rows[1:], columns=rows[0])
    df.index = range(2, len(df) + 2)  # the row numbers Excel shows
    return df


def import_review(store: Store, path: str | Path) -> ReviewImport:
    """Apply the decisions of a filled-in review workbook in one commit."""
    df = read_decisions(path)
    out = ReviewImport()
    with store.transaction("review import") as txn:
        ses = _Session(store, txn)
        known = set(ses.members["record_id"])
        must, cannot = decision_pairs(ses.decisions)
        done = {tuple(sorted(p)): "must_link" for p in must} | {
            tuple(sorted(p)): "cannot_link" for p in cannot
        }
        for rownum, r in df.iterrows():
            word = str(r["decision"] or "").strip().lower()
            if word not in DECISIONS:
                out.problems.append(
                    f"{Path(path).name} row {rownum}: decision '{r['decision']}' is not same, "
                    "different or skip; row ignored"
                )
                continue
            kind = DECISIONS[word]
            a, b = str(r["record_a"] or ""), str(r["record_b"] or "")
            if kind is None:
                out.skipped += 1
                continue
            if a not in known or b not in known:
                out.problems.append(
                    f"{Path(path).name} row {rownum}: record {a if a not in known else b} no longer "
                    "exists (forgotten or the sheet is from another store); row ignored"
                )
                continue
            if done.get(tuple(sorted((a, b)))) == kind:
                out.unchanged += 1
                continue
            msg = ses.link(a, b, "review") if kind == "must_link" else ses.unlink(a, b, "review")
            done[tuple(sorted((a, b)))] = kind
            out.applied.append({"row": rownum, "record_a": a, "record_b": b, "decision": word, "result": msg})
        if out.applied:
            ses.commit("review")
    return out
