"""Number formatting, one way throughout the pack: money with K/M suffixes, percentages with one decimal."""

from __future__ import annotations

import math

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def money(x: float | None, currency: str = "USD", signed: bool = False) -> str:
    """$1.2M, $845.3K, $950; the sign leads (−$1.2M) and `signed` adds + for gains."""
    if _missing(x):
        return "n/a"
    sign = "−" if x < 0 else ("+" if signed and x > 0 else "")
    a = abs(x)
    symbol = SYMBOLS.get(currency)
    if a >= 1e9:
        body = f"{a / 1e9:,.2f}B"
    elif a >= 1e6:
        body = f"{a / 1e6:,.2f}M"
    elif a >= 1e3:
        body = f"{a / 1e3:,.1f}K"
    else:
        body = f"{a:,.0f}"
    return f"{sign}{symbol}{body}" if symbol else f"{sign}{body} {currency}"


def money_exact(x: float | None, currency: str = "USD") -> str:
    """Full amount with thousands separators and cents, for tables that reconcile."""
    if _missing(x):
        return "n/a"
    symbol = SYMBOLS.get(currency)
    sign = "−" if x < 0 else ""
    return f"{sign}{symbol}{abs(x):,.2f}" if symbol else f"{sign}{abs(x):,.2f} {currency}"


def pct(x: float | None, signed: bool = False) -> str:
    """A fraction as a percentage with one decimal: 0.1234 -> 12.3%."""
    if _missing(x):
        return "n/a"
    sign = "−" if x < 0 and round(abs(x) * 100, 1) > 0 else ("+" if signed and x > 0 else "")
    return f"{sign}{abs(x) * 100:.1f}%"


def points(x: float | None) -> str:
    """A change of a share, in percentage points: +2.5 pp."""
    if _missing(x):
        return "n/a"
    return f"{'+' if x > 0 else '−' if x < 0 else '±'}{abs(x) * 100:.1f} pp"


def multiple(x: float | None) -> str:
    return "n/a" if _missing(x) else f"{x:.2f}×"


def number(x: float | None, decimals: int = 0) -> str:
    if _missing(x):
        return "n/a"
    a = abs(x)
    if a >= 1e12:
        return f"{x / 1e12:,.1f}T"
    if a >= 1e9:
        return f"{x / 1e9:,.1f}B"
    if a >= 1e6:
        return f"{x / 1e6:,.1f}M"
    return f"{x:,.{decimals}f}"


def change(current: float | None, previous: float | None) -> float | None:
    """Relative change, or None when there is nothing to compare with."""
    if _missing(current) or _missing(previous) or previous == 0:
        return None
    return current / previous - 1


def arrow(delta: float | None) -> str:
    if _missing(delta) or abs(delta) < 1e-9:
        return "→"
    return "▲" if delta > 0 else "▼"
