"""`custinfo ingest`: files -> normalized records -> matched against the store -> one atomic commit."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ..config import Config, config_dir, load_config
from ..memory import release_memory
from ..merge.fold import fold, in_set, unchanged_customers
from ..store.store import Store, utcnow
from ..store.tables import TABLES
from .existing import ForMatching, customer_sizes, for_matching, touched_records
from .prefetch import StoredRecords
from .prepare import PreparedFile, chunk_workers, prepare_file, spool_stdin

Progress = Callable[[str, int, int], None]


@dataclass
class FileOutcome:
    file: str
    status: str  # ingested | skipped (same content already ingested) | dry-run
    sha256: str
    rows: int = 0
    records: int = 0
    quarantined: int = 0
    skipped_forgotten: int = 0
    sheets: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    channel: str | None = None
    dropped_columns: list[str] = field(default_factory=list)


@dataclass
class IngestResult:
    batch_id: str | None
    channel: str
    files: list[FileOutcome]
    records: int = 0
    quarantined: int = 0
    new_customers: int = 0
    joined_existing: int = 0
    merges: int = 0
    dry_run: bool = False
    store_version: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def ingest(paths: list[str | Path], *, store: Store | str | Path | None = None, channel: str | None = None,
           config_file: str | Path | None = None, force: bool = False, dry_run: bool = False,
           encoding: str | None = None, progress: Progress | None = None, engine: str = "local",
           spark_master: str | None = None) -> IngestResult:
    """Ingest export files into the store as one atomic commit.

    Every file is read and validated before the store is touched: one bad file stops the whole
    command with nothing written. Files whose content was ingested before are skipped unless
    `force`. `engine="spark"` normalizes, blocks and scores on Spark (custinfo/engines/spark).
    """
    if engine != "local":
        from ..engines import engine_context

        with engine_context(engine, spark_master):
            return ingest(paths, store=store, channel=channel, config_file=config_file, force=force,
                          dry_run=dry_run, encoding=encoding, progress=progress)
    store = store if isinstance(store, Store) else Store(store)
    configs = {}
    for p in paths:
        ch = channel or infer_channel(p)
        if ch not in configs:
            configs[ch] = load_config(config_file, ch if ch != "default" else None)
            configs[ch].channel = ch
    config = configs[channel or infer_channel(paths[0])] if paths else load_config(config_file, channel)
    for c in configs.values():  # one trust table for a batch that mixes channels
        config.trust = {**config.trust, **c.trust}
    policy = _security_policy()
    ahead = None if dry_run else StoredRecords(store, _read_for_matching)  # overlaps preparing the files
    try:
        prepared = _prepare_all(paths, configs, channel, encoding, progress, policy)
    except BaseException:
        if ahead is not None:
            ahead.wait()
        raise
    release_memory()  # what reading and normalizing freed, before matching allocates its own
    if dry_run:
        return _dry_run_result(prepared, config)
    with store.transaction(command="ingest") as txn:
        seen = set(store.frame("batches", manifest=txn.base, columns=["file_sha256"])["file_sha256"])
        outcomes, todo = [], []
        for p in prepared:
            if p.sha256 in seen and not force:
                outcomes.append(FileOutcome(p.name, "skipped", p.sha256, p.rows))
            else:
                todo.append(p)
                seen.add(p.sha256)
        if not todo:
            return IngestResult(None, config.channel, outcomes, store_version=txn.base["version"])
        result = _commit(store, txn, todo, config, progress, policy, ahead)
        result.files = outcomes + result.files
        return result


def infer_channel(path: str | Path) -> str:
    """The channel of a file when --channel is not given: the longest channel config whose name
    starts the file name (web_form_2026-11.csv -> web_form), else `default`."""
    stem = Path(str(path)).stem.lower()
    names = [p.stem for p in config_dir().glob("*.yaml") if p.stem not in ("defaults", "match", "security")]
    hits = [n for n in names if stem.startswith(n.lower())]
    return max(hits, key=len) if hits else "default"


def _security_policy():
    from ..security import load_security
    return load_security(config_dir() / "security.yaml")


def _prepare_all(paths, configs: dict[str, Config], channel, encoding, progress, policy) -> list[PreparedFile]:
    # large files are mapped and normalized by worker processes, which end before matching starts
    with chunk_workers():
        return _prepare_each(paths, configs, channel, encoding, progress, policy)


def _prepare_each(paths, configs: dict[str, Config], channel, encoding, progress, policy) -> list[PreparedFile]:
    prepared = []
    for i, p in enumerate(paths):
        config = configs[channel or infer_channel(p)]
        allowed = policy.allowed_fields(config.channel)
        if progress:
            progress("read", i, len(paths))
        if str(p) == "-":
            tmp = spool_stdin()
            try:
                prepared.append(prepare_file(tmp, config, encoding=encoding, display_name="stdin",
                                             allowed=allowed))
            finally:
                os.unlink(tmp)
        else:
            prepared.append(prepare_file(p, config, encoding=encoding, allowed=allowed))
    return prepared


def _dry_run_result(prepared: list[PreparedFile], config: Config) -> IngestResult:
    files = [FileOutcome(p.name, "dry-run", p.sha256, p.rows, len(p.records), len(p.quarantine),
                         sheets=p.sheets, warnings=p.warnings) for p in prepared]
    return IngestResult(None, config.channel, files, sum(f.records for f in files),
                        sum(f.quarantined for f in files), dry_run=True)


def _commit(store: Store, txn, todo: list[PreparedFile], config: Config, progress, policy,
            ahead: StoredRecords | None = None) -> IngestResult:
    now = utcnow()
    batch_no = txn.next_id("batch")
    batch_id = f"B{batch_no:06d}"
    new = pd.concat([p.records for p in todo], ignore_index=True)  # Arrow-backed: chunks shared, not copied
    from .ids import record_ids

    new.insert(0, "record_id", record_ids(batch_no, len(new)))
    new["batch_id"], new["ingested_at"] = batch_id, now
    new["file_sha256"] = [p.sha256 for p in todo for _ in range(len(p.records))]
    new, forgotten = _drop_forgotten(store, new)
    outcomes = [FileOutcome(p.name, "ingested", p.sha256, p.rows, len(p.records) - forgotten.get(p.sha256, 0),
                            len(p.quarantine), forgotten.get(p.sha256, 0), sheets=p.sheets, warnings=p.warnings,
                            channel=p.channel, dropped_columns=p.dropped_columns) for p in todo]
    quarantine = pd.concat([p.quarantine for p in todo], ignore_index=True)
    quarantine["batch_id"] = batch_id
    n_new, n_quarantined = len(new), len(quarantine)
    # The records, their consents and the quarantine are written now (nothing is visible before the
    # manifest), so their raw/extra JSON and free text - most of the bytes - are not held in memory
    # through matching and folding; the prepared files' frames share those buffers and go too.
    txn.append("records", new)
    txn.append("consents", _consents(new, batch_id, policy))
    txn.append("quarantine", quarantine)
    del quarantine
    release_memory()  # the Arrow copies the writes made
    for p in todo:
        p.records = p.records.iloc[:0]
    narrow = new.drop(columns=[c for c in _NOT_FOR_MATCHING if c in new.columns])
    del new
    if progress:
        progress("match", 0, 1)
    res = _match_and_fold(store, txn, narrow, config, now, batch_id, ahead) if len(narrow) else None
    del narrow
    batches = pd.DataFrame([{"batch_id": batch_id, "file": o.file, "file_sha256": o.sha256,
                             "channel": o.channel, "sheets": ",".join(s for s in o.sheets if s),
                             "rows": o.rows, "records": o.records, "quarantined": o.quarantined,
                             "skipped_forgotten": o.skipped_forgotten,
                             "dropped_columns": ",".join(o.dropped_columns) or None,
                             "started_at": now, "committed_at": utcnow(),
                             "command": "ingest"} for o in outcomes])
    if progress:
        progress("write", 0, 1)
    if res is not None:
        txn.append("history", res.history)
        txn.append("redirects", res.redirects)
        txn.append("review_pairs", res.review)
        # Only the rows of the customers this batch touched: fold saw no others (see _match_and_fold);
        # both are log tables, so these rows are appended, not merged into a rewritten table.
        txn.upsert("membership", res.membership, key="record_id")
        txn.upsert("customers", res.customers, key="customer_id")
    txn.append("batches", batches)
    manifest = txn.commit({"batch_id": batch_id, "records": n_new})
    stats = res.stats if res is not None else {"new_customers": 0, "joined_existing": 0, "merges": 0}
    return IngestResult(batch_id, config.channel, outcomes, n_new, n_quarantined,
                        stats["new_customers"], stats["joined_existing"], stats["merges"],
                        store_version=manifest["version"])


def _match_and_fold(store: Store, txn, new: pd.DataFrame, config: Config, now: str, batch_id: str,
                    ahead: StoredRecords | None = None):
    """Match the new records against the store and fold them into customers."""
    from ..merge.assign import assign

    stored = _existing_records(store, txn.base, ahead=ahead)
    existing = stored.records
    decisions = store.frame("decisions", manifest=txn.base)
    assignment = assign(new, existing, decisions, config, store.path, keys=stored.keys)
    _store_keys(txn, assignment)
    # customers re-clustered exactly as they were are left out: fold would change nothing of theirs
    assignment = assignment.without(unchanged_customers(assignment, lambda c: customer_sizes(existing, c)))
    release_memory()
    # Fold sees only the customers the batch joins (and their records): the rest of membership and
    # customers stays as it is, and the commit upserts just these rows instead of rewriting both tables.
    touched = assignment.customers
    customers = txn.rows("customers", "customer_id", touched)
    # every column fold reads, of the touched customers' records only (matching read a few of all)
    existing = touched_records(store, txn.base, existing, touched, _stored_columns())
    # their rows of membership come from these records, which carry their customer_id (records and
    # membership of the same version), as python objects like Store.rows gives them (an empty frame
    # of Arrow text, no customer touched, could pass its type to the new members in fold's concat)
    membership = pd.DataFrame({c: existing[c].to_numpy(dtype=object) for c in TABLES["membership"]})
    res = fold(new, existing, membership, customers, assignment, next_id=lambda n: txn.next_id("customer", n),
               now=now, batch_id=batch_id, trust=config.trust, survivorship=config.survivorship)
    release_memory()
    res.review = assignment.review.assign(batch_id=batch_id, at=now) if assignment.review is not None \
        else pd.DataFrame()
    # Only rows that differ from the stored ones are written (appended to the log tables): a touched
    # customer whose records and golden record stay as they were costs nothing.
    res.customers = _rows_where(res.customers, in_set(res.customers["customer_id"], res.changed_customers))
    before = res.membership["record_id"].map(membership.set_index("record_id")["customer_id"])
    res.membership = _rows_where(res.membership, res.membership["customer_id"] != before)
    return res


def _store_keys(txn, assignment) -> None:
    """Write the match keys of the new records (or of all: match/keycache.py), then let them go: a
    first ingest's million keys (~65 MB) were held through folding, where its memory peaks."""
    keys, assignment.keys = assignment.keys, None
    if keys is not None:
        txn.put("match_keys", keys.table, whole=keys.whole, fingerprints=keys.fingerprints)


def _rows_where(df: pd.DataFrame, mask) -> pd.DataFrame:
    """df[mask], without copying every column when every row is kept (a first ingest writes them all)."""
    keep = np.asarray(mask, dtype=bool)
    return df if keep.all() else df[keep]


def _drop_forgotten(store: Store, new: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Rows holding an identifier of a forgotten person are not ingested again (counted per file)."""
    from ..security import Tombstones

    tomb = Tombstones(store.path)
    if not tomb.path.exists():
        return new, {}
    hit = tomb.matches(new)
    counts = new.loc[hit, "file_sha256"].value_counts().to_dict()
    return new[~hit].reset_index(drop=True), counts


def _consents(new: pd.DataFrame, batch_id: str, policy) -> pd.DataFrame:
    """Consent records (opt-ins, opt-outs, 退订 in notes) of the new records, with time and source."""
    from ..security.consent import consent_columns, consent_records

    read = consent_columns(policy)
    # Only the rows with a consent value or a note: a row without one says nothing (most rows; a
    # batch without such columns has none, and grouping its rows cost ~0.1 s per 10k records).
    said = new[[c for c in new.columns if c in read - _CONSENT_CONTEXT]].notna().any(axis=1)
    # only the columns consents are read from: a group of all ~35 columns copied 400 MB at 1M rows
    keep = [c for c in new.columns if c in read | {"channel", "source_file"}]
    new = new.loc[said.to_numpy(dtype=bool), keep]
    if not len(new):
        return pd.DataFrame()
    parts = [consent_records(g, ch, f, batch_id, policy) for (ch, f), g in new.groupby(["channel", "source_file"])]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame()
    out = pd.concat(parts, ignore_index=True)
    out["at"] = out["at"].astype(str)
    out["granted"] = out["granted"].map({True: "true", False: "false"})
    return out


# Of the columns consent_records reads, those that only identify or date a row (the others say something)
_CONSENT_CONTEXT = {"record_id", "customer_id", "created_at", "ingested_at"}

# Columns of stored records that neither matching nor survivorship reads: the JSON of raw and
# unmapped values and free text are most of the table's bytes, so they stay on disk.
_NOT_FOR_MATCHING = {"raw", "extra", "issues", "notes", "file_sha256", "batch_id", "source_sheet"}


def _stored_columns() -> list[str]:
    return [c for c in TABLES["records"] if c not in _NOT_FOR_MATCHING]


def _existing_records(store: Store, manifest: dict, ahead: StoredRecords | None = None) -> ForMatching:
    """The stored records with their customer_id, in the columns matching reads, as Arrow-backed text
    in the table's order, and their cached match keys (see existing.py): those read ahead while the
    files were prepared when they are of `manifest`, else read now."""
    got = ahead.result(manifest) if ahead is not None else None
    return got if got is not None else _read_for_matching(store, manifest)


def _read_for_matching(store: Store, manifest: dict) -> ForMatching:
    from ..merge.assign import matching_columns  # the matching engine, imported late: it is heavy

    return for_matching(store, manifest, matching_columns())
