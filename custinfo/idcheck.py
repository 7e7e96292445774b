"""The Chinese resident ID (身份证号) check: ISO 7064 mod 11-2 check character and province codes.

One place for the arithmetic, shared by the normalizer (custinfo.normalize.national_id), the
sensitive-data scanner (custinfo.security.sensitivity) and the matcher's SQL features. Standard
library only, so importing it costs nothing.
"""

from __future__ import annotations

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
PROVINCES = frozenset({"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35",
                       "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54",
                       "61", "62", "63", "64", "65", "71", "81", "82", "83", "91"})


def check_char(first17: str) -> str:
    """ISO 7064 mod 11-2 check character of the first 17 digits."""
    return CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]
