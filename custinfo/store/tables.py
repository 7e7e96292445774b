"""The store's tables and their columns. Every table is a Delta Lake table under the store dir."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..normalize_columns import NORMALIZED_COLUMNS

RECORD_META = ["record_id", "channel", "source_file", "source_sheet", "source_row", "batch_id",
               "ingested_at", "file_sha256"]
# records: append-only, one row per usable source row; normalized values beside raw ones.
RECORD_COLUMNS = RECORD_META + NORMALIZED_COLUMNS + ["raw", "extra"]
# membership: which customer each record belongs to (rewritten when customers merge or split).
MEMBERSHIP_COLUMNS = ["record_id", "customer_id"]
# customers: one golden record per customer, with per-field provenance (JSON) and conflicts.
GOLDEN_FIELDS = ["name", "gender", "birth_date", "phone", "phones", "email", "emails", "company",
                 "title", "country", "province", "city", "district", "address", "postcode",
                 "national_id", "other_id", "qq", "wechat", "customer_ref"]
CUSTOMER_COLUMNS = (["customer_id", "status", "merged_into"] + GOLDEN_FIELDS
                    + ["name_key", "name_pinyin", "company_key", "n_records", "channels",
                       "first_seen", "last_seen", "updated_at", "conflicts"]
                    + [f"src_{f}" for f in GOLDEN_FIELDS])  # provenance: record_id per golden value
BATCH_COLUMNS = ["batch_id", "file", "file_sha256", "channel", "sheets", "rows", "records",
                 "quarantined", "skipped_forgotten", "dropped_columns", "started_at", "committed_at",
                 "command"]
QUARANTINE_COLUMNS = ["batch_id", "channel", "source_file", "source_sheet", "source_row", "reason",
                      "raw"]
HISTORY_COLUMNS = ["customer_id", "field", "old_value", "new_value", "changed_at", "batch_id",
                   "record_id", "channel", "source_file", "source_row", "reason"]
REDIRECT_COLUMNS = ["old_id", "new_id", "at", "batch_id", "reason"]
DECISION_COLUMNS = ["a", "b", "kind", "at", "by", "note"]
# review_pairs: uncertain pairs the matcher met, for `custinfo review export`.
REVIEW_COLUMNS = ["record_id_l", "record_id_r", "match_probability", "batch_id", "at"]
# match_keys: a cache of the dearest blocking keys of every record (custinfo/match/keycache.py; the
# fingerprints of how they were made are in the manifest); forget and purge remove its rows too.
MATCH_KEY_COLUMNS = ["record_id", "name_letters", "name_initials", "address_tail"]
CONSENT_COLUMNS = ["record_id", "purpose", "granted", "at", "channel", "source_file", "batch_id", "basis"]

TABLES = {
    "records": RECORD_COLUMNS,
    "membership": MEMBERSHIP_COLUMNS,
    "customers": CUSTOMER_COLUMNS,
    "batches": BATCH_COLUMNS,
    "quarantine": QUARANTINE_COLUMNS,
    "history": HISTORY_COLUMNS,
    "redirects": REDIRECT_COLUMNS,
    "decisions": DECISION_COLUMNS,
    "consents": CONSENT_COLUMNS,
    "review_pairs": REVIEW_COLUMNS,
    "match_keys": MATCH_KEY_COLUMNS,
}
INT_COLUMNS = {"source_row", "rows", "records", "quarantined", "n_records", "skipped_forgotten"}
# Text columns held in memory: pandas 3's default "str" dtype, spelled out so that pandas 2.x gives it
# too (there `astype("str")` makes python strings and the text 'None'); missing = NaN.
ARROW_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)
