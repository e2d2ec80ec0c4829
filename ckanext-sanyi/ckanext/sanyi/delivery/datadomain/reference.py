"""Reference data of the synthetic 荆门 domain: regions, institutions, diagnoses, drugs, exam
and lab items.

Pure data (no CKAN or database import). The generator draws from it; operations resolve an
``institution`` given by name or code with :func:`institution`; the demo lists
``DRUGS`` as the market drugs. Codes follow the shapes real extracts use (GB/T 2260 region
codes, ``H`` + region + serial for institutions, ICD-10, ATC); approval numbers and
manufacturers of the drug list are illustrative.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Region", "Institution", "Drug", "Item", "REGIONS", "INSTITUTIONS", "DIAGNOSES",
           "CHRONIC", "DRUGS", "EXAM_ITEMS", "LAB_ITEMS", "PREFECTURE", "PREFECTURE_POPULATION",
           "institution", "region", "drug", "diagnosis_name", "MAJOR_DISEASE_PREFIXES",
           "is_major_disease"]

PREFECTURE = "荆门市"
PREFECTURE_POPULATION = 2_596_927  # 第七次全国人口普查 (2020)


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    share: float  # of the prefecture's population
    towns: tuple[str, ...]


REGIONS: tuple[Region, ...] = (
    Region("420802", "东宝区", 0.17, ("龙泉街道", "泉口街道", "东宝工业园", "牌楼镇", "仙居乡")),
    Region("420804", "掇刀区", 0.13, ("掇刀石街道", "白庙街道", "团林铺镇", "麻城镇")),
    Region("420882", "京山市", 0.21, ("新市街道", "永兴街道", "宋河镇", "钱场镇", "曹武镇")),
    Region("420881", "钟祥市", 0.33, ("郢中街道", "胡集镇", "洋梓镇", "柴湖镇", "石牌镇")),
    Region("420822", "沙洋县", 0.16, ("沙洋镇", "后港镇", "拾回桥镇", "五里铺镇", "官垱镇")),
)

_REGION = {r.code: r for r in REGIONS}


def region(code: str) -> Region:
    return _REGION[code]


@dataclass(frozen=True)
class Institution:
    code: str
    name: str
    level: str            # 三级甲等 / 二级甲等 / 一级 ...
    kind: str             # hospital / maternity / community / township
    region_code: str
    inpatient: bool = True


INSTITUTIONS: tuple[Institution, ...] = (
    Institution("H42080200001", "市第一人民医院", "三级甲等", "hospital", "420802"),
    Institution("H42080200002", "市第二人民医院", "三级甲等", "hospital", "420802"),
    Institution("H42080200003", "市中医医院", "三级甲等", "hospital", "420802"),
    Institution("H42080400001", "市妇幼保健院", "三级甲等", "maternity", "420804"),
    Institution("H42080200101", "东宝区社区卫生服务中心", "一级", "community", "420802", False),
    Institution("H42080400101", "掇刀区社区卫生服务中心", "一级", "community", "420804", False),
    Institution("H42088200001", "京山市人民医院", "三级乙等", "hospital", "420882"),
    Institution("H42088100001", "钟祥市人民医院", "三级乙等", "hospital", "420881"),
    Institution("H42082200001", "沙洋县人民医院", "二级甲等", "hospital", "420822"),
    Institution("H42080200201", "东宝区牌楼镇卫生院", "一级", "township", "420802"),
    Institution("H42080400201", "掇刀区麻城镇卫生院", "一级", "township", "420804"),
    Institution("H42088200201", "京山市宋河镇卫生院", "一级", "township", "420882"),
    Institution("H42088100201", "钟祥市胡集镇卫生院", "一级", "township", "420881"),
    Institution("H42088100202", "钟祥市柴湖镇卫生院", "一级", "township", "420881"),
    Institution("H42082200201", "沙洋县后港镇卫生院", "一级", "township", "420822"),
)

_INSTITUTION = {i.code: i for i in INSTITUTIONS} | {i.name: i for i in INSTITUTIONS}


def institution(name_or_code: str) -> Institution | None:
    """The institution with this name or code (surrounding spaces ignored), if any."""
    return _INSTITUTION.get(name_or_code.strip()) if isinstance(name_or_code, str) else None


# ICD-10 codes the synthetic domain uses, with their Chinese names (国家临床版 wording).
DIAGNOSES: dict[str, str] = {
    "I10": "特发性（原发性）高血压",
    "E11": "2型糖尿病",
    "E11.9": "2型糖尿病，不伴有并发症",
    "E78.5": "高脂血症",
    "J06.9": "急性上呼吸道感染",
    "J20.9": "急性支气管炎",
    "J18.9": "肺炎",
    "J44.9": "慢性阻塞性肺病",
    "K29.7": "胃炎",
    "K30": "功能性消化不良",
    "A09": "感染性胃肠炎和结肠炎",
    "K35.8": "急性阑尾炎",
    "K80.2": "胆囊结石不伴有胆囊炎",
    "M54.5": "腰痛",
    "M17.9": "膝关节病",
    "N39.0": "泌尿道感染",
    "L30.9": "皮炎",
    "H10.9": "结膜炎",
    "K02.9": "龋病",
    "R51": "头痛",
    "S93.4": "踝关节扭伤",
    "S72.0": "股骨颈骨折",
    "I25.1": "动脉粥样硬化性心脏病",
    "I50.9": "心力衰竭",
    "I63.9": "脑梗死",
    "I61.9": "脑内出血",
    "I21.9": "急性心肌梗死",
    "C34.9": "支气管或肺恶性肿瘤",
    "C16.9": "胃恶性肿瘤",
    "C50.9": "乳房恶性肿瘤",
    "N18.9": "慢性肾脏病",
    "O80": "单胎顺产",
    "O82": "经剖宫产术的单胎分娩",
    "Z34.9": "正常妊娠监督",
    "J35.0": "慢性扁桃体炎",
    "P59.9": "新生儿黄疸",
}

# Registered chronic conditions (患者健康管理): code -> name.
CHRONIC: dict[str, str] = {"I10": "高血压", "E11": "2型糖尿病"}

# ICD-10 prefixes of the diseases 智慧核保 counts as major: cancer C00-C97, stroke I60-I64,
# myocardial infarction I21-I22, renal failure N17-N19.
MAJOR_DISEASE_PREFIXES: tuple[str, ...] = (
    *(f"C{n:02d}" for n in range(0, 98)), "I60", "I61", "I62", "I63", "I64", "I21", "I22",
    "N17", "N18", "N19")


def is_major_disease(code: str) -> bool:
    return code[:3] in MAJOR_DISEASE_PREFIXES


def diagnosis_name(code: str) -> str:
    return DIAGNOSES[code]


@dataclass(frozen=True)
class Drug:
    code: str
    generic_name: str
    trade_name: str
    dosage_form: str
    specification: str
    manufacturer: str
    approval_no: str
    atc_code: str
    dose: str          # usual single dose
    frequency: str     # qd / bid / tid / qn
    days: int          # usual days of one prescription
    unit_price_fen: int  # per single dose
    for_conditions: tuple[str, ...]  # diagnosis codes (or prefixes) it is prescribed for


DRUGS: tuple[Drug, ...] = (
    Drug("XC08CAA001", "苯磺酸氨氯地平片", "络活喜", "片剂", "5mg*28片", "辉瑞制药有限公司",
         "国药准字H10950224", "C08CA01", "5mg", "qd", 30, 95, ("I10",)),
    Drug("XC08CAN002", "硝苯地平控释片", "拜新同", "片剂", "30mg*7片", "拜耳医药保健有限公司",
         "国药准字J20180021", "C08CA05", "30mg", "qd", 30, 320, ("I10",)),
    Drug("XC09CAE003", "厄贝沙坦片", "安博维", "片剂", "0.15g*7片", "赛诺菲（杭州）制药有限公司",
         "国药准字J20140105", "C09CA04", "150mg", "qd", 30, 180, ("I10",)),
    Drug("XC09CAV004", "缬沙坦胶囊", "代文", "胶囊剂", "80mg*7粒", "北京诺华制药有限公司",
         "国药准字H20040217", "C09CA03", "80mg", "qd", 30, 260, ("I10",)),
    Drug("XA10BAM005", "盐酸二甲双胍片", "格华止", "片剂", "0.5g*20片", "中美上海施贵宝制药有限公司",
         "国药准字H20023370", "A10BA02", "0.5g", "tid", 30, 25, ("E11",)),
    Drug("XA10BBG006", "格列美脲片", "亚莫利", "片剂", "2mg*15片", "赛诺菲（北京）制药有限公司",
         "国药准字H20030694", "A10BB12", "2mg", "qd", 30, 210, ("E11",)),
    Drug("XA10BFA007", "阿卡波糖片", "拜唐苹", "片剂", "50mg*30片", "拜耳医药保健有限公司",
         "国药准字J20100084", "A10BF01", "50mg", "tid", 30, 110, ("E11",)),
    Drug("XC10AAA008", "阿托伐他汀钙片", "立普妥", "片剂", "20mg*7片", "辉瑞制药有限公司",
         "国药准字H20051408", "C10AA05", "20mg", "qn", 30, 450, ("I10", "E11", "E78", "I25")),
    Drug("XB01ACA009", "阿司匹林肠溶片", "拜阿司匹灵", "片剂", "100mg*30片", "拜耳医药保健有限公司",
         "国药准字J20171021", "B01AC06", "100mg", "qd", 30, 50, ("I25", "I63")),
    Drug("XJ01CAA010", "阿莫西林胶囊", "阿莫仙", "胶囊剂", "0.25g*24粒", "珠海联邦制药股份有限公司",
         "国药准字H44021351", "J01CA04", "0.5g", "tid", 5, 35,
         ("J06", "J20", "J18", "J35", "K02")),
    Drug("XJ01DCC011", "头孢呋辛酯片", "西力欣", "片剂", "0.25g*12片", "葛兰素史克制药有限公司",
         "国药准字H10950031", "J01DC02", "0.25g", "bid", 5, 150, ("J06", "J20", "J18", "N39")),
    Drug("XJ01MAL012", "左氧氟沙星片", "可乐必妥", "片剂", "0.5g*4片", "第一三共制药有限公司",
         "国药准字H20000655", "J01MA12", "0.5g", "qd", 5, 600, ("N39", "J18", "A09")),
    Drug("XM01AEB013", "布洛芬缓释胶囊", "芬必得", "胶囊剂", "0.3g*20粒", "中美天津史克制药有限公司",
         "国药准字H10900089", "M01AE01", "0.3g", "bid", 3, 90, ("M54", "M17", "R51", "S93")),
    Drug("XA02BCO014", "奥美拉唑肠溶胶囊", "洛赛克", "胶囊剂", "20mg*14粒", "阿斯利康制药有限公司",
         "国药准字H20033398", "A02BC01", "20mg", "qd", 14, 320, ("K29", "K30")),
    Drug("XA07BCM015", "蒙脱石散", "思密达", "散剂", "3g*10袋", "博福-益普生（天津）制药有限公司",
         "国药准字H20000690", "A07BC05", "3g", "tid", 3, 160, ("A09",)),
    Drug("XR06AXL016", "氯雷他定片", "开瑞坦", "片剂", "10mg*6片", "拜耳医药（上海）有限公司",
         "国药准字H10970410", "R06AX13", "10mg", "qd", 7, 420, ("L30", "H10")),
    Drug("XR05CBA017", "盐酸氨溴索片", "沐舒坦", "片剂", "30mg*20片", "上海勃林格殷格翰药业有限公司",
         "国药准字H20010212", "R05CB06", "30mg", "tid", 5, 110, ("J06", "J20", "J44")),
    Drug("XA10AEG018", "甘精胰岛素注射液", "来得时", "注射剂", "3ml:300单位", "赛诺菲（北京）制药有限公司",
         "国药准字J20140052", "A10AE04", "10单位", "qd", 30, 600, ("E11",)),
)

_DRUG = {d.code: d for d in DRUGS} | {d.generic_name: d for d in DRUGS}


def drug(name_or_code: str) -> Drug:
    return _DRUG[name_or_code]


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    unit: str
    low: float      # reference range (for lab items; exam items: the normal band)
    high: float


EXAM_ITEMS: tuple[Item, ...] = (
    Item("SBP", "收缩压", "mmHg", 90, 139),
    Item("DBP", "舒张压", "mmHg", 60, 89),
    Item("FBG", "空腹血糖", "mmol/L", 3.9, 6.1),
    Item("BMI", "体重指数", "kg/m2", 18.5, 23.9),
    Item("TC", "总胆固醇", "mmol/L", 2.8, 5.2),
    Item("HR", "心率", "次/分", 60, 100),
)

LAB_ITEMS: tuple[Item, ...] = (
    Item("HbA1c", "糖化血红蛋白", "%", 4.0, 6.0),
    Item("GLU", "葡萄糖", "mmol/L", 3.9, 6.1),
    Item("CREA", "肌酐", "μmol/L", 41, 111),
    Item("ALT", "丙氨酸氨基转移酶", "U/L", 7, 50),
    Item("AST", "天门冬氨酸氨基转移酶", "U/L", 13, 40),
    Item("TG", "甘油三酯", "mmol/L", 0.45, 1.7),
    Item("LDL-C", "低密度脂蛋白胆固醇", "mmol/L", 0, 3.4),
    Item("WBC", "白细胞计数", "10^9/L", 3.5, 9.5),
    Item("HGB", "血红蛋白", "g/L", 115, 175),
    Item("UA", "尿酸", "μmol/L", 150, 420),
)

# Adverse drug reactions by ATC group prefix (name, share of reports).
REACTIONS: dict[str, tuple[str, ...]] = {
    "C08": ("踝部水肿", "头痛", "面部潮红", "头晕"),
    "C09": ("头晕", "干咳", "高钾血症"),
    "A10B": ("胃肠道反应", "低血糖", "腹泻", "恶心"),
    "A10A": ("低血糖", "注射部位反应"),
    "C10": ("肌痛", "肝功能异常", "乏力"),
    "B01": ("胃肠道出血", "皮疹"),
    "J01": ("皮疹", "腹泻", "过敏反应", "恶心"),
    "M01": ("胃部不适", "皮疹"),
    "": ("皮疹", "恶心", "头晕"),
}


def reactions(atc_code: str) -> tuple[str, ...]:
    for prefix in sorted(REACTIONS, key=len, reverse=True):
        if atc_code.startswith(prefix):
            return REACTIONS[prefix]
    return REACTIONS[""]
