"""Identity document numbers (证件号码) as a registration list gives them, checked before anyone is imported.

The resident identity card number (居民身份证号码, GB 11643-1999) has 18 characters: a 6-digit address code,
the date of birth as YYYYMMDD, a 3-digit sequence and a check character computed from the first 17 (ISO 7064
MOD 11-2; ``X`` stands for 10). The residence permits of Hong Kong, Macao and Taiwan residents
(港澳台居民居住证) use the same form, with the address codes 81, 82 and 83. The other documents a candidate
may hold are checked for form only.
"""

from __future__ import annotations

import re
from datetime import date

RESIDENT_ID = "居民身份证"
RESIDENCE_PERMIT = "港澳台居民居住证"
ID_TYPES = (
    RESIDENT_ID,
    RESIDENCE_PERMIT,
    "港澳居民来往内地通行证",
    "台湾居民来往大陆通行证",
    "护照",
    "外国人永久居留身份证",
)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_OTHER = re.compile(r"^[A-Z0-9]{5,20}$")


def check_character(first17: str) -> str:
    """The 18th character of a resident ID number whose first 17 digits are given."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normal_id(number: str) -> str:
    """As typed on a form: spaces dropped, full-width characters and a lower-case x made plain."""
    import unicodedata

    return unicodedata.normalize("NFKC", number).replace(" ", "").upper()


def id_problem(id_type: str, number: str, today: date | None = None) -> str | None:
    """What is wrong with ``number`` as a document of ``id_type`` (None: nothing), in words for the admin."""
    if id_type not in ID_TYPES:
        return f"证件类型应为以下之一：{'、'.join(ID_TYPES)}"
    if not number:
        return "证件号码为空"
    if id_type not in (RESIDENT_ID, RESIDENCE_PERMIT):
        return None if _OTHER.match(number) else "证件号码应为 5 至 20 位字母或数字"
    if len(number) != 18:
        return f"身份证号码应为 18 位，这里是 {len(number)} 位"
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return "身份证号码前 17 位应为数字，最后一位为数字或 X"
    if id_type == RESIDENCE_PERMIT and number[:2] not in ("81", "82", "83"):
        return "港澳台居民居住证号码应以 81、82 或 83 开头"
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return f"身份证号码中的出生日期 {number[6:14]} 不存在"
    today = today or date.today()
    if not date(1900, 1, 1) <= born <= today:
        return f"身份证号码中的出生日期 {born:%Y-%m-%d} 不合理"
    expected = check_character(number[:17])
    if number[17] != expected:
        return f"身份证号码校验位不正确（按前 17 位应为 {expected}），请核对是否抄错"
    return None
