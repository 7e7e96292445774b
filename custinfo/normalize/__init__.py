"""Normalizers: one module per field kind, and ``normalize_frame`` that applies them all.

Each field module has plain functions on one value (``normalize_phone(text, region="CN")``) that
never raise on any text and are idempotent on their own output.
"""
from .frame import ISSUE_CODES, OUTPUT_COLUMNS, NormalizeOptions, normalize_frame

__all__ = ["ISSUE_CODES", "OUTPUT_COLUMNS", "NormalizeOptions", "normalize_frame"]
