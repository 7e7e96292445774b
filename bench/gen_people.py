"""Chinese multi-channel customer records with ground truth, for the matching benchmarks.

A population of people (households, employers, namesakes) is drawn first; then each person leaves
1-5 records in five channels, each channel writing them its own way, RAW as an export would:

- web_form: simplified name (sometimes spaced: 张 伟), mobile typed by hand, personal email, home address;
- call_center: traditional characters and honorifics (張偉（先生）), caller-ID phone formats
  (+86 138-0013-8000, 0086..., the home landline), spoken address variants (no province, 號);
- crm: names in pinyin (Zhang Wei, Wei Zhang, ZHANG Wei, Zhangwei), +86 mobiles, company, title, ID;
- trade_show: business cards: company name variants
  (北京鸿睿科技有限公司 / 鸿睿科技 / 鸿睿科技（北京）有限公司),
  the company switchboard (with or without 转 extension), work email, office address;
- purchased_list: homophone typos (张伟 -> 张玮), old addresses of moved households, IDs, birth dates.

Hard negatives come from the population itself: common names (Zipf-distributed characters) and
explicit namesakes (same name, same city, different person), colleagues behind one switchboard and
office address, families sharing a home landline and address.

    from bench.gen_people import generate
    raw = generate(100_000, seed=1)     # columns: record_id, person_id (truth), channel, name, mobile, ...
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate

import pandas as pd

CITIES = [  # name, province, area code, ID region prefix, postcode prefix, districts, weight
    (
        "北京市",
        "北京市",
        "010",
        "1101",
        "100",
        ["朝阳区", "海淀区", "东城区", "西城区", "丰台区", "通州区"],
        8,
    ),
    (
        "上海市",
        "上海市",
        "021",
        "3101",
        "200",
        ["浦东新区", "徐汇区", "静安区", "黄浦区", "闵行区", "长宁区"],
        8,
    ),
    ("广州市", "广东省", "020", "4401", "510", ["天河区", "越秀区", "海珠区", "白云区", "番禺区"], 6),
    ("深圳市", "广东省", "0755", "4403", "518", ["南山区", "福田区", "罗湖区", "宝安区", "龙岗区"], 6),
    ("杭州市", "浙江省", "0571", "3301", "310", ["西湖区", "上城区", "拱墅区", "滨江区", "余杭区"], 4),
    ("南京市", "江苏省", "025", "3201", "210", ["鼓楼区", "玄武区", "秦淮区", "建邺区", "江宁区"], 4),
    ("成都市", "四川省", "028", "5101", "610", ["锦江区", "青羊区", "武侯区", "成华区", "金牛区"], 5),
    ("武汉市", "湖北省", "027", "4201", "430", ["江岸区", "武昌区", "洪山区", "汉阳区", "江汉区"], 4),
    ("西安市", "陕西省", "029", "6101", "710", ["雁塔区", "碑林区", "新城区", "莲湖区", "未央区"], 3),
    ("重庆市", "重庆市", "023", "5001", "400", ["渝中区", "江北区", "南岸区", "沙坪坝区", "九龙坡区"], 5),
    ("天津市", "天津市", "022", "1201", "300", ["和平区", "河西区", "南开区", "河东区", "红桥区"], 4),
    ("苏州市", "江苏省", "0512", "3205", "215", ["姑苏区", "吴中区", "相城区", "虎丘区", "吴江区"], 3),
    ("长沙市", "湖南省", "0731", "4301", "410", ["岳麓区", "芙蓉区", "天心区", "开福区", "雨花区"], 3),
    ("郑州市", "河南省", "0371", "4101", "450", ["金水区", "二七区", "中原区", "惠济区", "管城回族区"], 3),
    ("青岛市", "山东省", "0532", "3702", "266", ["市南区", "市北区", "李沧区", "崂山区", "黄岛区"], 2),
    ("沈阳市", "辽宁省", "024", "2101", "110", ["和平区", "沈河区", "皇姑区", "大东区", "铁西区"], 2),
    ("厦门市", "福建省", "0592", "3502", "361", ["思明区", "湖里区", "集美区", "海沧区", "同安区"], 2),
    ("合肥市", "安徽省", "0551", "3401", "230", ["蜀山区", "包河区", "庐阳区", "瑶海区"], 2),
    ("济南市", "山东省", "0531", "3701", "250", ["历下区", "市中区", "槐荫区", "天桥区", "历城区"], 2),
    ("昆明市", "云南省", "0871", "5301", "650", ["五华区", "盘龙区", "官渡区", "西山区"], 2),
]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    "戴莫孔向汤"
)
COMPOUND_SURNAMES = ["欧阳", "司马", "上官", "诸葛", "东方", "皇甫"]
MALE_CHARS = (
    "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林东亮建国志文博成峰海"
    "晨阳子轩浩然宏斌新民永福德才兴荣庆振家泽天昊嘉睿翔瑞"
)
FEMALE_CHARS = (
    "芳娜敏静丽艳娟霞秀英华慧巧美淑惠珠翠雅芝玉萍红娥玲芬燕彩春菊兰凤洁梅琳素云莲真环"
    "雪荣爱妹香月莺媛瑶怡佳琪欣悦婷颖倩璐晶妍蕾薇"
)
ROADS = [
    "人民路",
    "中山路",
    "解放路",
    "建设路",
    "和平路",
    "新华路",
    "长江路",
    "黄河路",
    "文化路",
    "胜利路",
    "朝阳路",
    "建国路",
    "青年路",
    "光明路",
    "幸福路",
    "友谊路",
    "学院路",
    "花园路",
    "东风路",
    "工业路",
    "科技路",
    "滨江路",
    "南京路",
    "北京路",
    "延安路",
    "复兴路",
    "民主路",
    "团结路",
    "迎宾大道",
    "世纪大道",
]
COMPOUNDS = [
    "阳光花园",
    "锦绣家园",
    "翠苑",
    "金色家园",
    "绿城小区",
    "紫荆苑",
    "碧水湾",
    "东方明珠苑",
    "春华里",
    "和谐家园",
    "丽景湾",
    "凤凰城",
    "蓝天小区",
    "书香门第",
    "枫林苑",
]
TOWERS = ["国际大厦", "科技大厦", "中心大厦", "金融中心", "商务中心", "创业园", "软件园", "广场"]
INDUSTRIES = [
    "科技",
    "网络",
    "信息",
    "传媒",
    "贸易",
    "实业",
    "电子",
    "医药",
    "建设",
    "咨询",
    "物流",
    "食品",
    "机械",
    "教育",
    "文化",
    "投资",
    "环保",
    "能源",
    "自动化设备",
    "软件",
]
BRAND_CHARS = "鸿睿思博华信腾飞天宇恒达联创新泰金盛安康宏远凯瑞中兴海通卓越志诚众合德润嘉禾明辉星河顺丰永昌"
TITLES = [
    "经理",
    "总经理",
    "销售经理",
    "市场总监",
    "工程师",
    "高级工程师",
    "采购经理",
    "财务主管",
    "总监",
    "部门经理",
    "技术总监",
    "销售代表",
    "行政主管",
    "项目经理",
    "董事长",
    "副总经理",
    "产品经理",
]
EMAIL_DOMAINS = [
    ("qq.com", 35),
    ("163.com", 25),
    ("126.com", 10),
    ("sina.com", 5),
    ("gmail.com", 5),
    ("foxmail.com", 5),
    ("hotmail.com", 5),
    ("139.com", 5),
    ("outlook.com", 5),
]
CHANNEL_WEIGHTS = {"web_form": 25, "call_center": 20, "crm": 20, "trade_show": 15, "purchased_list": 20}
RECORDS_PER_PERSON = [(1, 45), (2, 25), (3, 15), (4, 10), (5, 5)]
MOBILE_PREFIXES = (
    [f"13{d}" for d in range(10)]
    + [
        "145",
        "147",
        "150",
        "151",
        "152",
        "153",
        "155",
        "156",
        "157",
        "158",
        "159",
        "166",
        "170",
        "173",
        "175",
        "176",
        "177",
        "178",
    ]
    + [f"18{d}" for d in range(10)]
    + ["191", "193", "195", "198", "199"]
)
_ID_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


SURNAME_READINGS = {
    "曾": "zeng",
    "覃": "qin",
    "单": "shan",
    "解": "xie",
    "区": "ou",
    "查": "zha",
    "仇": "qiu",
    "朴": "piao",
    "缪": "miao",
    "盖": "ge",
}


@lru_cache(maxsize=None)
def pinyin(chars: str, surname: bool = False) -> list[str]:
    """Toneless pinyin; with `surname`, the surname reading of a polyphonic character (曾 = zeng)."""
    from pypinyin import lazy_pinyin

    if surname and chars in SURNAME_READINGS:
        return [SURNAME_READINGS[chars]]
    return lazy_pinyin(chars)


@lru_cache(maxsize=1)
def homophones() -> dict[str, list[str]]:
    """Character -> other name characters with the same toneless pinyin (张伟 -> 张玮)."""
    pool = set(MALE_CHARS + FEMALE_CHARS) | set(
        "玮炜维威卫薇微蔚丽莉俐立利力励明铭鸣名敏闵民静晶菁婧经"
        "杰洁婕捷军君钧均俊峻骏华桦骅芳方舫娜纳磊蕾垒强蔷墙涛韬滔辉晖慧惠"
        "慧蕙卉平萍苹凭斌彬滨宾浩昊皓颢鹏朋蓬飞菲霏非宇雨语玉羽瑜怡仪宜"
        "艺亿燕艳雁焱妍岩琳林霖麟玲灵凌铃芬纷分婷庭霆亭廷"
    )
    groups: dict[str, list[str]] = {}
    for ch in pool:
        groups.setdefault(pinyin(ch)[0], []).append(ch)
    return {ch: [c for c in groups[pinyin(ch)[0]] if c != ch] for ch in pool}


@lru_cache(maxsize=1)
def s2t():
    import opencc

    return opencc.OpenCC("s2t")


def weighted(rng: random.Random, items: list[tuple]):
    return rng.choices([i[0] for i in items], weights=[i[1] for i in items])[0]


def zipf_weights(n: int, s: float = 1.0) -> list[float]:
    return [1.0 / (i + 1) ** s for i in range(n)]


@dataclass
class Company:
    brand: str
    industry: str
    city: tuple
    district: str
    address: str  # without province/city
    switchboard: str  # digits with area code, e.g. 01088886666
    domain: str


@dataclass
class Household:
    city: tuple
    district: str
    address: str
    old_address: str | None  # moved households: an older address still in some lists
    landline: str | None


@dataclass
class Person:
    pid: str
    surname: str
    given: str
    gender: str
    birth: dt.date
    household: Household
    mobiles: list[str]
    email: str | None
    national_id: str
    company: Company | None = None
    title: str | None = None
    extension: str | None = None
    work_email: str | None = None
    records: list[dict] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.surname + self.given

    def mobile(self, r: random.Random) -> str:
        """The main mobile, or (for the few with two) now and then the other one."""
        return self.mobiles[1] if len(self.mobiles) > 1 and r.random() < 0.25 else self.mobiles[0]


class Population:
    """Draws people, households and companies with a seeded RNG."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.mobiles: set[str] = set()
        self.landlines: set[str] = set()
        self.emails: set[str] = set()
        self.ids: set[str] = set()
        self.city_w = list(accumulate(c[6] for c in CITIES))
        self.sur_w = list(accumulate(zipf_weights(len(SURNAMES), 0.9)))
        self.male_w = list(accumulate(zipf_weights(len(MALE_CHARS), 0.8)))
        self.female_w = list(accumulate(zipf_weights(len(FEMALE_CHARS), 0.8)))

    def city(self) -> tuple:
        return self.rng.choices(CITIES, cum_weights=self.city_w)[0]

    def mobile(self) -> str:
        while True:
            m = self.rng.choice(MOBILE_PREFIXES) + "".join(self.rng.choices("0123456789", k=8))
            if m not in self.mobiles:
                self.mobiles.add(m)
                return m

    def landline(self, city: tuple) -> str:
        while True:
            n = city[2] + self.rng.choice("2345678") + "".join(self.rng.choices("0123456789", k=7))
            if n not in self.landlines:
                self.landlines.add(n)
                return n

    def surname(self) -> str:
        if self.rng.random() < 0.01:
            return self.rng.choice(COMPOUND_SURNAMES)
        return self.rng.choices(SURNAMES, cum_weights=self.sur_w)[0]

    def given(self, gender: str) -> str:
        chars, w = (MALE_CHARS, self.male_w) if gender == "M" else (FEMALE_CHARS, self.female_w)
        k = 1 if self.rng.random() < 0.3 else 2
        return "".join(self.rng.choices(chars, cum_weights=w, k=k))

    def home_address(self, district: str) -> str:
        r = self.rng
        base = f"{district}{r.choice(ROADS)}{r.randint(1, 399)}号"
        if r.random() < 0.5:
            return (
                base
                + f"{r.choice(COMPOUNDS)}{r.randint(1, 30)}栋{r.randint(1, 6)}单元"
                + f"{r.randint(1, 30)}0{r.randint(1, 4)}室"
            )
        return base + f"{r.randint(1, 12)}单元{r.randint(1, 30)}0{r.randint(1, 4)}室"

    def household(self) -> Household:
        city = self.city()
        district = self.rng.choice(city[5])
        old = self.home_address(self.rng.choice(city[5])) if self.rng.random() < 0.1 else None
        land = self.landline(city) if self.rng.random() < 0.5 else None
        return Household(city, district, self.home_address(district), old, land)

    def company(self) -> Company:
        r = self.rng
        city = self.city()
        district = r.choice(city[5])
        brand = "".join(r.sample(BRAND_CHARS, 2))
        tower = r.choice(COMPOUNDS[:3] + TOWERS)
        address = f"{district}{r.choice(ROADS)}{r.randint(1, 999)}号{tower}{r.randint(2, 30)}层"
        domain = (
            "".join(pinyin(brand)) + r.choice(["", "tech", "group", "corp"]) + str(r.randint(1, 99)) + ".com"
        )
        return Company(brand, r.choice(INDUSTRIES), city, district, address, self.landline(city), domain)

    def national_id(self, city: tuple, district: str, birth: dt.date, gender: str) -> str:
        while True:
            region = city[3] + f"{city[5].index(district) + 1:02d}"
            seq = self.rng.randint(0, 499) * 2 + (1 if gender == "M" else 0)
            first = f"{region}{birth:%Y%m%d}{seq:03d}"
            check = "10X98765432"[sum(int(d) * w for d, w in zip(first, _ID_W, strict=True)) % 11]
            if first + check not in self.ids:
                self.ids.add(first + check)
                return first + check

    def email(self, surname: str, given: str, birth: dt.date) -> str:
        r = self.rng
        sp, gp = "".join(pinyin(surname, True)), "".join(pinyin(given))
        while True:
            style = r.random()
            if style < 0.3:
                local = "".join(r.choices("0123456789", k=r.randint(6, 10))).lstrip("0") or "10001"
                domain = "qq.com"
            else:
                local = r.choice([sp + gp, gp + sp, sp + "." + gp, gp[0] + sp, sp + gp[0]])
                local += r.choice(["", str(birth.year), f"{birth:%m%d}", str(r.randint(1, 999))])
                domain = weighted(r, EMAIL_DOMAINS)
            e = f"{local}@{domain}"
            if e not in self.emails:
                self.emails.add(e)
                return e

    def person(
        self,
        pid: str,
        hh: Household,
        surname: str | None = None,
        gender: str | None = None,
        given: str | None = None,
        birth_years: tuple[int, int] = (1955, 2002),
    ) -> Person:
        r = self.rng
        gender = gender or r.choice("MF")
        surname = surname or self.surname()
        given = given or self.given(gender)
        birth = dt.date(r.randint(*birth_years), 1, 1) + dt.timedelta(days=r.randint(0, 364))
        mobiles = [self.mobile()] + ([self.mobile()] if r.random() < 0.08 else [])
        email = self.email(surname, given, birth) if r.random() < 0.7 else None
        nid = self.national_id(hh.city, hh.district, birth, gender)
        return Person(pid, surname, given, gender, birth, hh, mobiles, email, nid)


def build_population(n_people: int, seed: int) -> tuple[Population, list[Person]]:
    """Households (1-4 people sharing address and maybe a landline), employers, namesakes."""
    pop = Population(seed)
    r = pop.rng
    companies = [pop.company() for _ in range(max(1, n_people // 12))]
    comp_w = list(accumulate(zipf_weights(len(companies), 0.9)))
    by_city: dict[str, tuple[list[Company], list[float]]] = {}
    for city in CITIES:
        local = [c for c in companies if c.city is city] or companies
        by_city[city[0]] = (local, list(accumulate(zipf_weights(len(local), 0.9))))
    people: list[Person] = []

    def pid() -> str:
        return f"P{len(people) + 1:08d}"

    while len(people) < n_people:
        hh = pop.household()
        head = pop.person(pid(), hh)
        people.append(head)
        size = weighted(r, [(1, 40), (2, 35), (3, 18), (4, 7)])
        if size >= 2:
            y = head.birth.year
            spouse = pop.person(
                pid(),
                hh,
                gender="F" if head.gender == "M" else "M",
                birth_years=(max(1950, y - 4), min(2002, y + 4)),
            )
            people.append(spouse)
        names = {head.name}
        if size >= 2:
            while spouse.name in names:
                spouse.given = pop.given(spouse.gender)
            names.add(spouse.name)
        for _ in range(size - 2):
            y0 = head.birth.year + 22
            if y0 > 2004:
                break
            child = pop.person(pid(), hh, surname=head.surname, birth_years=(y0, min(2004, y0 + 12)))
            while child.name in names:  # parents do not give two children one name
                child.given = pop.given(child.gender)
            names.add(child.name)
            people.append(child)
        if r.random() < 0.03:  # a namesake: same name, same city, another person
            twin_hh = pop.household()
            twin_hh.city = hh.city
            twin_hh.district = r.choice(hh.city[5])
            people.append(
                pop.person(pid(), twin_hh, surname=head.surname, given=head.given, gender=head.gender)
            )
    people = people[:n_people]
    for p in people:
        if r.random() < 0.65:
            if r.random() < 0.9:  # most people work where they live
                local, local_w = by_city[p.household.city[0]]
                p.company = r.choices(local, cum_weights=local_w)[0]
            else:
                p.company = r.choices(companies, cum_weights=comp_w)[0]
            p.title = r.choice(TITLES)
            p.extension = str(r.randint(100, 899)) if r.random() < 0.5 else None
            if r.random() < 0.7:
                gp, sp = "".join(pinyin(p.given)), "".join(pinyin(p.surname, True))
                local = r.choice([gp + "." + sp, gp[0] + sp, sp + gp, gp + sp])
                e = f"{local}@{p.company.domain}"
                while e in pop.emails:
                    e = f"{local}{r.randint(1, 99)}@{p.company.domain}"
                pop.emails.add(e)
                p.work_email = e
    return pop, people


# ---- how channels write things --------------------------------------------------------------------


def fmt_mobile(r: random.Random, m: str, styles: list[tuple]) -> str:
    style = weighted(r, styles)
    return {
        "plain": m,
        "dashed": f"{m[:3]}-{m[3:7]}-{m[7:]}",
        "spaced": f"{m[:3]} {m[3:7]} {m[7:]}",
        "plus86": f"+86 {m[:3]} {m[3:7]} {m[7:]}",
        "e164": f"+86{m}",
        "0086": f"0086-{m}",
        "paren": f"(+86){m}",
        "plus86dash": f"+86 {m[:3]}-{m[3:7]}-{m[7:]}",
    }[style]


def fmt_landline(r: random.Random, n: str, area: str, ext: str | None = None) -> str:
    local = n[len(area) :]
    half = len(local) // 2
    style = r.random()
    if style < 0.4:
        s = f"{area}-{local}"
    elif style < 0.6:
        s = f"({area}){local[:half]}-{local[half:]}"
    elif style < 0.8:
        s = f"{area} {local[:half]} {local[half:]}"
    else:
        s = f"+86 {area[1:]} {local}"
    if ext:
        s += r.choice([f"转{ext}", f" 转 {ext}", f" ext.{ext}", f"-分机{ext}"])
    return s


def homophone_typo(r: random.Random, given: str) -> str:
    idx = [i for i, ch in enumerate(given) if homophones().get(ch)]
    if not idx:
        return given
    i = r.choice(idx)
    return given[:i] + r.choice(homophones()[given[i]]) + given[i + 1 :]


def other_char_typo(r: random.Random, p: Person) -> str:
    """One given-name character mistyped (a one-character given name gets a homophone instead)."""
    if len(p.given) < 2:
        return homophone_typo(r, p.given)
    pool = MALE_CHARS if p.gender == "M" else FEMALE_CHARS
    i = r.randrange(len(p.given))
    return p.given[:i] + r.choice(pool) + p.given[i + 1 :]


def pinyin_name(r: random.Random, p: Person) -> str:
    sur = "".join(pinyin(p.surname, True)).capitalize()
    giv = "".join(pinyin(p.given)).capitalize()
    style = r.random()
    if style < 0.45:
        return f"{sur} {giv}"
    if style < 0.7:
        return f"{giv} {sur}"
    if style < 0.85:
        return f"{sur.upper()} {giv}"
    if style < 0.95:
        return f"{sur}{giv.lower()}"
    return f"{sur}, {giv}"


def chinese_name(
    r: random.Random, p: Person, given: str, *, trad: float = 0.0, honor: float = 0.0, spaced: float = 0.0
) -> str:
    name = p.surname + given
    if r.random() < spaced:
        name = " ".join(name) if r.random() < 0.5 else f"{p.surname} {given}"
    if r.random() < trad:
        name = s2t().convert(name)
    if r.random() < honor:
        h = "先生" if p.gender == "M" else "女士"
        name += r.choice([h, f"（{h}）", f"({h})", f" {h}"])
    return name


def address_variant(
    r: random.Random, addr: str, city: tuple, *, trad: float = 0.0, drop_unit: float = 0.0
) -> dict:
    """An address written with or without province/city, units, in traditional characters."""
    if r.random() < drop_unit and "号" in addr:
        addr = addr[: addr.index("号") + 1]
    style = r.random()
    prov = "" if city[1] == city[0] else city[1]
    if style < 0.4:
        text = prov + city[0] + addr
    elif style < 0.7:
        text = city[0] + addr
    elif style < 0.85:
        text = city[0][:-1] + addr
    else:
        text = addr
    if r.random() < trad:
        text = s2t().convert(text)
    return {"address": text}


def company_variant(r: random.Random, c: Company) -> str:
    city = c.city[0][:-1]
    base = c.brand + c.industry
    return weighted(
        r,
        [
            (f"{city}{base}有限公司", 35),
            (base, 20),
            (f"{base}（{city}）有限公司", 15),
            (f"{base}有限公司", 20),
            (f"{city}市{base}股份有限公司", 10),
        ],
    )


def fmt_date(r: random.Random, d: dt.date) -> str:
    style = r.randrange(5)
    if style == 0:
        return f"{d.year}-{d.month:02d}-{d.day:02d}"
    if style == 1:
        return f"{d.year}/{d.month}/{d.day}"
    if style == 2:
        return f"{d.year}{d.month:02d}{d.day:02d}"
    if style == 3:
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.year}.{d.month:02d}.{d.day:02d}"


def date_typo(r: random.Random, d: dt.date) -> dt.date:
    if r.random() < 0.5 and d.day <= 12 and d.day != d.month:
        return dt.date(d.year, d.day, d.month)
    return d + dt.timedelta(days=r.choice((-1, 1, 10, -10)))


def fmt_gender(r: random.Random, g: str) -> str:
    return r.choice({"M": ["男", "M", "male", "男性"], "F": ["女", "F", "female", "女性"]}[g])


def digit_typo(r: random.Random, m: str) -> str:
    i = r.randrange(3, len(m))
    return m[:i] + r.choice([d for d in "0123456789" if d != m[i]]) + m[i + 1 :]


def _maybe(r: random.Random, p: float, value):
    return value if r.random() < p else None


def web_form(r: random.Random, p: Person) -> dict:
    given = homophone_typo(r, p.given) if r.random() < 0.03 else p.given
    m = p.mobile(r)
    m = digit_typo(r, m) if r.random() < 0.01 else m
    hh = p.household
    rec = {
        "name": chinese_name(r, p, given, spaced=0.15),
        "mobile": fmt_mobile(r, m, [("plain", 60), ("dashed", 15), ("spaced", 15), ("e164", 10)]),
        "email": _maybe(r, 0.85, p.email),
        "gender": _maybe(r, 0.4, fmt_gender(r, p.gender)),
        "birth_date": _maybe(r, 0.4, fmt_date(r, p.birth)),
        "city": _maybe(r, 0.5, hh.city[0][:-1]),
    }
    if r.random() < 0.8:
        rec.update(address_variant(r, hh.address, hh.city, drop_unit=0.2))
    return rec


def call_center(r: random.Random, p: Person) -> dict:
    given = homophone_typo(r, p.given) if r.random() < 0.1 else p.given
    hh = p.household
    if hh.landline and r.random() < 0.15:
        phone = fmt_landline(r, hh.landline, hh.city[2])
    else:
        phone = fmt_mobile(
            r, p.mobile(r), [("plus86", 30), ("0086", 20), ("plus86dash", 20), ("plain", 20), ("paren", 10)]
        )
    rec = {
        "name": chinese_name(r, p, given, trad=0.35, honor=0.4, spaced=0.1),
        "phone": phone,
        "email": _maybe(r, 0.1, p.email),
    }
    if r.random() < 0.75:
        rec.update(address_variant(r, hh.address, hh.city, trad=0.3, drop_unit=0.3))
    return rec


def crm(r: random.Random, p: Person) -> dict:
    name = pinyin_name(r, p) if r.random() < 0.7 else chinese_name(r, p, p.given)
    email = p.work_email if p.work_email and r.random() < 0.4 else p.email
    rec = {
        "name": name,
        "mobile": _maybe(r, 0.92, fmt_mobile(r, p.mobile(r), [("e164", 70), ("plus86", 30)])),
        "email": _maybe(r, 0.8, email),
        "birth_date": _maybe(r, 0.6, fmt_date(r, p.birth)),
        "national_id": _maybe(r, 0.4, p.national_id),
        "gender": _maybe(r, 0.5, fmt_gender(r, p.gender)),
        "city": p.household.city[0],
    }
    if p.company and r.random() < 0.8:
        rec.update(company=company_variant(r, p.company), title=p.title)
    return rec


def trade_show(r: random.Random, p: Person) -> dict:
    c = p.company
    assert c is not None
    rec = {
        "name": chinese_name(r, p, p.given, spaced=0.2),
        "company": company_variant(r, c),
        "title": p.title,
        "email": p.work_email if r.random() < 0.7 else _maybe(r, 0.15, p.email),
    }
    if r.random() < 0.8:
        ext = p.extension if p.extension and r.random() < 0.7 else None
        rec["phone"] = fmt_landline(r, c.switchboard, c.city[2], ext)
    if r.random() < 0.92:  # Chinese business cards nearly always carry the mobile
        rec["mobile"] = fmt_mobile(r, p.mobiles[0], [("dashed", 40), ("spaced", 30), ("plain", 30)])
    if r.random() < 0.6:
        rec.update(address_variant(r, c.address, c.city))
    return rec


def purchased_list(r: random.Random, p: Person) -> dict:
    roll = r.random()
    given = homophone_typo(r, p.given) if roll < 0.25 else (other_char_typo(r, p) if roll < 0.28 else p.given)
    hh = p.household
    m = p.mobile(r)
    m = digit_typo(r, m) if r.random() < 0.03 else m
    birth = date_typo(r, p.birth) if r.random() < 0.03 else p.birth
    addr = hh.old_address if hh.old_address and r.random() < 0.6 else hh.address
    rec = {
        "name": chinese_name(r, p, given),
        "mobile": _maybe(r, 0.92, m),
        "birth_date": _maybe(r, 0.7, fmt_date(r, birth)),
        "gender": _maybe(r, 0.7, fmt_gender(r, p.gender)),
        "national_id": _maybe(r, 0.3, p.national_id),
        "province": hh.city[1],
        "city": hh.city[0],
    }
    if r.random() < 0.85:
        rec.update(address_variant(r, addr, hh.city, drop_unit=0.3))
    return rec


CHANNELS = {
    "web_form": web_form,
    "call_center": call_center,
    "crm": crm,
    "trade_show": trade_show,
    "purchased_list": purchased_list,
}
RAW_COLUMNS = [
    "record_id",
    "person_id",
    "channel",
    "name",
    "mobile",
    "phone",
    "email",
    "company",
    "title",
    "address",
    "province",
    "city",
    "gender",
    "birth_date",
    "national_id",
]


def generate(n_records: int, seed: int = 1) -> pd.DataFrame:
    """About `n_records` raw records (RAW_COLUMNS; person_id is the truth), shuffled."""
    n_people = max(2, int(n_records / 2.05))
    pop, people = build_population(n_people, seed)
    r = pop.rng
    rows: list[dict] = []
    names = list(CHANNEL_WEIGHTS)
    for p in people:
        k = weighted(r, RECORDS_PER_PERSON)
        weights = [CHANNEL_WEIGHTS[c] if (c != "trade_show" or p.company) else 0 for c in names]
        for _ in range(k):
            ch = r.choices(names, weights=weights)[0]
            rec = CHANNELS[ch](r, p)
            rec["channel"], rec["person_id"] = ch, p.pid
            rows.append(rec)
    r.shuffle(rows)
    df = pd.DataFrame(rows, columns=RAW_COLUMNS[1:])
    df.insert(0, "record_id", [f"R{i + 1:08d}" for i in range(len(df))])
    return df.astype(object).where(df.notna(), None)


def main() -> None:
    ap = argparse.ArgumentParser(description="Write generated raw records with truth to a CSV/Parquet file.")
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    df = generate(args.n, args.seed)
    if args.out.endswith(".parquet"):
        df.to_parquet(args.out, index=False)
    else:
        df.to_csv(args.out, index=False, encoding="utf-8")
    print(f"{len(df)} records of {df['person_id'].nunique()} people -> {args.out}")


if __name__ == "__main__":
    main()
