"""Job titles: trimmed display text and a ``title_key`` shared by synonyms.

总经理, GM and General Manager all get ``general_manager``. A title not in the synonym table gets
its own canonical spelling as key: simplified and without spaces for Chinese, lower-case words
with abbreviations expanded and joined by ``_`` for English (``Sr. Sales Mgr`` ->
``senior_sales_manager``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .text import clean_text, has_cjk, match_key, t2s

SYNONYMS: dict[str, tuple[str, ...]] = {
    "general_manager": ("总经理", "总经", "GM", "General Manager", "Gen. Mgr."),
    "deputy_general_manager": ("副总经理", "副总", "Deputy General Manager", "Deputy GM",
                               "Vice General Manager", "Assistant General Manager"),
    "ceo": ("CEO", "首席执行官", "Chief Executive Officer", "执行总裁", "Chief Executive"),
    "president": ("总裁", "President"),
    "vice_president": ("副总裁", "VP", "Vice President", "V.P."),
    "chairman": ("董事长", "Chairman", "Chairwoman", "Chairman of the Board", "Chairperson"),
    "board_member": ("董事", "Board Member", "Board Director", "Member of the Board"),
    "cto": ("CTO", "首席技术官", "Chief Technology Officer", "Chief Technical Officer"),
    "cfo": ("CFO", "首席财务官", "Chief Financial Officer"),
    "coo": ("COO", "首席运营官", "Chief Operating Officer"),
    "cmo": ("CMO", "首席营销官", "Chief Marketing Officer"),
    "finance_director": ("财务总监", "Finance Director", "Financial Director", "Director of Finance"),
    "finance_manager": ("财务经理", "Finance Manager", "Financial Manager"),
    "sales_director": ("销售总监", "Sales Director", "Director of Sales"),
    "sales_manager": ("销售经理", "Sales Manager", "业务经理", "Manager, Sales"),
    "purchasing_director": ("采购总监", "Purchasing Director", "Procurement Director",
                            "Director of Purchasing"),
    "purchasing_manager": ("采购经理", "Purchasing Manager", "Procurement Manager", "Purchase Manager"),
    "buyer": ("采购", "采购员", "Buyer", "Purchaser"),
    "marketing_director": ("市场总监", "Marketing Director", "Director of Marketing"),
    "marketing_manager": ("市场经理", "市场部经理", "Marketing Manager"),
    "hr_manager": ("人事经理", "人力资源经理", "HR Manager", "Human Resources Manager"),
    "project_manager": ("项目经理", "Project Manager"),
    "product_manager": ("产品经理", "Product Manager"),
    "department_manager": ("部门经理", "Department Manager"),
    "office_manager": ("办公室主任", "Office Manager"),
    "manager": ("经理", "Manager"),
    "director": ("总监", "Director"),
    "supervisor": ("主管", "Supervisor"),
    "senior_engineer": ("高级工程师", "Senior Engineer"),
    "engineer": ("工程师", "Engineer"),
    "assistant": ("助理", "Assistant"),
    "secretary": ("秘书", "Secretary"),
    "accountant": ("会计", "Accountant"),
    "sales": ("销售", "销售代表", "销售员", "Sales", "Sales Representative", "Salesman"),
    "owner": ("老板", "店主", "Owner", "Proprietor"),
    "founder": ("创始人", "Founder", "Co-founder", "联合创始人"),
    "partner": ("合伙人", "Partner"),
    "legal_representative": ("法人", "法定代表人", "Legal Representative"),
    "staff": ("职员", "员工", "Staff", "Employee", "Clerk"),
}
_ABBREVIATIONS = {
    "mgr": "manager", "mngr": "manager", "gen": "general", "genl": "general", "dir": "director",
    "asst": "assistant", "ass't": "assistant", "sr": "senior", "snr": "senior", "jr": "junior",
    "exec": "executive", "dept": "department", "engr": "engineer", "eng": "engineer",
    "rep": "representative", "vp": "vice president", "svp": "senior vice president",
    "evp": "executive vice president", "mktg": "marketing", "acct": "accountant", "hr": "hr",
    "intl": "international", "admin": "administrative", "coord": "coordinator",
}
_WORDS = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class TitleResult:
    """The cleaned title and its key."""

    title: str | None
    key: str | None


def _lookup_form(text: str) -> str:
    if has_cjk(text):
        return match_key(t2s(text))
    words: list[str] = []
    for w in _WORDS.findall(text.lower().replace("co-", "co")):
        words.extend(_ABBREVIATIONS.get(w, w).split())
    return "_".join(w for w in words if w not in ("of", "the"))


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    out: dict[str, str] = {}
    for key, names in SYNONYMS.items():
        for name in (key.replace("_", " "), *names):
            out.setdefault(_lookup_form(name), key)
    return out


def title_key(title: str | None) -> str | None:
    """The synonym group of a title (``GM`` -> ``general_manager``), or its canonical spelling."""
    if not title:
        return None
    return _title_key(title)


@lru_cache(maxsize=50_000)
def _title_key(title: str) -> str | None:
    table = _table()
    whole = _lookup_form(title)
    if whole in table:
        return table[whole]
    if has_cjk(title):  # 总经理 (GM) / 销售经理 Sales Manager: try each script alone
        cjk = "".join(ch for ch in title if has_cjk(ch))
        latin = re.sub(r"[^\x00-\x7f]+", " ", title)
        for part in (_lookup_form(cjk), _lookup_form(latin)):
            if part in table:
                return table[part]
    return whole or None


def normalize_title(text: object) -> TitleResult:
    """Clean one job title and compute its key; never raises, idempotent on ``result.title``."""
    s = clean_text(text)
    if s is None:
        return TitleResult(None, None)
    s = s.strip(" ,;/")
    if not any(ch.isalnum() for ch in s):
        return TitleResult(None, None)
    return TitleResult(s, title_key(s))
