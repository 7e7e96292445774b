"""Generate the sample channel exports in samples/: messy, synthetic, deterministic.

    python samples/make_samples.py            # writes into samples/
    python samples/make_samples.py --out DIR  # somewhere else (tests, benchmarks)

One population of ~500 synthetic people (faker zh_CN / en_US plus the tables below; every
name, phone, e-mail, ID number and address is made up) is exported through five channels,
each with its own habits. The same person shows up in several files, and a few times in the
same file, written differently each time; `truth.csv` says which rows are the same person so
that tests and benchmarks can score deduplication. Hard negatives are planted on purpose:
two different 王伟 in 北京, colleagues sharing their company's switchboard, families sharing
a home landline and address. See samples/README.md for what is odd in each file.

Fixed seeds and fixed file timestamps: running the script twice gives byte-identical files
(for a given Faker version), so re-ingesting regenerated samples is a harmless no-op.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from faker import Faker
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

SEED = 20260312
POPULATION = 500
FIXED_ZIP_TIME = (2026, 3, 12, 9, 0, 0)
FIXED_DOC_TIME = dt.datetime(2026, 3, 12, 9, 0, 0)

rng = random.Random(SEED)
fake_cn = Faker("zh_CN")
fake_cn.seed_instance(SEED)
fake_en = Faker("en_US")
fake_en.seed_instance(SEED + 1)

# ---------------------------------------------------------------------------------------
# Reference tables (small, hand-made so that pinyin and traditional forms are known)

# city, English, province, province (English), area code, ID-number region prefix, districts
CITIES = [
    ("北京", "Beijing", "北京市", "Beijing", "010", "110105", ["朝阳区", "海淀区", "东城区", "丰台区"]),
    ("上海", "Shanghai", "上海市", "Shanghai", "021", "310115", ["浦东新区", "徐汇区", "静安区", "闵行区"]),
    ("广州", "Guangzhou", "广东省", "Guangdong", "020", "440106", ["天河区", "越秀区", "海珠区", "番禺区"]),
    ("深圳", "Shenzhen", "广东省", "Guangdong", "0755", "440304", ["南山区", "福田区", "宝安区", "龙岗区"]),
    ("杭州", "Hangzhou", "浙江省", "Zhejiang", "0571", "330106", ["西湖区", "滨江区", "拱墅区", "余杭区"]),
    ("南京", "Nanjing", "江苏省", "Jiangsu", "025", "320102", ["玄武区", "鼓楼区", "建邺区", "江宁区"]),
    ("苏州", "Suzhou", "江苏省", "Jiangsu", "0512", "320508", ["姑苏区", "工业园区", "吴中区", "虎丘区"]),
    ("成都", "Chengdu", "四川省", "Sichuan", "028", "510104", ["锦江区", "武侯区", "高新区", "成华区"]),
    ("武汉", "Wuhan", "湖北省", "Hubei", "027", "420102", ["江岸区", "武昌区", "洪山区", "汉阳区"]),
    ("西安", "Xi'an", "陕西省", "Shaanxi", "029", "610113", ["雁塔区", "碑林区", "未央区", "长安区"]),
    ("天津", "Tianjin", "天津市", "Tianjin", "022", "120101", ["和平区", "河西区", "南开区", "滨海新区"]),
    ("重庆", "Chongqing", "重庆市", "Chongqing", "023", "500103", ["渝中区", "江北区", "南岸区", "渝北区"]),
]
CITY_WEIGHTS = [14, 16, 10, 12, 8, 6, 6, 7, 6, 5, 5, 5]
MUNICIPALITIES = {"北京", "上海", "天津", "重庆"}

# surname -> (pinyin, traditional form or "")
SURNAMES = [
    ("王", "wang", ""), ("李", "li", ""), ("张", "zhang", "張"), ("刘", "liu", "劉"), ("陈", "chen", "陳"),
    ("杨", "yang", "楊"), ("黄", "huang", "黃"), ("赵", "zhao", "趙"), ("吴", "wu", "吳"), ("周", "zhou", ""),
    ("徐", "xu", ""), ("孙", "sun", "孫"), ("马", "ma", "馬"), ("朱", "zhu", ""), ("胡", "hu", ""),
    ("郭", "guo", ""), ("何", "he", ""), ("高", "gao", ""), ("林", "lin", ""), ("罗", "luo", "羅"),
    ("郑", "zheng", "鄭"), ("梁", "liang", ""), ("谢", "xie", "謝"), ("宋", "song", ""), ("唐", "tang", ""),
    ("许", "xu", "許"), ("韩", "han", "韓"), ("冯", "feng", "馮"), ("邓", "deng", "鄧"), ("曹", "cao", ""),
    ("彭", "peng", ""), ("曾", "zeng", ""), ("肖", "xiao", ""), ("田", "tian", ""), ("董", "dong", ""),
    ("袁", "yuan", ""), ("潘", "pan", ""), ("蒋", "jiang", "蔣"), ("蔡", "cai", ""), ("余", "yu", ""),
    ("叶", "ye", "葉"), ("程", "cheng", ""), ("魏", "wei", ""), ("苏", "su", "蘇"), ("吕", "lyu", "呂"),
    ("丁", "ding", ""), ("沈", "shen", ""), ("姚", "yao", ""), ("卢", "lu", "盧"), ("钟", "zhong", "鍾"),
    ("崔", "cui", ""), ("谭", "tan", "譚"), ("陆", "lu", "陸"), ("范", "fan", ""), ("欧阳", "ouyang", "歐陽"),
]
SURNAME_WEIGHTS = [30, 30, 28, 20, 18] + [6] * 15 + [3] * 35
SURNAME_PY = {s: py for s, py, _ in SURNAMES}

# given-name character -> (pinyin, traditional form or ""); names are built as
# single character (伟, 娜) or first + second (建国, 晓东, 秀英) from the lists below.
CHARS = {
    "伟": ("wei", "偉"), "强": ("qiang", "強"), "磊": ("lei", ""), "军": ("jun", "軍"), "勇": ("yong", ""),
    "杰": ("jie", "傑"), "涛": ("tao", "濤"), "斌": ("bin", ""), "超": ("chao", ""), "明": ("ming", ""),
    "刚": ("gang", "剛"), "平": ("ping", ""), "辉": ("hui", "輝"), "鹏": ("peng", "鵬"), "华": ("hua", "華"),
    "飞": ("fei", "飛"), "鑫": ("xin", ""), "波": ("bo", ""), "宇": ("yu", ""), "浩": ("hao", ""),
    "凯": ("kai", "凱"), "健": ("jian", ""), "俊": ("jun", ""), "建": ("jian", ""), "国": ("guo", "國"),
    "志": ("zhi", ""), "文": ("wen", ""), "东": ("dong", "東"), "海": ("hai", ""), "龙": ("long", "龍"),
    "峰": ("feng", ""), "亮": ("liang", ""), "林": ("lin", ""), "洋": ("yang", ""), "辰": ("chen", ""),
    "轩": ("xuan", "軒"), "博": ("bo", ""), "家": ("jia", ""), "振": ("zhen", ""), "永": ("yong", ""),
    "德": ("de", ""), "立": ("li", ""), "天": ("tian", ""), "子": ("zi", ""), "成": ("cheng", ""),
    "小": ("xiao", ""), "晓": ("xiao", "曉"), "嘉": ("jia", ""), "新": ("xin", ""), "春": ("chun", ""),
    "芳": ("fang", ""), "娜": ("na", ""), "敏": ("min", ""), "静": ("jing", "靜"), "丽": ("li", "麗"),
    "艳": ("yan", "艷"), "娟": ("juan", ""), "霞": ("xia", ""), "秀": ("xiu", ""), "婷": ("ting", ""),
    "玲": ("ling", ""), "英": ("ying", ""), "红": ("hong", "紅"), "梅": ("mei", ""), "琳": ("lin", ""),
    "雪": ("xue", ""), "慧": ("hui", ""), "颖": ("ying", "穎"), "佳": ("jia", ""), "倩": ("qian", ""),
    "莉": ("li", ""), "萍": ("ping", ""), "燕": ("yan", ""), "洁": ("jie", "潔"), "欣": ("xin", ""),
    "怡": ("yi", ""), "晶": ("jing", ""), "璐": ("lu", ""), "兰": ("lan", "蘭"), "云": ("yun", "雲"),
    "琪": ("qi", ""), "悦": ("yue", ""), "涵": ("han", ""), "妍": ("yan", ""), "美": ("mei", ""),
    "玉": ("yu", ""), "思": ("si", ""), "雨": ("yu", ""), "婉": ("wan", ""), "梦": ("meng", "夢"),
    "诗": ("shi", "詩"),
}
GIVEN = {  # gender -> (single-character names, first characters, second characters)
    "男": ("伟强磊军勇杰涛斌超刚平辉鹏飞鑫波宇浩凯健俊峰亮", "建志国文海小晓子天俊宇浩明家振永德立嘉新春成东",
          "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊东龙峰林洋亮辰轩博"),
    "女": ("芳娜敏静丽艳娟霞婷玲红梅琳雪慧颖倩莉萍燕洁欣晶璐", "秀丽晓小雪佳慧美玉春思雨婉欣静梦诗海文红",
          "芳娜敏静丽艳娟霞英婷玲红梅琳雪慧颖倩莉萍燕洁怡晶璐兰云琪悦涵妍"),
}
TRAD = {s: t for s, _, t in SURNAMES if t} | {c: t for c, (_, t) in CHARS.items() if t}

# brand -> pinyin; industry -> (English, e-mail domain word)
BRANDS = {
    "腾飞": "tengfei", "华信": "huaxin", "宏达": "hongda", "恒通": "hengtong", "金桥": "jinqiao",
    "新锐": "xinrui", "瑞丰": "ruifeng", "远航": "yuanhang", "天成": "tiancheng", "博远": "boyuan",
    "汇智": "huizhi", "星辰": "xingchen", "联创": "lianchuang", "嘉禾": "jiahe", "鼎盛": "dingsheng",
    "海纳": "haina", "九州": "jiuzhou", "锦程": "jincheng", "启明": "qiming", "蓝海": "lanhai",
    "智达": "zhida", "弘毅": "hongyi", "凌云": "lingyun", "泰和": "taihe", "众诚": "zhongcheng",
    "同创": "tongchuang", "万通": "wantong", "卓越": "zhuoyue", "永盛": "yongsheng", "信诚": "xincheng",
    "中联": "zhonglian", "东方": "dongfang", "华瑞": "huarui", "润泽": "runze", "安捷": "anjie",
    "思远": "siyuan", "德辉": "dehui", "佳和": "jiahe", "越秀": "yuexiu", "明宇": "mingyu",
}
INDUSTRIES = {
    "科技": ("Technology", "tech"), "信息技术": ("Information Technology", "it"),
    "电子": ("Electronics", "elec"), "机械": ("Machinery", "mach"), "贸易": ("Trading", "trade"),
    "网络科技": ("Network Technology", "net"), "软件": ("Software", "soft"),
    "自动化设备": ("Automation Equipment", "auto"), "新材料": ("New Materials", "material"),
    "物流": ("Logistics", "logistics"), "医疗器械": ("Medical Devices", "med"),
    "环保科技": ("Environmental Technology", "eco"), "精密制造": ("Precision Manufacturing", "precision"),
    "电气": ("Electric", "electric"),
}
# Chinese title -> English, with weights (purchasing and sales people go to trade shows)
TITLES = [
    ("销售经理", "Sales Manager", 10), ("采购经理", "Purchasing Manager", 10),
    ("总经理", "General Manager", 5), ("技术总监", "Technical Director", 4), ("工程师", "Engineer", 8),
    ("市场专员", "Marketing Specialist", 6), ("财务主管", "Finance Supervisor", 3),
    ("行政主管", "Admin Supervisor", 3), ("项目经理", "Project Manager", 7),
    ("产品经理", "Product Manager", 5), ("采购主管", "Purchasing Supervisor", 6),
    ("副总经理", "Deputy General Manager", 3),
    ("董事长", "Chairman", 1), ("人事经理", "HR Manager", 3), ("运营总监", "Operations Director", 2),
    ("客户经理", "Account Manager", 6), ("高级工程师", "Senior Engineer", 4),
]
ESTATES = ["阳光花园", "锦绣家园", "翠苑", "世纪新城", "金色家园", "绿地小区", "华府名苑", "湖畔佳苑",
           "幸福里", "紫荆苑"]
TOWERS = ["国际大厦", "科技大厦", "创业园", "商务中心", "软件园", "产业园", "金融中心", "广场"]
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                   "155", "156", "157", "158", "159", "166", "173", "177", "180", "181", "182", "183",
                   "185", "186", "187", "188", "189", "191", "198", "199"]
PERSONAL_DOMAINS = [("qq.com", 40), ("163.com", 20), ("126.com", 8), ("gmail.com", 8), ("sina.com", 5),
                    ("hotmail.com", 5), ("foxmail.com", 6), ("outlook.com", 5), ("139.com", 3)]
TYPO_DOMAINS = {"qq.com": ["qq.con", "qq.cm", "qq.co"], "gmail.com": ["gmial.com", "gmail.con"],
                "163.com": ["163.con", "163.cm", "136.com"], "126.com": ["126.con"],
                "hotmail.com": ["hotmial.com", "hotmail.co"], "sina.com": ["sina.cn.com"],
                "foxmail.com": ["foxmial.com"], "outlook.com": ["outlok.com"], "139.com": ["139.con"]}


# ---------------------------------------------------------------------------------------
# The population


@dataclass
class Company:
    brand: str
    industry: str
    city: tuple
    switchboard: str  # "021-58881234"
    domain: str
    address: str
    full: str = ""
    english: str = ""

    def variant(self) -> str:
        """The company as a person or a clerk writes it: official name, short forms, English."""
        city = self.city[0]
        short = f"{self.brand}{self.industry}"
        options = [
            (self.full, 50), (f"{short}（{city}）", 12), (short, 12), (f"{city}{short}有限公司", 8),
            (f"{short}({city})有限公司", 5), (self.full + " ", 3),
            (self.full.replace("有限公司", "有限责任公司"), 4),
            (f"{city}{self.brand}", 3), (self.english, 3),
        ]
        return pick(options)


@dataclass
class Person:
    pid: str
    name: str  # as on the ID card
    surname: str
    given: str
    sur_py: str
    given_py: str
    gender: str  # 男 / 女
    birth: dt.date
    national_id: str
    mobile: str
    city: tuple
    district: str
    home_address: str
    personal_email: str
    mobile2: str = ""
    home_phone: str = ""
    company: Company | None = None
    extension: str = ""
    title: str = ""
    title_en: str = ""
    work_email: str = ""
    foreign: bool = False
    english_name: str = ""  # "David" on a name card
    old_company: Company | None = None  # a previous employer, as a bought list still has it
    channels: list[str] = field(default_factory=list)


def pick(options: list[tuple]) -> object:
    values, weights = zip(*options, strict=True)
    return rng.choices(values, weights=weights)[0]


_used_numbers: set[str] = set()


def new_mobile() -> str:
    while True:
        m = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        # numbers like 13800138000 belong to operators' service lines: stay clear of them
        if m not in _used_numbers and not re.search(r"(\d)\1{4}", m):
            _used_numbers.add(m)
            return m


def new_landline(city: tuple, lead: str = "") -> str:
    lead = lead or rng.choice("2345678")  # Chinese local numbers never start with 0 or 1
    while True:
        n = f"{city[4]}-{lead}{rng.randrange(10 ** (8 - len(lead))):0{8 - len(lead)}d}"
        if n not in _used_numbers:
            _used_numbers.add(n)
            return n


def id_check_digit(first17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]


_used_ids: set[str] = set()


def new_national_id(city: tuple, birth: dt.date, gender: str) -> str:
    while True:
        seq = rng.randrange(0, 500) * 2 + (1 if gender == "男" else 0)  # 17th digit: odd = male
        first17 = f"{city[5]}{birth:%Y%m%d}{seq:03d}"
        if first17 not in _used_ids:
            _used_ids.add(first17)
            return first17 + id_check_digit(first17)


def random_date(start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def random_city() -> tuple:
    return rng.choices(CITIES, weights=CITY_WEIGHTS)[0]


def street_address(city: tuple, district: str) -> str:
    return f"{district}{fake_cn.street_name()}{rng.randint(1, 999)}号"


def home_address(city: tuple, district: str) -> str:
    return (f"{street_address(city, district)}{rng.choice(ESTATES)}"
            f"{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元{rng.randint(1, 32)}{rng.randint(1, 4):02d}室")


_used_companies: set[str] = set()
_used_domains: set[str] = set()


def make_company(city: tuple | None = None, brand: str | None = None, industry: str | None = None,
                 switchboard_lead: str = "") -> Company:
    city = city or random_city()
    while True:
        b = brand or rng.choice(list(BRANDS))
        ind = industry or rng.choice(list(INDUSTRIES))
        full = (f"{city[0]}{b}{ind}有限公司" if city[0] in MUNICIPALITIES or rng.random() < 0.3
                else f"{city[0]}市{b}{ind}有限公司")
        if full not in _used_companies:
            break
        brand = industry = None
    _used_companies.add(full)
    en_ind, dom_word = INDUSTRIES[ind]
    domain = f"{BRANDS[b]}-{dom_word}.{rng.choice(['com', 'com.cn', 'cn'])}"
    if domain in _used_domains:
        domain = f"{BRANDS[b]}{city[1].lower().replace(chr(39), '')}.com"
    _used_domains.add(domain)
    district = rng.choice(city[6])
    province = "" if city[0] in MUNICIPALITIES else city[2]
    tower = f"{rng.choice(['', b, '新世纪', '环球', '国贸'])}{rng.choice(TOWERS)}"
    address = f"{province}{city[0]}市{street_address(city, district)}{tower}{rng.randint(2, 28)}层"
    c = Company(b, ind, city, new_landline(city, switchboard_lead), domain, address)
    c.full = full
    c.english = f"{city[1]} {BRANDS[b].capitalize()} {en_ind} Co., Ltd."
    return c


_used_emails: set[str] = set()


def unique_email(local: str, domain: str) -> str:
    email, k = f"{local}@{domain}", 1
    while email in _used_emails:
        k += 1
        email = f"{local}{k}@{domain}"
    _used_emails.add(email)
    return email


def personal_email(sur_py: str, given_py: str, birth: dt.date) -> str:
    domain = pick(PERSONAL_DOMAINS)
    if domain == "qq.com" and rng.random() < 0.5:
        return unique_email(str(rng.randrange(10**7, 3 * 10**9)), domain)  # QQ number mail
    local = pick([(f"{sur_py}{given_py}", 3), (f"{sur_py}{given_py}{birth:%y}", 3),
                  (f"{given_py}.{sur_py}", 2), (f"{sur_py}_{given_py}{rng.randint(1, 999)}", 2),
                  (f"{sur_py[0]}{given_py}{birth:%m%d}", 2)])
    return unique_email(local, domain)


def make_name(gender: str, surname: str | None = None, given: str | None = None) -> tuple[str, str, str, str]:
    if surname is None:
        surname = rng.choices([s for s, _, _ in SURNAMES], weights=SURNAME_WEIGHTS)[0]
    if given is None:
        singles, firsts, seconds = GIVEN[gender]
        if rng.random() < 0.3:
            given = rng.choice(singles)
        else:
            given = rng.choice(firsts) + rng.choice(seconds)
            given = given if given[0] != given[1] else given[0]
    given_py = "".join(CHARS[c][0] for c in given)
    return surname + given, surname, given, given_py


def make_person(pid: str, *, gender: str | None = None, surname: str | None = None, given: str | None = None,
                city: tuple | None = None, birth_years: tuple[int, int] = (1958, 2003),
                company: Company | None | bool = True) -> Person:
    gender = gender or rng.choice("男女")
    name, surname, given, given_py = make_name(gender, surname, given)
    city = city or random_city()
    birth = random_date(dt.date(birth_years[0], 1, 1), dt.date(birth_years[1], 12, 28))
    id_city = city if rng.random() < 0.6 else random_city()  # many people live far from their birthplace
    district = rng.choice(city[6])
    p = Person(pid, name, surname, given, SURNAME_PY[surname], given_py, gender, birth,
               new_national_id(id_city, birth, gender), new_mobile(), city, district,
               home_address(city, district), personal_email(SURNAME_PY[surname], given_py, birth))
    if rng.random() < 0.15:
        p.mobile2 = new_mobile()
    if company is not False:
        attach_job(p, company if isinstance(company, Company) else None)
    return p


def attach_job(p: Person, company: Company | None) -> None:
    p.company = company
    p.title, p.title_en = pick([((t, e), w) for t, e, w in TITLES])
    p.extension = str(rng.randint(100, 8999)) if rng.random() < 0.6 else ""
    if company:
        local = pick([(f"{p.given_py}.{p.sur_py}", 3), (f"{p.sur_py}{p.given_py}", 3),
                      (f"{p.sur_py[0]}{p.given_py}", 1), (f"{p.given_py[0]}{p.sur_py}", 2)])
        p.work_email = unique_email(local, company.domain)


def make_foreigner(pid: str, company: Company) -> Person:
    first, last = fake_en.first_name(), fake_en.last_name()
    gender = rng.choice("男女")
    city = company.city
    birth = random_date(dt.date(1960, 1, 1), dt.date(1995, 12, 28))
    p = Person(pid, f"{first} {last}", last, first, last.lower(), first.lower(), gender, birth, "",
               new_mobile(), city, rng.choice(city[6]), "", "", foreign=True)
    p.district = rng.choice(city[6])
    p.home_address = home_address(city, p.district)
    p.personal_email = unique_email(f"{first}.{last}".lower(), fake_en.free_email_domain())
    attach_job(p, company)
    p.work_email = unique_email(f"{first[0]}{last}".lower(), company.domain)
    return p


@dataclass
class Population:
    people: list[Person]
    companies: list[Company]
    hard_negatives: dict[str, list[str]]


def build_population() -> Population:
    companies = [make_company() for _ in range(110)]
    people: list[Person] = []
    hard: dict[str, list[str]] = {}

    def pid() -> str:
        return f"P{len(people) + 1:04d}"

    beijing = CITIES[0]
    # Hard negative 1: two different 王伟 in 北京 (different birth years, phones, employers).
    wang_a = make_person(pid(), gender="男", surname="王", given="伟", city=beijing, birth_years=(1978, 1982),
                         company=make_company(beijing, "宏达", "机械"))
    people.append(wang_a)
    wang_b = make_person(pid(), gender="男", surname="王", given="伟", city=beijing, birth_years=(1990, 1994),
                         company=make_company(beijing, "星辰", "软件"))
    people.append(wang_b)
    for p in (wang_a, wang_b):
        p.mobile2 = ""
    hard["two different 王伟 in 北京"] = [wang_a.pid, wang_b.pid]

    # Hard negative 2: colleagues at one company share its switchboard number.
    huaxin = make_company(CITIES[1], "华信", "自动化设备", switchboard_lead="5888")
    tengfei = make_company(CITIES[3], "腾飞", "科技", switchboard_lead="8600")
    tengfei.full = "深圳市腾飞科技有限公司"
    _used_companies.add(tengfei.full)
    companies += [huaxin, tengfei]
    group = []
    for co, n in ((huaxin, 4), (tengfei, 3)):
        for _ in range(n):
            p = make_person(pid(), company=co, city=co.city)
            people.append(p)
            group.append(p.pid)
    hard["colleagues sharing a switchboard (上海华信 021-5888…, 深圳腾飞 0755-8600…)"] = group

    # Hard negative 3: families sharing a home landline and address.
    fam = []
    for city, members in ((CITIES[2], [("男", "陈", "建国", (1960, 1964)), ("女", "刘", "秀英", (1961, 1965)),
                                       ("男", "陈", "晓东", (1988, 1992))]),
                          (CITIES[7], [("男", "杨", "志强", (1975, 1980)),
                                       ("女", "黄", "丽", (1977, 1982))])):
        landline = new_landline(city)
        district = rng.choice(city[6])
        address = home_address(city, district)
        for gender, sur, given, years in members:
            p = make_person(pid(), gender=gender, surname=sur, given=given, city=city, birth_years=years)
            p.district, p.home_address, p.home_phone = district, address, landline
            people.append(p)
            fam.append(p.pid)
    hard["families sharing a home landline and address (广州 陈家, 成都 杨/黄)"] = fam

    # Everyone else: most employed at one of the companies; a few expats; some with a home phone.
    foreign_left = 12
    while len(people) < POPULATION:
        if foreign_left and rng.random() < 0.04:
            foreign_left -= 1
            people.append(make_foreigner(pid(), rng.choice(companies)))
            continue
        r = rng.random()
        co: Company | None | bool = rng.choice(companies) if r < 0.82 else (None if r < 0.9 else False)
        near_work = isinstance(co, Company) and rng.random() < 0.8
        p = make_person(pid(), company=co, city=co.city if near_work else None)
        if co is None:  # self-employed / not stated: a faker job title
            p.title, p.title_en = fake_cn.job(), ""
        if rng.random() < 0.12:
            p.home_phone = new_landline(p.city)
        if p.company and rng.random() < 0.12:
            p.old_company = rng.choice(companies)
        people.append(p)
    return Population(people, companies, hard)


# ---------------------------------------------------------------------------------------
# How each channel writes things


def fmt_mobile_typed(m: str) -> str:
    """A mobile number as people type it into a web form."""
    style = pick([("plain", 50), ("space", 12), ("dash", 8), ("+86-", 6), ("+86 sp", 5), ("86", 3),
                  ("(+86)", 3), ("fullwidth", 4), ("0086", 2), ("trail", 3)])
    a, b, c = m[:3], m[3:7], m[7:]
    return {
        "plain": m, "space": f"{a} {b} {c}", "dash": f"{a}-{b}-{c}", "+86-": f"+86-{m}",
        "+86 sp": f"+86 {a} {b} {c}", "86": f"86{m}", "(+86)": f"(+86){m}", "0086": f"0086 {m}",
        "fullwidth": to_fullwidth(m), "trail": f" {m} ",
    }[style]


def fmt_landline(n: str, ext: str = "") -> str:
    area, local = n.split("-")
    style = pick([("dash", 40), ("plain", 15), ("paren", 15), ("space", 10), ("intl", 5)])
    s = {"dash": n, "plain": area + local, "paren": f"({area}){local}",
         "space": f"{area} {local[:4]} {local[4:]}", "intl": f"+86 {area[1:]} {local}"}[style]
    if ext:
        s += pick([(f"转{ext}", 5), (f"-{ext}", 3), (f" ext.{ext}", 1), (f" 分机{ext}", 1)])
    return s


def typo_email(email: str) -> str:
    local, domain = email.split("@")
    kind = pick([("domain", 55), ("upper", 12), ("space", 10), ("fullwidth_at", 8), ("comma", 5),
                 ("double_at", 5), ("no_at", 5)])
    if kind == "domain":
        return f"{local}@{rng.choice(TYPO_DOMAINS.get(domain, [domain.replace('.com', '.con')]))}"
    return {"upper": email.upper(), "space": f" {email} ", "fullwidth_at": f"{local}＠{domain}",
            "comma": f"{local}@{domain.replace('.', ',', 1)}", "double_at": f"{local}@@{domain}",
            "no_at": f"{local}{domain}"}[kind]


def to_fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def spaced_name(name: str) -> str:
    return pick([(" ".join(name), 3), (name[:1] + "\u3000" + name[1:], 2), (name + " ", 1)])


def to_traditional(name: str) -> str:
    return "".join(TRAD.get(ch, ch) for ch in name)


def pinyin_name(p: Person, style: str) -> str:
    sur, given = p.sur_py.capitalize(), p.given_py.capitalize()
    return {"given_first": f"{given} {sur}", "sur_first": f"{sur} {given}",
            "upper_comma": f"{sur.upper()}, {given}",
            "upper": f"{sur.upper()} {given.upper()}", "lower": f"{p.sur_py} {p.given_py}"}[style]


def fmt_date(d: dt.date, style: str) -> str:
    return {"iso": d.isoformat(), "slash": f"{d.year}/{d.month}/{d.day}",
            "cn": f"{d.year}年{d.month}月{d.day}日",
            "compact": f"{d:%Y%m%d}", "dot": f"{d:%Y.%m.%d}"}[style]


def city_text(city: tuple) -> str:
    return pick([(city[0], 6), (city[0] + "市", 3), (city[1], 1)])


def random_datetime(start: dt.date, end: dt.date, hours: tuple[int, int] = (8, 22)) -> dt.datetime:
    d = random_date(start, end)
    return dt.datetime(d.year, d.month, d.day, rng.randint(*hours), rng.randrange(60), rng.randrange(60))


# ---------------------------------------------------------------------------------------
# Channel membership


CHANNEL_P = {"crm": 0.55, "web_form": 0.5, "call_center": 0.45, "trade_show": 0.45, "purchased_list": 0.35}


def assign_channels(pop: Population) -> None:
    """Each person appears in some channels; the hard negatives appear where they can collide."""
    forced = {
        "two different 王伟 in 北京": ["web_form", "call_center", "crm", "trade_show"],
    }
    by_pid = {p.pid: p for p in pop.people}
    for label, pids in pop.hard_negatives.items():
        for pid in pids:
            p = by_pid[pid]
            if label in forced:
                p.channels = list(forced[label])
            elif label.startswith("colleagues"):
                others = [c for c in ("crm", "call_center", "web_form") if rng.random() < 0.5]
                p.channels = ["trade_show", *others]
            else:  # families: they call from home, and a bought list has the home number
                p.channels = ["call_center", "purchased_list"] + (["web_form"] if rng.random() < 0.5 else [])
    for p in pop.people:
        if p.channels:
            continue
        p.channels = [ch for ch, prob in CHANNEL_P.items() if rng.random() < prob]
        if p.foreign and "call_center" in p.channels:
            p.channels.remove("call_center")  # the hotline is Chinese-speaking
        if not p.channels:
            p.channels = [rng.choice(["web_form", "crm", "trade_show", "purchased_list"])]
        if p.company is None and "trade_show" in p.channels:
            p.channels.remove("trade_show")  # a name card needs an employer
            if not p.channels:
                p.channels = ["web_form"]


def family_pids(pop: Population) -> set[str]:
    return {pid for label, pids in pop.hard_negatives.items() if label.startswith("families") for pid in pids}


def within_channel_repeats(pop: Population, channel: str, n: int) -> list[Person]:
    """People who appear twice in the same export (submitted twice, called twice, two cards...)."""
    excluded = {pid for label, pids in pop.hard_negatives.items() if "王伟" in label for pid in pids}
    candidates = [p for p in pop.people if channel in p.channels and p.pid not in excluded]
    return rng.sample(candidates, n)


# ---------------------------------------------------------------------------------------
# The five exports. Each returns (rows, truth) where truth rows are (sheet, person_id).


WEB_HEADERS = ["姓名", "手机号", "邮箱", "性别", "出生日期", "所在城市", "公司名称", "职位", "提交时间",
               "备注", "是否接受营销"]
WEB_NOTES = ["", "", "", "", "", "想了解产品报价", "请发资料到邮箱", "工作日联系", "参加3月线上研讨会",
             "希望试用",
             "朋友推荐", "已有合同，咨询续费", "请勿电话打扰", "想了解代理政策", "下载白皮书"]


def web_form_rows(pop: Population) -> tuple[list[list[str]], list[str]]:
    entries: list[tuple[dt.datetime, list[str], str]] = []
    repeats = within_channel_repeats(pop, "web_form", 6)
    people = [p for p in pop.people if "web_form" in p.channels] + repeats
    for p in people:
        if p.foreign:
            name = p.name
        else:
            name = pick([(p.name, 84), (spaced_name(p.name), 7), (pinyin_name(p, "lower"), 3),
                         (pinyin_name(p, "sur_first"), 2), (p.name + " ", 4)])
        mobile = fmt_mobile_typed(p.mobile2 if p.mobile2 and rng.random() < 0.3 else p.mobile)
        email = p.personal_email if not p.work_email or rng.random() < 0.7 else p.work_email
        if rng.random() < 0.12:
            email = typo_email(email)
        if rng.random() < 0.08:
            email = ""
        if rng.random() < 0.05:
            mobile = ""
        gender = pick([(p.gender, 60), ("M" if p.gender == "男" else "F", 5),
                       ("先生" if p.gender == "男" else "女士", 4), ("", 31)])
        birth = "" if rng.random() < 0.3 else fmt_date(p.birth, pick([("iso", 45), ("slash", 25), ("cn", 15),
                                                                       ("compact", 10), ("dot", 5)]))
        company = p.company.variant() if p.company and rng.random() < 0.8 else ""
        if email and rng.random() < 0.03:  # typed with the IME in full-width mode
            email = to_fullwidth(email)
        title = p.title if rng.random() < 0.75 else ""
        when = random_datetime(dt.date(2025, 6, 1), dt.date(2026, 2, 28))
        consent = pick([("是", 45), ("否", 25), ("", 20), ("Y", 4), ("N", 3), ("同意", 3)])
        row = [name, mobile, email, gender, birth, city_text(p.city) if rng.random() < 0.85 else "",
               company, title, "", rng.choice(WEB_NOTES), consent]
        entries.append((when, row, p.pid))
    # Rows with nothing usable: bots and test submissions; they must be quarantined, not dropped.
    for note in ("测试", "test", "", "asdf"):
        when = random_datetime(dt.date(2025, 6, 1), dt.date(2026, 2, 28))
        gender, city = pick([("", 3), ("男", 1)]), rng.choice(["", "上海", "北京"])
        row = ["", "", "", gender, "", city, "", "", "", note, ""]
        entries.append((when, row, ""))
    entries.sort(key=lambda e: e[0])
    rows, truth = [], []
    for when, row, pid in entries:
        short = f"{when.year}/{when.month}/{when.day} {when:%H:%M}"
        row[8] = when.strftime("%Y-%m-%d %H:%M:%S") if rng.random() < 0.8 else short
        rows.append(row)
        truth.append(pid)
    return rows, truth


CALL_HEADERS = ["工单号", "客户姓名", "来电号码", "联系电话", "来电日期", "地址", "身份证号", "备注", "坐席"]
CALL_NOTES = [("咨询产品价格", 10), ("咨询售后维修", 8), ("要求回电", 6), ("投诉物流慢", 4), ("咨询发票", 4),
              ("修改收货地址", 3), ("询问订单进度", 6), ("", 20), ("客户要求退订短信", 3), ("不接受营销", 3),
              ("已退订，勿再推送", 2), ("要求不再来电推销", 2), ("预约上门安装", 3), ("咨询会员积分", 3)]


def call_name(p: Person) -> str:
    hon = "先生" if p.gender == "男" else "女士"
    style = pick([("plain", 62), ("paren", 8), ("fw_paren", 6), ("surname_only", 8), ("suffix", 4),
                  ("trad", 8), ("boss", 2), ("space", 2)])
    return {"plain": p.name, "paren": f"{p.name} ({hon})", "fw_paren": f"{p.name}（{hon}）",
            "surname_only": f"{p.surname}{hon}", "suffix": f"{p.name}{hon}", "trad": to_traditional(p.name),
            "boss": f"{p.surname}总", "space": f"{p.name} "}[style]


def call_mobile(m: str) -> str:
    # Caller ID from the switch: a 0 in front of out-of-town mobiles, sometimes +86 / 0086.
    return pick([(m, 60), ("0" + m, 15), ("+86" + m, 8), ("0086" + m, 4), (f"{m[:3]}-{m[3:7]}-{m[7:]}", 3)])


def call_address(p: Person) -> str:
    city = p.city
    prov = "" if city[0] in MUNICIPALITIES else city[2]
    return pick([(f"{prov}{city[0]}市{p.home_address}", 40), (f"{city[0]}{p.home_address}", 30),
                 (f"{city[0]}市{p.home_address}".replace("号", "号 "), 10), (p.home_address, 20)])


def call_center_rows(pop: Population) -> tuple[list[list[str]], list[str]]:
    entries = []
    repeats = within_channel_repeats(pop, "call_center", 6)
    bad_id_left = 7
    family = family_pids(pop)
    for p in [q for q in pop.people if "call_center" in q.channels] + repeats:
        caller, contact = "", ""
        r = rng.random()
        if p.home_phone and (r < 0.75 or p.pid in family):
            caller = fmt_landline(p.home_phone)
            contact = rng.choice(["", p.mobile])
        elif p.company and r < 0.25:
            caller = fmt_landline(p.company.switchboard, p.extension if rng.random() < 0.5 else "")
            contact = p.mobile if rng.random() < 0.6 else ""
        else:
            caller = call_mobile(p.mobile)
            contact = pick([("", 45), (p.mobile, 30), (p.mobile2 or p.mobile, 10),
                            (f"{p.mobile[:3]} {p.mobile[3:7]} {p.mobile[7:]}", 10), (p.home_phone or "", 5)])
        nid = ""
        if p.national_id and rng.random() < 0.55:
            nid = p.national_id
            if bad_id_left and rng.random() < 0.08:  # one digit mistyped: the check digit no longer fits
                bad_id_left -= 1
                i = rng.randrange(6, 17)
                nid = nid[:i] + str((int(nid[i]) + rng.randint(1, 9)) % 10) + nid[i + 1:]
            elif nid.endswith("X") and rng.random() < 0.5:
                nid = nid[:-1] + "x"
            elif rng.random() < 0.04:
                nid = "\t" + nid  # the export trick that stops Excel from turning it into 1.1E+17
        when = random_datetime(dt.date(2025, 3, 1), dt.date(2026, 2, 28))
        note = pick(CALL_NOTES)
        address = call_address(p) if rng.random() < 0.8 else ""
        row = ["", call_name(p), caller, contact, "", address, nid, note, f"工号{rng.randint(1001, 1040)}"]
        entries.append((when, row, p.pid))
    for note in ("来电号码隐藏，未留姓名", "对方未说话挂断"):  # nothing usable: quarantined
        entries.append((random_datetime(dt.date(2025, 3, 1), dt.date(2026, 2, 28)),
                        ["", "", "", "", "", "", "", note, f"工号{rng.randint(1001, 1040)}"], ""))
    entries.sort(key=lambda e: e[0])
    rows, truth = [], []
    for i, (when, row, pid) in enumerate(entries, 1):
        row[0] = f"GD{when:%Y%m%d}-{i:04d}"
        row[4] = pick([(when.strftime("%Y-%m-%d %H:%M"), 6), (f"{when.year}/{when.month}/{when.day}", 3),
                       (when.strftime("%Y-%m-%d"), 2)])
        rows.append(row)
        truth.append(pid)
    return rows, truth


TRADE_HEADERS = ["姓名", "公司", "职务", "手机", "电话", "邮箱", "地址"]


def card_mobile(p: Person) -> object:
    """The 手机 cell: often a number cell (the clerk typed digits into Excel), sometimes two mobiles."""
    if p.mobile2 and rng.random() < 0.7:
        sep = pick([("/", 6), (" / ", 2), ("、", 1), ("；", 1)])
        return f"{p.mobile}{sep}{p.mobile2}"
    a, b, c = p.mobile[:3], p.mobile[3:7], p.mobile[7:]
    return pick([(int(p.mobile), 40), (p.mobile, 35), (f"{a} {b} {c}", 10), (f"+86 {a} {b} {c}", 10),
                 (f"{a}-{b}-{c}", 5)])


def card_phone(p: Person) -> object:
    co = p.company
    if rng.random() < 0.2:
        return ""
    if rng.random() < 0.08:
        return int(co.switchboard.split("-")[1])  # typed without the area code, stored as a number
    return fmt_landline(co.switchboard, p.extension if rng.random() < 0.6 else "")


def card_name(p: Person) -> str:
    if p.foreign:
        return pick([(p.name, 8), (p.name.upper(), 1), (f"{p.name} ", 1)])
    if not p.english_name and rng.random() < 0.1:
        p.english_name = fake_en.first_name_male() if p.gender == "男" else fake_en.first_name_female()
    if p.english_name:
        return pick([(f"{p.name} {p.english_name}", 3), (f"{p.english_name} {p.sur_py.capitalize()}", 1),
                     (p.name, 2)])
    return pick([(p.name, 90), (to_traditional(p.name), 4), (spaced_name(p.name), 3),
                 (pinyin_name(p, "given_first"), 3)])


def card_row(p: Person) -> list:
    title = p.title if not p.foreign else p.title_en
    if not p.foreign and rng.random() < 0.12:
        title = f"{p.title_en} / {p.title}"
    email = p.work_email or p.personal_email
    email = "" if rng.random() < 0.12 else (email.upper() if rng.random() < 0.05 else email)
    return [card_name(p), p.company.variant(), title, card_mobile(p), card_phone(p), email,
            p.company.address if rng.random() < 0.75 else ""]


def trade_show_rows(pop: Population) -> dict[str, tuple[list[list], list[str]]]:
    people = [p for p in pop.people if "trade_show" in p.channels]
    rng.shuffle(people)
    repeats = within_channel_repeats(pop, "trade_show", 6)
    day1, day2 = [], []
    for p in people:
        (day1 if rng.random() < 0.6 else day2).append(p)
    # A second card from the same person: on the other day, or twice in the same pile.
    on_day1 = {p.pid for p in day1}
    for k, p in enumerate(repeats):
        first_day, other_day = (day1, day2) if p.pid in on_day1 else (day2, day1)
        target = first_day if k < 2 else other_day
        target.insert(rng.randrange(len(target) + 1), p)
    return {"Day 1": ([card_row(p) for p in day1], [p.pid for p in day1]),
            "Day 2": ([card_row(p) for p in day2], [p.pid for p in day2])}


CRM_HEADERS = ["Customer ID", "First Name", "Last Name", "Mobile", "Email", "Company", "Job Title", "City",
               "Province", "Created At", "Date of Birth"]


def crm_row(p: Person, created: dt.datetime) -> list:
    if p.foreign:
        first, last = p.given, p.surname
    else:
        style = pick([("split", 55), ("upper_last", 10), ("full_in_first", 6), ("comma_in_first", 6),
                      ("syllables", 5), ("chinese", 18)])
        sur, given = p.sur_py.capitalize(), p.given_py.capitalize()
        syll = " ".join(CHARS[c][0].capitalize() for c in p.given)
        first, last = {"split": (given, sur), "upper_last": (given, sur.upper()),
                       "full_in_first": (f"{sur} {given}", ""),
                       "comma_in_first": (f"{sur.upper()}, {given}", ""),
                       "syllables": (syll, sur), "chinese": (p.given, p.surname)}[style]
    mobile = pick([(p.mobile, 70), (f"+86 {p.mobile[:3]} {p.mobile[3:7]} {p.mobile[7:]}", 15),
                   (f"+86{p.mobile}", 5), ("", 10)])
    email = pick([(p.personal_email, 45), (p.work_email or p.personal_email, 45), ("", 10)])
    company = ""
    if p.company:
        company = pick([(p.company.full, 70), (p.company.english, 15), (p.company.variant(), 15)])
    title = "" if rng.random() < 0.15 else ((p.title_en or p.title) if rng.random() < 0.65 else p.title)
    city = pick([(p.city[1], 6), (p.city[0], 2), (p.city[0] + "市", 1), ("", 1)])
    province = pick([(p.city[3], 6), (p.city[2], 2), ("", 2)])
    dob = p.birth if rng.random() < 0.6 else None
    return ["", first, last, mobile, email, company, title, city, province, created, dob]


def crm_rows(pop: Population) -> tuple[list[list], list[str]]:
    entries = []
    repeats = within_channel_repeats(pop, "crm", 4)
    for p in [q for q in pop.people if "crm" in q.channels] + repeats:
        created = random_datetime(dt.date(2019, 1, 1), dt.date(2026, 2, 28), (9, 19))
        entries.append((created, crm_row(p, created), p.pid))
    entries.sort(key=lambda e: e[0])
    rows, truth = [], []
    for i, (_, row, pid) in enumerate(entries, 1):
        row[0] = f"C{100000 + i * 7:07d}"
        rows.append(row)
        truth.append(pid)
    return rows, truth


PURCHASED_HEADERS = ["Name", "Phone", "公司", "City", "行业"]


def purchased_rows(pop: Population) -> tuple[list[list[str]], list[str]]:
    entries = []
    repeats = within_channel_repeats(pop, "purchased_list", 4)
    family = family_pids(pop)
    for p in [q for q in pop.people if "purchased_list" in q.channels] + repeats:
        name = p.name if p.foreign else pick([(p.name, 70), (pinyin_name(p, "sur_first"), 18),
                                               (pinyin_name(p, "upper"), 12)])
        if p.home_phone and (rng.random() < 0.7 or p.pid in family):
            phone = p.home_phone
        else:
            phone = pick([(p.mobile, 80), (new_mobile(), 6), (f"{p.mobile[:3]}****{p.mobile[7:]}", 4),
                          (p.mobile2 or p.mobile, 5), ("", 5)])  # a stale number, a masked one, none
        co = p.old_company if p.old_company and rng.random() < 0.7 else p.company
        company = co.full if co else ""
        industry = co.industry if co else ""
        city = pick([(p.city[0], 5), (p.city[1], 3), ("", 2)])
        entries.append(([name, phone, company, city, industry], p.pid))
    rng.shuffle(entries)  # bought lists come in no useful order
    return [e[0] for e in entries], [e[1] for e in entries]


# ---------------------------------------------------------------------------------------
# Writers


def write_csv(path: Path, headers: list[str], rows: list[list[str]], encoding: str, newline: str) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=newline)
    writer.writerow(headers)
    writer.writerows(rows)
    # strict: a character the encoding cannot hold is a bug in this script, not something to hide
    path.write_bytes(buf.getvalue().encode(encoding, errors="strict"))


def write_trade_show(path: Path, sheets: dict[str, tuple[list[list], list[str]]]) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    for k, (sheet, (rows, _)) in enumerate(sheets.items()):
        ws = wb.create_sheet(sheet)
        title = "2026 上海国际工业博览会 名片汇总" + ("" if k == 0 else "（第二天）")
        ws.append([title])
        ws.append([f"说明：{sheet} 展位 N3-215 收集的名片，市场部 小刘 录入；"
                   "手机号以名片为准，一张名片两个手机的用 / 分隔"])
        ws.append(TRADE_HEADERS)
        for row in rows:
            ws.append(row)
        last = chr(ord("A") + len(TRADE_HEADERS) - 1)
        ws.merge_cells(f"A1:{last}1")
        ws.merge_cells(f"A2:{last}2")
        ws["A1"].font = Font(bold=True, size=14)
        ws["A1"].alignment = Alignment(horizontal="center")
        for cell in ws[3]:
            cell.font = Font(bold=True)
        for col, width in zip("ABCDEFG", (14, 30, 18, 26, 22, 30, 50), strict=True):
            ws.column_dimensions[col].width = width
        ws.freeze_panes = "A4"
    save_workbook(wb, path)


def write_crm(path: Path, rows: list[list]) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Customers"
    ws.append(CRM_HEADERS)
    for row in rows:
        ws.append(row)
    for cells in ws.iter_rows(min_row=2):
        cells[9].number_format = "yyyy-mm-dd hh:mm:ss"
        cells[10].number_format = "yyyy-mm-dd"
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for col, width in zip("ABCDEFGHIJK", (12, 16, 12, 20, 32, 44, 24, 12, 12, 20, 14), strict=True):
        ws.column_dimensions[col].width = width
    save_workbook(wb, path)


def save_workbook(wb: Workbook, path: Path) -> None:
    """Save with fixed document and zip timestamps, so regenerating gives the same bytes."""
    wb.properties.creator = "custinfo samples"
    wb.properties.created = FIXED_DOC_TIME
    wb.properties.modified = FIXED_DOC_TIME
    buf = io.BytesIO()
    wb.save(buf)
    out = io.BytesIO()
    stamp = FIXED_DOC_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps 'modified' with the clock
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>" + stamp.encode() + rb"\2",
                              data)
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, data)
    path.write_bytes(out.getvalue())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                    help="directory to write into (default: samples/)")
    out: Path = ap.parse_args().out
    out.mkdir(parents=True, exist_ok=True)

    pop = build_population()
    assign_channels(pop)

    truth: list[tuple[str, str, int, str]] = []

    def record(file: str, sheet: str, first_row: int, pids: list[str]) -> None:
        truth.extend((file, sheet, first_row + i, pid) for i, pid in enumerate(pids))

    rows, pids = web_form_rows(pop)
    write_csv(out / "web_form.csv", WEB_HEADERS, rows, "utf-8-sig", "\r\n")
    record("web_form.csv", "", 2, pids)

    rows, pids = call_center_rows(pop)
    write_csv(out / "call_center.csv", CALL_HEADERS, rows, "gbk", "\r\n")
    record("call_center.csv", "", 2, pids)

    sheets = trade_show_rows(pop)
    write_trade_show(out / "trade_show.xlsx", sheets)
    for sheet, (_, pids) in sheets.items():
        record("trade_show.xlsx", sheet, 4, pids)  # title row 1, notes row 2, header row 3

    rows, pids = crm_rows(pop)
    write_crm(out / "crm.xlsx", rows)
    record("crm.xlsx", "Customers", 2, pids)

    rows, pids = purchased_rows(pop)
    write_csv(out / "purchased_list.csv", PURCHASED_HEADERS, rows, "utf-8", "\n")
    record("purchased_list.csv", "", 2, pids)

    (out / "truth").mkdir(exist_ok=True)  # apart, so `custinfo ingest samples/*.csv` takes only exports
    write_csv(out / "truth" / "truth.csv", ["file", "sheet", "source_row", "person_id"], truth, "utf-8", "\n")

    seen = {pid for *_, pid in truth if pid}
    print(f"{len(pop.people)} people, {len(seen)} of them in some export; "
          f"{sum(1 for *_, pid in truth if not pid)} unusable rows")
    counts: dict[tuple[str, str], int] = {}
    for file, sheet, _, _ in truth:
        counts[(file, sheet)] = counts.get((file, sheet), 0) + 1
    for (file, sheet), n in counts.items():
        print(f"  {file}{' [' + sheet + ']' if sheet else ''}: {n} rows")
    for label, group in pop.hard_negatives.items():
        print(f"  hard negative: {label}: {', '.join(group)}")


if __name__ == "__main__":
    main()
