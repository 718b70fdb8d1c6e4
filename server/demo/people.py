"""Demo candidates: realistic names and resident ID numbers with a valid check digit (GB 11643)."""

from __future__ import annotations

import random
from datetime import date, timedelta

NAMES = [
    "张建华",
    "王秀英",
    "李志强",
    "刘海燕",
    "陈国栋",
    "杨丽娟",
    "赵永刚",
    "黄晓梅",
    "周立新",
    "吴红霞",
    "徐明亮",
    "孙桂兰",
    "胡文斌",
    "朱春燕",
    "高德才",
    "林小红",
    "何继红",
    "郭振宇",
    "马玉兰",
    "罗建军",
    "梁淑芬",
    "宋志刚",
    "郑丽萍",
    "谢永福",
    "韩雪梅",
    "唐国庆",
    "冯晓东",
    "于海波",
    "董慧敏",
    "萧长青",
]
# Administrative division codes (district level) from around the country.
REGIONS = ["440106", "310104", "320102", "330106", "420106", "510107", "370102", "410105", "430104", "350102"]
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def check_digit(first17: str) -> str:
    return CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def id_number(rng: random.Random, female: bool) -> str:
    birth = date(1970, 1, 1) + timedelta(days=rng.randrange(0, 365 * 35))
    sequence = rng.randrange(0, 99) * 10 + rng.choice([0, 2, 4, 6, 8] if female else [1, 3, 5, 7, 9])
    first17 = f"{rng.choice(REGIONS)}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_digit(first17)


FEMALE = {
    "王秀英",
    "刘海燕",
    "杨丽娟",
    "黄晓梅",
    "吴红霞",
    "孙桂兰",
    "朱春燕",
    "林小红",
    "何继红",
    "马玉兰",
    "梁淑芬",
    "郑丽萍",
    "韩雪梅",
    "董慧敏",
}


def candidates(count: int, seed: int = 2026) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [(name, id_number(rng, name in FEMALE)) for name in NAMES[:count]]
