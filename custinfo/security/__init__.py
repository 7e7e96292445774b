"""Protecting customer data as the seeds ask: sensitivity levels, roles and masking, consent,
a tamper-evident audit trail, erasure tombstones and owner-only files.

Pure library: the store and the CLI call into it; nothing here prints.
"""
from __future__ import annotations

from .audit import AuditLog, VerifyResult
from .consent import consent_records, has_consent, latest_consent
from .masking import MaskReport, mask_frame, mask_value
from .minimize import MinimizeResult, apply_allowlist, minimize_for_channel
from .perms import secure_mkdir, secure_open, secure_tree
from .policy import LEVELS, PURPOSES, Role, SecurityPolicy, load_security, parse_duration, policy_from_dict
from .roles import PermissionDeniedError, check_unmask, resolve_role
from .sensitivity import Finding, find_secrets, is_bank_card, is_valid_cn_id, redact_secrets, scan_frame
from .tombstone import Tombstones, load_salt, tombstone_keys

__all__ = [
    "AuditLog", "VerifyResult", "consent_records", "has_consent", "latest_consent", "MaskReport",
    "mask_frame", "mask_value", "MinimizeResult", "apply_allowlist", "minimize_for_channel",
    "secure_mkdir", "secure_open", "secure_tree", "LEVELS", "PURPOSES",
    "Role", "SecurityPolicy", "load_security", "parse_duration", "policy_from_dict",
    "PermissionDeniedError", "check_unmask", "resolve_role", "Finding", "find_secrets",
    "is_bank_card", "is_valid_cn_id", "redact_secrets", "scan_frame", "Tombstones", "load_salt",
    "tombstone_keys",
]
