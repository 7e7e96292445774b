"""Chinese addresses: standard province / city / district names and a matching key.

Province, city and district come from their own columns when given (``广东`` -> ``广东省``,
``沪`` -> ``上海市``, ``深圳`` -> ``深圳市``) and are parsed from the address (cpca, one call per
frame over the unique addresses) only where a column is empty. Two things cpca gets wrong are
undone: a road named after a place (``中山路`` is not 中山市) and a district name that exists in
several cities (``朝阳区`` alone says neither Beijing nor Changchun). A district written without its
suffix right after its city (``深圳南山科技园``) is recognised.

``address_key`` = simplified, lower case, no spaces or punctuation, of
province + city + district + the rest of the address, so the same place written with or without
its province, or in traditional characters, gets one key.
"""
from __future__ import annotations

import importlib.resources
import re
import sys
import types
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from .text import clean_text, drop_cjk_spaces, fix_excel_integer, has_cjk, match_key, t2s, t2s_many

_ABBREVIATIONS = {
    "京": "11", "津": "12", "冀": "13", "晋": "14", "蒙": "15", "辽": "21", "吉": "22", "黑": "23",
    "沪": "31", "申": "31", "苏": "32", "浙": "33", "皖": "34", "闽": "35", "赣": "36", "鲁": "37",
    "豫": "41", "鄂": "42", "湘": "43", "粤": "44", "桂": "45", "琼": "46", "渝": "50", "川": "51",
    "蜀": "51", "贵": "52", "黔": "52", "云": "53", "滇": "53", "藏": "54", "陕": "61", "秦": "61",
    "甘": "62", "陇": "62", "青": "63", "宁": "64", "新": "65", "台": "71", "港": "81", "澳": "82",
}
_PINYIN = {
    "beijing": "11", "tianjin": "12", "hebei": "13", "shanxi": "14", "innermongolia": "15",
    "neimenggu": "15", "liaoning": "21", "jilin": "22", "heilongjiang": "23", "shanghai": "31",
    "jiangsu": "32", "zhejiang": "33", "anhui": "34", "fujian": "35", "jiangxi": "36",
    "shandong": "37", "henan": "41", "hubei": "42", "hunan": "43", "guangdong": "44",
    "guangxi": "45", "hainan": "46", "chongqing": "50", "sichuan": "51", "guizhou": "52",
    "yunnan": "53", "tibet": "54", "xizang": "54", "shaanxi": "61", "gansu": "62", "qinghai": "63",
    "ningxia": "64", "xinjiang": "65", "taiwan": "71", "hongkong": "81", "macau": "82", "macao": "82",
}
_COUNTRY_OF_PROVINCE = {"71": "TW", "81": "HK", "82": "MO"}
_MUNICIPALITIES = ("11", "12", "31", "50")
MUNICIPALITY_NAMES = frozenset({"北京市", "天津市", "上海市", "重庆市"})
_SUFFIX = re.compile(r"(?:壮族|回族|维吾尔)?(?:自治区|特别行政区|省|市)$")
_CITY_SUFFIX = re.compile(r"(?:市|地区|盟|自治州)$")
_DISTRICT_SUFFIX = re.compile(r"(?:区|县|市|旗|自治县)$")
_NOT_ADMIN_AFTER = re.compile(r"^(?:[东西南北中]?[路街道巷弄里桥]|大[道街厦学桥]|广场|公园|公司|商场|市场)")
_HEAD = re.compile(r"[^\d]{0,30}")
_PLACEHOLDER_CITIES = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")


@dataclass(frozen=True)
class Place:
    """Standard province / city / district (any may be None), the rest of the address, its country."""

    province: str | None = None
    city: str | None = None
    district: str | None = None
    rest: str | None = None
    country: str | None = None


class _Gazetteer:
    """Administrative names from cpca's table, indexed for lookups by full or short name."""

    def __init__(self) -> None:
        cpca = import_cpca()
        self.name: dict[str, str] = {}
        self.by_short: dict[str, set[str]] = defaultdict(set)
        self.children: dict[str, list[str]] = defaultdict(list)
        for info in cpca.ad_2_addr_dict.values():
            code = _code_of(info.adcode, info.rank)
            if info.name in _PLACEHOLDER_CITIES or code in self.name:
                continue
            self.name[code] = info.name
            for form in {info.name, _short(info.name, info.rank)}:
                if len(form) >= 2:
                    self.by_short[form].add(code)
            if info.rank:
                self.children[code[: len(code) - 2]].append(code)
            if info.rank == 2 and code[:2] in _MUNICIPALITIES:
                self.children[code[:2]].append(code)
        self.district_count = Counter(self.name[c] for c in self.name if len(c) == 6)
        self._provinces: dict[str, str | None] = {}

    def province(self, text: str) -> str | None:
        """Two-digit code of a province written in full, short, abbreviated or in pinyin."""
        try:
            return self._provinces[text]
        except KeyError:
            pass
        code = self._province(text)
        if len(self._provinces) < 65536:  # every place of every row asks: remember the answers
            self._provinces[text] = code
        return code

    def _province(self, text: str) -> str | None:
        if text in _ABBREVIATIONS:
            return _ABBREVIATIONS[text]
        key = re.sub(r"[\s_-]|province|city|municipality|sar|autonomousregion", "", text.lower())
        if key in _PINYIN:
            return _PINYIN[key]
        codes = [c for c in self.by_short.get(text, ()) if len(c) == 2]
        return codes[0] if len(codes) == 1 else None

    def below(self, text: str, parent: str | None, length: int) -> str | None:
        """Code of the city (length 4) or district (6) called ``text``, under ``parent`` if known."""
        codes = [c for c in self.by_short.get(text, ()) if len(c) == length]
        if parent:
            codes = [c for c in codes if c.startswith(parent)]
        return codes[0] if len(codes) == 1 else None


def import_cpca() -> types.ModuleType:
    """The cpca module, imported without pkg_resources when that is not loaded already.

    cpca reads its table at import with ``pkg_resources.resource_stream``, and importing
    pkg_resources scans every installed distribution: 0.07-0.11 s of each process that normalizes
    an address (measured). While cpca is imported a stand-in with just that function (over
    importlib.resources) takes its place and is removed right after. Another thread importing
    pkg_resources in that instant would get the stand-in: the ingest's read-ahead thread (prefetch.py)
    imports nothing that uses pkg_resources (pytz would, as a last resort, and only resource_stream).
    """
    if "cpca" in sys.modules or "pkg_resources" in sys.modules:
        import cpca

        return cpca
    stand_in = types.ModuleType("pkg_resources")
    stand_in.resource_stream = _resource_stream  # type: ignore[attr-defined]
    sys.modules["pkg_resources"] = stand_in
    try:
        import cpca

        return cpca
    except Exception:  # noqa: BLE001 - a cpca that wants more of pkg_resources: import it as it is
        pass
    finally:
        if sys.modules.get("pkg_resources") is stand_in:
            del sys.modules["pkg_resources"]
    import cpca

    return cpca


def _resource_stream(package: str, name: str):
    return importlib.resources.files(package).joinpath(name).open("rb")


def _code_of(adcode: str, rank: int) -> str:
    return adcode[: (rank + 1) * 2]


@lru_cache(maxsize=8192)
def _short(name: str, rank: int) -> str:
    """The name without its administrative suffix (``深圳市`` -> ``深圳``), if two characters remain."""
    pattern = (_SUFFIX, _CITY_SUFFIX, _DISTRICT_SUFFIX)[rank]
    short = pattern.sub("", name)
    return short if len(short) >= 2 else name


@lru_cache(maxsize=1)
def gazetteer() -> _Gazetteer:
    """The administrative-division table, loaded once (it imports cpca)."""
    return _Gazetteer()


def clean_address(text: object) -> str | None:
    """NFKC, invisible characters and spaces between Chinese characters removed."""
    s = clean_text(text)
    return drop_cjk_spaces(s) if s else None


def standard_province(text: object) -> str | None:
    """``广东`` / ``粤`` / ``Guangdong`` -> ``广东省``; None if not a Chinese province."""
    s = clean_text(text)
    code = gazetteer().province(t2s(drop_cjk_spaces(s))) if s else None
    return gazetteer().name[code] if code else None


def province_code(name: str | None) -> str | None:
    """Two-digit code of a standard province name."""
    return gazetteer().province(name) if name else None


def standard_city(text: object, province: str | None = None) -> str | None:
    """``深圳`` -> ``深圳市``; a municipality's city is the municipality (``上海`` -> ``上海市``)."""
    s = clean_text(text)
    if not s:
        return None
    s = t2s(drop_cjk_spaces(s))
    g = gazetteer()
    pcode = province_code(province)
    code = g.below(s, pcode, 4)
    if code:
        return g.name[code]
    own = g.province(s)
    if own in _MUNICIPALITIES and (pcode in (None, own)):
        return g.name[own]
    return None


def standard_district(text: object, province: str | None = None, city: str | None = None) -> str | None:
    """``南山`` (in 深圳市) -> ``南山区``; None when unknown or ambiguous without its city."""
    s = clean_text(text)
    if not s:
        return None
    g = gazetteer()
    parent = _city_code(city, province) or province_code(province)
    code = g.below(t2s(drop_cjk_spaces(s)), parent, 6)
    return g.name[code] if code else None


def _city_code(city: str | None, province: str | None) -> str | None:
    if not city:
        return None
    pcode = province_code(province)
    if pcode in _MUNICIPALITIES and city == gazetteer().name.get(pcode or ""):
        return pcode
    return gazetteer().below(city, pcode, 4)


@lru_cache(maxsize=4096)
def country_of(province: str | None) -> str | None:
    """ISO country of a standard province name: HK, MO and TW for those three, CN otherwise."""
    code = province_code(province)
    if code is None:
        return None
    return _COUNTRY_OF_PROVINCE.get(code, "CN")


def normalize_postcode(text: object, country: str | None) -> tuple[str | None, tuple[str, ...]]:
    """A Chinese postcode is six digits; other countries' are kept upper case. Bad -> None + issue."""
    s = clean_text(text)
    if s is None:
        return None, ()
    s = fix_excel_integer(s).replace(" ", "") if (country or "CN") == "CN" else s.upper()
    if (country or "CN") == "CN" and not re.fullmatch(r"\d{6}", s):
        return None, ("invalid_postcode",)
    return s, ()


def parse_addresses(addresses: Iterable[str], simplified: dict[str, str] | None = None) -> dict[str, Place]:
    """Parse many addresses with one cpca call (cpca is slow to start, fast per address).

    ``simplified`` may hold the addresses already converted to simplified Chinese."""
    todo = sorted({a for a in addresses if a and has_cjk(a)})
    if not todo:
        return {}
    cpca = import_cpca()
    if simplified is None:
        simple = t2s_many(todo)  # cpca knows simplified names only
    else:
        simple = [simplified[a] for a in todo]
    # Province, city and district come before the first digit: parse each distinct head once.
    heads = [_HEAD.match(s).group(0) for s in simple]  # type: ignore[union-attr]
    parsed = _parsed_heads(cpca, sorted(set(heads)))
    out: dict[str, Place] = {}
    for original, full, head in zip(todo, simple, heads, strict=True):
        p = parsed[head]
        rest = strip_admin_prefix(full, p.province, p.city, p.district)
        out[original] = Place(p.province, p.city, p.district, rest, p.country)
    return out


# head -> its Place, across calls: cpca reads each head on its own, and the files and chunks of one
# ingest share a good part of their heads (a fifth between the five +10k files)
_HEADS: dict[str, Place] = {}
_HEADS_MAX = 1 << 17


def _parsed_heads(cpca, distinct: list[str]) -> dict[str, Place]:
    """The Place of each distinct head: remembered, or from one cpca call over those not seen yet."""
    parsed = {h: _HEADS[h] for h in distinct if h in _HEADS}
    todo = [h for h in distinct if h not in parsed]
    if not todo:
        return parsed
    frame = cpca.transform(todo, pos_sensitive=True)
    for head, row in zip(todo, frame.itertuples(index=False), strict=True):
        adcode = row[4] if isinstance(row[4], str) else None
        parsed[head] = place = _checked_place(head, adcode, (row[5], row[6], row[7]))
        if len(_HEADS) < _HEADS_MAX:
            _HEADS[head] = place
    return parsed


def parse_address(text: object) -> Place:
    """Province, city, district and the rest of one address (``parse_addresses`` for many)."""
    cleaned = clean_address(text)
    if not cleaned:
        return Place()
    return parse_addresses([cleaned]).get(cleaned) or Place(rest=t2s(cleaned))


def _checked_place(addr: str, adcode: str | None, positions: tuple) -> Place:
    """Keep only the levels cpca found with real evidence, then complete them from the table."""
    g = gazetteer()
    if not adcode:
        return Place(rest=addr)
    codes = [adcode[:2], adcode[:4], adcode[:6]]
    kept: str | None = None
    for rank in (2, 1, 0):
        pos = int(positions[rank]) if positions[rank] == positions[rank] else -1
        code = codes[rank]
        if pos < 0 or code not in g.name or _looks_like_road(addr, pos, g.name[code], rank):
            continue
        if rank == 2 and positions[0] < 0 and positions[1] < 0 and g.district_count[g.name[code]] > 1:
            return _from_code(None, addr, district=g.name[code])
        kept = code
        break
    place = _from_code(kept, addr)
    if place.city and not place.district:
        return _with_short_district(place, addr)
    return place


def _looks_like_road(addr: str, pos: int, name: str, rank: int) -> bool:
    """``中山路``: the place name is part of a road or building name, not an address level."""
    if name in addr:  # written in full somewhere (cpca may point at a later, shorter mention)
        return False
    short = _short(name, rank)
    return bool(_NOT_ADMIN_AFTER.match(addr[pos + len(short):]))


def _from_code(code: str | None, addr: str, district: str | None = None) -> Place:
    g = gazetteer()
    province = city = None
    if code:
        province = g.name.get(code[:2])
        city = g.name.get(code[:4]) if len(code) >= 4 else None
        if code[:2] in _MUNICIPALITIES:
            city = province
        district = g.name.get(code) if len(code) == 6 else None
    rest = strip_admin_prefix(addr, province, city, district)
    return Place(province, city, district, rest, country_of(province))


def _with_short_district(place: Place, addr: str) -> Place:
    """``深圳南山科技园路``: a district written without 区 right after its city."""
    g = gazetteer()
    rest = place.rest or ""
    parent = _city_code(place.city, place.province)
    for code in g.children.get(parent or "", ()):
        short = _short(g.name[code], 2)
        if rest.startswith(short) and not _NOT_ADMIN_AFTER.match(rest[len(short):]):
            return Place(place.province, place.city, g.name[code],
                         rest[len(short):] or None, place.country)
    return place


def strip_admin_prefix(addr: str, *names: str | None) -> str | None:
    """The address without the leading country, province, city and district names.

    Names are tried in full and short (``广东省``, ``广东``); a province's one-character
    abbreviation (``沪``) only when a city or district name follows it.

    When no name holds a digit (administrative names never do) only the text before the first digit
    can be stripped: that head is stripped once per distinct head and names (the street number and
    what follows vary per address).
    """
    digit = None if _digit_in(names) else _FIRST_DIGIT.search(addr)
    if digit is None:
        rest = _strip_head(addr, names)
    else:
        rest = _strip_head(addr[:digit.start()], names) + addr[digit.start():]
    return rest.strip(" ,") or None


_FIRST_DIGIT = re.compile("[0-9]")


@lru_cache(maxsize=65536)
def _digit_in(names: tuple[str | None, ...]) -> bool:
    return any(name and _FIRST_DIGIT.search(name) for name in names)


@lru_cache(maxsize=65536)
def _strip_head(addr: str, names: tuple[str | None, ...]) -> str:
    rest = addr[2:] if addr.startswith("中国") else addr
    forms, lower, abbrev = _prefix_forms(names)
    changed = True
    while changed and rest:
        changed = False
        rest = rest.lstrip(" ,")
        for form in forms:
            if rest.startswith(form):
                rest, changed = rest[len(form):], True
                break
        else:
            if rest[:1] in abbrev and any(rest.startswith(f, 1) for f in lower):
                rest, changed = rest[1:], True
    return rest


@lru_cache(maxsize=65536)
def _prefix_forms(names: tuple[str | None, ...]) -> tuple[tuple[str, ...], tuple[str, ...], frozenset[str]]:
    """Full and short forms of the names, those below the province, and the province's abbreviations."""
    forms = tuple(f for rank, name in enumerate(names) if name for f in (name, _short(name, rank)))
    lower = tuple(f for rank, name in enumerate(names) if name and rank for f in (name, _short(name, rank)))
    province = names[0] if names else None
    abbrev = frozenset(a for a, code in _ABBREVIATIONS.items()
                       if province and gazetteer().name.get(code) == province)
    return forms, lower, abbrev


def address_key(place: Place, addr: str | None, *, simplified: bool = False) -> str | None:
    """Matching key: province + city + district + rest, simplified, lower case, no punctuation.

    ``simplified`` says ``addr`` and ``place.rest`` are already simplified Chinese (skips OpenCC).
    """
    if not addr:
        return None
    if place.province or place.city or place.district:
        city = place.city if place.city != place.province else None
        parts = [place.province, city, place.district, place.rest]
    else:
        parts = [addr]
    text = "".join(p for p in parts if p)
    return match_key(text if simplified else t2s(text)) or None
