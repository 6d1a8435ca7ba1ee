"""Money is integer fen (分). Never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def yuan_to_fen(yuan: int | str | Decimal) -> int:
    """``"12.5"`` → 1250. Floats are refused: they cannot hold 0.1 exactly."""
    if isinstance(yuan, float):
        raise TypeError("money must not be float")
    return int((Decimal(yuan) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fen_to_text(fen: int) -> str:
    """1250 → ``"12.5元"``, 38000 → ``"380元"``."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    if part == 0:
        return f"{sign}{whole}元"
    return f"{sign}{whole}.{part:02d}".rstrip("0") + "元"
