"""Person names: a cleaned display name plus two matching keys.

- ``name``: as written, cleaned: NFKC, no zero-width characters, no spaces inside a Chinese name,
  honorifics dropped (先生, 女士, Mr., Dr., ...), English ``Last, First`` turned into ``First Last``
  and all-upper/all-lower latin words title-cased.
- ``name_key``: traditional -> simplified (OpenCC t2s), lower case, no spaces or punctuation.
- ``name_pinyin``: toneless pinyin syllables (surname readings for the first character, e.g. 曾 zeng,
  单 shan) or lowercase latin words, sorted and joined by one space, so that 张伟, 張偉, ``Zhang Wei``,
  ``Wei Zhang`` and ``Zhangwei`` all give ``wei zhang``.
"""
from __future__ import annotations

import importlib.util
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .text import clean_text, drop_cjk_spaces, has_cjk, is_cjk_char, match_key, t2s, t2s_many

# Readings of characters used as surnames that differ from their everyday reading.
SURNAME_READINGS: dict[str, str] = {
    "曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "区": "ou", "查": "zha", "朴": "piao",
    "翟": "zhai", "覃": "qin", "盖": "ge", "繁": "po", "缪": "miao", "种": "chong", "秘": "bi",
    "冼": "xian", "柏": "bai", "褚": "chu", "员": "yun", "逄": "pang", "长孙": "zhang sun",
    "尉迟": "yu chi", "万俟": "mo qi", "单于": "chan yu", "乐": "yue", "折": "she",
}

_GENDERED_SUFFIX = {"先生": "M", "女士": "F", "小姐": "F", "太太": "F", "夫人": "F"}
_LATIN_TITLES = {"mr": "M", "mister": "M", "ms": "F", "mrs": "F", "miss": "F", "madam": "F",
                 "dr": None, "prof": None, "mx": None, "sir": "M"}
_TITLE_WORDS = "|".join(sorted(_LATIN_TITLES, key=len, reverse=True))
_LATIN_PREFIX = re.compile(rf"^(?:({_TITLE_WORDS})(?:\.\s*|\s+))+", re.I)
# after the name only titles that are not also surnames or given names (Miss, Sir, Madam can be)
_LATIN_SUFFIX = re.compile(r"[\s,]+(mrs|mr|ms|mx|dr|prof)\.?$", re.I)
_ONLY_TITLES = re.compile(rf"^(?:(?:{_TITLE_WORDS})[.\s,]*)+$", re.I)
_CN_SUFFIX = re.compile(r"\s*(先生|女士|小姐|太太|夫人)$")
_BRACKETED = re.compile(rf"\s*[(\[【]\s*(先生|女士|小姐|太太|夫人|{_TITLE_WORDS})\.?\s*[)\]】]\s*", re.I)
_DOTS = re.compile("[\u00b7\u2022\u2027\u2219\u30fb\u318d\u22c5]")
_LATIN_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_ASCII_WORD = re.compile(r"^[a-z]+$")


@dataclass(frozen=True)
class NameResult:
    """One cleaned name and its keys; ``gender_hint`` comes from a dropped honorific (先生 -> M)."""

    name: str | None
    key: str | None
    pinyin: str | None
    gender_hint: str | None = None


def clean_name(text: object) -> tuple[str | None, str | None]:
    """Return the cleaned display name and the gender implied by a dropped honorific, if any."""
    s = clean_text(text)
    if s is None:
        return None, None
    s = _DOTS.sub("·", s)
    hint: list[str | None] = []
    s = _BRACKETED.sub(lambda m: _note(hint, m.group(1)) or " ", s).strip(" ,;")
    m = _LATIN_PREFIX.match(s)
    if m and len(s) > m.end():
        _note(hint, m.group(1))
        s = s[m.end():]
    if has_cjk(s):
        s = drop_cjk_spaces(s)
        s = _BRACKETED.sub(lambda m: _note(hint, m.group(1)) or "", s).strip(" ,;")  # "(女 士)"
        m = _CN_SUFFIX.search(s)
        while m and m.start() > 0:
            _note(hint, m.group(1))
            s = s[: m.start()].rstrip(" ,;")
            m = _CN_SUFFIX.search(s)
        if m:  # only "先生": we know the gender, not the name
            return None, hint[0] if hint else _GENDERED_SUFFIX[m.group(1)]
    if not has_cjk(s):  # also "Smith先生" once the honorific is gone
        s = _latin_order_and_case(s, hint)
    s = s.strip(" ,;")
    if _ONLY_TITLES.match(s):  # only "Mr.": the gender, not the name
        return None, _LATIN_TITLES.get(re.split(r"[.\s,]+", s.rstrip(". ,"))[-1].lower())
    if not any(ch.isalpha() for ch in s):  # "/", "-", "123": not a name
        return None, (hint[0] if hint else None)
    return s, (hint[0] if hint else None)


def _note(hint: list[str | None], word: str) -> None:
    w = word.lower().rstrip(".")
    hint.append(_GENDERED_SUFFIX.get(word, _LATIN_TITLES.get(w)))


def _latin_order_and_case(s: str, hint: list[str | None]) -> str:
    """``ZHANG, Wei`` -> ``Wei Zhang`` (``Smith, Mr. John`` and ``Smith, John Mr.`` too); words
    written all upper or all lower get title case."""
    s = _drop_latin_titles(s.strip(" ,;"), hint).strip(" ,;")
    parts = [_drop_latin_titles(p.strip(" ;"), hint) for p in s.split(",")]
    named = [p for p in parts if not _ONLY_TITLES.match(p)]  # "DR, Li" -> the title part goes
    if named and len(named) < len(parts):
        hint.extend(_LATIN_TITLES.get(p.strip(". ").lower()) for p in parts if _ONLY_TITLES.match(p))
        parts = named
    if len(parts) == 2 and all(parts):
        s = f"{parts[1]} {parts[0]}"
    else:
        s = ", ".join(parts)
    return " ".join(_title_word(w) for w in s.split())


def _drop_latin_titles(part: str, hint: list[str | None]) -> str:
    """``Mr. John`` / ``John Mr.`` -> ``John``, noting the title's gender; a lone title is kept."""
    m = _LATIN_PREFIX.match(part)
    if m and len(part) > m.end():
        _note(hint, m.group(1))
        part = part[m.end():]
    m = _LATIN_SUFFIX.search(part)
    if m and m.start() > 0:
        _note(hint, m.group(1))
        part = part[: m.start()]
    return part


def _title_word(word: str) -> str:
    if word.isascii() and word.isalpha():  # one run of letters: what _title_any gives, without a regex
        return word.capitalize() if word.isupper() or word.islower() else word
    return _title_any(word)


def _title_any(word: str) -> str:
    if word.isupper() or word.islower():
        return re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), word.lower())
    return word


def name_key(name: str | None) -> str | None:
    """Simplified, lower case, no spaces or punctuation: ``張 偉`` -> ``张伟``."""
    if not name:
        return None
    return match_key(t2s(name)) or None


def name_pinyin(name: str | None) -> str | None:
    """Sorted toneless pinyin (or latin words) joined by a space: ``張偉`` -> ``wei zhang``."""
    if not name:
        return None
    return _pinyin_of_simplified(t2s(name))


def _pinyin_of_simplified(simple: str) -> str | None:
    if has_cjk(simple):
        words = _cjk_syllables(simple)
    else:
        words = _latin_syllables(simple)
    return " ".join(sorted(words)) or None


def _cjk_syllables(name: str) -> list[str]:
    compact = name.replace(" ", "").replace("·", "")
    out: list[str] = []
    start = 0
    for surname in (compact[:2], compact[:1]):
        if surname in SURNAME_READINGS and len(compact) > len(surname):
            out.extend(SURNAME_READINGS[surname].split())
            start = len(surname)
            break
    latin: list[str] = []
    for ch in compact[start:]:
        syllable = _PINYIN.get(ch) or _char_pinyin(ch)
        if syllable:
            out.append(syllable)
        else:
            latin.append(ch)
    out.extend(w.lower() for w in _LATIN_WORD.findall("".join(latin)))
    return out


_PINYIN: dict[str, str] = {}


def _plain_pinyin(name: str) -> str:
    """Pinyin key of a name made only of Chinese characters (the common case, kept lean)."""
    get = _PINYIN.get
    if len(name) > 2 and name[:2] in SURNAME_READINGS:
        out = SURNAME_READINGS[name[:2]].split()
        rest = name[2:]
    else:
        out = [SURNAME_READINGS.get(name[0]) or get(name[0]) or _char_pinyin(name[0])]
        rest = name[1:]
    out.extend([get(ch) or _char_pinyin(ch) for ch in rest])
    out.sort()
    return " ".join(out)


def _char_pinyin(ch: str) -> str:
    """Toneless reading of one Chinese character ('' for anything else), cached in ``_PINYIN``.

    What ``pypinyin.lazy_pinyin(ch)[0]`` gives (its first reading, the character itself when it has
    none; tests/test_normalize_cases.py checks every character), from pypinyin's table alone."""
    if not is_cjk_char(ch):
        return ""
    readings = _READINGS.get(ord(ch))
    _PINYIN[ch] = syllable = _toneless(readings.split(",")[0]) if readings else ch
    return syllable


def _toneless(reading: str) -> str:
    """``lǚ`` -> ``lv``, ``zhōng`` -> ``zhong``: pypinyin's Style.NORMAL of one reading."""
    decomposed = unicodedata.normalize("NFD", reading).replace("u\u0308", "v")
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _pinyin_readings() -> dict[int, str]:
    """pypinyin's table of readings (code point -> ``zhōng,zhòng``), read from its JSON file.

    Importing pypinyin loads its phrase dictionary too (~0.25 s of every process start that
    normalizes), which readings of single characters do not need."""
    spec = importlib.util.find_spec("pypinyin")
    folder = spec.submodule_search_locations if spec else None
    path = Path(next(iter(folder))) / "pinyin_dict.json" if folder else None
    if path is None or not path.is_file():  # a pypinyin that keeps its table elsewhere
        from pypinyin import pinyin_dict

        return dict(pinyin_dict.pinyin_dict)
    return {int(k): v for k, v in json.loads(path.read_text(encoding="utf-8")).items()}


_READINGS = _pinyin_readings()


def _latin_syllables(name: str) -> list[str]:
    words = [_fold_latin(w) for w in _LATIN_WORD.findall(name.lower())]
    words = [w for w in words if w]
    split = [split_pinyin(w) for w in words]
    if words and all(s is not None for s in split):
        return [syl for s in split for syl in s]  # type: ignore[union-attr]
    return words


def _fold_latin(word: str) -> str:
    if word.isascii():  # nothing to fold (most Latin names): what _fold_any gives, without NFD
        return word
    return _fold_any(word)


def _fold_any(word: str) -> str:
    word = word.replace("ü", "v")
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def split_pinyin(word: str) -> list[str] | None:
    """Split concatenated pinyin (``zhangwei`` -> ``[zhang, wei]``) or None if it is not pinyin.

    Follows pinyin spelling: a syllable after the first never starts with a, o or e (those need an
    apostrophe, as in xi'an). Among the splits with the fewest syllables, only a unique one is used.
    """
    word = word.lower()
    if not _ASCII_WORD.match(word) or len(word) > 30:
        return None
    best = _segment(word)
    if best is None or best[1] > 1 or len(best[0]) > 4:
        return None
    return list(best[0])


@lru_cache(maxsize=65536)
def _segment(word: str, first: bool = True) -> tuple[tuple[str, ...], int] | None:
    """Fewest-syllable segmentation of ``word`` and how many segmentations tie for it."""
    if not word:
        return (), 1
    best: tuple[tuple[str, ...], int] | None = None
    for n in range(min(6, len(word)), 0, -1):
        head = word[:n]
        if head not in _SYLLABLES or (not first and head[0] in "aoe"):
            continue
        rest = _segment(word[n:], False)
        if rest is None:
            continue
        cand = ((head,) + rest[0], rest[1])
        if best is None or len(cand[0]) < len(best[0]):
            best = cand
        elif len(cand[0]) == len(best[0]):
            best = (best[0], best[1] + cand[1])
    return best


def _syllables() -> frozenset[str]:
    rare = {"hm", "hng", "m", "n", "ng", "biang", "fiao", "den", "din", "cei", "tei", "kei", "zhei",
            "lo", "yo", "nou", "len", "nun", "nia", "dia", "bong", "wong", "chua", "rua", "pou", "me"}
    out = set()
    # ~1,500 distinct readings among the ~60k of the table: each is folded once
    for r in set(",".join(_READINGS.values()).split(",")):
        plain = "".join(c for c in unicodedata.normalize("NFD", r) if not unicodedata.combining(c))
        if plain.isascii() and plain.isalpha():
            out.add(plain)
    out |= {"lv", "nv", "lve", "nve", "lyu", "nyu"}
    return frozenset(out - rare)


_SYLLABLES = _syllables()


def normalize_name(text: object) -> NameResult:
    """Clean one name and compute its keys; never raises, idempotent on ``result.name``."""
    name, hint = clean_name(text)
    return NameResult(name, name_key(name), name_pinyin(name), hint)


def normalize_names(values: Sequence[object]) -> list[NameResult]:
    """``normalize_name`` for many (distinct) values, with one OpenCC call for all of them."""
    cols = name_columns(values)
    return [NameResult(*row) for row in zip(cols["name"], cols["name_key"], cols["name_pinyin"],
                                            cols["gender_hint"], strict=True)]


def name_columns(values: Sequence[object]) -> dict[str, list]:
    """Columns name, name_key, name_pinyin, gender_hint for many distinct values, vectorized.

    Plain Chinese names (2-4 characters, nothing else) skip the cleaning, which they would pass
    through unchanged; all names share one OpenCC call.
    """
    from .fast import plain_cjk_names

    plain = plain_cjk_names(values)
    cleaned = [(v, None) if p else clean_name(v) for v, p in zip(values, plain, strict=True)]
    names = [c[0] for c in cleaned]
    present = [n for n in names if n]
    simple = dict(zip(present, t2s_many(present), strict=True))
    keys: list[str | None] = []
    pinyins: list[str | None] = []
    for name, is_plain in zip(names, plain, strict=True):
        if name is None:
            keys.append(None)
            pinyins.append(None)
            continue
        s = simple[name]
        keys.append(s if is_plain else (match_key(s) or None))
        pinyins.append(_plain_pinyin(s) if is_plain else _pinyin_of_simplified(s))
    return {"name": names, "name_key": keys, "name_pinyin": pinyins, "gender_hint": [c[1] for c in cleaned]}


def join_name_parts(first: object, last: object) -> str | None:
    """Build a full name from first and last name: ``王`` + ``小明`` -> ``王小明``, latin ``First Last``."""
    f, la = clean_text(first), clean_text(last)
    if not f or not la:
        return f or la
    if has_cjk(f + la):
        return la + f
    return f"{f} {la}"
