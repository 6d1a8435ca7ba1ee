"""Names that imitate the bot or the staff (客服, 官方, 管理员 …): pure text, no storage.

A person registering as ``客服小王`` or a company called ``零工市场官方招聘`` would have their
messages and job cards read as the platform's own. ``impersonation(name, bot_name)`` folds the
name the way a reader's eye does — NFKC's compatibility folding (full-width ``ｋｅｆｕ``,
compatibility ideographs; done as NFKD, so accents come off as marks: ``kéfu``), case, a few
traditional characters and Cyrillic/Greek look-alikes, and it drops every space, invisible
or format character (zero-width, bidi, soft hyphen, variation selectors, tags, Hangul fillers …),
combining mark, punctuation and symbol — then looks for the bot's name (and its pinyin) and the
staff words, Chinese and latin (``kefu``, ``admin``, ``official`` …).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from matching._lexicon import to_pinyin

__all__ = ["LATIN_TERMS", "STAFF_TERMS", "fold_name", "impersonation"]

STAFF_TERMS: tuple[str, ...] = (
    "客服",
    "官方",
    "管理员",
    "工作人员",
    "运营",
    "平台",
    "零工市场",
    "零工驿站",
    "人社",
    "政府",
    "系统",
    "小助手",
    "机器人",
)
"""Words a private person's or a company's name must not contain (simplified; traditional
spellings fold onto them)."""

LATIN_TERMS: tuple[str, ...] = (
    "kefu",
    "admin",
    "official",
    "guanfang",
    "guanliyuan",
    "gongzuorenyuan",
    "yunying",
    "pingtai",
    "lingongshichang",
    "zhengfu",
    "xitong",
    "system",
    "robot",
)
"""The same in latin letters (pinyin and English), matched case-insensitively."""

# Where a staff word is also part of an ordinary one: 老人社区 is an old people's community.
_NOT_FOLLOWED_BY = {"人社": "区"}
_STAFF = re.compile(
    "|".join(
        f"({re.escape(t)}){'(?!' + re.escape(_NOT_FOLLOWED_BY[t]) + ')' if t in _NOT_FOLLOWED_BY else ''}"
        for t in STAFF_TERMS
    )
)

# Traditional characters of the words above, folded onto the simplified ones.
_TRADITIONAL = str.maketrans("員運營臺檯場統係繫驛機", "员运营台台场统系系驿机")
# Latin look-alikes: Cyrillic and Greek letters that render like a, c, e …, and digits or signs
# used for letters (adm1n, 0fficial, @dmin). Only the latin search sees these.
_LOOKALIKE = str.maketrans(
    {
        "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "һ": "h", "н": "h", "і": "i", "ј": "j",
        "к": "k", "м": "m", "о": "o", "р": "p", "ѕ": "s", "т": "t", "у": "y", "х": "x", "ɡ": "g",
        "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
        "ϲ": "c", "ı": "i",
        "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i", "|": "l",
    }
)
# Letters that show nothing: Hangul fillers (category Lo, so not caught by category).
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")
# Dropped by category: separators (Z*), controls, format, private use, unassigned and surrogates
# (C*), combining marks incl. variation selectors (M*), punctuation (P*) and symbols (S*).
_DROPPED_CATEGORIES = frozenset("ZCMPS")


def _keep(char: str) -> bool:
    return unicodedata.category(char)[0] not in _DROPPED_CATEGORIES and char not in _FILLERS


def fold_name(name: str) -> str:
    """The name as matched: NFKD (compatibility forms folded, accents split off), casefolded,
    traditional → simplified for the staff words, with spaces, invisible characters, marks,
    punctuation and symbols removed."""
    text = unicodedata.normalize("NFKD", name or "").casefold().translate(_TRADITIONAL)
    return "".join(c for c in text if _keep(c))


def _fold_latin(name: str) -> str:
    text = unicodedata.normalize("NFKD", name or "").casefold().translate(_LOOKALIKE)
    return "".join(c for c in text if _keep(c))


@lru_cache(maxsize=16)
def _bot_forms(bot_name: str) -> tuple[str, str]:
    """The bot's name folded, and its toneless pinyin ("" when too short to mean anything)."""
    folded = fold_name(bot_name)
    latin = "".join(c for c in to_pinyin(folded) if "a" <= c <= "z")
    return folded, latin if len(latin) >= 6 else ""


def impersonation(name: str, bot_name: str) -> str | None:
    """The reason ``name`` is refused — the word it imitates, as listed (the bot's name, a staff
    word such as ``客服``, or a latin one such as ``admin``) — or ``None`` when it is fine."""
    folded = fold_name(name)
    if not folded:
        return None
    bot_folded, bot_latin = _bot_forms(bot_name or "")
    if bot_folded and bot_folded in folded:
        return bot_name
    staff = _STAFF.search(folded)
    if staff is not None:
        return staff.group(staff.lastindex or 0)
    latin = _fold_latin(name)
    if bot_latin and bot_latin in latin:
        return bot_name
    for term in LATIN_TERMS:
        if term in latin:
            return term
    return None
