"""Word pools for people and companies.

Surname weights follow the rough frequency of the most common Chinese surnames, so
that, as in life, many different people share a name (王伟, 李娜, 张敏): the identity
resolver must not merge them on the name alone.
"""

from __future__ import annotations

import numpy as np

# (surname, pinyin, relative frequency)
# fmt: off
SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "Wang", 7.1), ("李", "Li", 7.0), ("张", "Zhang", 6.6), ("刘", "Liu", 5.4),
    ("陈", "Chen", 4.5), ("杨", "Yang", 3.1), ("黄", "Huang", 2.3), ("赵", "Zhao", 2.2),
    ("吴", "Wu", 2.0), ("周", "Zhou", 1.9), ("徐", "Xu", 1.3), ("孙", "Sun", 1.2),
    ("马", "Ma", 1.2), ("朱", "Zhu", 1.1), ("胡", "Hu", 1.0), ("郭", "Guo", 1.0),
    ("何", "He", 0.9), ("高", "Gao", 0.9), ("林", "Lin", 0.9), ("罗", "Luo", 0.9),
    ("郑", "Zheng", 0.8), ("梁", "Liang", 0.8), ("谢", "Xie", 0.7), ("宋", "Song", 0.6),
    ("唐", "Tang", 0.6), ("许", "Xu", 0.6), ("韩", "Han", 0.5), ("冯", "Feng", 0.5),
    ("邓", "Deng", 0.5), ("曹", "Cao", 0.5), ("彭", "Peng", 0.4), ("曾", "Zeng", 0.4),
    ("肖", "Xiao", 0.4), ("田", "Tian", 0.4), ("董", "Dong", 0.4), ("袁", "Yuan", 0.3),
    ("潘", "Pan", 0.3), ("于", "Yu", 0.3), ("蒋", "Jiang", 0.3), ("蔡", "Cai", 0.3),
)
# fmt: on

# (given name, pinyin, relative frequency): a few very common ones dominate.
# fmt: off
GIVEN_NAMES: tuple[tuple[str, str, float], ...] = (
    ("伟", "Wei", 6.0), ("芳", "Fang", 4.5), ("娜", "Na", 4.5),
    ("敏", "Min", 4.0), ("静", "Jing", 4.0), ("丽", "Li", 3.5),
    ("强", "Qiang", 3.5), ("磊", "Lei", 3.5), ("军", "Jun", 3.0),
    ("洋", "Yang", 3.0), ("勇", "Yong", 2.5), ("艳", "Yan", 2.5),
    ("杰", "Jie", 2.5), ("娟", "Juan", 2.0), ("涛", "Tao", 2.0),
    ("明", "Ming", 2.0), ("超", "Chao", 2.0), ("秀英", "Xiuying", 2.0),
    ("霞", "Xia", 1.8), ("平", "Ping", 1.8), ("刚", "Gang", 1.6),
    ("桂英", "Guiying", 1.5), ("建华", "Jianhua", 1.2), ("晓东", "Xiaodong", 1.0),
    ("海燕", "Haiyan", 1.0), ("志强", "Zhiqiang", 1.0), ("文静", "Wenjing", 0.9),
    ("子涵", "Zihan", 0.9), ("浩然", "Haoran", 0.8), ("欣怡", "Xinyi", 0.8),
    ("雨萱", "Yuxuan", 0.7), ("宇轩", "Yuxuan", 0.7), ("俊杰", "Junjie", 0.7),
    ("佳琪", "Jiaqi", 0.6), ("梓涵", "Zihan", 0.6), ("建国", "Jianguo", 0.6),
    ("丽华", "Lihua", 0.6), ("晨", "Chen", 0.6), ("婷", "Ting", 1.2),
    ("鹏", "Peng", 1.2), ("辉", "Hui", 1.2), ("斌", "Bin", 1.0),
    ("玲", "Ling", 1.0), ("红梅", "Hongmei", 0.8), ("国庆", "Guoqing", 0.5),
    ("思远", "Siyuan", 0.5), ("一鸣", "Yiming", 0.5), ("嘉怡", "Jiayi", 0.5),
)
# fmt: on

# Company trade names (字号) with pinyin for English forms. Several share a first
# character on purpose (华通/华泰/华信) to make near-duplicate names.
# fmt: off
TRADE_NAMES: tuple[tuple[str, str], ...] = (
    ("华通", "Huatong"), ("华泰", "Huatai"), ("华信", "Huaxin"), ("华盛", "Huasheng"),
    ("恒达", "Hengda"), ("恒信", "Hengxin"), ("恒通", "Hengtong"), ("鑫源", "Xinyuan"),
    ("鑫达", "Xinda"), ("鑫盛", "Xinsheng"), ("金桥", "Jinqiao"), ("金鼎", "Jinding"),
    ("金诚", "Jincheng"), ("宏远", "Hongyuan"), ("宏达", "Hongda"), ("宏图", "Hongtu"),
    ("永丰", "Yongfeng"), ("永盛", "Yongsheng"), ("永辉", "Yonghui"), ("中联", "Zhonglian"),
    ("中科", "Zhongke"), ("天成", "Tiancheng"), ("天瑞", "Tianrui"), ("天宇", "Tianyu"),
    ("东方", "Dongfang"), ("东升", "Dongsheng"), ("新世纪", "Xinshiji"), ("新天地", "Xintiandi"),
    ("瑞丰", "Ruifeng"), ("瑞祥", "Ruixiang"), ("博远", "Boyuan"), ("博雅", "Boya"),
    ("佳和", "Jiahe"), ("佳美", "Jiamei"), ("汇丰源", "Huifengyuan"), ("汇通", "Huitong"),
    ("润达", "Runda"), ("润泽", "Runze"), ("锦程", "Jincheng"), ("锦华", "Jinhua"),
    ("凯旋", "Kaixuan"), ("凯达", "Kaida"), ("盛世", "Shengshi"), ("盛达", "Shengda"),
    ("联创", "Lianchuang"), ("联华", "Lianhua"), ("安泰", "Antai"), ("安达", "Anda"),
    ("正泰", "Zhengtai"), ("正大", "Zhengda"), ("德信", "Dexin"), ("德胜", "Desheng"),
    ("海纳", "Haina"), ("海川", "Haichuan"), ("龙腾", "Longteng"), ("龙翔", "Longxiang"),
    ("福瑞", "Furui"), ("福源", "Fuyuan"), ("国泰", "Guotai"), ("国信", "Guoxin"),
    ("远航", "Yuanhang"), ("远大", "Yuanda"), ("振华", "Zhenhua"), ("振兴", "Zhenxing"),
    ("同创", "Tongchuang"), ("同方", "Tongfang"), ("万通", "Wantong"), ("万佳", "Wanjia"),
    ("百川", "Baichuan"), ("百盛", "Baisheng"), ("泰和", "Taihe"), ("泰康", "Taikang"),
    ("嘉禾", "Jiahe"), ("嘉信", "Jiaxin"), ("乐购", "Legou"), ("优品", "Youpin"),
    ("绿源", "Lvyuan"), ("蓝天", "Lantian"), ("青松", "Qingsong"), ("红星", "Hongxing"),
)
# fmt: on

# Latin trade names, written full-width (ＡＢＣ) in some systems and half-width in others.
# fmt: off
LATIN_TRADE_NAMES: tuple[str, ...] = (
    "ABC", "TCK", "JMC", "KTX", "HRS", "BDL", "SGM", "UNT", "CMK", "XYZ", "ZTE", "NBT",
)
# fmt: on

# (industry word, English, sells to it: typical category appetite is in products.py)
# fmt: off
INDUSTRIES: tuple[tuple[str, str], ...] = (
    ("贸易", "Trading"), ("商贸", "Commerce"),
    ("物流", "Logistics"), ("科技", "Technology"),
    ("电子", "Electronics"), ("食品", "Foods"),
    ("实业", "Industrial"), ("供应链管理", "Supply Chain Management"),
    ("建材", "Building Materials"), ("医药", "Pharmaceutical"),
    ("百货", "Department Store"), ("酒店管理", "Hotel Management"),
    ("餐饮管理", "Catering Management"), ("文化用品", "Stationery"),
    ("五金机电", "Hardware & Electromechanical"), ("日用品", "Daily Necessities"),
)
# fmt: on
# CRM `industry` values (a sales-facing classification, not the legal name word).
CRM_INDUSTRY = {
    "贸易": "批发零售",
    "商贸": "批发零售",
    "物流": "交通物流",
    "科技": "信息技术",
    "电子": "制造业",
    "食品": "食品饮料",
    "实业": "制造业",
    "供应链管理": "交通物流",
    "建材": "建筑建材",
    "医药": "医疗健康",
    "百货": "批发零售",
    "酒店管理": "住宿餐饮",
    "餐饮管理": "住宿餐饮",
    "文化用品": "批发零售",
    "五金机电": "制造业",
    "日用品": "批发零售",
}

# fmt: off
STREETS: tuple[str, ...] = (
    "人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "文化路", "胜利路",
    "长江路", "黄河路", "科技路", "工业大道", "创业路", "迎宾大道", "滨江路", "东风路",
    "世纪大道", "南京路", "北京路", "复兴路", "振兴路", "发展大道", "光明路", "青年路",
)
# fmt: on

# Sales reps who own CRM accounts.
# fmt: off
ACCOUNT_MANAGERS: tuple[str, ...] = (
    "王海涛", "李静", "张晓东", "刘芳", "陈磊", "杨丽华", "赵鹏", "吴婷",
    "周建国", "徐敏", "孙志强", "马欣怡", "朱俊杰", "胡文静", "郭辉", "林佳琪",
)
# fmt: on

# fmt: off
NICKNAME_WORDS: tuple[str, ...] = (
    "快乐小鱼", "追风少年", "阳光", "小确幸", "星星点灯", "柠檬不酸", "吃货一枚", "晴天",
    "向日葵", "爱生活", "momo", "Sunny", "小猫咪", "大白", "橙子", "木子",
)
# fmt: on

# fmt: off
EMAIL_DOMAINS: tuple[str, ...] = (
    "qq.com", "163.com", "126.com", "sina.com", "gmail.com", "outlook.com", "foxmail.com",
)
# fmt: on

# fmt: off
MOBILE_PREFIXES: tuple[str, ...] = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
    "152", "155", "156", "157", "158", "159", "166", "176", "177", "180", "181",
    "182", "185", "186", "187", "188", "189", "198", "199",
)
# fmt: on


def weights(pool: tuple[tuple[str, str, float], ...]) -> np.ndarray:
    w = np.array([p[2] for p in pool], dtype=np.float64)
    return w / w.sum()
