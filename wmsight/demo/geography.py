"""Mainland China geography for the demo world: 31 provinces, their cities and the
seven regional warehouses.

Coordinates are the city centres (WGS84, rounded); warehouse coordinates are the
logistics parks they are named after. The tables are small and hand-written on
purpose: they are facts, not generated data, and the pipeline's own allocation
rule (nearest warehouse of the ship-to province's region) is checked against them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

REGIONS: tuple[str, ...] = ("东北", "华北", "华东", "华南", "华中", "西北", "西南")


@dataclass(frozen=True)
class City:
    name: str  # 广州市
    pinyin: str  # Guangzhou (used for English company names)
    area_code: str  # landline prefix, 020
    districts: tuple[str, ...]


@dataclass(frozen=True)
class Province:
    name: str  # full official name, 广东省
    short: str  # short form used in many exports, 广东
    code: str  # two-digit GB/T 2260 code, first digits of the division code in a tax id
    region: str
    lat: float  # capital
    lon: float
    cities: tuple[City, ...]  # the capital first
    online_weight: float  # relative share of online orders shipped to the province
    b2b_weight: float  # relative share of B2B accounts located in the province

    @property
    def capital(self) -> City:
        return self.cities[0]


def _c(name: str, pinyin: str, area: str, *districts: str) -> City:
    return City(name, pinyin, area, districts)


# fmt: off
PROVINCES: tuple[Province, ...] = (
    Province("北京市", "北京", "11", "华北", 39.904, 116.407,
             (_c("北京市", "Beijing", "010", "朝阳区", "海淀区", "丰台区", "东城区"),), 5.0, 7.0),
    Province("天津市", "天津", "12", "华北", 39.125, 117.190,
             (_c("天津市", "Tianjin", "022", "和平区", "南开区", "滨海新区"),), 1.8, 2.5),
    Province("河北省", "河北", "13", "华北", 38.042, 114.515,
             (_c("石家庄市", "Shijiazhuang", "0311", "长安区", "桥西区", "裕华区"),
              _c("唐山市", "Tangshan", "0315", "路北区", "路南区"),
              _c("保定市", "Baoding", "0312", "竞秀区", "莲池区"),
              _c("廊坊市", "Langfang", "0316", "广阳区", "安次区")), 4.0, 3.0),
    Province("山西省", "山西", "14", "华北", 37.870, 112.549,
             (_c("太原市", "Taiyuan", "0351", "小店区", "迎泽区", "杏花岭区"),
              _c("大同市", "Datong", "0352", "平城区", "云冈区")), 1.8, 1.2),
    Province("内蒙古自治区", "内蒙古", "15", "华北", 40.842, 111.749,
             (_c("呼和浩特市", "Hohhot", "0471", "新城区", "赛罕区"),
              _c("包头市", "Baotou", "0472", "昆都仑区", "青山区")), 1.2, 0.8),
    Province("辽宁省", "辽宁", "21", "东北", 41.806, 123.432,
             (_c("沈阳市", "Shenyang", "024", "和平区", "沈河区", "浑南区"),
              _c("大连市", "Dalian", "0411", "中山区", "甘井子区")), 2.5, 2.2),
    Province("吉林省", "吉林", "22", "东北", 43.817, 125.324,
             (_c("长春市", "Changchun", "0431", "朝阳区", "南关区", "绿园区"),
              _c("吉林市", "Jilin", "0432", "船营区", "昌邑区")), 1.3, 0.9),
    Province("黑龙江省", "黑龙江", "23", "东北", 45.803, 126.535,
             (_c("哈尔滨市", "Harbin", "0451", "南岗区", "道里区", "香坊区"),
              _c("大庆市", "Daqing", "0459", "萨尔图区", "让胡路区")), 1.8, 1.0),
    Province("上海市", "上海", "31", "华东", 31.230, 121.474,
             (_c("上海市", "Shanghai", "021", "浦东新区", "徐汇区", "闵行区", "嘉定区"),),
             5.0, 8.0),
    Province("江苏省", "江苏", "32", "华东", 32.060, 118.797,
             (_c("南京市", "Nanjing", "025", "鼓楼区", "玄武区", "江宁区"),
              _c("苏州市", "Suzhou", "0512", "姑苏区", "吴中区", "相城区"),
              _c("无锡市", "Wuxi", "0510", "梁溪区", "滨湖区")), 8.0, 8.0),
    Province("浙江省", "浙江", "33", "华东", 30.274, 120.155,
             (_c("杭州市", "Hangzhou", "0571", "西湖区", "上城区", "余杭区"),
              _c("宁波市", "Ningbo", "0574", "海曙区", "鄞州区"),
              _c("温州市", "Wenzhou", "0577", "鹿城区", "瓯海区")), 8.0, 7.5),
    Province("安徽省", "安徽", "34", "华东", 31.821, 117.227,
             (_c("合肥市", "Hefei", "0551", "蜀山区", "包河区", "庐阳区"),
              _c("芜湖市", "Wuhu", "0553", "镜湖区", "鸠江区")), 3.5, 2.5),
    Province("福建省", "福建", "35", "华东", 26.075, 119.296,
             (_c("福州市", "Fuzhou", "0591", "鼓楼区", "台江区", "仓山区"),
              _c("厦门市", "Xiamen", "0592", "思明区", "湖里区"),
              _c("泉州市", "Quanzhou", "0595", "丰泽区", "鲤城区")), 4.0, 3.5),
    Province("江西省", "江西", "36", "华东", 28.682, 115.858,
             (_c("南昌市", "Nanchang", "0791", "东湖区", "西湖区", "红谷滩区"),
              _c("赣州市", "Ganzhou", "0797", "章贡区", "南康区")), 2.5, 1.5),
    Province("山东省", "山东", "37", "华东", 36.651, 117.120,
             (_c("济南市", "Jinan", "0531", "历下区", "市中区", "槐荫区"),
              _c("青岛市", "Qingdao", "0532", "市南区", "崂山区", "黄岛区"),
              _c("烟台市", "Yantai", "0535", "芝罘区", "莱山区")), 6.0, 5.0),
    Province("河南省", "河南", "41", "华中", 34.746, 113.625,
             (_c("郑州市", "Zhengzhou", "0371", "金水区", "二七区", "中原区"),
              _c("洛阳市", "Luoyang", "0379", "西工区", "洛龙区")), 5.0, 3.5),
    Province("湖北省", "湖北", "42", "华中", 30.593, 114.305,
             (_c("武汉市", "Wuhan", "027", "江汉区", "武昌区", "洪山区"),
              _c("宜昌市", "Yichang", "0717", "西陵区", "伍家岗区")), 4.0, 3.5),
    Province("湖南省", "湖南", "43", "华中", 28.228, 112.939,
             (_c("长沙市", "Changsha", "0731", "岳麓区", "芙蓉区", "天心区"),
              _c("株洲市", "Zhuzhou", "0731", "天元区", "芦淞区")), 3.5, 2.8),
    Province("广东省", "广东", "44", "华南", 23.129, 113.264,
             (_c("广州市", "Guangzhou", "020", "天河区", "越秀区", "海珠区", "白云区"),
              _c("深圳市", "Shenzhen", "0755", "南山区", "福田区", "宝安区"),
              _c("东莞市", "Dongguan", "0769", "南城街道", "长安镇"),
              _c("佛山市", "Foshan", "0757", "禅城区", "南海区", "顺德区")), 12.0, 11.0),
    Province("广西壮族自治区", "广西", "45", "华南", 22.817, 108.366,
             (_c("南宁市", "Nanning", "0771", "青秀区", "兴宁区", "西乡塘区"),
              _c("柳州市", "Liuzhou", "0772", "城中区", "柳北区"),
              _c("桂林市", "Guilin", "0773", "秀峰区", "象山区")), 2.5, 1.5),
    Province("海南省", "海南", "46", "华南", 20.044, 110.199,
             (_c("海口市", "Haikou", "0898", "龙华区", "美兰区"),
              _c("三亚市", "Sanya", "0898", "吉阳区", "天涯区")), 0.8, 0.5),
    Province("重庆市", "重庆", "50", "西南", 29.563, 106.551,
             (_c("重庆市", "Chongqing", "023", "渝中区", "江北区", "渝北区", "沙坪坝区"),),
             2.5, 2.5),
    Province("四川省", "四川", "51", "西南", 30.573, 104.066,
             (_c("成都市", "Chengdu", "028", "锦江区", "武侯区", "青羊区", "金牛区"),
              _c("绵阳市", "Mianyang", "0816", "涪城区", "游仙区")), 5.0, 3.5),
    Province("贵州省", "贵州", "52", "西南", 26.647, 106.630,
             (_c("贵阳市", "Guiyang", "0851", "南明区", "云岩区", "观山湖区"),
              _c("遵义市", "Zunyi", "0851", "红花岗区", "汇川区")), 1.5, 0.8),
    Province("云南省", "云南", "53", "西南", 25.038, 102.718,
             (_c("昆明市", "Kunming", "0871", "五华区", "盘龙区", "官渡区"),
              _c("曲靖市", "Qujing", "0874", "麒麟区", "沾益区")), 2.0, 1.2),
    Province("西藏自治区", "西藏", "54", "西南", 29.652, 91.172,
             (_c("拉萨市", "Lhasa", "0891", "城关区", "堆龙德庆区"),
              _c("日喀则市", "Shigatse", "0892", "桑珠孜区")), 0.2, 0.1),
    Province("陕西省", "陕西", "61", "西北", 34.341, 108.940,
             (_c("西安市", "Xi'an", "029", "雁塔区", "碑林区", "未央区"),
              _c("宝鸡市", "Baoji", "0917", "渭滨区", "金台区")), 2.5, 2.0),
    Province("甘肃省", "甘肃", "62", "西北", 36.061, 103.834,
             (_c("兰州市", "Lanzhou", "0931", "城关区", "七里河区"),
              _c("天水市", "Tianshui", "0938", "秦州区", "麦积区")), 1.0, 0.6),
    Province("青海省", "青海", "63", "西北", 36.617, 101.778,
             (_c("西宁市", "Xining", "0971", "城东区", "城西区"),
              _c("海东市", "Haidong", "0972", "乐都区", "平安区")), 0.3, 0.2),
    Province("宁夏回族自治区", "宁夏", "64", "西北", 38.487, 106.231,
             (_c("银川市", "Yinchuan", "0951", "兴庆区", "金凤区"),
              _c("石嘴山市", "Shizuishan", "0952", "大武口区")), 0.4, 0.3),
    Province("新疆维吾尔自治区", "新疆", "65", "西北", 43.826, 87.617,
             (_c("乌鲁木齐市", "Urumqi", "0991", "天山区", "沙依巴克区", "新市区"),
              _c("克拉玛依市", "Karamay", "0990", "克拉玛依区", "独山子区")), 1.0, 0.6),
)
# fmt: on


@dataclass(frozen=True)
class Warehouse:
    warehouse_id: str
    name: str
    region: str
    province: str
    city: str
    lat: float
    lon: float
    capacity_units: int


# fmt: off
WAREHOUSES: tuple[Warehouse, ...] = (
    Warehouse("WH-SHE", "沈阳浑南配送中心", "东北", "辽宁省", "沈阳市", 41.7350, 123.4790, 400_000),
    Warehouse("WH-TSN", "天津武清物流中心", "华北", "天津市", "天津市", 39.3840, 117.0450, 900_000),
    Warehouse("WH-SHA", "上海嘉定中心仓", "华东", "上海市", "上海市", 31.3750, 121.2650, 1_500_000),
    Warehouse("WH-CAN", "广州白云配送中心", "华南", "广东省", "广州市", 23.2910, 113.2730,
              1_100_000),
    Warehouse("WH-WUH", "武汉东西湖物流园", "华中", "湖北省", "武汉市", 30.6190, 114.1360, 700_000),
    Warehouse("WH-XIY", "西安国际港务区仓", "西北", "陕西省", "西安市", 34.3290, 109.0530, 350_000),
    Warehouse("WH-CTU", "成都双流配送中心", "西南", "四川省", "成都市", 30.5790, 103.9230, 650_000),
)
# fmt: on


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance on a 6,371 km sphere."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def serving_warehouse(province: Province) -> int:
    """Index of the warehouse that serves a province: the nearest one of its region
    (great-circle distance from the capital), else the nearest overall. This is the
    allocation rule of EXTRACTS.md, so demand truth and pipeline agree."""

    def dist(w: Warehouse) -> float:
        return great_circle_km(province.lat, province.lon, w.lat, w.lon)

    same_region = [i for i, w in enumerate(WAREHOUSES) if w.region == province.region]
    candidates = same_region or list(range(len(WAREHOUSES)))
    return min(candidates, key=lambda i: dist(WAREHOUSES[i]))


def province_warehouse_index() -> np.ndarray:
    """Serving warehouse for every province, aligned with PROVINCES."""
    return np.array([serving_warehouse(p) for p in PROVINCES], dtype=np.int64)


def transit_days_matrix() -> np.ndarray:
    """Typical road-freight days from each warehouse (rows) to each province capital
    (columns): next day within ~300 km, then about a day per 600 km."""
    days = np.empty((len(WAREHOUSES), len(PROVINCES)), dtype=np.float64)
    for i, w in enumerate(WAREHOUSES):
        for j, p in enumerate(PROVINCES):
            km = great_circle_km(w.lat, w.lon, p.lat, p.lon)
            days[i, j] = 1.0 + km / 600.0
    return days


def warehouse_distance_days() -> np.ndarray:
    """Transfer transit days between warehouses (line-haul trucks, ~700 km a day)."""
    n = len(WAREHOUSES)
    days = np.ones((n, n), dtype=np.float64)
    for i, a in enumerate(WAREHOUSES):
        for j, b in enumerate(WAREHOUSES):
            if i != j:
                days[i, j] = 1.0 + great_circle_km(a.lat, a.lon, b.lat, b.lon) / 700.0
    return days
