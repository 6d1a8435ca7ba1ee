"""Text normalisation shared by every matcher.

``normalize`` is what parsers and fuzzy matchers look at; the original text is always kept for
the record. Order follows reference §7.2: NFKC → strip controls, bidi and zero-width characters
→ lowercase → collapse whitespace. Chinese-numeral mapping is *not* done here (it is only for
phone detection, see ``matching.phones``).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["INVISIBLE_CHARS", "normalize", "strip_invisible"]

# Characters that are removed outright: zero-width, bidi controls, soft hyphen, BOM, variation
# selectors, emoji keycap combiner, tag characters, interlinear annotation marks, fillers.
INVISIBLE_CHARS = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u20e3\u3164\ufe00-\ufe0f\ufeff\ufff9-\ufffb\uffa0"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef\U0001d173-\U0001d17a"
)
_INVISIBLE_RE = re.compile(f"[{INVISIBLE_CHARS}]+")
# C0/C1 controls, line/paragraph separators and every whitespace become a single space.
_SPACE_RE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SURROGATE_RE = re.compile("[\ud800-\udfff]+")


def strip_invisible(text: str) -> str:
    """Remove zero-width/bidi/variation-selector characters and lone surrogates."""
    if not isinstance(text, str):
        return ""
    text = _SURROGATE_RE.sub("", text)
    return _INVISIBLE_RE.sub("", text)


def normalize(text: str) -> str:
    """Canonical matching form of ``text``. Never raises; non-strings give ``""``.

    * NFKC (full-width letters, digits and punctuation become ASCII; ① → 1; ㎡ → m2)
    * zero-width, bidi and other invisible characters removed
    * controls, newlines and all whitespace collapsed to one space, ends stripped
    * latin letters lowercased
    """
    if not isinstance(text, str) or not text:
        return ""
    try:
        text = _SURROGATE_RE.sub("", text)
        text = _INVISIBLE_RE.sub("", text)
        text = unicodedata.normalize("NFKC", text)
        # NFKC can produce new invisible characters (rare compatibility forms).
        text = _INVISIBLE_RE.sub("", text)
        text = _SPACE_RE.sub(" ", text).strip()
        return text.lower()
    except Exception:  # pragma: no cover - defensive: normalisation must never raise
        return ""
