"""Reposts: the same post with small edits across groups maps to one order.

A fingerprint keeps only what carries meaning (CJK, letters, digits) after normalisation and
masking, so emoji, spacing, group tags and 【转】 markers do not matter. Two posts are reposts when
their fingerprints are close (rapidfuzz) *and* they do not disagree on a phone number or on the
set of money amounts: a new wage or a different contact is a different order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from matching.normalize import normalize
from matching.phones import extract_phones

__all__ = ["RepostIndex", "fingerprint", "is_repost"]

_NOISE_RE = re.compile(r"【?(?:转发?|转自|转载|扩散|急急急|置顶|顶一下|帮转|求转)】?|@\S+")
_KEEP_RE = re.compile(r"[^\u3400-\u9fffa-z0-9]+")
_NUM_RE = re.compile(r"\d+(?:\.\d+)?")
_MAX = 2000
SCORE_CUTOFF = 88.0


def fingerprint(text: str) -> str:
    """Canonical comparison form of a post."""
    norm = normalize(text if isinstance(text, str) else "")[:_MAX]
    norm = _NOISE_RE.sub("", norm)
    return _KEEP_RE.sub("", norm)


def _numbers(fp: str, phones: list[str]) -> set[str]:
    nums = set(_NUM_RE.findall(fp))
    for p in phones:
        nums.discard(p.replace("-", ""))
    return {n for n in nums if len(n) < 7}


def _compatible(a_text: str, b_text: str, a_fp: str, b_fp: str) -> bool:
    pa, pb = extract_phones(a_text), extract_phones(b_text)
    if pa and pb and not set(pa) & set(pb):
        return False
    return _numbers(a_fp, pa) == _numbers(b_fp, pb)


def is_repost(a: str, b: str, cutoff: float = SCORE_CUTOFF) -> bool:
    """True when ``b`` is ``a`` reposted with small edits."""
    fa, fb = fingerprint(a), fingerprint(b)
    if not fa or not fb:
        return False
    if fa == fb:
        return True
    if fuzz.ratio(fa, fb) < cutoff:
        return False
    return _compatible(a, b, fa, fb)


@dataclass
class RepostIndex:
    """Remembers posts by key (an order id) and finds the order a new post repeats."""

    cutoff: float = SCORE_CUTOFF
    _keys: list[str] = field(default_factory=list)
    _fps: list[str] = field(default_factory=list)
    _texts: list[str] = field(default_factory=list)
    _exact: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: str, text: str) -> None:
        fp = fingerprint(text)
        self._keys.append(key)
        self._fps.append(fp)
        self._texts.append(text)
        self._exact.setdefault(fp, key)

    def find(self, text: str) -> str | None:
        """Key of the earlier post that ``text`` repeats, or None."""
        fp = fingerprint(text)
        if not fp:
            return None
        if fp in self._exact:
            return self._exact[fp]
        for _choice, score, idx in process.extract(
            fp, self._fps, scorer=fuzz.ratio, score_cutoff=self.cutoff, limit=5
        ):
            if score >= self.cutoff and _compatible(self._texts[idx], text, self._fps[idx], fp):
                return self._keys[idx]
        return None

    def add_or_find(self, key: str, text: str) -> str:
        """Key of the order this post belongs to: an earlier one, or ``key`` (then remembered)."""
        found = self.find(text)
        if found is not None:
            return found
        self.add(key, text)
        return key
