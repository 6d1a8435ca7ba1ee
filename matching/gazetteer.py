"""沙县区 place names: the 12 towns/streets, their villages and landmarks, and adjacency.

A closed gazetteer on purpose: general address parsers resolve 青州 to Shandong and 城西 to Xining.
Here every surface form maps to one of the district's towns or to "outside the district".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from matching._lexicon import homophone_key, load_yaml, trie_regex
from matching.normalize import normalize

__all__ = [
    "PlaceMention",
    "Town",
    "find_places",
    "find_town",
    "find_towns",
    "get_town",
    "neighbours",
    "towns",
]

MAX_TEXT = 4000
_SUFFIXES = ("街道", "镇", "乡")
_VILLAGE_SUFFIXES = ("村", "社区", "居委会", "村委会")
_CJK_RE = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True, slots=True)
class Town:
    """A township-level unit of 沙县区 (街道 / 镇 / 乡)."""

    name: str
    short_names: tuple[str, ...]
    kind: str
    villages: tuple[str, ...] = ()
    landmarks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PlaceMention:
    """A place found at ``[start, end)`` of the normalised text.

    ``town`` is ``None`` for places outside the district. ``via`` is "town", "village",
    "landmark" or "outside".
    """

    town: Town | None
    start: int
    end: int
    surface: str
    via: str


class _Gazetteer:
    def __init__(self, raw: dict) -> None:
        self.towns: list[Town] = []
        self.adjacent: dict[str, set[str]] = {}
        surfaces: dict[str, tuple[str | None, str]] = {}  # surface -> (town name, via)

        def add(surface: str, town: str | None, via: str) -> None:
            s = normalize(surface)
            if s and s not in surfaces:
                surfaces[s] = (town, via)

        items = raw.get("towns") or []
        # Full names first so they own their surfaces.
        for t in items:
            add(t["name"], t["name"], "town")
        for t in items:
            name = str(t["name"])
            shorts = tuple(str(s) for s in t.get("short_names") or ())
            villages = tuple(str(v) for v in t.get("villages") or ())
            landmarks = tuple(str(v) for v in t.get("landmarks") or ())
            self.towns.append(Town(name, shorts, str(t.get("kind", "")), villages, landmarks))
            self.adjacent.setdefault(name, set()).update(t.get("neighbours") or ())
            for s in (*shorts, *(t.get("typos") or ())):
                add(s, name, "town")
                for suf in _SUFFIXES:
                    add(s + suf, name, "town")
        for t in items:
            name = str(t["name"])
            for v in t.get("villages") or ():
                for suf in _VILLAGE_SUFFIXES:
                    add(v + suf, name, "village")
                if v.endswith("村"):  # 华村, 霞村: the name already says "village"
                    add(v, name, "village")
            for v in t.get("bare") or ():
                add(v, name, "village")
            for lm in t.get("landmarks") or ():
                add(lm, name, "landmark")
        for o in raw.get("outside") or ():
            add(o, None, "outside")
        # symmetric adjacency
        for a, ns in list(self.adjacent.items()):
            for b in ns:
                self.adjacent.setdefault(b, set()).add(a)
        self.by_name = {t.name: t for t in self.towns}
        self.short_to_name: dict[str, str] = {}
        for t in self.towns:
            self.short_to_name[t.name] = t.name
            for s in t.short_names:
                self.short_to_name[normalize(s)] = t.name
        self.surfaces = surfaces
        self.regex = trie_regex(surfaces)
        homo: dict[str, tuple[str | None, str]] = {}
        for s, v in surfaces.items():
            if len(s) >= 3 and v[0] is not None and s.endswith(("镇", "乡", "街道", "村")):
                homo.setdefault(homophone_key(s), v)
        self.homo = homo
        self.homo_regex = trie_regex(homo)

    def mentions(self, norm: str) -> list[PlaceMention]:
        cands: list[tuple[int, int, int, str | None, str]] = []
        if self.regex is not None:
            for m in self.regex.finditer(norm):
                town, via = self.surfaces[m.group()]
                cands.append((m.start(), m.end(), 0, town, via))
        if self.homo_regex is not None and _CJK_RE.search(norm):
            for m in self.homo_regex.finditer(homophone_key(norm)):
                town, via = self.homo[m.group()]
                cands.append((m.start(), m.end(), 1, town, via))
        cands.sort(key=lambda c: (c[0], -(c[1] - c[0]), c[2]))
        out: list[PlaceMention] = []
        last = 0
        for start, end, _rank, town, via in cands:
            if start < last:
                continue
            surface = norm[start:end]
            if town is not None and _foreign_context(norm, start, end, surface):
                continue
            t = self.by_name.get(town) if town else None
            out.append(PlaceMention(t, start, end, surface, via))
            last = end
        return out


def _foreign_context(norm: str, start: int, end: int, surface: str) -> bool:
    """True when a short town name is really another place (青州市, 南阳市, 河南南阳...)."""
    after = norm[end : end + 2]
    if after.startswith("市") and not after.startswith("市场"):
        return True
    if after.startswith(("省", "县", "区")) and not surface.endswith(("镇", "乡", "街道")):
        return True
    before = norm[max(0, start - 3) : start]
    return bool(re.search(r"(山东|河南|潍坊|西宁|青海|湖北|上海)$", before))


@lru_cache(maxsize=1)
def _gaz() -> _Gazetteer:
    raw = load_yaml("gazetteer.yaml")
    assert isinstance(raw, dict)
    return _Gazetteer(raw)


def towns() -> list[Town]:
    """The 12 towns/streets of 沙县区 in official code order."""
    return list(_gaz().towns)


def get_town(name: str) -> Town | None:
    """Town by full or short name (凤岗街道 / 凤岗)."""
    g = _gaz()
    full = g.short_to_name.get(normalize(name)) if isinstance(name, str) else None
    return g.by_name.get(full) if full else None


def find_places(text: str) -> list[PlaceMention]:
    """Every place mention (town, village, landmark, or outside the district), in order."""
    norm = normalize(text)[:MAX_TEXT]
    if not norm:
        return []
    return _gaz().mentions(norm)


def find_places_normalized(norm: str) -> list[PlaceMention]:
    """Like :func:`find_places` for text that is already normalised."""
    return _gaz().mentions(norm[:MAX_TEXT]) if norm else []


def find_town(text: str) -> Town | None:
    """The first 沙县 town named in ``text`` (directly, by village or by landmark), else None."""
    for m in find_places(text):
        if m.town is not None:
            return m.town
    return None


def find_towns(text: str) -> list[Town]:
    """All distinct 沙县 towns named in ``text``, in order ("夏茂、高砂都行")."""
    out: list[Town] = []
    for m in find_places(text):
        if m.town is not None and m.town not in out:
            out.append(m.town)
    return out


def neighbours(town_name: str) -> list[str]:
    """Full names of the towns bordering ``town_name`` (full or short name), sorted by code order."""
    t = get_town(town_name)
    if t is None:
        return []
    g = _gaz()
    adj = g.adjacent.get(t.name, set())
    return [x.name for x in g.towns if x.name in adj]
