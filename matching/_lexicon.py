"""Small shared machinery for dictionary matching: trie regexes and homophone keys.

* ``trie_regex(words)`` compiles a prefix-factored alternation. Python's ``re`` tries the
  alternatives of a flat ``a|b|c`` one by one at every position; a trie pattern fails fast and,
  because every optional tail is greedy, yields the leftmost-longest word.
* ``homophone_key(text)`` replaces every CJK character by a private-use character standing for
  its toneless pinyin, so that 泥水功 and 泥水工 get the same key. The table comes from
  ``data/pinyin_chars.txt`` (generated offline from pypinyin; the runtime does not import it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).with_name("data")

# Supplementary private use area: never produced by normalize() from real text.
_KEY_BASE = 0xF0000


def trie_regex(words: Iterable[str]) -> re.Pattern[str] | None:
    """A regex matching any of ``words`` (leftmost-longest). ``None`` when there are no words."""
    root: dict[str, dict] = {}
    any_word = False
    for w in words:
        if not w:
            continue
        any_word = True
        node = root
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}
    if not any_word:
        return None
    return re.compile(_node_pattern(root))


def _node_pattern(node: dict[str, dict]) -> str:
    terminal = "" in node
    alts = []
    singles = []
    for ch in sorted(k for k in node if k):
        child = node[ch]
        sub = _node_pattern(child)
        if sub:
            alts.append(re.escape(ch) + sub)
        else:
            singles.append(re.escape(ch))
    if singles:
        alts.append(singles[0] if len(singles) == 1 else "[" + "".join(singles) + "]")
    if not alts:
        return ""
    body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
    if terminal:
        return "(?:" + body + ")?"
    return body


@lru_cache(maxsize=1)
def _pinyin_tables() -> tuple[dict[str, str], dict[int, str]]:
    """(char -> toneless pinyin, str.translate table char -> key char)."""
    char_py: dict[str, str] = {}
    trans: dict[int, str] = {}
    path = DATA_DIR / "pinyin_chars.txt"
    with path.open(encoding="utf-8") as fh:
        idx = 0
        for line in fh:
            if not line.strip() or line.startswith("#"):
                continue
            py, _, chars = line.rstrip("\n").partition("\t")
            key = chr(_KEY_BASE + idx)
            idx += 1
            for ch in chars:
                char_py[ch] = py
                trans[ord(ch)] = key
    return char_py, trans


def homophone_key(text: str) -> str:
    """Map each CJK character to the key of its toneless pinyin; other characters unchanged."""
    return text.translate(_pinyin_tables()[1])


def to_pinyin(text: str, sep: str = "") -> str:
    """Toneless pinyin of the CJK characters in ``text`` (other characters kept as they are)."""
    table = _pinyin_tables()[0]
    return sep.join(table.get(ch, ch) for ch in text)


def load_yaml(name: str) -> object:
    """Read a YAML file from the package data folder."""
    import yaml  # local import keeps module import cheap for callers that never load data

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with (DATA_DIR / name).open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)
