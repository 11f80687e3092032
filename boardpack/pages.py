"""The pages of the board pack as HTML fragments, built from `metrics.json` and the gate's results.

The pack notebook displays one fragment per page; the markup lives in `templates/pages/`, the numbers
are formatted here, once, by `fmt`. Every number on a page comes from the metrics dictionary.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import jinja2
from IPython.display import HTML
from markupsafe import escape

from . import charts, fmt, metrics_json, project, restate
from .config import Config
from .metrics import NO_TOKENS

QUADRANT_MEANING = {
    "scale": "returns at least the target: fund growth",
    "fix": "returns value below the target: improve or re-tier",
    "prove": "no measured or estimated value yet: ask for evidence",
    "retire": "retired but still spending: switch it off",
}
# The pack's sections in order: anchor id and title, as the contents page lists them.
SECTIONS = (
    ("executive-summary", "Executive summary"),
    ("value", "Value: what the spend returns"),
    ("workload-fit", "Workload fit: the right model for the work"),
    ("copilot-breadth", "GitHub Copilot: breadth of use"),
    ("flexibility", "Flexibility: exposure to lock-in and to consumption pricing"),
    ("spend-dynamics", "Spend dynamics: volume, mix and price of token spend"),
    ("outlook", "Outlook: forecast and scenarios"),
    ("use-cases", "Appendix A: use cases"),
    ("data-confidence", "Appendix B: data confidence"),
    ("definitions", "Appendix C: definitions and provenance"),
)
TITLES = dict(SECTIONS)
KPI_MEANING = {
    "value_multiple": "Evidenced value per {cur} of AI spend",
    "workload_fit": "Share of token spend on a model no bigger than the work needs",
    "portable_spend_share": "Share of AI spend that could switch provider without re-engineering",
}


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(project.templates_dir() / "pages"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(money=fmt.money, pct=fmt.pct, multiple=fmt.multiple, number=fmt.number,
                       money_exact=fmt.money_exact)
    return env


def _page(name: str, **context) -> HTML:
    return HTML(_env().get_template(f"{name}.html.j2").render(titles=TITLES, **context))


def _text(value) -> str:
    """A table cell's text; an empty value is a dash, never "None"."""
    return "—" if value is None or value != value else str(value)


def chart(fig, caption: str, alt: str) -> str:
    """A figure as inline SVG with a caption and alt text."""
    svg = charts.to_svg(fig).replace("<svg", f'<svg role="img" aria-label="{escape(alt)}"', 1)
    return f'<figure class="bp-chart">{svg}<figcaption>{escape(caption)}</figcaption></figure>'


def load(output_dir: str | Path) -> dict:
    """What the pack notebook reads: metrics, gate results and provenance of a run."""
    out = Path(output_dir)
    run = {name: json.loads((out / f"{name}.json").read_text(encoding="utf-8")) for name in ("validation", "provenance")}
    run["metrics"] = metrics_json.read(out)
    sources = out / "sources.json"  # only for raw data folders
    run["sources"] = json.loads(sources.read_text(encoding="utf-8")) if sources.exists() else None
    ledger = out / "ledger.json"
    run["ledger"] = json.loads(ledger.read_text(encoding="utf-8")) if ledger.exists() else None
    restatement = out / "restatement.json"  # written by a build (boardpack/restate.py), not by a lab run
    run["restatement"] = json.loads(restatement.read_text(encoding="utf-8")) if restatement.exists() else None
    return run


def kpi(m: dict, key: str, formatter, restatement: dict | None = None) -> dict:
    prev = (m.get("previous") or {}).get(key)
    delta = None if prev is None or m[key] is None else m[key] - prev
    if key == "value_multiple":
        delta_text = "n/a" if delta is None else f"{'+' if delta >= 0 else '−'}{abs(delta):.2f}×"
    else:
        delta_text = fmt.points(delta)
    missing = m[key] is None  # no basis this quarter: the tile gives the reason in place of a number
    return {"label": {"value_multiple": "Value multiple", "workload_fit": "Workload fit",
                      "portable_spend_share": "Portable spend"}[key],
            "value": _no_basis(m, key) if missing else formatter(m[key]), "missing": missing,
            "target": formatter(m["targets"][key]), "rag": m["rag"][key],
            "arrow": fmt.arrow(delta), "delta": delta_text,
            "previous_quarter": (m.get("previous") or {}).get("quarter"),
            # the change is against last quarter as this build recomputes it; when that differs from last
            # quarter's published pack, the tile says so and by how much
            "restated": restate.prior_note(restatement, key),
            "meaning": KPI_MEANING[key].format(cur=m["currency"])}


def _no_basis(m: dict, key: str) -> str:
    """Why a metric has no number this quarter, in the words of metrics.json (`no_basis`)."""
    return (m.get("no_basis") or {}).get(key, "not measured this quarter")


def headlines(m: dict, restatement: dict | None = None) -> list[str]:
    """Three to five sentences a board member can repeat, every number from `m` (and a restated last quarter's
    figures from `restatement`)."""
    cur, prev = m["currency"], m.get("previous") or {}
    out = []
    spend_change = fmt.change(m["spend"], prev.get("spend"))
    restated = restate.prior_note(restatement, "spend")
    spent = (f"AI spend was {fmt.money(m['spend'], cur)} in {m['quarter']}"
             + (f" ({fmt.pct(spend_change, signed=True)} on {prev['quarter']}"
                + (f"; {restated}" if restated else "") + ")" if spend_change is not None else ""))
    target = fmt.multiple(m["targets"]["value_multiple"])
    if m["value_multiple"] is None:
        out.append(f"{spent}; {_no_basis(m, 'value_multiple')}, so there is no value multiple to set against the "
                   f"target of {target}.")
    else:
        out.append(f"{spent}; evidenced value was {fmt.money(m['value'], cur)}, a value multiple of "
                   f"{fmt.multiple(m['value_multiple'])} against a target of {target}.")
    b = m.get("bridge")
    if b and b.get("previous_unit_cost_per_mtok") and b.get("unit_cost_per_mtok"):
        unit = fmt.change(b["unit_cost_per_mtok"], b["previous_unit_cost_per_mtok"])
        vol = fmt.change(b["tokens"], b["previous_tokens"])
        tok = fmt.change(b["token_spend"], b["previous_token_spend"])
        # the finding is stated only where the numbers make it
        jevons = ": cheaper tokens, used far more" if unit is not None and tok is not None and unit < 0 < tok else ""
        out.append(f"Unit cost per million tokens {fmt.pct(unit, signed=True)}, token volume "
                   f"{fmt.pct(vol, signed=True)}, token spend {fmt.pct(tok, signed=True)}{jevons}.")
    elif b and not m["token_spend"]:
        out.append(f"There was {NO_TOKENS}, against {fmt.money(b['previous_token_spend'], cur)} in {prev['quarter']}.")
    out.append(_rightsizing(m))
    if (m.get("reclaim") or {}).get("material"):
        out.append(reclaim_headline(m))
    out.append(f"{fmt.pct(m['unattributed_spend_share'])} of spend has no evidence of value "
               f"(no use case, or no outcome recorded this quarter).")
    concentration = f"{m['top_provider']} holds {fmt.pct(m['top_provider_share'])} (HHI {m['hhi']:,.0f})"
    if m["portable_spend_share"] is None:
        out.append(f"Portability has no basis ({_no_basis(m, 'portable_spend_share')}); {concentration}.")
    else:
        out.append(f"{fmt.pct(m['portable_spend_share'])} of spend could switch provider; {concentration}.")
    return out


def reclaim_headline(m: dict) -> str:
    """"7,054 seats unused for 90 days or more (6,753 Microsoft 365 Copilot, ...): $2.26M a year": the longest
    threshold's seats, by product, and what they cost a year."""
    r, cur = m["reclaim"], m["currency"]
    longest = str(r["days"][-1])
    total = r["total"][longest]
    parts = ", ".join(f"{fmt.number(p['by_days'][longest]['seats'])} {p['product']}"
                      for p in sorted(r["products"], key=lambda p: -p["by_days"][longest]["seats"])
                      if p["by_days"][longest]["seats"])
    return (f"{fmt.number(total['seats'])} seats unused for {longest} days or more ({parts}): "
            f"{fmt.money(total['cost_per_year'], cur)} a year if taken back; the list is exports/reclaim.csv.")


def _rightsizing(m: dict) -> str:
    """The right-sizing headline: re-tiering and idle seats, each said to have no basis where it has none."""
    cur = m["currency"]
    worth = m["rightsizing_opportunity"]
    a_year = f"{fmt.money(worth, cur)} a quarter ({fmt.money(worth * 4, cur)} a year)"
    # why re-tiering has no basis, if it has none: no token spend, or no use case saying what tier it needs
    no_retiering = NO_TOKENS if not m["token_spend"] else (m.get("no_basis") or {}).get("retiering_savings")
    if no_retiering and not m["seats"]:
        return f"Right-sizing has no basis: {no_retiering} to re-tier, and no seat report to find idle seats in."
    if no_retiering:
        return f"Right-sizing is worth {a_year}: all of it idle seats, with {no_retiering} to re-tier."
    biggest = max(m["retiering"], key=lambda r: r["savings"]) if m["retiering"] else None
    names = {u["use_case"]: u["name"] for u in m["use_cases"]}
    return (f"Right-sizing is worth {a_year}: "
            f"{fmt.money(m['retiering_savings'], cur)} from re-tiering models and "
            f"{fmt.money(m['idle_seat_cost'], cur)} of idle seats"
            + (f"; the biggest single saving is {names.get(biggest['use_case'], biggest['use_case'])} moving from "
               f"{biggest['model']} to {biggest['reference_model']} ({fmt.money(biggest['savings'], cur)})."
               if biggest else "."))


def table(rows: list[dict], columns: dict[str, tuple[str, callable]], numeric: set[str] = frozenset()) -> str:
    """A bp-table from records: columns maps key -> (header, formatter); numeric columns are right-aligned."""
    if not rows:
        return '<p class="bp-note">Nothing to show this quarter.</p>'
    cls = {key: ' class="num"' if key in numeric else "" for key in columns}
    head = "".join(f"<th{cls[key]}>{escape(header)}</th>" for key, (header, _) in columns.items())
    body = "".join("<tr>" + "".join(f"<td{cls[key]}>{escape(f(r.get(key)))}</td>" for key, (_, f) in columns.items())
                   + "</tr>" for r in rows)
    return f'<table class="bp-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


# --- the pages ---------------------------------------------------------------------------------------

def cover(m: dict, cfg: Config, generated: str) -> HTML:
    logo = _data_uri(cfg.branding.get("logo")) if cfg.branding.get("logo") else None
    return _page("cover", m=m, cfg=cfg, generated=generated, logo=logo)


def _data_uri(path: str) -> str:
    """A logo file inlined, so the HTML stays self-contained."""
    import base64
    import mimetypes

    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return f"data:{kind};base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def contents(restatement: dict | None = None) -> HTML:
    """The contents page: section titles with their page numbers (filled in by the PDF renderer)."""
    return _page("contents", sections=sections(restatement))


def sections(restatement: dict | None = None) -> list[tuple[str, str]]:
    """The pack's sections in order; a restatement section after the executive summary when the pack has one."""
    out = list(SECTIONS)
    if _restated(restatement):
        out.insert(1, ("restatement", restatement_title(restatement)))
    return out


def executive_summary(m: dict, restatement: dict | None = None) -> HTML:
    cur = m["currency"]
    tiles = [kpi(m, "value_multiple", fmt.multiple, restatement), kpi(m, "workload_fit", fmt.pct, restatement),
             kpi(m, "portable_spend_share", fmt.pct, restatement)]
    valued = any(h["value"] or h["value_high"] or h.get("assumed_value") for h in m["history"])
    figure = chart(charts.value_vs_spend(m["history"], cur),
                   "AI spend and evidenced value by quarter; whiskers show the value range." if valued
                   else "AI spend by quarter; no quarter in the data has an outcome recorded.",
                   "Bar chart of AI spend and evidenced value for each quarter." if valued
                   else "Bar chart of AI spend for each quarter.")
    return _page("summary", m=m, tiles=tiles, headlines=headlines(m, restatement), figure=figure)


def value_page(m: dict) -> HTML:
    cur, target = m["currency"], m["targets"]["value_multiple"]
    ucs = m["use_cases"]
    figure = chart(charts.quadrant_scatter(ucs, target, cur),
                   "Each use case by spend (log scale) and value multiple; size is spend.",
                   "Scatter of use cases by spend and value multiple, grouped into scale, fix, prove and retire."
                   ) if ucs else ""
    money = lambda v: fmt.money(v, cur)  # noqa: E731
    rows = table([dict(u, multiple=_multiple(u)) for u in ucs],
                 {"name": ("Use case", _text), "business_unit": ("Business unit", _text), "spend": ("Spend", money),
                  "value": ("Value", money), "multiple": ("Multiple", _text), "evidence": ("Evidence", _text),
                  "quadrant": ("Quadrant", _text)}, numeric={"spend", "value", "multiple"})
    counts = {q: sum(u["quadrant"] == q for u in ucs) for q in QUADRANT_MEANING}
    return _page("value", m=m, figure=figure, table=rows, counts=counts, meaning=QUADRANT_MEANING,
                 why=m.get("no_basis") or {})


def _multiple(u: dict) -> str:
    """A use case's multiple, or why it has none: no outcome recorded, or no spend to divide by."""
    if u["multiple"] is not None:
        return fmt.multiple(u["multiple"])
    return "no outcomes" if u["evidence"] == "none" else "no spend"


def workload_page(m: dict) -> HTML:
    cur = m["currency"]
    names = {u["use_case"]: u["name"] for u in m["use_cases"]}
    money = lambda v: fmt.money(v, cur)  # noqa: E731
    figure = chart(charts.overprovisioned(m["retiering"], names, cur),
                   "Over-provisioned token spend by use case: the saving and the cost on the right tier.",
                   "Horizontal bars of over-provisioned spend by use case, split into saving and remaining cost."
                   ) if m["retiering"] else ""
    top = [dict(r, name=names.get(r["use_case"], r["use_case"])) for r in m["retiering"][:8]]
    retier = table(top, {"name": ("Use case", _text), "model": ("Model now", _text), "model_tier": ("Tier", _text),
                         "required_tier": ("Needs", _text), "reference_model": ("Move to", _text),
                         "spend": ("Spend", money), "savings": ("Saving", money)}, numeric={"spend", "savings"})
    seats = table(m["seats"], {"product": ("Product", _text), "licensed_seats": ("Licensed seats", fmt.number),
                               "active_users": ("Active users", fmt.number),
                               "utilisation": ("Utilisation", fmt.pct), "seat_cost": ("Seat cost", money),
                               "idle_seat_cost": ("Idle cost", money)},
                  numeric={"licensed_seats", "active_users", "utilisation", "seat_cost", "idle_seat_cost"})
    seat_fig = chart(charts.seat_utilisation(m["seats"]), "Average licensed seats and active users per month.",
                     "Bars comparing licensed seats with active users for each seat product.") if m["seats"] else ""
    return _page("workload", m=m, figure=figure, retier=retier, seats=seats, seat_figure=seat_fig,
                 reclaim=reclaim_table(m), adoption=adoption_table(m), per_seat=value_per_seat_table(m),
                 breadth=breadth_figures(m),
                 why=m.get("no_basis") or {})


def value_per_seat_table(m: dict) -> str:
    """Per seat product: evidenced value, per active seat against the cost of a licensed seat, and the utilisation
    at which the product meets the value-multiple target (metrics.json `value_per_seat`)."""
    cur = m["currency"]
    money = lambda v: fmt.money(v, cur)  # noqa: E731
    return table(m.get("value_per_seat") or [],
                 {"product": ("Product", _text), "value": ("Value", money), "evidence": ("Evidence", _text),
                  # without evidenced value there is no value per seat, and no utilisation that pays
                  "value_per_active_seat": ("Per active seat", lambda v: "no value" if v is None else money(v)),
                  "cost_per_licensed_seat": ("Cost per seat", money), "utilisation": ("Utilisation", fmt.pct),
                  "break_even_utilisation": ("Break-even", lambda v: "no basis" if v is None else fmt.pct(v))},
                 numeric={"value", "value_per_active_seat", "cost_per_licensed_seat", "utilisation",
                          "break_even_utilisation"})


def _pct_or_no_basis(v) -> str:
    """A share of the adoption funnel; without one, "no basis" (the note under the table says why)."""
    return "no basis" if v is None else fmt.pct(v)


def adoption_table(m: dict) -> str:
    """Per seat product: licensed, active in the quarter, engaged, retention, and the active share of the last six
    monthly reports (metrics.json `adoption`)."""
    a = m.get("adoption")
    if not a:
        return ""
    def share(t: dict) -> str:
        month = datetime.date.fromisoformat(t["month"])
        return f"{month:%b} {fmt.pct(t['active'] / t['licensed'] if t['licensed'] else None)}"

    rows = [{**p, "active_share": p["active"] / p["licensed"] if p["licensed"] else None,
             "engaged_share": p["engaged"] / p["licensed"] if p["licensed"] and p["engaged"] is not None else None,
             "trend_text": ", ".join(share(t) for t in p["trend"][-6:])} for p in a["products"]]
    return table(rows, {"product": ("Product", _text), "licensed": ("Licensed", fmt.number),
                        "active_share": ("Used in quarter", fmt.pct), "engaged_share": ("Engaged", _pct_or_no_basis),
                        "retention": ("Retention", _pct_or_no_basis), "trend_text": ("Active by month", _text)},
                 numeric={"licensed", "active_share", "engaged_share", "retention"})


def breadth_figures(m: dict) -> str:
    """Per seat product with per-app activity: a bar of each app's share of the active seats (metrics.json
    `breadth`); empty when there is none (the page then names the report that would give it)."""
    b = m.get("breadth")
    if not b:
        return ""
    return "".join(chart(charts.breadth_of_use(p),
                         f"Seats whose holder used Copilot in each app in the {b['active_days']} days up to the "
                         f"{p['report_date']} report, of the {fmt.number(p['active'])} active; "
                         f"{fmt.pct(p['active'] / p['licensed'] if p['licensed'] else None)} of "
                         f"{fmt.number(p['licensed'])} licensed seats were active.",
                         f"Horizontal bars of the share of active {p['product']} seats using each app.")
                   for p in b["products"])


def reclaim_table(m: dict) -> str:
    """Per seat product: seats in its last report, how many nobody used for each threshold, the never used, and
    a year's saving at the longest threshold (metrics.json `reclaim`)."""
    r = m.get("reclaim")
    if not r:
        return ""
    cur, days = m["currency"], [str(d) for d in r["days"]]
    rows = [{"product": p["product"], "seats": p["seats"], "never_used": p["never_used"],
             **{f"d{d}": p["by_days"][d]["seats"] for d in days},
             "saving": p["by_days"][days[-1]]["cost_per_year"]} for p in r["products"]]
    if len(rows) > 1:
        rows.append({"product": "All seat products", "seats": sum(p["seats"] for p in r["products"]),
                     "never_used": sum(p["never_used"] for p in r["products"]),
                     **{f"d{d}": r["total"][d]["seats"] for d in days}, "saving": r["total"][days[-1]]["cost_per_year"]})
    columns = {"product": ("Product", _text), "seats": ("Seats", fmt.number),
               **{f"d{d}": (f"{d}+ days", fmt.number) for d in days},
               "never_used": ("Never used", fmt.number),
               "saving": (f"Cost a year, {days[-1]}+", lambda v: fmt.money(v, cur))}
    return table(rows, columns, numeric=set(columns) - {"product"})


# How the GitHub Copilot page names the feature groups of schema.FEATURE_GROUPS
COPILOT_GROUPS = {"completions": "Code completions", "chat": "Chat (IDE and github.com)",
                  "agent": "Agent mode and edits", "cli": "Copilot CLI", "code_review": "Code review"}


def copilot_page(m: dict) -> HTML:
    """GitHub Copilot: engaged users by feature group, acceptance of completions, and the Enterprise seats Business
    would serve (metrics.json `copilot_breadth`, `copilot_downgrade`)."""
    b = m.get("copilot_breadth")
    rows = [] if not b else [
        {"group": label, "daily": b["groups"][key]["daily"], "distinct": b["groups"][key]["distinct"],
         "source": {"organisation": "organisation totals", "users": "users report"}.get(b["groups"][key]["daily_from"])}
        for key, label in COPILOT_GROUPS.items()]
    given = lambda f: lambda v: "not given" if v is None else f(v)  # noqa: E731
    grid = table(rows, {"group": ("Feature", _text), "daily": ("Users a day", given(lambda v: fmt.number(v, 1))),
                        "distinct": ("Different users", given(fmt.number)), "source": ("Daily from", _text)},
                 numeric={"daily", "distinct"})
    return _page("copilot", m=m, table=grid)


# How the pricing-model table names each kind of spend (x_SpendModality) for a reader of the pack
PRICING_MODELS = {"api_tokens": "Per token (APIs)", "seat_licence": "Per seat (licences)",
                  "self_hosted": "Per GPU hour (self-hosted)", "platform": "Flat fee (platforms)"}


def flexibility_page(m: dict) -> HTML:
    cur = m["currency"]
    figure = chart(charts.provider_shares(m["providers"], m["history"]),
                   "Share of AI spend by provider this quarter, and the Herfindahl-Hirschman index by quarter.",
                   "Bar chart of provider spend shares and a line of provider concentration over time.")
    total = m["spend"] or 1
    modality = [{"modality": PRICING_MODELS.get(k, k.replace("_", " ")), "spend": v, "share": v / total} for k, v in
                sorted(m["modality"].items(), key=lambda kv: -kv[1])]
    mix = table(modality, {"modality": ("Pricing model", _text), "spend": ("Spend", lambda v: fmt.money(v, cur)),
                           "share": ("Share", fmt.pct)}, numeric={"spend", "share"})
    return _page("flexibility", m=m, figure=figure, mix=mix, why=m.get("no_basis") or {})


def dynamics_page(m: dict, restatement: dict | None = None) -> HTML:
    cur = m["currency"]
    b = m.get("bridge")
    waterfall = chart(charts.bridge_waterfall(b, m["previous"]["quarter"], m["quarter"], cur),
                      "Change in token spend split into volume, mix and price effects; they sum to the change exactly.",
                      "Waterfall from last quarter's token spend to this quarter's through volume, mix and price."
                      ) if b else ""
    trend = chart(charts.unit_cost_vs_volume(m["history"]), "Token volume (bars) and unit cost per million tokens (line).",
                  "Bars of token volume per quarter with a line of cost per million tokens."
                  ) if any(h["tokens"] for h in m["history"]) else ""
    return _page("dynamics", m=m, b=b, waterfall=waterfall, trend=trend, why=m.get("no_basis") or {},
                 restated=restate.prior_note(restatement, "token_spend", "token spend"))


def outlook_page(m: dict) -> HTML:
    cur, fc = m["currency"], m["forecast"]
    if fc.get("insufficient"):
        return _page("outlook", m=m, fc=fc)
    figure = chart(charts.forecast_fan(m["history"], fc, cur),
                   "Actual quarterly AI spend, the trend forecast (dashed) and the scenarios; the shaded quarters are forecast.",
                   "Line chart of quarterly AI spend to date and forecast paths for the next four quarters.")
    money = lambda v: fmt.money(v, cur)  # noqa: E731
    rows = [{"name": "Trend forecast", **{q: v for q, v in zip(fc["quarters"], fc["base"])}}]
    rows += [{"name": sc["label"], **{q: v for q, v in zip(fc["quarters"], sc["spend"])}} for sc in fc["scenarios"].values()]
    paths = table(rows, {"name": ("Path", _text), **{q: (q, money) for q in fc["quarters"]}}, numeric=set(fc["quarters"]))
    tests = table(fc["backtest"], {"quarter": ("Quarter", _text), "actual": ("Actual", money),
                                   "forecast": ("Forecast", money), "abs_pct_error": ("Error", fmt.pct)},
                  numeric={"actual", "forecast", "abs_pct_error"})
    assumptions = [(sc["label"], [_assumption(k, v, m) for k, v in sc["assumptions"].items()])
                   for sc in fc["scenarios"].values()]
    return _page("outlook", m=m, fc=fc, figure=figure, paths=paths, tests=tests, assumptions=assumptions,
                 trends=_trends(fc))


# The kinds of spend the forecast projects one by one, as the outlook page names them
KINDS = {"api_tokens": "tokens", "seat_licence": "seats", "self_hosted": "self-hosted", "platform": "platform"}


def _trends(fc: dict) -> str:
    """Each kind of spend with its quarterly trend; tokens are said to have none when there is no token part."""
    text = ", ".join(f"{label} {fmt.pct(fc['growth'][kind])}" for kind, label in KINDS.items() if kind in fc["growth"])
    text = f"{text} a quarter" if text else ""
    if "api_tokens" not in fc["growth"]:
        text = f"tokens: {NO_TOKENS}" + (f"; {text}" if text else "")
    return text


def _assumption(key: str, value: float, m: dict) -> str:
    cur = m["currency"]
    text = {
        "usage_growth": f"token volume grows {fmt.pct(value, signed=True)} a quarter on top of the trend, compounding",
        "price_change": f"token prices change by {fmt.pct(value, signed=True)} from {m['forecast']['quarters'][0]} on",
        "retiering_adopted": f"{fmt.pct(value)} of this quarter's re-tiering saving "
                             f"({fmt.money(m['retiering_savings'], cur)}) realised every quarter",
        "idle_seats_reallocated": f"{fmt.pct(value)} of this quarter's idle-seat cost "
                                  f"({fmt.money(m['idle_seat_cost'], cur)}) removed every quarter",
        "seats_reclaimed": _reclaimed(value, m),
    }[key]
    # an assumption with nothing to act on changes nothing: say so, rather than imply an effect
    if key in ("usage_growth", "price_change") and "api_tokens" not in m["forecast"].get("parts", {}):
        text += f" (no effect: {NO_TOKENS})"
    elif key == "retiering_adopted" and not m["retiering_savings"]:
        text += f" (no effect: {NO_TOKENS if not m['token_spend'] else 'nothing to re-tier'})"
    elif key == "idle_seats_reallocated" and not m["idle_seat_cost"]:
        text += f" (no effect: {'no idle seats' if m['seats'] else 'no seat report this quarter'})"
    elif key == "seats_reclaimed" and not m.get("reclaim"):
        text += " (no effect: no seat report of its users this quarter)"
    return text


def _reclaimed(value: float, m: dict) -> str:
    r = m.get("reclaim")
    if not r:
        return f"{fmt.pct(value)} of the seats unused for the longest reclaim threshold taken back"
    longest = str(r["days"][-1])
    total = r["total"][longest]
    return (f"{fmt.pct(value)} of the {fmt.number(total['seats'])} seats unused for {longest} days or more taken back, "
            f"{fmt.money(value * total['cost_per_year'] / 4, m['currency'])} less every quarter")


def use_case_rows(m: dict) -> list[dict]:
    """Appendix A's rows, by use-case id: each use case of metrics.json with its tier fit and portability in words.
    The business-unit views take their rows from here too, so that they are the very rows of the appendix."""
    cur = m["currency"]
    over = {}
    for r in m["retiering"]:
        over[r["use_case"]] = over.get(r["use_case"], 0.0) + r["spend"]
    rows = []
    for u in sorted(m["use_cases"], key=lambda u: u["use_case"]):
        fit = (f"over-provisioned: {fmt.money(over[u['use_case']], cur)}" if u["use_case"] in over
               else f"fits ({u['required_tier']})" if u["required_tier"] else "not in the register")
        rows.append({**u, "fit": fit, "value_text": f"{fmt.money(u['value'], cur)} ({u['evidence']})",
                     "multiple_text": _multiple(u),
                     "portability": (f"portable → {u['fallback']}" if u.get("fallback") else "portable")
                     if u["portable"] else "locked in" if u["stage"] else "not in the register"})
    return rows


def use_case_table(m: dict, rows: list[dict]) -> str:
    """Appendix A's table of `rows` (from use_case_rows)."""
    cur = m["currency"]
    return table(rows, {"use_case": ("Id", _text), "name": ("Use case", _text), "owner": ("Owner", _text),
                        "stage": ("Stage", _text), "spend": ("Spend", lambda v: fmt.money(v, cur)),
                        "value_text": ("Value (evidence)", _text), "multiple_text": ("Multiple", _text),
                        "quadrant": ("Quadrant", _text), "fit": ("Tier fit", _text), "portability": ("Portability", _text)},
                 numeric={"spend", "multiple_text"})


def use_case_appendix(m: dict) -> HTML:
    """One row per use case: owner, stage, spend, value with evidence, multiple, tier fit, portability."""
    return _page("use_cases", m=m, table=use_case_table(m, use_case_rows(m)))


# --- business units (the business-unit role views; README, "Role views") -----------------------------------

def business_units(m: dict) -> list[str]:
    """The business units of the quarter's use cases, in order of name; a use case without one belongs to none."""
    return sorted({u["business_unit"] for u in m["use_cases"] if u.get("business_unit")})


def business_unit_page(m: dict, unit: str) -> HTML:
    """One business unit: its use cases (the very rows of Appendix A), its share of spend and value, its seats.

    Its spend and value are the sums of its use cases' rows, as the register assigns use cases to business units;
    its seats are the seat report's rows that name it (metrics.json `seats_by_unit`)."""
    if unit not in business_units(m):
        raise ValueError(f"no use case of {m['quarter']} belongs to business unit {unit!r}; "
                         f"the business units are {', '.join(business_units(m)) or 'none'}")
    cur = m["currency"]
    rows = [r for r in use_case_rows(m) if r.get("business_unit") == unit]
    spend, value = sum(r["spend"] for r in rows), sum(r["value"] for r in rows)
    measured = any(r["multiple"] is not None for r in rows)  # an outcome recorded for one of them at least
    unit_m = {"use_cases": len(rows), "spend": spend, "value": value,
              "assumed": sum(r["value_assumed"] for r in rows),
              "spend_share": spend / m["spend"] if m["spend"] else None,
              "value_share": value / m["value"] if m["value"] else None,
              "multiple": value / spend if spend and measured else None,
              "why": ("no spend" if not spend else "no outcomes recorded for its use cases") if not (spend and measured)
              else None,
              "no_unit": m["spend"] - sum(u["spend"] for u in m["use_cases"] if u.get("business_unit")),
              "counts": {q: sum(r["quadrant"] == q for r in rows) for q in QUADRANT_MEANING}}
    by_unit = m.get("seats_by_unit")
    seat_rows = [s for s in by_unit or [] if s["business_unit"] == unit]
    money = lambda v: fmt.money(v, cur)  # noqa: E731
    seats = table(seat_rows, {"product": ("Product", _text), "licensed_seats": ("Licensed seats", fmt.number),
                              "active_users": ("Active users", fmt.number), "utilisation": ("Utilisation", fmt.pct),
                              "seat_cost": ("Seat cost", money), "idle_seat_cost": ("Idle cost", money)},
                  numeric={"licensed_seats", "active_users", "utilisation", "seat_cost", "idle_seat_cost"})
    return _page("business_unit", m=m, unit=unit, u=unit_m, table=use_case_table(m, rows), seats=seats,
                 seat_rows=seat_rows, attributable=by_unit is not None, meaning=QUADRANT_MEANING,
                 reclaim=unit_reclaim_table(m, unit), adoption=unit_adoption_table(m, unit))


def unit_adoption_table(m: dict, unit: str) -> str:
    """A business unit's adoption funnel, per seat product (metrics.json `adoption.by_unit`); "" when its seat
    reports name none of its seats."""
    rows = [u for u in (m.get("adoption") or {}).get("by_unit") or [] if u["business_unit"] == unit]
    if not rows:
        return ""
    rows = [{**u, "active_share": u["active"] / u["licensed"] if u["licensed"] else None,
             "engaged_share": u["engaged"] / u["licensed"] if u["licensed"] and u["engaged"] is not None else None}
            for u in rows]
    return table(rows, {"product": ("Product", _text), "licensed": ("Licensed", fmt.number),
                        "active_share": ("Used in quarter", fmt.pct), "engaged_share": ("Engaged", _pct_or_no_basis),
                        "retention": ("Retention", _pct_or_no_basis)},
                 numeric={"licensed", "active_share", "engaged_share", "retention"})


def unit_reclaim_table(m: dict, unit: str) -> str:
    """A business unit's seats to take back, per product (metrics.json `reclaim.by_unit`); "" when its seat
    reports name none of its seats."""
    r = m.get("reclaim")
    rows = [u for u in (r or {}).get("by_unit") or [] if u["business_unit"] == unit]
    if not rows:
        return ""
    cur, days = m["currency"], [str(d) for d in r["days"]]
    records = [{"product": u["product"], "seats": u["seats"], "never_used": u["never_used"],
                **{f"d{d}": u["by_days"][d]["seats"] for d in days},
                "saving": u["by_days"][days[-1]]["cost_per_year"]} for u in rows]
    columns = {"product": ("Product", _text), "seats": ("Seats", fmt.number),
               **{f"d{d}": (f"{d}+ days", fmt.number) for d in days},
               "never_used": ("Never used", fmt.number),
               "saving": (f"Cost a year, {days[-1]}+", lambda v: fmt.money(v, cur))}
    return table(records, columns, numeric=set(columns) - {"product"})


def view_cover(m: dict, cfg: Config, generated: str, view, contents: list[tuple[str, str]],
               notes: list[tuple[str, str]], others: list[str], full_pages: int, full_sha256: str) -> HTML:
    """A role view's cover (boardpack/views.py): which view, its sections with their page numbers, what the pack
    cannot show yet, and the full pack it was cut from."""
    logo = _data_uri(cfg.branding.get("logo")) if cfg.branding.get("logo") else None
    return _page("view_cover", m=m, cfg=cfg, generated=generated, view=view, contents=contents, notes=notes,
                 others=others, full_pages=full_pages, full_sha256=full_sha256, logo=logo)


def appendix(m: dict, validation: dict, provenance: dict, cfg: Config, sources: dict | None = None,
             ledger: dict | None = None, restatement: dict | None = None) -> HTML:
    failed = [c for c in validation["checks"] if not c["success"]]
    by_table = {}
    for c in validation["checks"]:
        t = by_table.setdefault(c["table"], {"table": c["table"], "checks": 0, "passed": 0, "warnings": 0})
        t["checks"] += 1
        t["passed"] += bool(c["success"])
        t["warnings"] += (not c["success"]) and c["severity"] == "warning"
    return _page("appendix", m=m, v=validation, failed=failed, tables=list(by_table.values()),
                 prov=provenance, cfg=cfg, cov=validation.get("coverage", {}), sources=sources,
                 recon=_quarter_rows(sources, m) if sources else [], ledger=ledger_rows(ledger, m),
                 dropped=[d for d in (ledger or {}).get("not_ai_services", []) if d["quarter"] == m["quarter"]][:5],
                 issue=issue_notes(restatement))


def ledger_rows(ledger: dict | None, m: dict) -> list[dict]:
    """The dollar ledger of the quarter (and the one before) per source and currency, with each quarter's total."""
    if not ledger:
        return []
    quarters = [q for q in ((m.get("previous") or {}).get("quarter"), m["quarter"]) if q]
    money = ("read", "estimated", "counted", "not_ai", "superseded", "counted_reporting")
    out = []
    for q in quarters:
        rows = [r for r in ledger["rows"] if r["quarter"] == q]
        by = {}
        for r in rows:
            line = by.setdefault((r["source"], r["currency"]), {"quarter": q, "source": r["source"],
                                                                 "currency": r["currency"], "files": 0,
                                                                 **{k: 0.0 for k in money}})
            line["files"] += 1
            for k in money:
                line[k] += r[k]
        out += sorted(by.values(), key=lambda r: -r["counted_reporting"])
        out.append({"quarter": q, "source": "total", "currency": ledger["currency"], "files": len(rows),
                    "total": True, "counted_reporting": sum(r["counted_reporting"] for r in rows)})
    return out


def _quarter_rows(sources: dict, m: dict) -> list[dict]:
    """Reconciliation rows of the reported quarter's months."""
    year, q = int(m["quarter"][:4]), int(m["quarter"][-1])
    months = {f"{year}-{3 * q - 2 + i:02d}" for i in range(3)}
    return [r for r in sources.get("reconciliation", []) if r["Month"] in months]


# --- restatement ---------------------------------------------------------------------------------------

def _parts(restatement: dict | None) -> list[dict]:
    """The comparisons of restatement.json that changed a number: the re-issue, then last quarter."""
    return [r for r in ((restatement or {}).get("reissue"), (restatement or {}).get("prior_quarter"))
            if r and r["changed"]]


def _restated(restatement: dict | None) -> bool:
    return bool(_parts(restatement))


def restatement_title(restatement: dict) -> str:
    parts = {r["kind"]: r for r in _parts(restatement)}
    what = []
    if "reissue" in parts:
        what.append(f"what changed since {parts['reissue']['old']['version']}")
    if "prior_quarter" in parts:
        what.append(f"{parts['prior_quarter']['quarter']} restated")
    return "Restatement: " + " and ".join(what)


def restatement_page(restatement: dict | None, m: dict) -> HTML:
    """Which headline numbers changed, by how much, and why (boardpack/restate.py): the same strings as
    `boardpack diff` prints. Nothing when no number changed: a first issue has none, and an unchanged re-issue
    says so in the appendix."""
    if not _restated(restatement):
        return HTML("")
    parts = []
    for r in _parts(restatement):
        e = restate.explain(r)
        parts.append({**e, **{block: table([dict(enumerate(row)) for row in e[block]["rows"]],
                                           {i: (c, _text) for i, c in enumerate(e[block]["columns"])},
                                           set(e[block]["numeric"])) if e[block]["rows"] else ""
                              for block in ("headline", "use_cases")}})
    return _page("restatement", m=m, title=restatement_title(restatement), parts=parts)


def issue_notes(restatement: dict | None) -> list[str]:
    """For the appendix: a re-issue that changed no number, and a last quarter that agrees with its own pack."""
    out = []
    for r in ((restatement or {}).get("reissue"), (restatement or {}).get("prior_quarter")):
        if r and not r["changed"]:
            e = restate.explain(r)
            out.append(" ".join([e["summary"], *([e["attribution"]] if r["kind"] == "reissue" else []), *e["notes"]]))
    return out
