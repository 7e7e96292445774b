"""The place step of normalize_frame: province, city, district, address, address_key, country,
postcode. Work is done once per distinct (province, city, district, address) combination, and cpca
once per frame on the distinct addresses that have an empty level to fill."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from . import addresses as addr
from .table import SourceFrame, at, combine, joined, missing, objs
from .text import clean_text, has_cjk, t2s_many


def address_codes(f: SourceFrame) -> tuple[np.ndarray, list]:
    """Distinct cleaned addresses: ``address``, or address_1/street_number/address_2 put together."""
    codes, values = f.codes("address")
    per_row = np.concatenate([objs([addr.clean_address(v) for v in values]),
                              np.array([None], dtype=object)])[codes]
    parts = [c for c in ("address_1", "street_number", "address_2") if f.has(c)]
    if parts:
        empty = missing(per_row)
        part_codes = [f.codes(c) for c in parts]
        combo, first = combine(*(pc[empty] for pc, _ in part_codes))
        built = [addr.clean_address(join_address({c: at(v, pc[empty][i]) for c, (pc, v) in
                                                  zip(parts, part_codes, strict=True)})) for i in first]
        per_row[empty] = objs(built)[combo]
    codes, uniques = pd.factorize(per_row, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), list(uniques)


def join_address(parts: dict[str, object]) -> str | None:
    """address_1 + street_number + address_2: run together in Chinese, ``12 Baker St, Flat 3`` otherwise."""
    street, number, extra = (clean_text(parts.get(c)) for c in ("address_1", "street_number", "address_2"))
    texts = [t for t in (street, number, extra) if t]
    if not texts:
        return None
    if has_cjk("".join(texts)):
        return "".join(texts)
    first = f"{number} {street}" if number and street else (street or number)
    return ", ".join(t for t in (first, extra) if t)


def place_step(f: SourceFrame, default_region: str, phone_country: np.ndarray) -> None:
    """Fill f.out with the place columns; country prefers the phone's, then the address's."""
    ac, av = address_codes(f)
    columns = [f.codes(c) for c in ("province", "city", "district")]
    combo, first = combine(*(c for c, _ in columns), ac)
    given = [[at(v, c[i]) for c, v in columns] + [at(av, ac[i])] for i in first]
    standard = [_standard_admin(p, c, d) for p, c, d, _ in given]
    simple = dict(zip(av, t2s_many([a for a in av if a]), strict=True)) if av else {}
    parsed = addr.parse_addresses((g[3] for g, s in zip(given, standard, strict=True) if g[3] and None in s),
                                  simplified=simple)
    places = [_fill_place(s, simple.get(g[3]), parsed.get(g[3] or ""))
              for g, s in zip(given, standard, strict=True)]
    for column in ("province", "city", "district", "country"):
        f.out[column] = objs([getattr(p, column) for p in places])[combo]
    f.out["address"] = objs([g[3] for g in given])[combo]
    keys = [addr.address_key(p, simple.get(g[3]), simplified=True)
            for p, g in zip(places, given, strict=True)]
    f.out["address_key"] = objs(keys)[combo]
    country = np.where(missing(phone_country), f.out["country"], phone_country)
    f.out["country"] = np.where(missing(country), default_region, country).astype(object)
    _postcodes(f)


@lru_cache(maxsize=65536)
def _standard_admin(p: object, c: object, d: object) -> tuple[str | None, str | None, str | None]:
    """Standard names of the given province/city/district columns (cleaned text if unknown).

    Cached: a file has a few thousand distinct column triples but one combination per address."""
    province = addr.standard_province(p) or clean_text(p)
    city = addr.standard_city(c, province) or clean_text(c)
    district = addr.standard_district(d, province, city) or clean_text(d)
    return province, city, district


def _fill_place(given: tuple, address: str | None, parsed: addr.Place | None) -> addr.Place:
    """Fill the empty levels from the parsed (simplified) address, never against what the columns say."""
    province, city, district = given
    if parsed is not None:
        if province is None:
            province = parsed.province
        if city is None and parsed.province == province:
            city = parsed.city
        if district is None and parsed.city == city and parsed.province == province:
            district = parsed.district
        if district is None and parsed.district and (province or city):  # 朝阳区 + 北京 column
            district = addr.standard_district(parsed.district, province, city)
    if city is None and province in addr.MUNICIPALITY_NAMES:
        city = province
    if parsed is not None and (province, city, district) == (parsed.province, parsed.city, parsed.district):
        rest = parsed.rest
    else:
        rest = addr.strip_admin_prefix(address, province, city, district) if address else None
    return addr.Place(province, city, district, rest, addr.country_of(province))


def _postcodes(f: SourceFrame) -> None:
    codes, values = f.codes("postcode")
    country = f.out["country"]
    combo, first = combine(codes, np.asarray(pd.factorize(country)[0], dtype=np.int64))
    results = [addr.normalize_postcode(at(values, codes[i]), country[i]) for i in first]
    f.out["postcode"] = objs([r[0] for r in results])[combo]
    f.add_issues(objs([joined(r[1]) for r in results])[combo])
