"""Spend forecast for the next quarters, its backtest, and what-if scenarios.

The model is deliberately simple enough to explain in one sentence on the page: each kind of spend
(tokens, seats, self-hosted, platform) grows at the constant quarterly rate that best fits its last
quarters (a straight line through the logarithm of spend, least squares); the forecast is the sum.
The backtest refits the model without each of the last known quarters and compares the forecast
with what happened.

Scenarios change the base forecast with the assumptions the configuration gives them:
- `usage_growth`: extra token volume per quarter on top of the trend (0.10 = +10% a quarter, compounding);
- `price_change`: change of token prices from the first forecast quarter on (-0.20 = 20% cheaper);
- `retiering_adopted`: share of this quarter's re-tiering saving realised in every forecast quarter;
- `idle_seats_reallocated`: share of this quarter's idle-seat cost removed in every forecast quarter;
- `seats_reclaimed`: share of the reclaimable seats (those unused for the longest of `[seats] reclaim_days`)
  taken back, removing that share of their cost a year, a quarter at a time, in every forecast quarter.
"""

from __future__ import annotations

import math

import numpy as np

MODALITIES = ("api_tokens", "seat_licence", "self_hosted", "platform")
WINDOW = 6  # quarters of history each trend is fitted on
HORIZON = 4
BACKTEST = 2  # last known quarters held out one at a time
MIN_HISTORY = 3  # quarters needed before a trend means anything
SCENARIO_KEYS = ("usage_growth", "price_change", "retiering_adopted", "idle_seats_reallocated", "seats_reclaimed")


def quarter_labels(last: str, n: int) -> list[str]:
    year, q = int(last[:4]), int(last[-1])
    out = []
    for _ in range(n):
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
        out.append(f"{year}-Q{q}")
    return out


def _positive(values: list[float]) -> tuple[np.ndarray, np.ndarray, int]:
    """(quarter positions, spend) of the positive quarters of the window, and the last quarter's position.

    A quarter without spend has no logarithm and is left out of the fit, but the others keep their
    positions: [100, 0, 400] is two quarters of doubling, not one of quadrupling.
    """
    window = values[-WINDOW:]
    kept = [(t, v) for t, v in enumerate(window) if v and v > 0]
    t = np.array([t for t, _ in kept], dtype=float)
    return t, np.array([v for _, v in kept], dtype=float), len(window) - 1


def growth_rate(values: list[float]) -> float:
    """Quarterly growth rate of the log-linear least-squares fit (0 when fewer than two positive values)."""
    t, ys, _ = _positive(values)
    if len(ys) < 2:
        return 0.0
    slope = np.polyfit(t, np.log(ys), 1)[0]
    return float(math.exp(slope) - 1)


def fit_level(values: list[float], rate: float) -> float:
    """The fitted level at the last known quarter (the line's end, not the last point: less noise)."""
    t, ys, last = _positive(values)
    if not len(ys):
        return 0.0
    intercept = np.mean(np.log(ys)) - math.log1p(rate) * np.mean(t)
    return float(math.exp(intercept + math.log1p(rate) * last))


def project(series: dict[str, list[float]], horizon: int = HORIZON) -> dict:
    """Per-modality trend and the next `horizon` quarters of spend for each, and their sum."""
    parts = {}
    for modality, values in series.items():
        rate = growth_rate(values)
        level = fit_level(values, rate)
        parts[modality] = {"growth": rate, "forecast": [level * (1 + rate) ** h for h in range(1, horizon + 1)]}
    total = [sum(p["forecast"][h] for p in parts.values()) for h in range(horizon)]
    return {"parts": parts, "total": total}


def backtest(series: dict[str, list[float]], quarters: list[str], holdout: int = BACKTEST) -> list[dict]:
    """One-quarter-ahead forecasts of each of the last `holdout` quarters from the quarters before it."""
    out = []
    for k in range(holdout, 0, -1):
        cut = len(quarters) - k
        if cut < 2:
            continue
        fitted = project({m: v[:cut] for m, v in series.items()}, horizon=1)
        actual = sum(v[cut] for v in series.values())
        forecast = fitted["total"][0]
        out.append({"quarter": quarters[cut], "actual": actual, "forecast": forecast,
                    "error": forecast - actual, "abs_pct_error": abs(forecast - actual) / actual if actual else None})
    return out


def scenario(base: dict, assumptions: dict, retiering_savings: float, idle_seat_cost: float,
             reclaimable_per_quarter: float = 0.0) -> list[float]:
    """The base forecast changed by one scenario's assumptions (see the module docstring)."""
    unknown = set(assumptions) - set(SCENARIO_KEYS) - {"label"}
    if unknown:
        raise ValueError(f"unknown scenario assumptions {sorted(unknown)}; use {list(SCENARIO_KEYS)}")
    growth = assumptions.get("usage_growth", 0.0)
    price = assumptions.get("price_change", 0.0)
    adopted = assumptions.get("retiering_adopted", 0.0)
    reallocated = assumptions.get("idle_seats_reallocated", 0.0)
    reclaimed = assumptions.get("seats_reclaimed", 0.0)
    tokens = base["parts"].get("api_tokens", {"forecast": [0.0] * len(base["total"])})["forecast"]
    out = []
    for h, total in enumerate(base["total"]):
        token_delta = tokens[h] * ((1 + growth) ** (h + 1) * (1 + price) - 1)
        out.append(total + token_delta - adopted * retiering_savings - reallocated * idle_seat_cost
                   - reclaimed * reclaimable_per_quarter)
    return out


def forecast(history: list[dict], modality_history: dict[str, list[float]], retiering_savings: float,
             idle_seat_cost: float, scenarios: dict[str, dict], reclaimable_per_quarter: float = 0.0) -> dict:
    """Everything the forecast page shows, for metrics.json."""
    quarters = [h["quarter"] for h in history]
    if len(quarters) < MIN_HISTORY:
        return {"model": None, "insufficient": True, "history_quarters": len(quarters), "min_history": MIN_HISTORY,
                "quarters": quarter_labels(quarters[-1], HORIZON), "base": [], "backtest": [], "mape": None,
                "scenarios": {}}
    series = {m: modality_history.get(m, [0.0] * len(quarters)) for m in MODALITIES if any(modality_history.get(m, []))}
    base = project(series)
    tests = backtest(series, quarters)
    errors = [t["abs_pct_error"] for t in tests if t["abs_pct_error"] is not None]
    return {
        "insufficient": False,
        "model": f"log-linear trend per kind of spend, fitted on the last {min(WINDOW, len(quarters))} quarters",
        "quarters": quarter_labels(quarters[-1], HORIZON),
        "growth": {m: p["growth"] for m, p in base["parts"].items()},
        "base": base["total"],
        "parts": {m: p["forecast"] for m, p in base["parts"].items()},
        "backtest": tests,
        "mape": sum(errors) / len(errors) if errors else None,
        "scenarios": {name: {"label": a.get("label", name.replace("_", " ")),
                             "assumptions": {k: v for k, v in a.items() if k != "label"},
                             "spend": scenario(base, a, retiering_savings, idle_seat_cost, reclaimable_per_quarter)}
                      for name, a in scenarios.items()},
    }
