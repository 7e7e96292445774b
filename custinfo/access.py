"""Who is asking, what they may see, and the audit trail of what they did.

Every CLI command that reads or changes personal data goes through an `Access`: it resolves the
role (--role, $CUSTINFO_ROLE, else the policy's least privileged default), masks frames and
records for that role, refuses --unmask to a role that may not, and appends one entry to the
store's tamper-evident audit log (who, role, command, which customers / how many records).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from .security import AuditLog, load_security, mask_frame, resolve_role
from .security.roles import check_unmask


class Access:
    """The role of one command and its audit log."""

    def __init__(self, store_path: str | Path | None, role: str | None = None, unmask: bool = False,
                 command: str = ""):
        self.policy = load_security(_security_path())
        self.role = resolve_role(self.policy, role)
        self.unmask = unmask
        self.command = command
        self.store_path = Path(store_path) if store_path else None
        if unmask:
            check_unmask(self.role, self.policy)

    def mask(self, df: pd.DataFrame) -> pd.DataFrame:
        """The frame as this role may see it."""
        if df is None or not len(df.columns):
            return df
        masked, _ = mask_frame(df, self.policy, self.role, unmask=self.unmask)
        return masked

    def may_see(self, field: str) -> bool:
        """Whether this role sees values of `field` unmasked."""
        return self.role.sees(self.policy.level_of(field), field, unmask=self.unmask)

    def mask_columns(self, df: pd.DataFrame, field_of: dict[str, str]) -> pd.DataFrame:
        """Mask columns named differently from their field (e.g. `name_a` -> name)."""
        out = df.copy()
        for col, fld in field_of.items():
            if col in out.columns:
                out[col] = self.mask(pd.DataFrame({fld: out[col].astype(object)}))[fld].values
        return out

    def mask_long(self, df: pd.DataFrame, field_col: str, value_cols: list[str]) -> pd.DataFrame:
        """Mask a long table (one row per field, e.g. history) by the field each row names."""
        if not len(df):
            return df
        out = df.copy()
        for fld, idx in out.groupby(field_col).groups.items():
            for col in value_cols:
                part = pd.DataFrame({fld: out.loc[idx, col].astype(object)})
                out.loc[idx, col] = self.mask(part)[fld].values
        return out

    def mask_record(self, rec: dict[str, Any]) -> dict[str, Any]:
        if not rec:
            return rec
        simple = {k: v for k, v in rec.items() if not isinstance(v, (dict, list))}
        out = self.mask(pd.DataFrame([simple])).iloc[0].to_dict()
        return {**rec, **{k: (None if v is None or v != v else v) for k, v in out.items()}}

    def audit(self, *, customers: Iterable[str] | int | None = None, records: int | None = None,
              **details) -> None:
        """Append the command to the store's audit log (no-op without a store directory)."""
        if self.store_path is None or not self.store_path.exists():
            return
        details = {k: v for k, v in details.items() if v is not None}
        if self.unmask:
            details["unmask"] = True
        AuditLog(self.store_path).append(self.command, self.role.name, customers=customers, records=records,
                                         details=json.loads(json.dumps(details, default=str)))


def _security_path() -> Path:
    from .config import config_dir
    return config_dir() / "security.yaml"
