"""Token quantities of API cost lines that carry none (OpenAI lines without `quantity`, every Anthropic line).

A cost line takes the token count of the usage that matches it. When several lines share one usage count
(service tiers or context windows the usage report does not split), `share` divides it; lines no usage covers
get tokens from their cost at list price (`estimate`), named in the notes; a line without a list price keeps an
empty quantity, which the spend contract refuses. Each adapter passes its own `list_price(row)` (the catalog's
USD price per million tokens of the line's model, token type and tier) and `set_tokens(row, tokens)`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Callable

from .. import prices
from . import SourceData

Row = dict
Price = Callable[[Row], "float | None"]
SetTokens = Callable[[Row, float], None]


def fill(pools: dict[tuple, list[Row]], totals: dict[tuple, float], data: SourceData, list_price: Price,
         set_tokens: SetTokens, shared_note: str) -> None:
    """Each pool's usage count to the cost lines it covers: what the lines' own quantities leave of it goes to
    the lines without one, whole to a single line, else `share`d; `shared_note` says, for the notes, which lines
    share counts in the source's terms."""
    shared = 0
    for pool, rows in pools.items():
        open_rows = [r for r in rows if r.get("ConsumedQuantity") is None]
        left = totals[pool] - sum(r["ConsumedQuantity"] for r in rows if r.get("ConsumedQuantity") is not None)
        if not open_rows or left <= 0:
            continue  # nothing to fill, or the quantities given already use the count up: estimated from cost
        if len(open_rows) == 1:
            data.fixes[f"{data.name}.quantity_from_usage"] += 1
            set_tokens(open_rows[0], left)
        elif share(open_rows, left, list_price, set_tokens):
            shared += len(open_rows)
    if shared:
        data.fixes[f"{data.name}.quantity_shared_from_usage"] += shared
        data.notes.append(f"{data.name}: {shared} token cost line(s) {shared_note}: each has its share in proportion "
                          f"to cost / list price of its tier ({prices.catalog_version()}).")


def share(rows: list[Row], tokens: float, list_price: Price, set_tokens: SetTokens) -> bool:
    """Split one usage count between the lines it covers in proportion to cost / list price of each line's tier
    (the tokens each line's dollars buy at that price): a dollar of a batch line at half price stands for twice
    the tokens of a standard dollar, and a discount common to every line cancels out. A tier the catalog has no
    price for is weighed at the standard price (`prices.token_price`). False when a line has no price at all."""
    weights = []
    for row in rows:
        price = list_price(row)
        if price is None or price <= 0:
            return False
        weights.append(max(row["EffectiveCost"], 0.0) / price)  # a credit consumes no tokens
    for row, part in zip(rows, whole_shares(tokens, weights)):
        set_tokens(row, part)
    return True


def whole_shares(tokens: float, weights: list[float]) -> list[float]:
    """`tokens` split in proportion to `weights` (evenly if they are all 0) as whole tokens that add up to it:
    each share rounded down, the tokens left given to the largest remainders."""
    total = sum(weights)
    exact = [tokens * w / total if total else tokens / len(weights) for w in weights]
    shares = [math.floor(x) for x in exact]
    for i in sorted(range(len(exact)), key=lambda i: shares[i] - exact[i])[:round(tokens - sum(shares))]:
        shares[i] += 1
    return [float(n) for n in shares]


def estimate(costs: list[Row], data: SourceData, list_price: Price, set_tokens: SetTokens, usage_name: str,
             unpriced_name: Callable[[Row], str]) -> None:
    """Token lines that still have no quantity: tokens = cost / list price, counted and named in the notes; a
    line without a list price stays empty (`unpriced_name` says which line it is, in the source's terms)."""
    estimated, unpriced = defaultdict(int), defaultdict(int)
    for row in costs:
        if row["x_SpendModality"] != "api_tokens" or row.get("ConsumedQuantity") is not None:
            continue
        price = list_price(row)
        if price is None or price <= 0:
            unpriced[unpriced_name(row)] += 1
            continue
        set_tokens(row, float(round(max(row["EffectiveCost"], 0.0) / price * 1e6)))  # a credit consumes none
        estimated[row["x_Model"]] += 1
    if estimated:
        data.fixes[f"{data.name}.quantity_estimated_from_cost"] += sum(estimated.values())
        data.notes.append(f"{data.name}: {sum(estimated.values())} token cost line(s) have no token count in the "
                          f"{usage_name}: tokens ESTIMATED as cost / list price ({prices.catalog_version()}), "
                          f"for {', '.join(f'{m} ({n})' for m, n in sorted(estimated.items()))}.")
    for name, n in sorted(unpriced.items()):
        data.notes.append(f"{data.name}: {n} token cost line(s) of '{name}' have no token count in the {usage_name} "
                          f"and no list price in USD in {prices.catalog_version()}: ConsumedQuantity left empty, "
                          "which the spend contract refuses.")
