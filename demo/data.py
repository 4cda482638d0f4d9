"""The demo restaurant as plain data, and a painter for its dish photos.

`python manage.py load_demo` turns this into rows; nothing here touches the database. Prices are
Decimal strings in CNY; every name and description has an English twin.

The photos are abstract food art drawn with Pillow: a plate, bowl, steamer or glass on a wooden
table, with shapes in the colours of the dish. No font, no file and no network is needed, and the
same dish always gets the same picture (the drawing is seeded by the dish's name).
"""

import math
import random
from io import BytesIO
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

# -- Kitchen stations, tags and staff ------------------------------------------------------------

STATIONS = [
    {"slug": "hot", "name": "热菜", "name_en": "Hot kitchen"},
    {"slug": "cold", "name": "凉菜", "name_en": "Cold kitchen"},
    {"slug": "noodles", "name": "面点", "name_en": "Noodles & dim sum"},
    {"slug": "bar", "name": "吧台", "name_en": "Bar"},
]

TAGS = [
    {"name": "辣", "name_en": "Spicy"},
    {"name": "素", "name_en": "Vegetarian"},
    {"name": "招牌", "name_en": "Signature"},
    {"name": "新品", "name_en": "New"},
]

# username, password, group, label (zh), label (en)
STAFF = [
    ("kitchen", "diancan-kitchen", "kitchen", "后厨", "Kitchen"),
    ("cashier", "diancan-cashier", "cashier", "收银", "Cashier"),
    ("manager", "diancan-manager", "manager", "经理", "Manager"),
]

# -- Tables --------------------------------------------------------------------------------------

# A private room's minimum spend (包间最低消费); the rooms' charge per guest is in AREAS below.
ROOM_MINIMUM_SPEND = {"B1": "300.00", "B2": "300.00", "B3": "500.00", "B4": "800.00"}

TABLES = [
    *(
        {"code": f"A{n}", "name": f"大厅 A{n}", "area": "大厅", "seats": seats}
        for n, seats in enumerate([4, 4, 4, 4, 2, 2, 6, 6], start=1)
    ),
    *(
        {
            "code": f"B{n}",
            "name": f"包间 B{n}",
            "area": "包间",
            "seats": seats,
            "minimum_spend": ROOM_MINIMUM_SPEND[f"B{n}"],
        }
        for n, seats in enumerate([8, 8, 10, 12], start=1)
    ),
]

# -- Price rules, members and coupons (issue 9) ----------------------------------------------------

# Table areas by the tables' `area` name: the hall charges tea per guest (茶位费), the private
# rooms a place setting (餐位费). A private room also has a minimum spend (ROOM_MINIMUM_SPEND).
AREAS = [
    {"name": "大厅", "seat_charge": "2.00", "seat_charge_name": "茶位费"},
    {"name": "包间", "seat_charge": "5.00", "seat_charge_name": "餐位费"},
]

# 会员价 of signature dishes (list price beside it in the menu above).
MEMBER_PRICES = {
    "夫妻肺片": "36.00",  # 42
    "宫保鸡丁": "32.00",  # 38
    "水煮牛肉": "58.00",  # 68
    "清蒸鲈鱼": "78.00",  # 88
    "北京烤鸭": "108.00",  # 128
    "红烧肉": "49.00",  # 58
    "小笼包": "22.00",  # 26
}

# The levels the members app's migration makes (its values), in case a manager removed them.
LEVELS = [
    {"name": "普通会员", "name_en": "Member", "discount_rate": "1.000", "points_rate": "1.00"},
    {"name": "银卡会员", "name_en": "Silver", "discount_rate": "0.950", "points_rate": "1.50"},
    {"name": "金卡会员", "name_en": "Gold", "discount_rate": "0.900", "points_rate": "2.00"},
]

# 充 200 送 30, 充 500 送 100.
BONUS_RULES = [
    {"threshold": "200.00", "bonus": "30.00"},
    {"threshold": "500.00", "bonus": "100.00"},
]

# Coupons, by name. `dishes` and `categories` by name. None of them is limited to hours or days
# except the weekday lunch one, so that the demo's coupons work whenever someone tries them.
COUPONS: list[dict[str, Any]] = [
    {"name": "满100减20", "type": "threshold", "off": "20.00", "minimum": "100.00"},
    {"name": "8.8折券", "type": "percent", "rate": "0.880", "cap": "50.00"},
    {
        "name": "10元代金券",
        "type": "voucher",
        "off": "10.00",
        "minimum": "50.00",
        "combinable": True,
    },
    {"name": "赠酸梅汤", "type": "free_dish", "minimum": "80.00", "dishes": ["酸梅汤"]},
    {
        "name": "工作日午市满60减10",
        "type": "threshold",
        "off": "10.00",
        "minimum": "60.00",
        "categories": ["热菜", "主食"],
        "weekdays": "12345",
        "hours": ("11:00", "14:00"),
    },
]
# A batch of single-use codes to print (admin: 券码批次 → 打印券码), found by coupon and note.
BATCH: dict[str, Any] = {"coupon": "满100减20", "quantity": 20, "note": "开业酬宾（演示）"}

# Demo members, found by mobile; made only with DEBUG on (load_demo's docstring). Their top-ups
# go through the till's service by card (so no cash is expected in a drawer), the bonus rules
# above giving their bonus; `points` is a manager's adjustment (开卡礼). PIN 123456 (demo_info)
# for those with `pin`; the third joined with a mobile only and has set no PIN yet (so cannot
# spend a balance), and each PIN is a PBKDF2 hash that costs load_demo most of a second.
MEMBER_PIN = "123456"
MEMBERS: list[dict[str, Any]] = [
    {
        "mobile": "13800138001",
        "name": "王芳",
        "level": "金卡会员",
        "pin": True,
        "top_up": "500.00",
        "points": 1200,
        "coupons": ["8.8折券", "10元代金券"],
    },
    {
        "mobile": "13800138002",
        "name": "李明",
        "level": "银卡会员",
        "pin": True,
        "top_up": "200.00",
        "points": 0,
        "coupons": ["赠酸梅汤"],
    },
    {
        "mobile": "13800138003",
        "name": "",
        "level": "普通会员",
        "pin": False,
        "top_up": None,
        "points": 0,
        "coupons": [],
    },
]

# -- Option groups -------------------------------------------------------------------------------


def _group(name, name_en, low, high, options):
    return {
        "name": name,
        "name_en": name_en,
        "min_choices": low,
        "max_choices": high,
        "options": [{"name": n, "name_en": e, "price": p} for n, e, p in options],
    }


def spice():
    """辣度: required, one of four."""
    return _group(
        "辣度",
        "Spice level",
        1,
        1,
        [
            ("不辣", "Not spicy", "0.00"),
            ("微辣", "Mild", "0.00"),
            ("中辣", "Medium", "0.00"),
            ("特辣", "Extra hot", "0.00"),
        ],
    )


def portion(large, small_name=("小份", "Small"), large_name=("大份", "Large")):
    """份量: required, one of two; the menu price is the small portion's."""
    return _group(
        "份量",
        "Portion",
        1,
        1,
        [(*small_name, "0.00"), (*large_name, large)],
    )


def extras(*options):
    """加料: optional, up to three, each with its surcharge."""
    return _group("加料", "Extras", 0, 3, options)


def temperature(*options):
    return _group("温度", "Temperature", 1, 1, [(n, e, "0.00") for n, e in options])


COLD_OR_ICED = (("常温", "Room temperature"), ("冰", "Iced"))
HOT_OR_ICED = (("热", "Hot"), ("冰", "Iced"))

SWEETNESS = _group(
    "甜度",
    "Sweetness",
    1,
    1,
    [
        ("正常糖", "Regular sugar", "0.00"),
        ("少糖", "Less sugar", "0.00"),
        ("无糖", "No sugar", "0.00"),
    ],
)

CUP = _group("杯型", "Size", 1, 1, [("中杯", "Regular", "0.00"), ("大杯", "Large", "6.00")])

# -- The menu ------------------------------------------------------------------------------------
#
# A dish's "art" says how its photo is drawn: (vessel, food, colours). Vessels: plate, bowl,
# steamer, glass, cups. Foods: see FOODS below. The first colour is the main one.


def dish(name, name_en, price, description, description_en, art, *, tags=(), options=(), **extra):
    return {
        "name": name,
        "name_en": name_en,
        "price": price,
        "description": description,
        "description_en": description_en,
        "art": art,
        "tags": list(tags),
        "options": list(options),
        **extra,
    }


CATEGORIES = [
    {
        "name": "凉菜",
        "name_en": "Cold dishes",
        "station": "cold",
        "dishes": [
            dish(
                "拍黄瓜",
                "Smashed cucumber",
                "12.00",
                "拍碎的脆黄瓜，拌蒜末、香醋和少许红油，清爽开胃。",
                "Crisp cucumber smashed and dressed with garlic, black vinegar and a dash of "
                "chilli oil. Cool and refreshing.",
                ("plate", "chunks", "#5f9e3a #cfe3a0 #f3f0d8 #b8322a"),
                tags=["素"],
            ),
            dish(
                "夫妻肺片",
                "Sliced beef and tripe in chilli oil",
                "42.00",
                "卤牛肉与牛杂切薄片，浇自制红油，撒花生碎和芝麻，麻辣鲜香。",
                "Thin slices of braised beef and tripe in house chilli oil, with crushed peanuts "
                "and sesame. Numbing, spicy, fragrant.",
                ("plate", "slices", "#8a3b22 #c9603a #b3221a #e9c98d #4e8a2c"),
                tags=["辣", "招牌"],
            ),
            dish(
                "口水鸡",
                "Mouth-watering chicken",
                "38.00",
                "嫩滑白切鸡，淋红油、花椒和芝麻酱汁，冷吃更入味。",
                "Tender poached chicken under a sauce of chilli oil, Sichuan pepper and sesame. "
                "Served cold, full of flavour.",
                ("plate", "slices", "#f0dcb4 #c3461f #a8201a #f7efe0 #5a9b34"),
                tags=["辣"],
            ),
            dish(
                "凉拌木耳",
                "Wood ear mushroom salad",
                "16.00",
                "东北黑木耳焯水后凉拌，配小米辣、香菜和陈醋，爽脆解腻。",
                "Crunchy black wood ear mushrooms with bird's eye chilli, coriander and aged "
                "vinegar. A clean, crisp starter.",
                ("plate", "greens", "#2b2421 #433630 #d7352b #6aa844"),
                tags=["素"],
            ),
            dish(
                "皮蛋豆腐",
                "Silken tofu with century egg",
                "18.00",
                "嫩豆腐配松花皮蛋，浇酱油香油，撒葱花，入口即化。",
                "Silky tofu topped with century egg, soy sauce, sesame oil and spring onion. "
                "Melts in the mouth.",
                ("plate", "cubes", "#f4efde #3a3128 #6b4a2b #5ea33b"),
            ),
            dish(
                "蒜泥白肉",
                "Sliced pork with garlic sauce",
                "32.00",
                "五花肉煮熟切成薄片，卷黄瓜丝，淋蒜泥红油，肥而不腻。",
                "Wafer-thin slices of poached pork belly rolled around cucumber, under garlic and "
                "chilli oil. Rich but never heavy.",
                ("plate", "slices", "#f1d9c7 #e6b6a0 #b5321f #7fb24a"),
                tags=["辣"],
            ),
            dish(
                "老醋花生",
                "Peanuts in aged vinegar",
                "14.00",
                "现炸花生米拌山西老陈醋、洋葱和香菜，酸甜酥脆，下酒佳品。",
                "Freshly fried peanuts tossed with Shanxi aged vinegar, onion and coriander. Sweet, "
                "sour and crunchy; perfect with a beer.",
                ("plate", "peanuts", "#b8603a #e2b27a #4b2418 #6ea845"),
                tags=["素"],
            ),
        ],
    },
    {
        "name": "热菜",
        "name_en": "Hot dishes",
        "station": "hot",
        "dishes": [
            dish(
                "宫保鸡丁",
                "Kung Pao chicken",
                "38.00",
                "鸡腿肉丁与花生、干辣椒、葱段同炒，糊辣荔枝味，甜酸微辣。",
                "Diced chicken thigh wok-fried with peanuts, dried chillies and spring onion in a "
                "sweet, sour and gently spicy sauce.",
                ("plate", "chunks", "#c47a3a #e6c07e #a8251c #5c9434 #8a4a22"),
                tags=["辣", "招牌"],
                options=[
                    spice(),
                    portion("12.00"),
                    extras(
                        ("加花生", "Extra peanuts", "3.00"),
                        ("加鸡丁", "Extra chicken", "10.00"),
                        ("加米饭", "Add a bowl of rice", "2.00"),
                    ),
                ],
            ),
            dish(
                "鱼香肉丝",
                "Yu-xiang shredded pork",
                "36.00",
                "猪里脊切丝，配木耳、笋丝和泡椒，鱼香汁酸甜咸辣，下饭一绝。",
                "Shredded pork loin with wood ear, bamboo shoots and pickled chilli in the classic "
                "sweet, sour and savoury yu-xiang sauce. Made for rice.",
                ("plate", "strips", "#b5482a #d98a4f #2c2420 #e5c689 #5f9c39"),
                tags=["辣"],
                options=[spice(), portion("10.00")],
            ),
            dish(
                "麻婆豆腐",
                "Mapo tofu",
                "28.00",
                "嫩豆腐、牛肉末和郫县豆瓣同烧，出锅撒花椒粉，麻辣烫香。",
                "Soft tofu simmered with minced beef and Pixian bean paste, finished with ground "
                "Sichuan pepper. Numbing, hot and fragrant.",
                ("plate", "cubes", "#f1e6c8 #b4281d #6b2a17 #57963a"),
                tags=["辣"],
                options=[
                    spice(),
                    extras(
                        ("加肉末", "Extra minced beef", "6.00"),
                        ("加豆腐", "Extra tofu", "5.00"),
                        ("加米饭", "Add a bowl of rice", "2.00"),
                    ),
                ],
            ),
            dish(
                "回锅肉",
                "Twice-cooked pork",
                "42.00",
                "先煮后炒的五花肉片，配蒜苗和豆瓣酱，灯盏窝焦香。",
                "Pork belly boiled, sliced and stir-fried again with garlic shoots and bean paste "
                "until the edges curl and crisp.",
                ("plate", "slices", "#c4703c #f1d4b0 #a3261b #4f8f2f"),
                tags=["辣"],
                options=[spice()],
            ),
            dish(
                "水煮牛肉",
                "Sichuan poached beef",
                "68.00",
                "嫩牛肉片在红汤中汆熟，铺豆芽青菜，泼热油激出辣椒花椒香。",
                "Tender beef slices poached in a fiery broth over bean sprouts and greens, finished "
                "with sizzling oil over chillies and Sichuan pepper.",
                ("bowl", "soup", "#b2261a #7b3520 #d14a2a #e6d28a #5c9b35"),
                tags=["辣", "招牌"],
                options=[spice(), portion("20.00")],
            ),
            dish(
                "糖醋里脊",
                "Sweet and sour pork",
                "42.00",
                "里脊条挂糊炸至金黄，裹番茄糖醋汁，外酥里嫩，孩子最爱。",
                "Strips of pork loin fried golden and glazed in a tomato sweet-and-sour sauce. "
                "Crisp outside, tender inside; a favourite with children.",
                ("plate", "chunks", "#d0552a #e8833e #f2b35a #f5e1b0"),
            ),
            dish(
                "清蒸鲈鱼",
                "Steamed sea bass",
                "88.00",
                "整条鲈鱼清蒸八分钟，淋蒸鱼豉油，铺葱姜丝，鲜嫩原味。",
                "A whole sea bass steamed for eight minutes, dressed with seasoned soy and "
                "shredded ginger and spring onion. Delicate and fresh.",
                ("plate", "fish", "#d9d4c4 #8d8f86 #3c2a1c #f4f1e6 #63a23c"),
                tags=["招牌"],
                stock=8,
            ),
            dish(
                "北京烤鸭",
                "Peking duck",
                "128.00",
                "果木烤鸭现场片皮，配荷叶饼、甜面酱、葱丝和黄瓜条。默认半只。",
                "Fruitwood-roasted duck carved at the table, with thin pancakes, sweet bean sauce, "
                "spring onion and cucumber. Half a duck unless you choose a whole one.",
                ("plate", "duck", "#9c3f1c #c8692c #f6e7c8 #f1ead9 #6aa844"),
                tags=["招牌"],
                stock=5,
                options=[
                    portion("108.00", ("半只", "Half duck"), ("整只", "Whole duck")),
                    extras(
                        ("加荷叶饼", "Extra pancakes", "6.00"),
                        ("加葱丝黄瓜", "Extra spring onion and cucumber", "4.00"),
                        ("鸭架煲汤", "Duck-bone soup", "18.00"),
                    ),
                ],
            ),
            dish(
                "红烧肉",
                "Red-braised pork belly",
                "58.00",
                "五花肉用冰糖和老抽慢炖一个半小时，色泽红亮，肥而不腻。",
                "Pork belly braised slowly for an hour and a half with rock sugar and dark soy. "
                "Glossy, rich and melting.",
                ("plate", "cubes", "#8e3518 #b9522a #f0cf9e #5d9a36"),
                tags=["招牌"],
                stock=12,
                options=[portion("22.00")],
            ),
            dish(
                "干煸四季豆",
                "Dry-fried green beans",
                "26.00",
                "四季豆煸至起皱，配芽菜、干辣椒和蒜末，干香下饭。",
                "Green beans dry-fried until blistered, with preserved mustard greens, dried "
                "chillies and garlic.",
                ("plate", "strips", "#5d8f2e #7fae45 #a8281d #3b2f22"),
                tags=["辣", "素"],
                options=[spice()],
            ),
            dish(
                "地三鲜",
                "Potato, aubergine and pepper",
                "26.00",
                "土豆、茄子和青椒过油后红烧，东北家常味，软糯咸香。",
                "Potato, aubergine and green pepper, fried and then braised in a savoury sauce. "
                "North-eastern home cooking.",
                ("plate", "chunks", "#e2b24f #5b2d4a #4d9a33 #a86a34"),
                tags=["素"],
            ),
            dish(
                "西红柿炒鸡蛋",
                "Tomato and egg stir-fry",
                "22.00",
                "熟透的西红柿与嫩滑炒蛋，酸甜多汁，配饭正好。",
                "Ripe tomatoes with soft scrambled eggs; sweet, tangy and juicy, best over rice.",
                ("plate", "chunks", "#d8342a #f4c430 #f7dc6f #5aa339"),
                tags=["素"],
            ),
            dish(
                "蚝油生菜",
                "Lettuce in oyster sauce",
                "18.00",
                "生菜快速焯熟，淋蒜蓉蚝油汁，爽脆清甜。",
                "Crisp lettuce blanched in seconds and dressed with garlic and oyster sauce.",
                ("plate", "greens", "#6fb24a #a6d36a #5b3b22 #f1e6c0"),
            ),
            dish(
                "小炒黄牛肉",
                "Hunan stir-fried beef",
                "58.00",
                "黄牛肉切片，配小米辣、香芹和蒜片大火爆炒，湘味十足。",
                "Sliced beef flash-fried over high heat with bird's eye chilli, celery and garlic, "
                "Hunan style.",
                ("plate", "strips", "#7e3a1f #a65430 #d9322a #5f9f38 #f0e2b6"),
                tags=["辣", "新品"],
                options=[spice(), portion("18.00")],
            ),
            dish(
                "酸菜鱼",
                "Fish with pickled mustard greens",
                "78.00",
                "黑鱼片滑嫩，酸菜自家腌制，汤底酸爽，配青花椒和泡椒。",
                "Silky slices of snakehead fish in a tangy broth of house-pickled mustard greens, "
                "with green Sichuan pepper and pickled chillies.",
                ("bowl", "soup", "#e9d98a #f5f1e2 #a2b84a #d9a227 #c23b22"),
                tags=["辣", "新品"],
                options=[spice(), portion("30.00")],
            ),
            dish(
                "油焖大虾",
                "Braised prawns",
                "98.00",
                "大虾开背，用葱姜和番茄酱油焖至红亮，鲜甜入味。",
                "Large prawns opened along the back and braised in spring onion, ginger and a "
                "tomato glaze until glossy red.",
                ("plate", "prawns", "#d4502a #f08a4b #f7c99b #5e9e36"),
                sold_out=True,
            ),
        ],
    },
    {
        "name": "汤羹",
        "name_en": "Soups",
        "station": "hot",
        "dishes": [
            dish(
                "西湖牛肉羹",
                "West Lake beef soup",
                "28.00",
                "牛肉末、蛋清和香菜做成的杭州羹汤，滑嫩鲜美，暖胃。",
                "A Hangzhou soup of minced beef, egg white and coriander; smooth, savoury and "
                "warming.",
                ("bowl", "soup", "#e9dcc0 #f7f3e6 #8a4b2b #5a9e37"),
                options=[portion("16.00")],
            ),
            dish(
                "酸辣汤",
                "Hot and sour soup",
                "22.00",
                "豆腐丝、木耳、笋丝和蛋花，胡椒辣、米醋酸，开胃驱寒。",
                "Tofu, wood ear, bamboo shoots and egg ribbons; hot with white pepper, sour with "
                "rice vinegar.",
                ("bowl", "soup", "#8b5228 #f2d27a #2d2420 #e8e0c8 #5c9b35"),
                tags=["辣"],
                options=[portion("12.00")],
            ),
            dish(
                "番茄蛋花汤",
                "Tomato and egg drop soup",
                "18.00",
                "番茄熬出酸甜汤底，打入蛋花，清淡家常。",
                "Tomatoes simmered into a sweet-sour broth with silky egg ribbons. Light and "
                "homely.",
                ("bowl", "soup", "#e0552f #f5cf52 #f7e9a6 #5aa33a"),
            ),
            dish(
                "玉米排骨汤",
                "Pork rib and sweetcorn soup",
                "38.00",
                "猪肋排与甜玉米、胡萝卜慢炖两小时，汤清味甜。",
                "Pork ribs simmered for two hours with sweetcorn and carrot; a clear, naturally "
                "sweet broth.",
                ("bowl", "soup", "#efe2bf #f2c230 #e27a2a #b86d48"),
            ),
            dish(
                "菌菇豆腐汤",
                "Mushroom and tofu soup",
                "26.00",
                "香菇、金针菇、蟹味菇和嫩豆腐，用素高汤煮成，鲜而不腻。",
                "Shiitake, enoki and beech mushrooms with soft tofu in a vegetable stock.",
                ("bowl", "soup", "#d9c7a0 #f5efdd #8a5a34 #efe6c8 #5f9f3a"),
                tags=["素", "新品"],
            ),
        ],
    },
    {
        "name": "主食",
        "name_en": "Rice & noodles",
        "station": "noodles",
        "dishes": [
            dish(
                "扬州炒饭",
                "Yangzhou fried rice",
                "28.00",
                "隔夜米饭粒粒分明，炒入鸡蛋、虾仁、火腿、青豆和胡萝卜。",
                "Day-old rice fried grain by grain with egg, shrimp, ham, peas and carrot.",
                ("plate", "rice", "#f3e3b0 #f2c230 #e8816a #62a83c #e5782c"),
                options=[portion("8.00")],
            ),
            dish(
                "担担面",
                "Dan dan noodles",
                "22.00",
                "细面拌芝麻酱、红油和脆臊肉末，撒芽菜和花生碎。",
                "Thin noodles with sesame paste, chilli oil and crispy minced pork, topped with "
                "preserved greens and peanuts.",
                ("bowl", "noodles", "#e9cf8f #b33a1f #6b3a1e #5e9b38"),
                tags=["辣"],
                options=[
                    spice(),
                    extras(
                        ("加面", "Extra noodles", "4.00"),
                        ("加肉臊", "Extra minced pork", "6.00"),
                        ("加煎蛋", "Fried egg", "3.00"),
                    ),
                ],
            ),
            dish(
                "红烧牛肉面",
                "Braised beef noodle soup",
                "32.00",
                "牛腱子肉炖得软烂，配手擀面和青菜，汤浓肉香。",
                "Slow-braised beef shank with hand-rolled noodles and greens in a deep, savoury "
                "broth.",
                ("bowl", "noodles", "#efd9a0 #8a3c1d #6a2a14 #5aa33a"),
                options=[
                    extras(
                        ("加牛肉", "Extra beef", "12.00"),
                        ("加面", "Extra noodles", "4.00"),
                        ("加煎蛋", "Fried egg", "3.00"),
                    ),
                ],
            ),
            dish(
                "葱油拌面",
                "Scallion oil noodles",
                "18.00",
                "小葱慢熬成葱油，拌细面和酱油，简单却香得停不下来。",
                "Thin noodles tossed in slowly fried scallion oil and soy sauce. Simple and "
                "irresistible.",
                ("bowl", "noodles", "#d9b06a #6b3d1c #3f7f2a #f1e2b8"),
                tags=["素"],
            ),
            dish(
                "猪肉白菜水饺",
                "Pork and cabbage dumplings",
                "26.00",
                "手工包制，猪肉白菜馅，皮薄馅足，蘸醋更香。一份十五只。",
                "Hand-folded dumplings filled with pork and napa cabbage; thin skins, generous "
                "filling. Fifteen a portion, with vinegar for dipping.",
                ("plate", "dumplings", "#f4efe1 #e2dac4 #7fae52"),
            ),
            dish(
                "米饭",
                "Steamed rice",
                "3.00",
                "东北大米蒸制，一碗。",
                "A bowl of steamed north-eastern rice.",
                ("bowl", "rice", "#f8f6ee #efe9d8"),
                tags=["素"],
            ),
        ],
    },
    {
        "name": "小吃",
        "name_en": "Snacks & dim sum",
        "station": "noodles",
        "dishes": [
            dish(
                "小笼包",
                "Soup dumplings",
                "26.00",
                "现包现蒸，十八个褶，一口汤汁鲜美。一笼八只。",
                "Made to order with eighteen pleats and a mouthful of hot broth inside. Eight to a "
                "steamer.",
                ("steamer", "buns", "#f6f0e2 #e7dcc2"),
                tags=["招牌"],
                stock=20,
            ),
            dish(
                "生煎包",
                "Pan-fried pork buns",
                "18.00",
                "底部煎得金黄酥脆，上撒芝麻葱花，内有汤汁。一份四只。",
                "Pork buns with a crisp golden base, sesame and spring onion on top, and broth "
                "inside. Four a portion.",
                ("plate", "buns", "#f3e6c6 #d7a04d #4f8f2f"),
            ),
            dish(
                "葱油饼",
                "Scallion pancake",
                "12.00",
                "层层起酥的葱油饼，外脆内软，葱香浓郁。",
                "A flaky, layered pancake full of spring onion; crisp outside and soft within.",
                ("plate", "pancake", "#e0b25c #c98a34 #4f8f2f"),
                tags=["素"],
            ),
            dish(
                "素春卷",
                "Vegetable spring rolls",
                "16.00",
                "卷入卷心菜、胡萝卜、香菇和粉丝，炸至金黄。一份四条。",
                "Cabbage, carrot, shiitake and glass noodles rolled and fried golden. Four a "
                "portion.",
                ("plate", "rolls", "#d99a3f #f0c777 #b8322a"),
                tags=["素"],
            ),
            dish(
                "锅贴",
                "Potstickers",
                "22.00",
                "猪肉韭菜馅锅贴，一面煎脆一面软，配醋蒜汁。一份八只。",
                "Pork and chive dumplings fried crisp on one side and steamed soft on the other, "
                "with garlic vinegar. Eight a portion.",
                ("plate", "dumplings", "#efd9a4 #d9a04a #5f9f3a"),
                tags=["新品"],
            ),
        ],
    },
    {
        "name": "饮品",
        "name_en": "Drinks",
        "station": "bar",
        "dishes": [
            dish(
                "酸梅汤",
                "Sour plum drink",
                "12.00",
                "乌梅、山楂、陈皮和冰糖熬制，酸甜解腻。",
                "Smoked plum, hawthorn, dried tangerine peel and rock sugar brewed into a sweet-sour "
                "drink that cuts through rich food.",
                ("glass", "drink", "#5a1f16 #b8553a"),
                options=[temperature(*COLD_OR_ICED)],
            ),
            dish(
                "鲜榨橙汁",
                "Fresh orange juice",
                "22.00",
                "现点现榨的新鲜橙子，不加水不加糖。",
                "Fresh oranges squeezed to order; no water, no sugar added.",
                ("glass", "drink", "#f39a1e #f7c04a"),
                options=[temperature(*COLD_OR_ICED), CUP],
            ),
            dish(
                "菊花茶",
                "Chrysanthemum tea",
                "28.00",
                "杭白菊配枸杞，一壶可续水，清香回甘。",
                "A pot of Hangzhou chrysanthemum with goji berries, refilled with hot water on "
                "request.",
                ("cups", "tea", "#d9b84a #f5e7a1 #c2372a"),
            ),
            dish(
                "冻柠茶",
                "Iced lemon tea",
                "16.00",
                "港式红茶加新鲜柠檬片，茶香浓、酸甜爽。",
                "Hong Kong style black tea with fresh lemon slices; strong, tart and refreshing.",
                ("glass", "drink", "#a4521c #d98a3a"),
                tags=["新品"],
                options=[SWEETNESS, temperature(*HOT_OR_ICED)],
            ),
            dish(
                "可乐",
                "Coca-Cola",
                "8.00",
                "330 毫升罐装。",
                "A 330 ml can.",
                ("glass", "drink", "#3a1a12 #6b2c1a"),
                options=[temperature(*COLD_OR_ICED)],
            ),
        ],
    },
    {
        "name": "酒水",
        "name_en": "Beer & wine",
        "station": "bar",
        "dishes": [
            dish(
                "青岛啤酒",
                "Tsingtao beer",
                "15.00",
                "青岛经典啤酒，640 毫升瓶装。",
                "Tsingtao lager in a 640 ml bottle.",
                ("glass", "beer", "#e9b23a #f6dc7a"),
                options=[temperature(("常温", "Room temperature"), ("冰镇", "Chilled"))],
            ),
            dish(
                "雪花纯生",
                "Snow draft beer",
                "18.00",
                "口感清爽的纯生啤酒，500 毫升瓶装。",
                "A crisp, light draft beer in a 500 ml bottle.",
                ("glass", "beer", "#f0c24e #f8e59a"),
                options=[temperature(("常温", "Room temperature"), ("冰镇", "Chilled"))],
            ),
            dish(
                "绍兴黄酒",
                "Shaoxing rice wine",
                "48.00",
                "五年陈绍兴花雕，500 毫升，可温热加姜丝话梅。",
                "Five-year-old Shaoxing huadiao rice wine, 500 ml; served warm with ginger and "
                "dried plum if you like.",
                ("cups", "wine", "#9b4a16 #c97a2a #f2e6cc"),
                options=[temperature(("常温", "Room temperature"), ("温热", "Warmed"))],
            ),
            dish(
                "二锅头",
                "Erguotou baijiu",
                "15.00",
                "北京二锅头小瓶装，100 毫升，56 度。",
                "A 100 ml bottle of Beijing erguotou, 56% alcohol.",
                ("cups", "baijiu", "#f2f4f2 #dfe7ea"),
            ),
        ],
    },
    {
        "name": "甜品",
        "name_en": "Desserts",
        "station": "cold",
        "dishes": [
            dish(
                "杨枝甘露",
                "Mango pomelo sago",
                "22.00",
                "芒果、西柚果粒和西米，浸在椰奶芒果汁里，冰凉香甜。",
                "Mango, pomelo and sago pearls in chilled mango and coconut milk.",
                ("bowl", "dessert", "#f6b52b #f8d77a #f08a7a #f7f2e4"),
                tags=["新品"],
            ),
            dish(
                "红糖糍粑",
                "Brown sugar rice cakes",
                "18.00",
                "糯米糍粑煎至外脆，淋红糖浆，裹黄豆粉。",
                "Glutinous rice cakes fried crisp, drizzled with brown sugar syrup and rolled in "
                "roasted soybean flour.",
                ("plate", "cubes", "#f1e7d2 #7a3a14 #d9b36a"),
                station="noodles",
            ),
            dish(
                "四川冰粉",
                "Sichuan ice jelly",
                "12.00",
                "手搓冰粉，淋红糖水，撒山楂碎和花生碎，夏日消暑。",
                "Hand-made ice jelly with brown sugar syrup, hawthorn and crushed peanuts. Cooling "
                "on a hot day.",
                ("bowl", "dessert", "#d8e3e0 #8a3a18 #c8322a #d9a25a"),
                tags=["素"],
                options=[
                    extras(
                        ("加山楂", "Hawthorn", "2.00"),
                        ("加葡萄干", "Raisins", "2.00"),
                        ("加西瓜", "Watermelon", "3.00"),
                    ),
                ],
            ),
            dish(
                "双皮奶",
                "Double-skin milk pudding",
                "16.00",
                "顺德做法，水牛奶蒸出两层奶皮，嫩滑香浓。",
                "Shunde-style pudding of steamed buffalo milk with two delicate milk skins. Silky "
                "and rich.",
                ("bowl", "pudding", "#f7f1de #c8322a #5a3a24"),
                options=[temperature(("冷", "Cold"), ("热", "Warm"))],
            ),
        ],
    },
]


def all_dishes():
    """(category, dish) pairs in menu order."""
    for category in CATEGORIES:
        for entry in category["dishes"]:
            yield category, entry


# -- Photos --------------------------------------------------------------------------------------

PHOTO_SIZE = (1200, 900)
# Wood, walnut, slate, linen: what the table under the dish is made of.
SURFACES = ["#8a5a36", "#5b3a26", "#4a4d50", "#d9cdb8", "#a0714a", "#3c3f3a"]
PORCELAIN = ["#f6f3ec", "#f1efe6", "#dde8df", "#e9eef3"]


def _rgb(colour):
    colour = colour.lstrip("#")
    return tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))


def _shade(rgb, factor):
    """factor < 1 darkens, > 1 lightens towards white."""
    if factor <= 1:
        return tuple(int(c * factor) for c in rgb)
    return tuple(int(c + (255 - c) * (factor - 1)) for c in rgb)


def _vary(rgb, rng, amount=14):
    return tuple(max(0, min(255, c + rng.randint(-amount, amount))) for c in rgb)


def _shape(cx, cy, rx, ry, angle=0.0, squareness=2.0, wobble=0.0, rng=None, points=28):
    """A polygon: an ellipse (squareness 2), a rounded box (4 and up), wobbly if asked."""
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    exponent = 2 / squareness
    out = []
    for i in range(points):
        t = 2 * math.pi * i / points
        c, s = math.cos(t), math.sin(t)
        x = rx * math.copysign(abs(c) ** exponent, c)
        y = ry * math.copysign(abs(s) ** exponent, s)
        if wobble and rng:
            k = 1 + rng.uniform(-wobble, wobble)
            x, y = x * k, y * k
        out.append((cx + x * cos_a - y * sin_a, cy + x * sin_a + y * cos_a))
    return out


def _in_disc(rng, cx, cy, radius):
    r = radius * math.sqrt(rng.random())
    t = rng.uniform(0, 2 * math.pi)
    return cx + r * math.cos(t), cy + r * math.sin(t)


def _circle(draw, cx, cy, r, fill, outline=None, width=1):
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill, outline=outline, width=width)


class _Painter:
    def __init__(self, name, art):
        self.rng = random.Random(f"diancan-demo:{name}")
        self.vessel, self.food, colours = art
        self.colours = [_rgb(c) for c in colours.split()]
        width, height = PHOTO_SIZE
        self.image = Image.new("RGB", PHOTO_SIZE)
        self.draw = ImageDraw.Draw(self.image)
        self.cx = width / 2 + self.rng.uniform(-40, 40)
        self.cy = height / 2 + self.rng.uniform(-25, 25)

    def paint(self):
        self.table()
        if self.vessel != "cups":
            self.shadow()
        getattr(self, f"vessel_{self.vessel}")()
        self.image = self.image.filter(ImageFilter.SMOOTH)  # softens the jagged edges
        out = BytesIO()
        self.image.save(out, "JPEG", quality=86, optimize=True)
        return out.getvalue()

    # The table and the shadow under the dish.

    def table(self):
        rng, draw = self.rng, self.draw
        base = _rgb(rng.choice(SURFACES))
        width, height = PHOTO_SIZE
        x = 0
        while x < width:
            plank = rng.randint(150, 230)
            colour = _vary(base, rng, 10)
            draw.rectangle((x, 0, x + plank, height), fill=colour)
            for _ in range(14):
                gx = x + rng.uniform(4, plank - 4)
                grain = _shade(colour, rng.uniform(0.84, 0.95))
                line = [
                    (gx + 6 * math.sin(y / rng.uniform(60, 140)), y)
                    for y in range(0, height + 30, 30)
                ]
                draw.line(line, fill=grain, width=rng.randint(1, 3))
            draw.line((x, 0, x, height), fill=_shade(colour, 0.7), width=3)
            x += plank
        if self.vessel not in ("glass", "cups"):
            self.chopsticks()

    def chopsticks(self):
        rng, draw = self.rng, self.draw
        colour = _rgb(rng.choice(["#2a1f1a", "#b8874f", "#efe6d2", "#7a2a1e"]))
        x = self.cx + rng.choice([-1, 1]) * rng.uniform(440, 500)
        for offset in (0, 26):
            top = (x + offset, 120 + rng.uniform(-20, 20))
            bottom = (x + offset + rng.uniform(-30, 30), 800)
            draw.line((top, bottom), fill=colour, width=11)

    def shadow(self):
        radius = 230 if self.vessel == "glass" else 380
        scale = 4
        mask = Image.new("L", (PHOTO_SIZE[0] // scale, PHOTO_SIZE[1] // scale), 0)
        ImageDraw.Draw(mask).ellipse(
            (
                (self.cx - radius + 20) / scale,
                (self.cy - radius + 30) / scale,
                (self.cx + radius + 30) / scale,
                (self.cy + radius + 45) / scale,
            ),
            fill=110,
        )
        mask = mask.filter(ImageFilter.GaussianBlur(7)).resize(
            PHOTO_SIZE, Image.Resampling.BILINEAR
        )
        self.image.paste((20, 14, 10), (0, 0), mask)

    # Vessels: each draws itself and then the food inside.

    def vessel_plate(self):
        rng, draw, cx, cy = self.rng, self.draw, self.cx, self.cy
        porcelain = _rgb(rng.choice(PORCELAIN))
        outer = 370
        _circle(draw, cx, cy, outer, _shade(porcelain, 0.9))
        _circle(draw, cx, cy, outer - 6, porcelain)
        if rng.random() < 0.4:  # a blue-and-white rim
            blue = _rgb("#2f4f8f")
            for i in range(36):
                t = 2 * math.pi * i / 36
                _circle(draw, cx + 340 * math.cos(t), cy + 340 * math.sin(t), 6, blue)
        _circle(draw, cx, cy, 300, _shade(porcelain, 0.96))
        _circle(draw, cx, cy, 292, porcelain)
        self.paint_food(280)

    def vessel_bowl(self):
        rng, draw, cx, cy = self.rng, self.draw, self.cx, self.cy
        porcelain = _rgb(rng.choice(PORCELAIN))
        _circle(draw, cx, cy, 350, _shade(porcelain, 0.85))
        _circle(draw, cx, cy, 342, porcelain)
        _circle(draw, cx, cy, 300, _shade(porcelain, 0.8))
        self.paint_food(296)

    def vessel_steamer(self):
        draw, cx, cy = self.draw, self.cx, self.cy
        bamboo = _rgb("#c9a468")
        _circle(draw, cx, cy, 370, _shade(bamboo, 0.75))
        for r, f in ((362, 1.0), (335, 0.85), (318, 0.95)):
            _circle(draw, cx, cy, r, _shade(bamboo, f))
        _circle(draw, cx, cy, 300, _rgb("#e6d8b0"))  # the paper liner
        for i in range(-6, 7):
            x = cx + i * 46
            half = math.sqrt(max(0, 300**2 - (x - cx) ** 2))
            draw.line((x, cy - half, x, cy + half), fill=_rgb("#d6c496"), width=3)
        self.paint_food(270)

    def vessel_glass(self):
        rng, cx, cy = self.rng, self.cx, self.cy
        layer = Image.new("RGBA", PHOTO_SIZE, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        liquid, light = self.colours[0], self.colours[-1]
        _circle(draw, cx, cy, 230, (235, 242, 245, 150))  # the glass rim
        _circle(draw, cx, cy, 212, (*liquid, 235))
        _circle(draw, cx - 30, cy - 30, 150, (*light, 120))
        if self.food == "beer":
            _circle(draw, cx, cy, 205, (250, 246, 232, 245))
            for _ in range(90):
                x, y = _in_disc(rng, cx, cy, 190)
                _circle(draw, x, y, rng.uniform(3, 11), (236, 228, 205, 255), (255, 255, 255, 255))
        else:
            for _ in range(rng.randint(3, 5)):  # ice
                x, y = _in_disc(rng, cx, cy, 120)
                box = _shape(x, y, 48, 44, rng.uniform(0, 3), squareness=5)
                draw.polygon(box, fill=(240, 248, 252, 110), outline=(255, 255, 255, 170))
            if liquid[0] > 120 or rng.random() < 0.5:  # a slice of citrus
                x, y = cx + 90, cy - 80
                _circle(draw, x, y, 70, (246, 226, 120, 255), (236, 196, 60, 255), 6)
                for i in range(8):
                    t = 2 * math.pi * i / 8
                    draw.line(
                        (x, y, x + 62 * math.cos(t), y + 62 * math.sin(t)),
                        fill=(255, 250, 220, 255),
                        width=3,
                    )
        draw.arc(
            (cx - 200, cy - 200, cx + 200, cy + 200), 200, 250, fill=(255, 255, 255, 200), width=10
        )
        if self.food != "beer":  # a straw
            draw.line((cx + 40, cy + 20, cx + 300, cy - 260), fill=(255, 255, 255, 230), width=14)
        self.image = Image.alpha_composite(self.image.convert("RGBA"), layer).convert("RGB")
        self.draw = ImageDraw.Draw(self.image)

    def vessel_cups(self):
        rng, draw, cx, cy = self.rng, self.draw, self.cx, self.cy
        liquid = self.colours[0]
        if self.food == "tea":  # a teapot seen from above, and two cups
            pot = _rgb("#8c4a2f")
            _circle(draw, cx - 120, cy, 210, _shade(pot, 0.8))
            _circle(draw, cx - 120, cy, 196, pot)
            _circle(draw, cx - 120, cy, 60, _shade(pot, 1.15))
            draw.line((cx - 320, cy, cx - 400, cy - 30), fill=pot, width=36)
        else:  # a bottle on its side
            bottle = _rgb("#2f5a3a") if self.food == "wine" else _rgb("#f0f3f2")
            draw.rounded_rectangle(
                (cx - 430, cy - 80, cx - 40, cy + 80), 60, fill=_shade(bottle, 0.85)
            )
            draw.rounded_rectangle((cx - 420, cy - 70, cx - 50, cy + 50), 50, fill=bottle)
            draw.rectangle((cx - 40, cy - 30, cx + 60, cy + 30), fill=_shade(bottle, 0.8))
            draw.rectangle((cx - 330, cy - 70, cx - 170, cy + 70), fill=_rgb("#c8322a"))
        for dx, dy in ((230, -110), (250, 140)):
            x, y = cx + dx, cy + dy
            _circle(draw, x, y, 100, (238, 236, 228))
            _circle(draw, x, y, 86, (250, 249, 244))
            _circle(
                draw, x, y, 72, _shade(liquid, 1.05) if self.food != "baijiu" else (236, 242, 244)
            )
            if self.food == "tea":
                for _ in range(5):
                    px, py = _in_disc(rng, x, y, 45)
                    self.flower(px, py, 14, self.colours[1])
                for _ in range(3):
                    px, py = _in_disc(rng, x, y, 50)
                    _circle(draw, px, py, 6, self.colours[2])
            draw.arc((x - 60, y - 60, x + 60, y + 60), 200, 250, fill=(255, 255, 255), width=6)

    def flower(self, x, y, r, colour):
        for i in range(10):
            t = 2 * math.pi * i / 10
            self.draw.polygon(
                _shape(x + r * 0.7 * math.cos(t), y + r * 0.7 * math.sin(t), r * 0.6, r * 0.22, t),
                fill=colour,
            )
        _circle(self.draw, x, y, r * 0.35, _shade(colour, 0.8))

    # Food, inside a disc of the given radius around the centre.

    def paint_food(self, radius):
        getattr(self, f"food_{self.food}")(radius)
        self.garnish(radius)

    def pick(self, weights=(5, 3, 2, 2, 1)):
        return _vary(
            self.rng.choices(self.colours, weights=weights[: len(self.colours)])[0], self.rng, 12
        )

    def sauce(self, radius, colour=None):
        colour = colour or _shade(self.colours[0], 0.8)
        self.draw.polygon(
            _shape(
                self.cx,
                self.cy,
                radius,
                radius * 0.92,
                self.rng.uniform(0, 3),
                2,
                0.04,
                self.rng,
                44,
            ),
            fill=colour,
        )

    def gloss(self, x, y, r):
        self.draw.ellipse((x - r, y - r * 0.5, x + r * 0.2, y - r * 0.1), fill=(255, 250, 240))

    def food_chunks(self, radius):
        rng = self.rng
        self.sauce(radius * 0.8)
        for _ in range(rng.randint(55, 80)):
            x, y = _in_disc(rng, self.cx, self.cy, radius * 0.78)
            size = rng.uniform(18, 38)
            colour = self.pick()
            box = _shape(
                x, y, size, size * rng.uniform(0.7, 1), rng.uniform(0, 3), 3, 0.12, rng, 16
            )
            self.draw.polygon(box, fill=colour, outline=_shade(colour, 0.8))
            if rng.random() < 0.25:
                self.gloss(x, y, size * 0.6)

    def food_peanuts(self, radius):
        rng = self.rng
        self.sauce(radius * 0.75, _shade(self.colours[2], 1.0))
        for _ in range(rng.randint(140, 180)):
            x, y = _in_disc(rng, self.cx, self.cy, radius * 0.72)
            colour = self.pick((6, 3, 0, 1))
            self.draw.polygon(
                _shape(x, y, 17, 11, rng.uniform(0, 3)), fill=colour, outline=_shade(colour, 0.75)
            )

    def food_slices(self, radius):
        rng = self.rng
        self.sauce(
            radius * 0.85,
            _shade(self.colours[2] if len(self.colours) > 2 else self.colours[0], 0.9),
        )
        count = rng.randint(11, 15)
        for ring, distance in ((count, radius * 0.5), (count // 2, radius * 0.18)):
            for i in range(ring):
                t = 2 * math.pi * i / ring + rng.uniform(-0.1, 0.1)
                x, y = self.cx + distance * math.cos(t), self.cy + distance * math.sin(t)
                colour = _vary(self.colours[0], rng, 10)
                slice_ = _shape(x, y, radius * 0.3, radius * 0.13, t + math.pi / 2, 2.4, 0.05, rng)
                self.draw.polygon(
                    slice_, fill=colour, outline=_shade(self.colours[1], 1.0), width=5
                )

    def food_strips(self, radius):
        rng = self.rng
        self.sauce(radius * 0.8)
        for _ in range(rng.randint(70, 95)):
            x, y = _in_disc(rng, self.cx, self.cy, radius * 0.72)
            colour = self.pick()
            strip = _shape(x, y, rng.uniform(30, 55), rng.uniform(5, 9), rng.uniform(0, 3.2), 3)
            self.draw.polygon(strip, fill=colour, outline=_shade(colour, 0.8))

    def food_greens(self, radius):
        rng = self.rng
        for _ in range(rng.randint(26, 34)):
            x, y = _in_disc(rng, self.cx, self.cy, radius * 0.62)
            colour = self.pick((6, 4, 1, 1))
            leaf = _shape(
                x, y, rng.uniform(50, 85), rng.uniform(28, 42), rng.uniform(0, 3.2), 2, 0.12, rng
            )
            self.draw.polygon(leaf, fill=colour, outline=_shade(colour, 0.75), width=3)
        for _ in range(40):
            x, y = _in_disc(rng, self.cx, self.cy, radius * 0.7)
            _circle(self.draw, x, y, rng.uniform(3, 6), self.colours[-1])

    def food_cubes(self, radius):
        rng = self.rng
        self.sauce(radius * 0.85, _shade(self.colours[1], 0.95))
        for _ in range(rng.randint(16, 24)):
            x, y = _in_disc(rng, self.cx, self.cy, radius * 0.62)
            size = rng.uniform(40, 56)
            colour = _vary(self.colours[0], rng, 8)
            cube = _shape(x, y, size, size, rng.uniform(0, 1.5), 6)
            self.draw.polygon(cube, fill=colour, outline=_shade(colour, 0.8), width=3)
            self.gloss(x, y, size * 0.5)
        for _ in range(60):
            x, y = _in_disc(rng, self.cx, self.cy, radius * 0.75)
            _circle(self.draw, x, y, rng.uniform(4, 8), self.pick((0, 1, 3, 2)))

    def food_fish(self, radius):
        rng, draw, cx, cy = self.rng, self.draw, self.cx, self.cy
        self.sauce(radius * 0.85, _shade(self.colours[2], 1.1))
        body, belly = self.colours[0], self.colours[1]
        draw.polygon(_shape(cx - 20, cy, radius * 0.72, radius * 0.3, 0, 2.2), fill=belly)
        draw.polygon(_shape(cx - 20, cy - 8, radius * 0.7, radius * 0.24, 0, 2.2), fill=body)
        tail = radius * 0.68
        draw.polygon(
            [
                (cx + tail - 30, cy),
                (cx + tail + 90, cy - 80),
                (cx + tail + 70, cy),
                (cx + tail + 90, cy + 80),
            ],
            fill=_shade(belly, 0.9),
        )
        _circle(draw, cx - radius * 0.6, cy - 20, 12, (245, 245, 240))
        _circle(draw, cx - radius * 0.6, cy - 20, 6, (30, 30, 30))
        for i in range(4):
            x = cx - radius * 0.25 + i * 70
            draw.line((x, cy - 50, x + 30, cy + 30), fill=_shade(body, 0.8), width=5)
        for _ in range(26):  # ginger and spring onion shreds
            x, y = _in_disc(rng, cx, cy - 10, radius * 0.35)
            colour = rng.choice([self.colours[3], self.colours[4], (240, 210, 120)])
            a = rng.uniform(0, 3.2)
            draw.line((x, y, x + 50 * math.cos(a), y + 50 * math.sin(a)), fill=colour, width=5)

    def food_duck(self, radius):
        rng, draw, cx, cy = self.rng, self.draw, self.cx, self.cy
        skin, fat = self.colours[0], self.colours[2]
        for i in range(16):
            t = 2 * math.pi * i / 16
            x, y = cx + radius * 0.55 * math.cos(t), cy + radius * 0.55 * math.sin(t)
            draw.polygon(_shape(x, y, radius * 0.28, radius * 0.12, t, 2.4), fill=fat)
            draw.polygon(
                _shape(x, y - 6, radius * 0.26, radius * 0.09, t, 2.4), fill=_vary(skin, rng, 12)
            )
        pancake = self.colours[3]
        for k in range(4):
            _circle(
                draw,
                cx + k * 3,
                cy - k * 4,
                radius * 0.3,
                _shade(pancake, 0.97 - k * 0.01),
                _shade(pancake, 0.85),
                3,
            )
        for i in range(10):  # spring onion and cucumber sticks
            x = cx - 50 + i * 11
            draw.line(
                (x, cy - 40, x + 18, cy + 50),
                fill=self.colours[4] if i % 2 else (240, 240, 220),
                width=7,
            )

    def food_prawns(self, radius):
        rng, draw = self.rng, self.draw
        self.sauce(radius * 0.82)
        for i in range(9):
            t = 2 * math.pi * i / 9 + rng.uniform(-0.1, 0.1)
            x = self.cx + radius * 0.45 * math.cos(t)
            y = self.cy + radius * 0.45 * math.sin(t)
            colour = _vary(self.colours[1], rng, 10)
            box = (x - 70, y - 70, x + 70, y + 70)
            start = math.degrees(t) + 60
            draw.arc(box, start, start + 200, fill=_shade(colour, 0.8), width=44)
            draw.arc(box, start, start + 200, fill=colour, width=34)
            for k in range(5):
                a = math.radians(start + 30 + k * 35)
                draw.line(
                    (
                        x + 52 * math.cos(a),
                        y + 52 * math.sin(a),
                        x + 86 * math.cos(a),
                        y + 86 * math.sin(a),
                    ),
                    fill=_shade(colour, 0.75),
                    width=3,
                )

    def food_noodles(self, radius):
        rng, draw = self.rng, self.draw
        self.sauce(radius * 0.95, _shade(self.colours[1], 0.95))
        noodle = self.colours[0]
        for _ in range(70):
            x, y = _in_disc(rng, self.cx, self.cy, radius * 0.55)
            r = rng.uniform(50, 120)
            start = rng.uniform(0, 360)
            colour = _vary(noodle, rng, 10)
            draw.arc(
                (x - r, y - r, x + r, y + r),
                start,
                start + rng.uniform(90, 220),
                fill=_shade(colour, 0.85),
                width=11,
            )
            draw.arc(
                (x - r, y - r, x + r, y + r),
                start,
                start + rng.uniform(80, 200),
                fill=colour,
                width=8,
            )
        for _ in range(18):  # the topping
            x, y = _in_disc(rng, self.cx + 60, self.cy - 40, radius * 0.3)
            draw.polygon(
                _shape(x, y, 22, 16, rng.uniform(0, 3), 3, 0.15, rng, 14),
                fill=_vary(self.colours[2], rng, 10),
            )

    def food_rice(self, radius):
        rng, draw = self.rng, self.draw
        self.sauce(radius * 0.8, _shade(self.colours[0], 0.92))
        bits = self.colours[1:]
        for _ in range(900):
            x, y = _in_disc(rng, self.cx, self.cy, radius * 0.78)
            if bits and rng.random() < 0.16:
                _circle(draw, x, y, rng.uniform(6, 11), _vary(rng.choice(bits), rng, 10))
            else:
                grain = _shape(x, y, 9, 4.5, rng.uniform(0, 3.2), points=10)
                draw.polygon(
                    grain, fill=_vary(self.colours[0], rng, 6), outline=_shade(self.colours[0], 0.9)
                )

    def food_soup(self, radius):
        rng, draw = self.rng, self.draw
        _circle(draw, self.cx, self.cy, radius * 0.98, self.colours[0])
        _circle(draw, self.cx - 40, self.cy - 40, radius * 0.6, _shade(self.colours[0], 1.08))
        for _ in range(rng.randint(18, 26)):  # ribbons of egg, slices, leaves
            x, y = _in_disc(rng, self.cx, self.cy, radius * 0.75)
            colour = self.pick((0, 4, 3, 2, 2))
            piece = _shape(
                x, y, rng.uniform(24, 50), rng.uniform(10, 22), rng.uniform(0, 3.2), 2, 0.25, rng
            )
            draw.polygon(piece, fill=colour)
        for _ in range(45):  # drops of oil
            x, y = _in_disc(rng, self.cx, self.cy, radius * 0.85)
            r = rng.uniform(4, 14)
            _circle(draw, x, y, r, _shade(self.colours[0], 1.2), _shade(self.colours[0], 0.9), 2)

    def food_dumplings(self, radius):
        rng, draw = self.rng, self.draw
        skin = self.colours[0]
        count = 9
        for i in range(count + 1):
            if i < count:
                t = 2 * math.pi * i / count
                x, y = self.cx + radius * 0.56 * math.cos(t), self.cy + radius * 0.56 * math.sin(t)
            else:
                x, y, t = self.cx, self.cy, 0.4
            colour = _vary(skin, rng, 6)
            draw.polygon(_shape(x, y, 82, 50, t + math.pi / 2, 2.3), fill=_shade(colour, 0.9))
            draw.polygon(_shape(x, y - 4, 76, 42, t + math.pi / 2, 2.3), fill=colour)
            for k in range(-3, 4):  # the pleats along the seam
                a = t + math.pi / 2
                px, py = x + k * 18 * math.cos(a), y + k * 18 * math.sin(a)
                draw.line(
                    (px, py, px + 16 * math.cos(t), py + 16 * math.sin(t)),
                    fill=_shade(colour, 0.85),
                    width=3,
                )
            if len(self.colours) > 1 and self.colours[1] != skin:
                self.gloss(x, y, 28)

    def food_buns(self, radius):
        rng, draw = self.rng, self.draw
        skin = self.colours[0]
        spots = [(0.0, 0.0)] + [(0.6, 2 * math.pi * i / 7) for i in range(7)]
        for distance, t in spots:
            x, y = (
                self.cx + radius * distance * math.cos(t),
                self.cy + radius * distance * math.sin(t),
            )
            colour = _vary(skin, rng, 5)
            _circle(draw, x, y, 84, _shade(colour, 0.86))
            _circle(draw, x, y, 78, colour)
            for k in range(18):  # eighteen pleats to the knot at the top
                a = 2 * math.pi * k / 18
                draw.line(
                    (x + 70 * math.cos(a), y + 70 * math.sin(a), x, y),
                    fill=_shade(colour, 0.9),
                    width=3,
                )
            _circle(draw, x, y, 12, _shade(colour, 0.88))
            if len(self.colours) > 2:  # sesame and spring onion on the pan-fried ones
                for _ in range(12):
                    px, py = _in_disc(rng, x, y, 60)
                    draw.polygon(_shape(px, py, 5, 3, rng.uniform(0, 3)), fill=(250, 244, 224))
                for _ in range(6):
                    px, py = _in_disc(rng, x, y, 60)
                    _circle(draw, px, py, 6, self.colours[2])

    def food_pancake(self, radius):
        rng, draw, cx, cy = self.rng, self.draw, self.cx, self.cy
        top, dark = self.colours[0], self.colours[1]
        _circle(draw, cx, cy, radius * 0.8, dark)
        _circle(draw, cx, cy, radius * 0.77, top)
        for k in range(1, 9):
            r = radius * 0.09 * k
            draw.arc((cx - r, cy - r, cx + r, cy + r), k * 40, k * 40 + 250, fill=dark, width=5)
        for i in range(6):  # cut into six
            t = 2 * math.pi * i / 6
            draw.line(
                (cx, cy, cx + radius * 0.8 * math.cos(t), cy + radius * 0.8 * math.sin(t)),
                fill=_shade(top, 0.7),
                width=6,
            )
        for _ in range(50):
            x, y = _in_disc(rng, cx, cy, radius * 0.7)
            _circle(draw, x, y, rng.uniform(4, 8), self.colours[2])

    def food_rolls(self, radius):
        rng, draw = self.rng, self.draw
        _circle(
            draw, self.cx + radius * 0.55, self.cy + radius * 0.45, 60, (240, 236, 226)
        )  # the dip
        _circle(draw, self.cx + radius * 0.55, self.cy + radius * 0.45, 48, self.colours[2])
        for i in range(4):
            x = self.cx - radius * 0.15 + (i - 1.5) * 95
            y = self.cy - 30 + rng.uniform(-15, 15)
            colour = _vary(self.colours[0], rng, 8)
            roll = _shape(x, y, 48, 180, rng.uniform(-0.25, 0.25), 4)
            draw.polygon(roll, fill=colour, outline=_shade(colour, 0.75), width=4)
            for _ in range(14):
                px, py = x + rng.uniform(-30, 30), y + rng.uniform(-150, 150)
                _circle(draw, px, py, rng.uniform(3, 6), self.colours[1])

    def food_dessert(self, radius):
        rng, draw = self.rng, self.draw
        _circle(
            draw,
            self.cx,
            self.cy,
            radius * 0.98,
            self.colours[-1] if self.colours[0][0] > 200 else self.colours[0],
        )
        _circle(draw, self.cx, self.cy, radius * 0.8, self.colours[0])
        for _ in range(rng.randint(28, 40)):
            x, y = _in_disc(rng, self.cx, self.cy, radius * 0.78)
            colour = self.pick((2, 3, 3, 2))
            cube = _shape(
                x, y, rng.uniform(16, 28), rng.uniform(14, 24), rng.uniform(0, 3), 4, 0.1, rng, 16
            )
            draw.polygon(cube, fill=colour, outline=_shade(colour, 0.85))
        for _ in range(80):  # sago pearls or sugar drops
            x, y = _in_disc(rng, self.cx, self.cy, radius * 0.85)
            _circle(draw, x, y, rng.uniform(4, 7), (252, 250, 244), (220, 220, 210))

    def food_pudding(self, radius):
        draw = self.draw
        _circle(draw, self.cx, self.cy, radius * 0.98, self.colours[0])
        draw.polygon(
            _shape(self.cx, self.cy, radius * 0.9, radius * 0.86, 0.3, wobble=0.03, rng=self.rng),
            fill=_shade(self.colours[0], 1.04),
        )
        _circle(draw, self.cx - 70, self.cy - 80, 90, _shade(self.colours[0], 1.12))
        for i in range(3):  # red beans on top
            _circle(draw, self.cx + 60 + i * 34, self.cy + 40 + (i % 2) * 26, 16, self.colours[1])

    def garnish(self, radius):
        """A sprinkle of spring onion and sesame on the savoury dishes."""
        if self.food in (
            "drink",
            "beer",
            "dessert",
            "pudding",
            "dumplings",
            "buns",
            "rolls",
            "duck",
        ):
            return
        rng, draw = self.rng, self.draw
        green = _rgb("#6cae3e")
        for _ in range(rng.randint(8, 16)):
            x, y = _in_disc(rng, self.cx, self.cy, radius * 0.6)
            _circle(draw, x, y, rng.uniform(6, 10), green, _shade(green, 0.7), 3)
        for _ in range(rng.randint(20, 40)):
            x, y = _in_disc(rng, self.cx, self.cy, radius * 0.6)
            draw.polygon(_shape(x, y, 4, 2.2, rng.uniform(0, 3), points=8), fill=(248, 240, 214))


def draw_photo(name, art):
    """JPEG bytes of a 1200×900 picture for a dish; the same name always draws the same."""
    return _Painter(name, art).paint()
