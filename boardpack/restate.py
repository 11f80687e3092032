"""Restatements: what changed between two builds, by how much, and which recorded cause changed with it.

Two comparisons (README, "Restatements"; docs/metrics.md, "Restatements"):

- a **re-issue**: a quarter built again (`reports/<quarter>/v2` against `v1`). Its headline numbers and use cases
  are compared, and the causes are what the two manifests and ledgers record differently: input files added,
  removed or changed (by SHA-256, with the ledger's counted dollars of each file before and after), the price
  catalog, the AI-spend catalog, the configuration (key by key), the data contracts, the code revision, the
  package versions and the engine.
- a **prior-quarter restatement**: last quarter as recomputed from this build's data (`metrics["previous"]`)
  against last quarter's own published pack (late invoices, credits).

Attribution is only what the records prove: with one recorded cause, the moves are attributed to it; with
several, the moves cannot be split among them (the ledger still says in which files counted dollars moved);
uncommitted code (`+dirty`) is named as what the manifest cannot prove the same.

`compare` and `for_build` read pack folders (the I/O edge); `diff` and `explain` are pure: dicts in, dicts out.
`explain` formats every sentence and table cell once; the pack's restatement page and `boardpack diff` print
its strings (`text`), so they say the same thing.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import fmt

# What counts as a change (docs/metrics.md, "Restatements"): money that moves by half a cent or more (it prints
# to the cent; the ledger's tolerance), and any other number whose printed value changes.
CENT = 0.005
MONEY, MULTIPLE, SHARE, INDEX, TEXT = "money", "multiple", "share", "index", "text"
HEADLINE = (
    ("spend", "AI spend", MONEY),
    ("token_spend", "Token spend", MONEY),
    ("value", "Evidenced value", MONEY),
    ("value_low", "Value, low end", MONEY),
    ("value_high", "Value, high end", MONEY),
    ("assumed_value", "Assumed value (not in the headline)", MONEY),
    ("net_value", "Net value", MONEY),
    ("value_multiple", "Value multiple", MULTIPLE),
    ("unattributed_spend_share", "Unattributed spend share", SHARE),
    ("workload_fit", "Workload fit", SHARE),
    ("overprovisioned_spend", "Over-provisioned token spend", MONEY),
    ("retiering_savings", "Re-tiering saving", MONEY),
    ("idle_seat_cost", "Idle seat cost", MONEY),
    ("rightsizing_opportunity", "Right-sizing opportunity", MONEY),
    ("portable_spend_share", "Portable spend share", SHARE),
    ("consumption_share", "Consumption share", SHARE),
    ("open_weight_share", "Open-weight share", SHARE),
    ("top_provider_share", "Top provider share", SHARE),
    ("hhi", "Provider concentration (HHI)", INDEX),
    ("status", "Status", TEXT),
    # what the pack compares the quarter with: last quarter as this build computes it, and the bridge from it
    ("previous.spend", "Last quarter's AI spend", MONEY),
    ("previous.value", "Last quarter's evidenced value", MONEY),
    ("previous.value_multiple", "Last quarter's value multiple", MULTIPLE),
    ("bridge.previous_token_spend", "Bridge: last quarter's token spend", MONEY),
    ("bridge.volume", "Bridge: volume effect", MONEY),
    ("bridge.mix", "Bridge: mix effect", MONEY),
    ("bridge.price", "Bridge: price effect", MONEY),
)
# The headings of an explanation, on the page and on the command line
HEADINGS = {"headline": "Headline numbers that changed", "use_cases": "Use cases that moved, largest first",
            "causes": "Causes the manifest and ledger record", "attribution": "Attribution", "notes": "Notes"}
# Files of a raw folder that are settings rather than spend (docs/inputs.md): named for what they set
REFERENCE_FILES = {"attribution.csv": "attribution map", "negotiated_prices.csv": "negotiated prices",
                   "model_tiers.csv": "tier map"}
# Configuration keys that only change how the pack looks: listed, but they cannot move a number
PRESENTATION = ("company", "confidentiality", "paper", "branding")


# ------------------------------------------------------------------------------------------------ reading

def load_run(folder: str | Path, version: str | None = None) -> dict:
    """A published pack or a staging folder as `diff` reads it: metrics, what the manifest records, the ledger.

    A staging folder has no manifest yet: its provenance.json records the same inputs, catalogs, configuration,
    contracts, code and packages (the manifest copies them)."""
    folder = Path(folder)
    metrics = _json(folder / "metrics.json")
    record = _json(folder / ("manifest.json" if (folder / "manifest.json").is_file() else "provenance.json"))
    ledger = _json(folder / "ledger.json") if (folder / "ledger.json").is_file() else None
    from .publish import version_of

    return {"version": version or record.get("version") or version_of(folder) or "published",
            "generated": (record.get("parameters") or {}).get("generated"),
            "metrics": metrics, "record": record, "ledger": ledger}


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def compare(old_dir: str | Path, new_dir: str | Path, new_version: str | None = None) -> dict:
    """The re-issue of a quarter: the pack in `new_dir` (a version folder or a staging folder) against `old_dir`."""
    return diff(load_run(old_dir), load_run(new_dir, new_version))


def for_build(reports: str | Path, quarter: str, staging: str | Path) -> dict:
    """restatement.json of a build in `staging`: the re-issue against the quarter's current pack, and last quarter
    as this build recomputes it against last quarter's published pack (each None when there is none)."""
    from .publish import current, quarter_dir, version_of, versions
    from .quarters import Quarter

    new = load_run(staging)
    old_dir = current(reports, quarter)
    present = versions(quarter_dir(reports, quarter))
    # the version this build will publish (it holds the quarter's lock): one past the highest; a pack of the layout
    # before versions becomes v1 at publish, so this one is v2
    number = (present[-1] if present else (1 if old_dir else 0)) + 1
    new["version"] = f"v{number}"
    reissue = diff(load_run(old_dir, version_of(old_dir) or (None if present else "v1")), new) if old_dir else None
    prior = None
    previous = new["metrics"].get("previous") or {}
    last = str(Quarter.parse(quarter).previous())
    prior_dir = current(reports, last)
    if prior_dir and (prior_dir / "metrics.json").is_file() and previous.get("quarter") == last:
        prior = diff(load_run(prior_dir), new, figures="previous")
    return {"quarter": quarter, "reissue": reissue, "prior_quarter": prior}


# ------------------------------------------------------------------------------------------------ comparing

def changed(kind: str, old, new) -> bool:
    """Whether a number moved enough to count (module comment above): a missing number against a present one does."""
    if old is None or new is None:
        return (old is None) != (new is None)
    if kind == MONEY:
        return abs(new - old) >= CENT
    return value_text(kind, old) != value_text(kind, new)


def diff(old: dict, new: dict, figures: str = "metrics") -> dict:
    """Compare two runs (`load_run`). figures="metrics": the same quarter in both; "previous": the old run's quarter
    against the new run's `metrics["previous"]` (that quarter recomputed from the new run's data)."""
    new_figures = new["metrics"] if figures == "metrics" else new["metrics"]["previous"]
    quarter = old["metrics"]["quarter"]
    headline = headline_changes(old["metrics"], new_figures)
    use_cases = use_case_changes(old["metrics"].get("use_cases") or [], new_figures.get("use_cases") or []) \
        if figures == "metrics" else []
    causes, notes = recorded_causes(old["record"], new["record"], old["ledger"], new["ledger"])
    return {
        "kind": "reissue" if figures == "metrics" else "prior_quarter",
        "quarter": quarter, "currency": old["metrics"].get("currency") or new["metrics"].get("currency") or "USD",
        "old": {"version": old["version"], "generated": old["generated"]},
        "new": {"version": new["version"], "generated": new["generated"]},
        "changed": bool(headline or use_cases),
        "headline": headline, "use_cases": use_cases, "causes": causes, "notes": notes,
        "ledger": ledger_moves(old["ledger"], new["ledger"]),
    }


def headline_changes(old: dict, new: dict) -> list[dict]:
    """The headline numbers that changed, in the pack's order (a number only one side has is not compared: last
    quarter's figures have no bridge of their own)."""
    out = []
    for key, label, kind in HEADLINE:
        (had, a), (has, b) = _get(old, key), _get(new, key)
        if not (had and has) or not changed(kind, a, b):
            continue
        out.append({"key": key, "label": label, "kind": kind, "old": a, "new": b, **_deltas(kind, a, b)})
    return out


def _get(figures: dict, key: str) -> tuple[bool, object]:
    """(present, value) of `spend` or `bridge.volume` in a metrics dictionary."""
    for part in key.split("."):
        if not isinstance(figures, dict) or part not in figures:
            return False, None
        figures = figures[part]
    return True, figures


def _deltas(kind: str, old, new) -> dict:
    numeric = kind != TEXT and old is not None and new is not None
    change = new - old if numeric else None
    pct = change / abs(old) if numeric and old else None
    return {"change": change, "pct_change": pct}


def use_case_changes(old: list[dict], new: list[dict]) -> list[dict]:
    """Use cases whose spend, value, multiple or quadrant moved, or that appear in only one run; largest move first."""
    before, after = ({u.get("use_case") or u.get("name"): u for u in side} for side in (old, new))
    out = []
    for key in sorted(set(before) | set(after), key=str):
        a, b = before.get(key), after.get(key)
        spend = [(u or {}).get("spend") for u in (a, b)]
        value = [(u or {}).get("value") for u in (a, b)]
        multiple = [(u or {}).get("multiple") for u in (a, b)]
        quadrant = [(u or {}).get("quadrant") for u in (a, b)]
        if a and b and not (changed(MONEY, *spend) or changed(MONEY, *value) or changed(MULTIPLE, *multiple)
                            or quadrant[0] != quadrant[1]):
            continue
        out.append({"use_case": key, "name": (b or a).get("name"), "status": "moved" if a and b else
                    ("added" if b else "removed"),
                    "spend_old": spend[0], "spend_new": spend[1], "spend_change": _minus(spend[1], spend[0]),
                    "value_old": value[0], "value_new": value[1], "value_change": _minus(value[1], value[0]),
                    "multiple_old": multiple[0], "multiple_new": multiple[1],
                    "quadrant_old": quadrant[0], "quadrant_new": quadrant[1]})
    size = lambda u: max(abs(u["spend_change"] or 0.0), abs(u["value_change"] or 0.0))  # noqa: E731
    return sorted(out, key=lambda u: (-size(u), str(u["use_case"])))


def _minus(new, old):
    return (new or 0.0) - (old or 0.0) if new is not None or old is not None else None


def recorded_causes(old: dict, new: dict, old_ledger: dict | None,
                    new_ledger: dict | None) -> tuple[list[dict], list[dict]]:
    """What the two records (manifest or provenance) say differently, as causes that can move a number, and notes:
    what cannot move one (presentation settings) or cannot be proven the same (uncommitted code)."""
    causes, notes = [], []
    causes += input_changes(old.get("inputs") or [], new.get("inputs") or [], old_ledger, new_ledger)
    for key, what in (("price_catalog", "price catalog"), ("ai_catalog", "AI-spend catalog")):
        if old.get(key) != new.get(key):
            causes.append({"kind": key, "what": what, "old": old.get(key), "new": new.get(key)})
    keys = config_changes(old.get("config") or {}, new.get("config") or {})
    moving = [k for k in keys if k["key"].split(".")[0] not in PRESENTATION]
    if moving:
        causes.append({"kind": "config", "what": "configuration", "keys": moving,
                       "old": (old.get("config") or {}).get("sha256"), "new": (new.get("config") or {}).get("sha256")})
    if len(moving) < len(keys):
        notes.append({"kind": "presentation", "keys": [k for k in keys if k not in moving]})
    elif not keys and (old.get("config") or {}).get("sha256") != (new.get("config") or {}).get("sha256"):
        notes.append({"kind": "config_bytes", "old": (old.get("config") or {}).get("sha256"),
                      "new": (new.get("config") or {}).get("sha256")})
    contracts = versions_changed(old.get("contracts") or {}, new.get("contracts") or {},
                                 lambda c: f"{c.get('version')} ({str(c.get('sha256') or '')[:8]})")
    if contracts:
        causes.append({"kind": "contracts", "what": "data contracts", "changes": contracts})
    if old.get("code_revision") != new.get("code_revision"):
        causes.append({"kind": "code", "what": "code revision", "old": old.get("code_revision"),
                       "new": new.get("code_revision")})
    elif str(new.get("code_revision") or "").endswith("+dirty"):
        notes.append({"kind": "dirty", "revision": new.get("code_revision")})
    packages = versions_changed({**(old.get("packages") or {}), "python": old.get("python")},
                                {**(new.get("packages") or {}), "python": new.get("python")}, str)
    if packages:
        causes.append({"kind": "packages", "what": "package versions", "changes": packages})
    engines = [_engine(r) for r in (old, new)]
    if engines[0] != engines[1]:
        causes.append({"kind": "engine", "what": "engine", "old": engines[0], "new": engines[1]})
    return causes, notes


def _engine(record: dict) -> str | None:
    params = record.get("resolved") or record.get("parameters") or {}
    return params.get("engine")


def input_changes(old: list[dict], new: list[dict], old_ledger: dict | None, new_ledger: dict | None) -> list[dict]:
    """Input files added, removed or changed (by SHA-256), matched by table or source and file name (the folder the
    data sits in may differ between builds), each with its counted dollars per quarter that moved."""
    before, after = ({(i.get("table"), i.get("file")): i for i in side} for side in (old, new))
    out = []
    for key in sorted(set(before) | set(after), key=lambda k: (str(k[0]), str(k[1]))):
        a, b = before.get(key), after.get(key)
        if a and b and a.get("sha256") == b.get("sha256"):
            continue
        counted = [counted_by_quarter(old_ledger, a), counted_by_quarter(new_ledger, b)]
        moves = [{"quarter": q, "old": counted[0].get(q, 0.0), "new": counted[1].get(q, 0.0),
                  "change": counted[1].get(q, 0.0) - counted[0].get(q, 0.0)}
                 for q in sorted(set(counted[0]) | set(counted[1]))
                 if changed(MONEY, counted[0].get(q, 0.0), counted[1].get(q, 0.0))]
        item = b or a
        out.append({"kind": "input", "change": "changed" if a and b else ("added" if b else "removed"),
                    "table": key[0], "file": key[1], "canonical": item.get("rows") is not None,
                    "setting": REFERENCE_FILES.get(str(key[1])) if key[0] == "reference" else None,
                    "old_sha256": (a or {}).get("sha256"), "new_sha256": (b or {}).get("sha256"),
                    "ledger": bool(counted[0] or counted[1]), "counted": moves})
    return out


def counted_by_quarter(ledger: dict | None, item: dict | None) -> dict[str, float]:
    """The ledger's counted dollars (reporting currency) of one input file, per quarter; {} when it has none."""
    if not ledger or not item:
        return {}
    rows = [r for r in ledger.get("rows") or [] if _same_file(r, item)]
    if len({r["source"] for r in rows}) > 1:  # two sources with a file of that name: keep the one in its path
        rows = [r for r in rows if f"/{r['source']}/" in str(item.get("path") or "")] or rows
    out: dict[str, float] = {}
    for r in rows:
        out[r["quarter"]] = out.get(r["quarter"], 0.0) + float(r.get("counted_reporting") or 0.0)
    return out


def _same_file(row: dict, item: dict) -> bool:
    """A ledger row names its file by name (a table) or by its path inside its source's folder (FOCUS)."""
    name = str(row.get("file") or "")
    return name == item.get("file") or str(item.get("path") or "").endswith("/" + name)


def ledger_moves(old: dict | None, new: dict | None) -> list[dict]:
    """Per quarter, the counted total of each ledger before and after, where it moved."""
    if not old or not new:
        return []
    a, b = old.get("counted_reporting") or {}, new.get("counted_reporting") or {}
    return [{"quarter": q, "old": a.get(q, 0.0), "new": b.get(q, 0.0), "change": b.get(q, 0.0) - a.get(q, 0.0)}
            for q in sorted(set(a) | set(b)) if changed(MONEY, a.get(q, 0.0), b.get(q, 0.0))]


def config_changes(old: dict, new: dict) -> list[dict]:
    """The configuration settings that differ, key by key (`targets.value_multiple`); the file's path and hash aside."""
    flat_old, flat_new = _flatten(old), _flatten(new)
    return [{"key": k, "old": flat_old.get(k), "new": flat_new.get(k)}
            for k in sorted(set(flat_old) | set(flat_new)) if flat_old.get(k) != flat_new.get(k)]


def _flatten(section: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in section.items():
        if not prefix and key in ("path", "sha256"):
            continue
        if isinstance(value, dict) and value:
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def versions_changed(old: dict, new: dict, show) -> list[dict]:
    return [{"name": k, "old": None if old.get(k) is None else show(old[k]),
             "new": None if new.get(k) is None else show(new[k])}
            for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]


# ------------------------------------------------------------------------------------------------ words

def value_text(kind: str, x, currency: str = "USD") -> str:
    if x is None:
        return "no basis"
    if kind == MONEY:
        return fmt.money_exact(x, currency)
    if kind == MULTIPLE:
        return f"{x:.3f}×"
    if kind == SHARE:
        return f"{x * 100:.2f}%"
    if kind == INDEX:
        return f"{x:,.1f}"
    return str(x)


def change_text(kind: str, change, pct=None, currency: str = "USD") -> str:
    """+$1,000.00 (+0.01%), −0.004×, +0.12 pp; empty for a change without a number."""
    if change is None:
        return ""
    sign = "+" if change > 0 else "−" if change < 0 else "±"
    if kind == MONEY:
        body = sign + value_text(MONEY, abs(change), currency)
    elif kind == MULTIPLE:
        body = f"{sign}{abs(change):.3f}×"
    elif kind == SHARE:
        return f"{sign}{abs(change) * 100:.2f} pp"
    else:
        body = f"{sign}{abs(change):,.1f}"
    return body + (f" ({'+' if pct > 0 else '−' if pct < 0 else '±'}{abs(pct) * 100:.2f}%)" if pct is not None else "")


def _sha(h) -> str:
    return f"{str(h)[:8]}…" if h else "none"


def _file_name(c: dict) -> str:
    """spend.csv (a canonical table), openai/usage-2026-09.json (a raw folder's source), or a named setting."""
    name = c["file"] if c["canonical"] else f"{c['table']}/{c['file']}"
    return f"{c['setting']} ({name})" if c.get("setting") else name


def cause_text(c: dict, currency: str) -> str:
    """One recorded cause in a sentence."""
    money = lambda x: value_text(MONEY, x, currency)  # noqa: E731
    if c["kind"] == "input":
        where = f"table {c['table']}" if c["canonical"] else f"source {c['table']}"
        sha = {"changed": f"SHA-256 {_sha(c['old_sha256'])} → {_sha(c['new_sha256'])}",
               "added": f"SHA-256 {_sha(c['new_sha256'])}", "removed": f"SHA-256 was {_sha(c['old_sha256'])}"}[c["change"]]
        text = f"Input file {c['change']}: {_file_name(c)} ({where}; {sha})"
        if c["counted"]:
            text += "; counted " + "; ".join(f"in {m['quarter']} {money(m['old'])} → {money(m['new'])} "
                                             f"({change_text(MONEY, m['change'], None, currency)})" for m in c["counted"])
        elif c["ledger"]:
            text += "; its counted dollars did not move in any quarter"
        return text + "."
    if c["kind"] == "config":
        keys = "; ".join(f"{k['key']} {_setting(k['old'])} → {_setting(k['new'])}" for k in c["keys"])
        same = (" the file is the same, the settings as the code reads them differ:" if c["old"] == c["new"]
                else "")
        return f"Configuration changed (SHA-256 {_sha(c['old'])} → {_sha(c['new'])}):{same} {keys}."
    if c["kind"] == "code":
        return f"Code revision changed: {_revision(c['old'])} → {_revision(c['new'])}."
    if c["kind"] in ("contracts", "packages"):
        items = "; ".join(f"{k['name']} {k['old'] or 'none'} → {k['new'] or 'none'}" for k in c["changes"])
        return f"{c['what'][0].upper()}{c['what'][1:]} changed: {items}."
    return f"{c['what'][0].upper()}{c['what'][1:]} changed: {c['old']} → {c['new']}."


def _revision(rev) -> str:
    """A git commit shortened to 12 characters, `+dirty` kept; anything else (not a checkout) as it is."""
    rev = str(rev)
    head, dirty = (rev[:-6], "+dirty") if rev.endswith("+dirty") else (rev, "")
    return (head[:12] if len(head) == 40 and all(ch in "0123456789abcdef" for ch in head) else head) + dirty


def _setting(value) -> str:
    return "unset" if value is None else json.dumps(value, ensure_ascii=False) if isinstance(value, (str, list)) \
        else str(value)


def short_cause(c: dict) -> str:
    """A cause in a few words, for the attribution sentence."""
    if c["kind"] == "input":
        return f"{_file_name(c)} {c['change']}"
    if c["kind"] == "config":
        return "configuration (" + ", ".join(k["key"] for k in c["keys"]) + ")"
    return c["what"]


def note_text(n: dict) -> str:
    if n["kind"] == "presentation":
        keys = "; ".join(f"{k['key']} {_setting(k['old'])} → {_setting(k['new'])}" for k in n["keys"])
        return f"Presentation settings changed, which cannot move a number: {keys}."
    if n["kind"] == "config_bytes":
        return (f"The configuration file changed (SHA-256 {_sha(n['old'])} → {_sha(n['new'])}) but no setting "
                f"differs: a comment or the layout, which cannot move a number.")
    return (f"Both builds ran code {_revision(n['revision'])}: uncommitted changes are not recorded, so the manifest cannot "
            f"prove the code was the same.")


def attribution(r: dict) -> str:
    """The honest attribution: to the one recorded cause, or to none of several."""
    causes = r["causes"]
    if not r["changed"]:
        return ("What differs: " + "; ".join(short_cause(c) for c in causes) + "." if causes
                else "Nothing the manifest records differs.")
    if not causes:
        return ("No recorded cause changed (inputs, prices, configuration, contracts, code, packages and engine are "
                "the same), yet numbers moved: the records cannot explain the move.")
    if len(causes) == 1:
        return f"One recorded cause changed ({short_cause(causes[0])}): every move above is attributed to it."
    return (f"{len(causes)} recorded causes changed at once ({'; '.join(short_cause(c) for c in causes)}): the moves "
            f"cannot be split among them.")


def evidence(r: dict) -> list[str]:
    """Where the ledgers show counted dollars of the compared quarter moved, file by file."""
    cur, q = r["currency"], r["quarter"]
    files = [(c, m) for c in r["causes"] if c["kind"] == "input" for m in c["counted"] if m["quarter"] == q]
    total = next((m for m in r["ledger"] if m["quarter"] == q), None)
    if not files and not total:
        return []
    out = []
    if files:
        out.append(f"The ledgers show {q}'s counted dollars moved in " + "; ".join(
            f"{_file_name(c)} ({change_text(MONEY, m['change'], None, cur)})" for c, m in files) + ".")
    if total:
        out.append(f"{q} counted in total: {value_text(MONEY, total['old'], cur)} → {value_text(MONEY, total['new'], cur)} "
                   f"({change_text(MONEY, total['change'], None, cur)}).")
    return out


def title(r: dict) -> str:
    if r["kind"] == "reissue":
        return f"{r['quarter']} {r['new']['version']} against {r['old']['version']}"
    return f"{r['quarter']} restated: its published pack {r['old']['version']} against this build's data"


def summary(r: dict) -> str:
    cur, old, new = r["currency"], r["old"], r["new"]
    built = f", generated {old['generated']}" if old.get("generated") else ""
    if r["kind"] == "reissue":
        moved = (f"{_count(len(r['headline']), 'headline number')} changed and "
                 f"{_count(len(r['use_cases']), 'use case')} moved" if r["changed"] else "no number changed")
        return f"{new['version']} re-issues the {r['quarter']} pack {old['version']}{built}: {moved}."
    if not r["changed"]:
        return (f"{r['quarter']} as recomputed from this build's data agrees with its published pack "
                f"{old['version']}{built}.")
    first = next((h for h in r["headline"] if h["key"] == "spend"), r["headline"][0])
    return (f"{r['quarter']} as recomputed from this build's data differs from its published pack {old['version']}"
            f"{built}: {first['label']} restated from {value_text(first['kind'], first['old'], cur)} to "
            f"{value_text(first['kind'], first['new'], cur)}"
            + (f", {change_text(first['kind'], first['change'], first['pct_change'], cur)}" if first["change"] is not None
               else "") + f"; {_count(len(r['headline']), 'headline number')} restated.")


def _count(n: int, what: str) -> str:
    return f"no {what}" if n == 0 else f"{n} {what}{'s' if n != 1 else ''}"


def explain(r: dict) -> dict:
    """Every string the page and the command line print about one comparison, formatted once."""
    cur = r["currency"]
    old, new = (r["old"]["version"], r["new"]["version"]) if r["kind"] == "reissue" else \
        (f"{r['old']['version']} (published)", "restated")
    headline = {"columns": ["Number", old, new, "Change"], "numeric": [1, 2, 3],
                "rows": [[h["label"], value_text(h["kind"], h["old"], cur), value_text(h["kind"], h["new"], cur),
                          change_text(h["kind"], h["change"], h["pct_change"], cur)] for h in r["headline"]]}
    use_cases = {"columns": ["Use case", f"Spend {old}", f"Spend {new}", "Spend change", "Value change", "Multiple",
                             "Quadrant"], "numeric": [1, 2, 3, 4, 5],
                 "rows": [[" ".join(str(x) for x in (u["use_case"], u["name"]) if x)
                           + ("" if u["status"] == "moved" else f" ({u['status']})"),
                           value_text(MONEY, u["spend_old"], cur), value_text(MONEY, u["spend_new"], cur),
                           _moved(u["spend_old"], u["spend_new"], u["spend_change"], cur),
                           _moved(u["value_old"], u["value_new"], u["value_change"], cur),
                           _arrow(value_text(MULTIPLE, u["multiple_old"]), value_text(MULTIPLE, u["multiple_new"])),
                           _arrow(u["quadrant_old"] or "—", u["quadrant_new"] or "—")] for u in r["use_cases"]]}
    return {"title": title(r), "summary": summary(r), "changed": r["changed"], "headline": headline,
            "use_cases": use_cases, "causes": [cause_text(c, cur) for c in r["causes"]],
            # with one cause its sentence already gives its counted dollars; with several, the ledger helps
            "attribution": attribution(r), "evidence": evidence(r) if r["changed"] and len(r["causes"]) != 1 else [],
            "notes": [note_text(n) for n in r["notes"]], "headings": HEADINGS}


def _moved(old, new, change, currency: str) -> str:
    return change_text(MONEY, change, None, currency) if changed(MONEY, old, new) else "—"


def _arrow(old: str, new: str) -> str:
    return old if old == new else f"{old} → {new}"


def text(r: dict) -> str:
    """The comparison as plain text: what `boardpack diff` prints, the same strings as the restatement page."""
    e = explain(r)
    lines = [e["title"], e["summary"]]
    for block in ("headline", "use_cases"):
        if e[block]["rows"]:
            lines += ["", HEADINGS[block], *_columns(e[block])]
    lines += ["", HEADINGS["causes"], *([f"  - {c}" for c in e["causes"]] or ["  - none"])]
    lines += ["", HEADINGS["attribution"], f"  {e['attribution']}", *[f"  {x}" for x in e["evidence"]]]
    if e["notes"]:
        lines += ["", HEADINGS["notes"], *[f"  - {n}" for n in e["notes"]]]
    return "\n".join(lines) + "\n"


def _columns(block: dict) -> list[str]:
    """A table as aligned text: text columns left, number columns right."""
    rows = [block["columns"], *block["rows"]]
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(block["columns"]))]
    return ["  " + "  ".join(str(cell).rjust(w) if i in block["numeric"] else str(cell).ljust(w)
                             for i, (cell, w) in enumerate(zip(row, widths))).rstrip() for row in rows]


def prior_note(restatement: dict | None, key: str, what: str = "") -> str | None:
    """For a tile or the bridge: `2026-Q2 [what] restated from $X to $Y, +$Z, since its pack v1` when last
    quarter's `key` was restated; None when it was not (or there is no published last quarter)."""
    prior = (restatement or {}).get("prior_quarter")
    if not prior or not prior["changed"]:
        return None
    h = next((h for h in prior["headline"] if h["key"] == key), None)
    if h is None:
        return None
    cur = prior["currency"]
    by = change_text(h["kind"], h["change"], None, cur)
    return (f"{prior['quarter']} {what + ' ' if what else ''}restated from {value_text(h['kind'], h['old'], cur)} to "
            f"{value_text(h['kind'], h['new'], cur)}" + (f", {by}," if by else "")
            + f" since its pack {prior['old']['version']}")
