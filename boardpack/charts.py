"""The pack's charts in one house style: vector, colour-blind safe, readable in greyscale.

Each function takes numbers from `metrics.json` and returns a matplotlib Figure whose title states the
finding. `to_svg` turns a figure into the inline SVG the pages embed.
"""

from __future__ import annotations

import io
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from . import fmt  # noqa: E402

INK = "#1f2933"
MUTED = "#7b8794"
# Okabe-Ito: distinguishable by colour-blind readers; paired with hatches where greyscale matters.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
QUADRANT_COLOURS = {"scale": "#009E73", "fix": "#E69F00", "prove": "#56B4E9", "retire": "#D55E00"}
QUADRANT_MARKERS = {"scale": "o", "fix": "s", "prove": "^", "retire": "X"}
WIDTH = 7.2  # inches: the text width of an A4 page with the pack's margins


def use_house_style() -> None:
    sns.set_theme(style="whitegrid", palette=PALETTE, font="DejaVu Sans")
    plt.rcParams.update({
        "svg.hashsalt": "boardpack",  # chart ids from the content, not a random salt: the same pack, the same bytes
        "svg.fonttype": "none", "text.parse_math": False,  # "$" is a currency here, not TeX  # keep text as text: searchable in the PDF, rendered in the page font
        "font.size": 9, "axes.titlesize": 11, "axes.titleweight": "bold", "axes.titlelocation": "left",
        "axes.labelsize": 9, "axes.labelcolor": INK, "axes.edgecolor": "#cbd2d9", "text.color": INK,
        "xtick.color": INK, "ytick.color": INK, "legend.frameon": False, "legend.fontsize": 8.5,
        "grid.color": "#e4e7eb", "figure.dpi": 100, "savefig.bbox": "tight",
    })


def to_svg(fig) -> str:
    """Inline SVG (no XML prolog, no fixed pixel size) so the page scales it to its width."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    return re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"', r"<svg\1", svg, count=1)


def _money_axis(ax, currency: str, axis: str = "y") -> None:
    formatter = FuncFormatter(lambda v, _: fmt.money(v, currency))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def value_vs_spend(history: list[dict], currency: str):
    """Spend and evidenced value by quarter, with the value range as an error bar."""
    use_house_style()
    qs = [h["quarter"] for h in history]
    fig, ax = plt.subplots(figsize=(WIDTH, 2.9))
    x = range(len(qs))
    value = [h["value"] for h in history]
    # no outcome in any quarter: value bars of zero would read as "returned nothing", so spend stands alone
    valued = any(h["value"] or h["value_high"] or h.get("assumed_value") for h in history)
    ax.bar([i - 0.2 if valued else i for i in x], [h["spend"] for h in history], width=0.4, label="AI spend",
           color=PALETTE[0])
    if valued:
        err = [[max(v - (h["value_low"] or 0), 0) for v, h in zip(value, history)],
               [max((h["value_high"] or 0) - v, 0) for v, h in zip(value, history)]]
        ax.bar([i + 0.2 for i in x], value, width=0.4, label="Value (measured + estimated)", color=PALETTE[1],
               hatch="///", edgecolor="white", yerr=err, error_kw={"ecolor": MUTED, "capsize": 3, "lw": 1})
    ax.set_xticks(list(x), qs)
    _money_axis(ax, currency)
    last = history[-1]
    if last["value_multiple"] is None:  # no outcomes: a multiple of 0 would claim spend returned nothing
        ax.set_title(f"{fmt.money(last['spend'], currency)} of AI spend in {last['quarter']}; no outcomes recorded")
    else:
        ax.set_title(f"Value was {fmt.multiple(last['value_multiple'])} spend in {last['quarter']}")
    ax.legend(loc="upper left", ncols=2)
    ax.set_ylabel("per quarter")
    if valued:
        ax.text(1, -0.2, "Whiskers: value range (measured low to all-grades high)", transform=ax.transAxes,
                ha="right", fontsize=7.5, color=MUTED)
    else:
        ax.set_ylim(top=max(h["spend"] for h in history) * 1.25)  # room for the legend above the bars
    return fig


def quadrant_scatter(use_cases: list[dict], target: float, currency: str):
    """Use cases by spend and value multiple, bubble size = spend, shape and colour = quadrant."""
    use_house_style()
    fig, ax = plt.subplots(figsize=(WIDTH, 3.6))
    top = max((u["multiple"] or 0) for u in use_cases) if use_cases else 1
    cap = max(top, target * 2) * 1.05
    biggest = max(u["spend"] for u in use_cases) if use_cases else 1
    for quad in ("scale", "fix", "prove", "retire"):
        pts = [u for u in use_cases if u["quadrant"] == quad]
        if not pts:
            continue
        ax.scatter([u["spend"] for u in pts], [min(u["multiple"] or 0, cap) for u in pts],
                   s=[40 + 600 * u["spend"] / biggest for u in pts], c=QUADRANT_COLOURS[quad],
                   marker=QUADRANT_MARKERS[quad], alpha=0.8, edgecolors="white", linewidths=0.8,
                   label=f"{quad} ({len(pts)})")
    # Label the five biggest, nudged apart where two would overlap; labels of points in the right half point
    # left so they stay on the page.
    middle = (min(u["spend"] for u in use_cases) * biggest) ** 0.5 if use_cases else 1
    fig.canvas.draw()  # fixes the axes' transform so label positions can be compared in points
    placed = []
    for u in sorted(use_cases, key=lambda u: -u["spend"])[:5]:
        left = u["spend"] > middle
        xy = (u["spend"], min(u["multiple"] or 0, cap))
        px, py = ax.transData.transform(xy) * 72 / fig.dpi
        dy = 6
        while any(abs(py + dy - qy) < 9 and abs(px - qx) < 110 for qx, qy in placed):
            dy -= 10
        placed.append((px, py + dy))
        ax.annotate(u["name"], xy, fontsize=7, color=INK, xytext=(-8 if left else 8, dy), textcoords="offset points",
                    ha="right" if left else "left", arrowprops={"arrowstyle": "-", "color": MUTED, "lw": 0.5})
    ax.axhline(target, color=MUTED, lw=1, ls="--")
    ax.text(ax.get_xlim()[1] if use_cases else 1, target, f" target {fmt.multiple(target)}", va="bottom",
            ha="right", fontsize=7.5, color=MUTED)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt.money(v, currency)))
    ax.set_xlabel("Spend this quarter (log scale)")
    ax.set_ylabel("Value multiple")
    n_scale = sum(u["quadrant"] == "scale" for u in use_cases)
    ax.set_title(f"{n_scale} of {len(use_cases)} use cases return at least the target multiple")
    ax.legend(loc="upper left", ncols=4, markerscale=0.6, bbox_to_anchor=(0, -0.18))
    return fig


def overprovisioned(retiering: list[dict], names: dict, currency: str, top: int = 8):
    """Over-provisioned spend by use case, split into the saving and what the right tier would cost."""
    use_house_style()
    by = {}
    for r in retiering:
        d = by.setdefault(r["use_case"], {"spend": 0.0, "savings": 0.0})
        d["spend"] += r["spend"]
        d["savings"] += r["savings"]
    rows = sorted(by.items(), key=lambda kv: kv[1]["savings"], reverse=True)[:top][::-1]
    fig, ax = plt.subplots(figsize=(WIDTH, 0.45 * max(len(rows), 2) + 0.9))
    labels = [names.get(k, k) for k, _ in rows]
    keep = [d["spend"] - d["savings"] for _, d in rows]
    save = [d["savings"] for _, d in rows]
    ax.barh(labels, keep, color=PALETTE[4], label="cost on the right tier")
    ax.barh(labels, save, left=keep, color=PALETTE[5], hatch="\\\\", edgecolor="white", label="saving")
    _money_axis(ax, currency, axis="x")
    total = sum(d["savings"] for d in by.values())
    ax.set_title(f"Re-tiering would save {fmt.money(total, currency)} a quarter")
    ax.legend(loc="lower right")
    return fig


def bridge_waterfall(bridge: dict, previous_quarter: str, quarter: str, currency: str):
    """Token spend from last quarter to this one: volume, mix and price effects as a waterfall."""
    use_house_style()
    steps = [("Volume", bridge["volume"]), ("Mix", bridge["mix"]), ("Price", bridge["price"])]
    fig, ax = plt.subplots(figsize=(WIDTH, 2.9))
    start, end = bridge["previous_token_spend"], bridge["token_spend"]
    ax.bar(0, start, color=PALETTE[0], width=0.6)
    level = start
    for i, (_label, delta) in enumerate(steps, 1):
        colour, hatch = (PALETTE[5], "//") if delta >= 0 else (PALETTE[2], "..")
        ax.bar(i, delta, bottom=level, color=colour, hatch=hatch, edgecolor="white", width=0.6)
        ax.text(i, level + max(delta, 0), fmt.money(delta, currency, signed=True), ha="center", va="bottom", fontsize=8)
        level += delta
    ax.bar(4, end, color=PALETTE[0], width=0.6)
    for i, v in ((0, start), (4, end)):
        ax.text(i, v, fmt.money(v, currency), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(5), [f"{previous_quarter}\ntoken spend", "Volume", "Mix", "Price", f"{quarter}\ntoken spend"])
    _money_axis(ax, currency)
    change = fmt.change(end, start)
    moved = (f"rose from nothing to {fmt.money(end, currency)}" if not start
             else f"{'rose' if end >= start else 'fell'} {fmt.pct(abs(change) if change else 0)}")
    ax.set_title(f"Token spend {moved}: volume {fmt.money(bridge['volume'], currency, signed=True)}, "
                 f"price {fmt.money(bridge['price'], currency, signed=True)}")
    top = max(start, end, *(start + sum(d for _, d in steps[:i]) for i in range(1, 4)))
    ax.set_ylim(0, top * 1.18)  # room for the value labels above the bars
    return fig


def unit_cost_vs_volume(history: list[dict]):
    """Unit cost per million tokens against token volume, quarter by quarter."""
    use_house_style()
    qs = [h["quarter"] for h in history]
    fig, ax = plt.subplots(figsize=(WIDTH, 2.7))
    ax.bar(qs, [h["tokens"] / 1e9 for h in history], color=PALETTE[4], label="tokens (billions, left)")
    ax.set_ylabel("billion tokens")
    ax2 = ax.twinx()
    # a quarter without tokens has no unit cost: a gap in the line, not a point at zero
    unit = [float("nan") if h["unit_cost_per_mtok"] is None else h["unit_cost_per_mtok"] for h in history]
    ax2.plot(qs, unit, color=PALETTE[5], marker="o", lw=2, label="cost per million tokens (right)")
    ax2.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${v:,.2f}"))
    ax2.grid(False)
    ax2.set_ylim(bottom=0)
    priced = [h for h in history if h["unit_cost_per_mtok"] is not None]
    first, last = (priced[0], priced[-1]) if priced else (history[0], history[-1])
    if history[-1]["unit_cost_per_mtok"] is None:
        ax.set_title(f"No token spend in {history[-1]['quarter']}"
                     + (f"; ${last['unit_cost_per_mtok']:,.2f} per million tokens in {last['quarter']}" if priced else ""))
    elif len(priced) < 2:
        ax.set_title(f"${last['unit_cost_per_mtok'] or 0:,.2f} per million tokens in {last['quarter']}")
    else:
        ax.set_title(f"Unit cost {fmt.pct(fmt.change(last['unit_cost_per_mtok'], first['unit_cost_per_mtok']), signed=True)}"
                     f", volume {fmt.pct(fmt.change(last['tokens'], first['tokens']), signed=True)} since {first['quarter']}")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=2)
    return fig


def provider_shares(providers: list[dict], history: list[dict]):
    """Spend share by provider this quarter, and provider concentration (HHI) over time."""
    use_house_style()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(WIDTH, 2.8), gridspec_kw={"width_ratios": [1.3, 1]})
    rows = providers[::-1]
    ax.barh([p["provider"] for p in rows], [p["share"] * 100 for p in rows], color=PALETTE[0])
    for i, p in enumerate(rows):
        ax.text(p["share"] * 100, i, f" {fmt.pct(p['share'])}", va="center", fontsize=7.5)
    ax.set_xlabel("share of AI spend (%)")
    ax.set_xlim(0, max(p["share"] for p in providers) * 130)
    ax2.plot([h["quarter"] for h in history], [float("nan") if h["hhi"] is None else h["hhi"] for h in history],
             marker="o", color=PALETTE[5])
    ax2.axhline(2500, color=MUTED, ls="--", lw=1)
    # the key to the dashed line sits low in the plot, where no HHI of a real spend mix falls, clear of the points
    ax2.text(0.03, 0.04, "dashed line: highly concentrated above 2,500", transform=ax2.transAxes, fontsize=7,
             color=MUTED, va="bottom", ha="left")
    ax2.set_ylabel("HHI (0 to 10,000)")
    ax2.tick_params(axis="x", rotation=45, labelsize=7)
    ax2.set_ylim(0, max(max(h["hhi"] or 0 for h in history) * 1.2, 3000))
    top = providers[0]
    fig.suptitle(f"{top['provider']} holds {fmt.pct(top['share'])} of AI spend; HHI {history[-1]['hhi']:,.0f}",
                 x=0.01, ha="left", fontsize=11, fontweight="bold")
    fig.tight_layout()
    return fig


def seat_utilisation(seats: list[dict]):
    """Active users against licensed seats per product."""
    use_house_style()
    fig, ax = plt.subplots(figsize=(WIDTH, 0.6 * max(len(seats), 2) + 0.9))
    names = [s["product"] for s in seats]
    ax.barh(names, [s["licensed_seats"] for s in seats], color="#d9e2ec", label="licensed seats")
    ax.barh(names, [s["active_users"] for s in seats], color=PALETTE[0], height=0.5, label="active users")
    for i, s in enumerate(seats):
        ax.text(s["licensed_seats"], i, f"  {fmt.pct(s['utilisation'])} used", va="center", fontsize=8)
    ax.set_xlim(0, max([s["licensed_seats"] for s in seats] + [1]) * 1.2)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt.number(v)))
    worst = min(seats, key=lambda s: s["utilisation"] or 0) if seats else None
    if worst:
        ax.set_title(f"{worst['product']}: {fmt.pct(1 - (worst['utilisation'] or 0))} of seats idle")
    ax.legend(loc="lower right")
    return fig


def breadth_of_use(product: dict):
    """One seat product's apps: the share of its active seats whose holder used each (metrics.json `breadth`)."""
    use_house_style()
    apps = product["apps"][::-1]  # barh draws bottom up: the first app on top
    fig, ax = plt.subplots(figsize=(WIDTH, 0.28 * len(apps) + 0.8))
    names = [a["app"] for a in apps]
    shares = [a["share_of_active"] or 0.0 for a in apps]
    ax.barh(names, [1.0] * len(apps), color="#d9e2ec", height=0.6)
    ax.barh(names, shares, color=PALETTE[0], height=0.6)
    for i, a in enumerate(apps):
        ax.text(max(shares[i], 0) + 0.01, i, f"{fmt.pct(a['share_of_active'])}  ({fmt.number(a['seats'])} seats)",
                va="center", fontsize=8)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_title(f"{product['product']}: share of its {fmt.number(product['active'])} active seats using each app")
    return fig


def forecast_fan(history: list[dict], fc: dict, currency: str):
    """Quarterly spend so far, the trend forecast, and each scenario's path."""
    use_house_style()
    fig, ax = plt.subplots(figsize=(WIDTH, 3.0))
    past = [h["quarter"] for h in history]
    future = fc["quarters"]
    xs_past, xs_future = list(range(len(past))), list(range(len(past) - 1, len(past) + len(future)))
    ax.plot(xs_past, [h["spend"] for h in history], color=INK, marker="o", lw=2, label="actual spend")
    join = history[-1]["spend"]
    ax.plot(xs_future, [join] + fc["base"], color=PALETTE[0], marker="o", lw=2, ls="--", label="trend forecast")
    styles = [(PALETTE[5], ":"), (PALETTE[2], "-."), (PALETTE[3], (0, (5, 2, 1, 2))), (PALETTE[1], "--")]
    for (_name, sc), (colour, ls) in zip(fc["scenarios"].items(), styles):
        ax.plot(xs_future, [join] + sc["spend"], color=colour, ls=ls, lw=1.5, label=sc["label"])
    ax.set_xticks(range(len(past) + len(future)), [q.replace("-", "\n") for q in past + future], fontsize=7.5)
    ax.axvspan(len(past) - 0.5, len(past) + len(future) - 0.5, color="#f0f4f8", zorder=0)
    _money_axis(ax, currency)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2, fontsize=7.5)
    growth = fmt.change(fc["base"][-1], history[-1]["spend"])
    ax.set_title(f"On trend, spend reaches {fmt.money(fc['base'][-1], currency)} a quarter by {future[-1]} "
                 f"({fmt.pct(growth, signed=True)})")
    return fig
