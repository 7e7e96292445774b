"""Tombstones: remember that a person was erased without remembering who they were.

After ``forget``, re-ingesting an old export that still holds the person must not silently bring
them back. The store keeps, per erased person, only keyed hashes of their identifiers:
``HMAC-SHA256(salt, kind + ':' + normalized value)``. The salt is random, local to the store
(``<store>/secret/salt``, 0600) and never printed, so the hashes cannot be reversed by hashing
every phone number in China (which a plain sha256 of an 11-digit number would allow).

Only strong identifiers (phone, email, national ID, other identity document such as a passport) are
matched; a name key may be stored beside them for a human looking at a near miss, but two people
share names too often to skip on that.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import StoreError
from .perms import secure_mkdir, secure_open

SALT_BYTES = 32
KINDS = ("phone", "email", "national_id", "other_id", "name")
MATCH_KINDS = ("phone", "email", "national_id", "other_id")
COLUMNS_BY_KIND = {"phone": ("phone", "phones", "mobile"), "email": ("email", "emails"),
                   "national_id": ("national_id",), "other_id": ("other_id",)}
_SPLIT = r"\s*[,;，；]\s*"
_NON_DIGIT = re.compile(r"\D")
_CN_MOBILE = re.compile(r"1[3-9]\d{9}")
_ID_SEPARATORS = re.compile(r"[\s-]")


def secret_dir(store_dir: str | os.PathLike[str]) -> Path:
    return Path(store_dir) / "secret"


def load_salt(store_dir: str | os.PathLike[str]) -> bytes:
    """The store's salt, created once (32 random bytes, file 0600 in a 0700 directory)."""
    d = secure_mkdir(secret_dir(store_dir))
    path = d / "salt"
    try:
        return _read_salt(path)
    except FileNotFoundError:
        pass
    tmp = d / f"salt.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    with secure_open(tmp, "xb") as fh:
        fh.write(secrets.token_bytes(SALT_BYTES))
        fh.flush()
        os.fsync(fh.fileno())
    try:
        os.link(tmp, path)  # atomic create-if-absent: a concurrent first use keeps one salt
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    return _read_salt(path)


def _read_salt(path: Path) -> bytes:
    data = path.read_bytes()
    if len(data) < 16:
        raise StoreError("the store's salt is damaged (too short)", file=str(path),
                         hint="restore secret/salt from a backup: without it tombstones cannot match")
    return data


def _nfkc(value: str) -> str:
    return value if value.isascii() else unicodedata.normalize("NFKC", value)


# -- normalization: the same person must give the same key whatever the export wrote ---------
def norm_phone(value: str) -> str | None:
    """Digits with country code, ``+8613800138000``; an 11-digit CN mobile gets 86 in front."""
    digits = _NON_DIGIT.sub("", _nfkc(value))
    if digits.startswith("00"):
        digits = digits[2:]
    if _CN_MOBILE.fullmatch(digits):
        digits = "86" + digits
    return "+" + digits if len(digits) >= 5 else None


def norm_email(value: str) -> str | None:
    v = _nfkc(value).strip().lower()
    return v if "@" in v else None


def norm_national_id(value: str) -> str | None:
    v = _ID_SEPARATORS.sub("", _nfkc(value)).upper()
    return v or None


def norm_other_id(value: str) -> str | None:
    """A passport or foreign number as other_id stores it (separators gone, upper case)."""
    from ..normalize.other_id import clean_other_id

    return clean_other_id(value)


def norm_name_key(value: str) -> str | None:
    v = _nfkc(value).strip().lower()
    return v or None


_NORMALIZERS = {"phone": norm_phone, "email": norm_email, "national_id": norm_national_id,
                "other_id": norm_other_id, "name": norm_name_key}


def norm_series(kind: str, s: pd.Series) -> pd.Series:
    """The ``norm_*`` function of ``kind`` over a Series, once per distinct value (None: no value).

    Deliberately the scalar function and not pandas string methods: Arrow's upper/lower differ
    from Python's on some letters (ß, İ), and a key must not depend on which path computed it.
    """
    fn = _NORMALIZERS[kind]
    values = s.dropna().astype(object)
    cache = {v: fn(v) for v in pd.unique(values.to_numpy()) if isinstance(v, str)}
    return values.map(cache).reindex(s.index).astype(object).where(lambda x: x.notna(), None)


class _Keyer:
    """HMAC-SHA256 keys ``kind:hex`` of normalized values.

    The HMAC is computed from pre-hashed inner and outer pads (RFC 2104, identical output to
    ``hmac.new``): one-shot ``hmac.digest`` re-initialises OpenSSL per call, ~4x slower on 1M values.
    """

    def __init__(self, salt: bytes):
        key = hashlib.sha256(salt).digest() if len(salt) > 64 else salt
        key = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def key_normalized(self, kind: str, norm: str) -> str:
        return f"{kind}:{self.digests(kind, [norm])[0].hex()}"

    def digests(self, kind: str, norms: list[str]) -> list[bytes]:
        """Raw HMAC digests of many normalized values of one kind (the hot loop of matching)."""
        base = self._inner.copy()
        base.update(f"{kind}:".encode())
        new_inner, new_outer = base.copy, self._outer.copy
        out = []
        for v in norms:
            inner = new_inner()
            inner.update(v.encode())
            outer = new_outer()
            outer.update(inner.digest())
            out.append(outer.digest())
        return out

    def key(self, kind: str, value: str | None) -> str | None:
        norm = _NORMALIZERS[kind](value) if isinstance(value, str) else None
        return self.key_normalized(kind, norm) if norm else None


def _values(v: str | Iterable[str] | None) -> list[str]:
    if v is None:
        return []
    items = [v] if isinstance(v, str) else list(v)
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out += [p for p in re.split(_SPLIT, item) if p.strip()]
    return out


def tombstone_keys(phone: str | Iterable[str] | None = None, email: str | Iterable[str] | None = None,
                   national_id: str | Iterable[str] | None = None, name_key: str | None = None, *,
                   salt: bytes | None = None, other_id: str | Iterable[str] | None = None) -> list[str]:
    """Keys ``kind:hex`` for a person's identifiers (comma-joined lists split), without duplicates.

    ``salt`` is the store's (:func:`load_salt`); or call ``Tombstones(store).keys_for(...)``.
    There is deliberately no unsalted fallback: a plain hash of a phone number can be reversed.
    """
    if not salt:
        raise TypeError("tombstone_keys needs the store's salt: tombstone_keys(..., salt=load_salt(store)) "
                        "or Tombstones(store).keys_for(...)")
    keyer = _Keyer(salt)
    keys: list[str] = []
    for kind, given in (("phone", phone), ("email", email), ("national_id", national_id),
                        ("other_id", other_id), ("name", name_key)):
        for v in _values(given):
            k = keyer.key(kind, v)
            if k and k not in keys:
                keys.append(k)
    return keys


class Tombstones:
    """The tombstones of one store: ``<store>/secret/tombstones.jsonl`` (0600), keys only."""

    def __init__(self, store_dir: str | os.PathLike[str]):
        self.store_dir = Path(store_dir)
        self.path = secret_dir(store_dir) / "tombstones.jsonl"
        self._salt: bytes | None = None

    @property
    def salt(self) -> bytes:
        if self._salt is None:
            self._salt = load_salt(self.store_dir)
        return self._salt

    def keys_for(self, *, phone: str | Iterable[str] | None = None,
                 email: str | Iterable[str] | None = None,
                 national_id: str | Iterable[str] | None = None, name_key: str | None = None,
                 other_id: str | Iterable[str] | None = None) -> list[str]:
        """:func:`tombstone_keys` with this store's salt."""
        return tombstone_keys(phone, email, national_id, name_key, salt=self.salt, other_id=other_id)

    def add(self, keys: Iterable[str], reason: str, customer_id: str | None = None) -> int:
        """Record the keys of an erased person; returns how many keys were new.

        ``reason`` is stored as written: say *why* (e.g. "erasure request #42"), never *who*.
        """
        known = self.all_keys()
        new = [k for k in dict.fromkeys(keys) if k not in known]
        secure_mkdir(self.path.parent)
        at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        with secure_open(self.path, "a") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                for k in new:
                    fh.write(json.dumps({"key": k, "kind": k.split(":", 1)[0], "reason": reason,
                                         "customer_id": customer_id, "at": at}, ensure_ascii=False) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return len(new)

    def entries(self) -> list[dict[str, Any]]:
        """Every tombstone entry: key, kind, reason, customer_id, at."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        out = []
        for line in text.splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if isinstance(e, dict) and isinstance(e.get("key"), str):
                out.append(e)
        return out

    def all_keys(self) -> dict[str, str | None]:
        """key -> customer_id it was recorded for."""
        return {e["key"]: e.get("customer_id") for e in self.entries()}

    def match_frame(self, df: pd.DataFrame, kinds: Iterable[str] = MATCH_KINDS) -> pd.DataFrame:
        """One row per df row that hits a tombstone: ``row`` (index label), ``kind``, ``customer_id``."""
        known = self.all_keys()
        cols = ["row", "kind", "customer_id"]
        if not known or df.empty:
            return pd.DataFrame(columns=cols)
        keyer = _Keyer(self.salt)
        hits = []
        for kind in kinds:
            for col in COLUMNS_BY_KIND.get(kind, ()):
                if col in df.columns:
                    hits.append(_column_hits(df[col], kind, keyer, known))
        if not hits:
            return pd.DataFrame(columns=cols)
        found = pd.concat(hits, ignore_index=True)
        return found.drop_duplicates("row", keep="first").reset_index(drop=True)

    def matches(self, df: pd.DataFrame, kinds: Iterable[str] = MATCH_KINDS) -> pd.Series:
        """Boolean Series aligned with ``df``: True for rows holding an erased person's identifier."""
        found = self.match_frame(df, kinds)
        return pd.Series(df.index.isin(found["row"]), index=df.index, dtype=bool)


def _column_hits(s: pd.Series, kind: str, keyer: _Keyer, known: dict[str, str | None]) -> pd.DataFrame:
    """Rows of ``s`` whose (comma-split) values hash to a known key; HMAC once per distinct value."""
    text = s.dropna().astype("string")
    if text.str.contains(r"[,;，；]", regex=True).fillna(False).any():
        text = text.str.split(_SPLIT, regex=True).explode()
    norm = norm_series(kind, text).dropna()
    if norm.empty:
        return pd.DataFrame(columns=["row", "kind", "customer_id"])
    uniq = norm.drop_duplicates().to_numpy(dtype=object).tolist()  # arrow iteration is slow
    wanted = {bytes.fromhex(k.split(":", 1)[1]): cid for k, cid in known.items()
              if k.startswith(kind + ":")}
    if not wanted:
        return pd.DataFrame(columns=["row", "kind", "customer_id"])
    hit_values = {v: wanted[d] for v, d in zip(uniq, keyer.digests(kind, uniq), strict=True) if d in wanted}
    hit = norm[norm.isin(list(hit_values))]
    return pd.DataFrame({"row": hit.index, "kind": kind, "customer_id": [hit_values[v] for v in hit]})
