"""Raw data folders: run the adapters of the sources present and assemble the canonical tables.

Steps, in order, each visible in `sources.json` and on the data-quality page:
1. every adapter reads its subfolder (`adapters/`), counting what it normalised;
2. attribution: spend the source did not tie to a use case is mapped through `reference/attribution.csv`
   (key -> use case, business unit); what stays unmapped is kept and reported as unattributed;
3. source of truth: when several sources report the same provider, one counts (configuration
   `[sources] truth`, default billing exports before gateway logs); the others reconcile;
4. currencies: every amount is converted to the reporting currency with `reference/fx_rates.csv`;
   a currency without a rate stops the run;
5. the model catalog is built for every model seen: tier from the tier map, list prices from the price
   catalog in force at the quarter's end, negotiated prices (`reference/negotiated_prices.csv`) first;
6. reconciliation per provider and month: billed cost against usage priced at the price in force.
"""

from __future__ import annotations

import fnmatch
import importlib
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from . import ai_catalog, ledger, prices, sniff
from .adapters import SOURCES, Settings, SourceData, empty_usage
from .exceptions import ContractError, InputError
from .schema import COLUMNS, TIERS, empty_table

REFERENCE = "reference"
# When a provider appears in several sources and the configuration names none: billing exports first.
DEFAULT_PRIORITY = ("focus", "openai", "anthropic", "m365_copilot", "github_copilot", "litellm")
ADAPTER_MODULES = {"focus": "focus", "openai": "openai", "anthropic": "anthropic", "litellm": "litellm",
                   "m365_copilot": "m365", "github_copilot": "github", "outcomes": "sheets", "use_cases": "sheets",
                   "viva_insights": "viva"}


@dataclass
class Assembled:
    frames: dict[str, pd.DataFrame]
    files: list[Path]
    report: dict = field(default_factory=dict)
    checks: list = field(default_factory=list)  # contract checks the sources ran on their own inputs
    ledger: pd.DataFrame | None = None  # boardpack.ledger rows: where every dollar read went
    excluded: pd.DataFrame | None = None  # money read but not counted (adapters.EXCLUDED_COLUMNS)


def is_raw(data_dir: Path) -> bool:
    """A raw folder has source subfolders instead of canonical table files."""
    return any((data_dir / s).is_dir() for s in SOURCES) and not any(data_dir.glob("spend.*"))


def run_adapters(data_dir: Path, settings: Settings) -> dict[str, SourceData]:
    results = {}
    for source in SOURCES:
        folder = data_dir / source
        if not folder.is_dir():
            continue
        module = importlib.import_module(f".adapters.{ADAPTER_MODULES[source]}", __package__)
        with sniff.collecting_copies() as copies:  # tables files_in read once: the same bytes as another
            if source == "outcomes":
                results[source] = module.read_outcomes(folder, settings)
            elif source == "use_cases":
                results[source] = module.read_use_cases(folder, settings)
            else:
                results[source] = module.read(folder, settings)
        sniff.account_copies(results[source], copies, folder)
    return results


# --- 2. attribution ----------------------------------------------------------------------------------

def read_attribution(path: Path) -> pd.DataFrame:
    """Key -> UseCaseId, BusinessUnit. Keys are exact (`openai.project:proj_abc`) or globs (`litellm.team:cs-*`)."""
    if not path.exists():
        return pd.DataFrame(columns=["Key", "UseCaseId", "BusinessUnit"])
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"Key", "UseCaseId"} - set(frame.columns)
    if missing:
        raise InputError(path, f"missing column(s) {sorted(missing)}", "the header must be Key,UseCaseId,BusinessUnit.")
    if "BusinessUnit" not in frame:
        frame["BusinessUnit"] = ""
    return frame.replace("", None)


ROSTER = "hr_roster.csv"
ROSTER_HEADER = "UserId,BusinessUnit,CostCentre"


def read_roster(path: Path) -> pd.DataFrame | None:
    """The HR seat roster (README, "HR seat roster"): UserId (user principal name, or the hash a report with
    concealed names shows), BusinessUnit, CostCentre (optional) -> a frame indexed by the id in lower case, as seat
    reports' SeatIds are. Rows without a business unit are left out; one id given two units is refused. None
    when the file is absent."""
    if not path.exists():
        return None
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in ("UserId", "BusinessUnit") if c not in frame.columns]
    if missing:
        raise InputError(path, f"missing column(s) {missing}", f"the header must be {ROSTER_HEADER} (CostCentre "
                         "optional).")
    frame = frame.assign(UserId=frame["UserId"].str.strip().str.lower(),
                         BusinessUnit=frame["BusinessUnit"].str.strip(),
                         CostCentre=frame["CostCentre"].str.strip() if "CostCentre" in frame else "")
    frame.index = pd.RangeIndex(2, len(frame) + 2)  # the file's line numbers, the header being line 1
    empty = frame["UserId"] == ""
    if empty.any():
        raise InputError(path, "a row has no UserId", "give each row the user principal name, or the hash the "
                         "seat report shows, or remove the row.", line=int(empty.idxmax()), column="UserId")
    frame = frame[frame["BusinessUnit"] != ""]
    units = frame.groupby("UserId")["BusinessUnit"].nunique()
    if (units > 1).any():
        user = units[units > 1].index[0]
        lines = frame.index[frame["UserId"] == user].tolist()
        raise InputError(path, f"UserId {user!r} is given {units[user]} business units (lines {lines})",
                         "keep one row per user.", line=lines[1], column="BusinessUnit")
    return frame.drop_duplicates("UserId").set_index("UserId")[["BusinessUnit", "CostCentre"]]


def attribute(spend: pd.DataFrame, mapping: pd.DataFrame) -> pd.DataFrame:
    """Fill x_UseCaseId / x_BusinessUnit from the mapping where the source named no use case."""
    spend = spend.copy()
    todo = spend["x_UseCaseId"].isna() & spend["x_AttributionKey"].notna()
    exact = mapping[~mapping["Key"].str.contains(r"[*?\[]", regex=True)].set_index("Key")
    globs = mapping[mapping["Key"].str.contains(r"[*?\[]", regex=True)]
    for key in spend.loc[todo, "x_AttributionKey"].unique():
        row = exact.loc[key] if key in exact.index else next(
            (r for _, r in globs.iterrows() if fnmatch.fnmatchcase(key, r["Key"])), None)
        if row is None:
            continue
        hit = todo & (spend["x_AttributionKey"] == key)
        spend.loc[hit, "x_UseCaseId"] = row["UseCaseId"]
        if row.get("BusinessUnit") is not None:
            spend.loc[hit & spend["x_BusinessUnit"].isna(), "x_BusinessUnit"] = row["BusinessUnit"]
    return spend


def unmapped(spend: pd.DataFrame) -> pd.DataFrame:
    """Spend still without a use case, by attribution key, largest first."""
    left = spend[spend["x_UseCaseId"].isna()]
    return (left.groupby(left["x_AttributionKey"].fillna("(no key)"))["EffectiveCost"].sum()
            .sort_values(ascending=False).rename("cost").reset_index())


# --- 3. source of truth --------------------------------------------------------------------------------

# Provider names as the clouds' FOCUS exports write them; other sources' spellings are mapped to these, so
# that one provider's spend from two sources meets in one source-of-truth decision.
PROVIDER_NAMES = {"amazon web services": "AWS", "amazon": "AWS", "aws": "AWS", "microsoft azure": "Microsoft",
                  "azure": "Microsoft", "microsoft": "Microsoft", "google": "Google Cloud", "gcp": "Google Cloud",
                  "google cloud platform": "Google Cloud", "google cloud": "Google Cloud",
                  "oracle cloud infrastructure": "Oracle", "oci": "Oracle", "oracle": "Oracle"}


def canonical_providers(*frames: pd.DataFrame | None) -> tuple[list, int]:
    """Each frame with ProviderName spelled as PROVIDER_NAMES says; and how many rows were renamed."""
    out, renamed = [], 0
    for frame in frames:
        if frame is None or frame.empty:
            out.append(frame)
            continue
        names = frame["ProviderName"].map(lambda p: PROVIDER_NAMES.get(p.strip().lower(), p)
                                          if isinstance(p, str) else p)
        changed = names.ne(frame["ProviderName"]) & frame["ProviderName"].notna()
        renamed += int(changed.sum())
        out.append(frame.assign(ProviderName=names) if changed.any() else frame)
    return out, renamed


def truth_keys(spend: pd.DataFrame, catalog) -> pd.DataFrame:
    """The decision each row belongs to: (provider, kind of spend, month, seat product family).

    Seat licences are decided per product family and month, whoever bills them (a GitHub Copilot invoice
    from Microsoft replaces the seat report's estimate of the same seats); the rest per provider."""
    seats = spend["x_SpendModality"] == "seat_licence"
    products = spend.loc[seats, "ServiceName"].dropna().unique()
    family = {p: ai_catalog.family_of(catalog, p) for p in products}
    return pd.DataFrame({
        "provider": spend["ProviderName"].where(~seats, "").fillna(""),
        "modality": spend["x_SpendModality"].fillna(""),
        "month": spend["ChargePeriodStart"].dt.to_period("M").dt.to_timestamp(),
        "family": spend["ServiceName"].map(family).where(seats, "").fillna(""),
    }, index=spend.index)


def choose_truth(spend: pd.DataFrame, configured: dict[str, str], catalog=None) -> dict[tuple, str]:
    """(provider, spend modality, month, seat family) -> the source whose cost counts.

    Per kind of spend, so that a provider's seats (a seat report) and its API tokens (a cloud bill) both
    count, while two sources of the same provider's token spend (a cost API and a gateway log) never do; per
    month, so that a source covering only some months leaves the others to the source that has them.
    """
    catalog = catalog or ai_catalog.shipped()
    keys = truth_keys(spend, catalog).assign(source=spend["x_Source"], name=spend["ProviderName"])
    truth = {}
    for key, group in keys.groupby(["provider", "modality", "month", "family"], sort=True):
        sources = set(group["source"])
        wanted = next((configured[p] for p in sorted(group["name"].dropna().unique())
                       if configured.get(p) in sources), None)
        truth[key] = wanted or min(sources, key=lambda s: DEFAULT_PRIORITY.index(s) if s in DEFAULT_PRIORITY else 99)
    return truth


def split_by_truth(spend: pd.DataFrame, truth: dict[tuple, str], catalog=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows that count, rows another source supersedes, with that source in x_SupersededBy)."""
    keys = truth_keys(spend, catalog or ai_catalog.shipped())
    winner = pd.Series([truth.get(k) for k in keys.itertuples(index=False, name=None)], index=spend.index,
                       dtype=object)
    counted = spend["x_Source"] == winner
    return spend[counted], spend[~counted].assign(x_SupersededBy=winner[~counted])


def truth_report(truth: dict[tuple, str]) -> dict[str, str]:
    """The decisions in words: "OpenAI · api tokens" -> "openai", or per month when the source changes."""
    by = {}
    for (provider, modality, month, family), source in sorted(truth.items(), key=lambda kv: kv[0][2]):
        label = f"{family or provider} · {'seats' if modality == 'seat_licence' else modality.replace('_', ' ')}"
        by.setdefault(label, []).append((month, source))
    out = {}
    for label, months in sorted(by.items()):
        runs = []
        for month, source in months:
            if runs and runs[-1][0] == source:
                runs[-1][2] = month
            else:
                runs.append([source, month, month])
        out[label] = runs[0][0] if len(runs) == 1 else "; ".join(
            f"{src} ({a:%Y-%m}" + (f" to {b:%Y-%m})" if b != a else ")") for src, a, b in runs)
    return out


# --- 4. currencies ---------------------------------------------------------------------------------------

MONEY = ("ListUnitPrice", "ListCost", "ContractedCost", "EffectiveCost", "BilledCost")


def read_fx(path: Path) -> pd.DataFrame:
    """Currency, Rate (reporting-currency units per one unit of Currency), Date (in force from)."""
    if not path.exists():
        return pd.DataFrame(columns=["Currency", "Rate", "Date"])
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"Currency", "Rate", "Date"} - set(frame.columns)
    if missing:
        raise InputError(path, f"missing column(s) {sorted(missing)}", "the header must be Currency,Rate,Date.")
    frame["Currency"] = frame["Currency"].str.strip().str.upper()
    frame["Rate"] = pd.to_numeric(frame["Rate"], errors="coerce")
    frame["Date"] = pd.to_datetime(frame["Date"], errors="coerce")
    bad = frame[frame["Rate"].isna() | (frame["Rate"] <= 0) | frame["Date"].isna()]
    if len(bad):
        line = int(bad.index[0]) + 2
        raise InputError(path, f"rate or date not readable: {bad.iloc[0].to_dict()}",
                         "write Rate as a positive number and Date as YYYY-MM-DD.", line=line)
    return frame.sort_values("Date")


def convert(spend: pd.DataFrame, fx: pd.DataFrame, currency: str) -> tuple[pd.DataFrame, list[dict]]:
    """Convert every amount to `currency` at the latest rate dated on or before the charge (else the earliest)."""
    spend = spend.copy()
    spend["BillingCurrency"] = spend["BillingCurrency"].str.upper()
    used = []
    for other in sorted(set(spend["BillingCurrency"].dropna()) - {currency}):
        rates = fx[fx["Currency"] == other]
        rows = spend["BillingCurrency"] == other
        if rates.empty:
            files = sorted(set(spend.loc[rows, "x_SourceFile"].dropna()))[:3]
            raise ContractError(
                f"[CRITICAL] spend in {other} ({rows.sum()} rows, e.g. from {', '.join(files)}) has no exchange rate "
                f"to {currency}.\n   how to fix: add a line '{other},<rate>,<YYYY-MM-DD>' to {REFERENCE}/fx_rates.csv "
                f"(Rate = {currency} per 1 {other}).")
        starts = spend.loc[rows, "ChargePeriodStart"]
        idx = rates["Date"].searchsorted(starts, side="right") - 1
        rate = rates["Rate"].to_numpy()[idx.clip(min=0)]
        for column in MONEY:
            spend.loc[rows, column] = spend.loc[rows, column] * rate
        spend.loc[rows, "BillingCurrency"] = currency
        for r in rates.itertuples():
            used.append({"currency": other, "rate": float(r.Rate), "date": r.Date.date().isoformat(), "to": currency})
    return spend, used


# --- 5. model catalog --------------------------------------------------------------------------------------

def read_negotiated(path: Path) -> pd.DataFrame:
    """Provider, Model, TokenType, PricePerMTok, ValidFrom: contracted prices that override list prices."""
    if not path.exists():
        return pd.DataFrame(columns=["Provider", "Model", "TokenType", "PricePerMTok", "ValidFrom"])
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"Provider", "Model", "TokenType", "PricePerMTok", "ValidFrom"} - set(frame.columns)
    if missing:
        raise InputError(path, f"missing column(s) {sorted(missing)}",
                         "the header must be Provider,Model,TokenType,PricePerMTok,ValidFrom.")
    frame["PricePerMTok"] = pd.to_numeric(frame["PricePerMTok"], errors="coerce")
    frame["ValidFrom"] = pd.to_datetime(frame["ValidFrom"], errors="coerce")
    if frame["PricePerMTok"].isna().any() or frame["ValidFrom"].isna().any():
        line = int(frame.index[frame["PricePerMTok"].isna() | frame["ValidFrom"].isna()][0]) + 2
        raise InputError(path, "price or date not readable", "write PricePerMTok as a number, ValidFrom as YYYY-MM-DD.",
                         line=line)
    return frame.sort_values("ValidFrom")


def price_in_force(provider: str, model: str, token_type: str, at: pd.Timestamp, negotiated: pd.DataFrame,
                   catalog: tuple[str, str] | None = None) -> tuple[float | None, str]:
    """USD per million tokens in force at `at`: negotiated if the file has one, else the catalog's list price.

    `catalog` (genai-prices provider and model ids, from the tier map) finds the list price of a model
    whose display name the catalog does not know, such as a self-hosted or Bedrock Llama.
    """
    deal = negotiated[(negotiated["Model"] == model) & (negotiated["TokenType"] == token_type)
                      & (negotiated["ValidFrom"] <= at)
                      & ((negotiated["Provider"] == provider) | (negotiated["Provider"] == "*"))]
    if len(deal):
        return float(deal["PricePerMTok"].iloc[-1]), "negotiated"
    listed = prices.token_prices(*(catalog or (provider, model)), at.to_pydatetime())
    if not listed:
        return None, "missing"
    return listed.get(token_type) if listed.get(token_type) is not None else listed.get("input"), "list"


def canonical_models(spend: pd.DataFrame, tier_map: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Rename vendor model ids (`gpt-4o-2024-08-06`) to the tier map's names (`gpt-4o`) where the catalog knows them.

    Works on any frame with ProviderName and x_Model (spend or usage); returns it and the rows renamed.
    """
    by_catalog = {(r.CatalogProvider, r.CatalogModel): r.Model for r in tier_map.itertuples() if r.CatalogModel}
    names = set(tier_map["Model"])
    renames = {}
    tokens = spend["x_Model"].notna()
    for provider, model in spend.loc[tokens, ["ProviderName", "x_Model"]].drop_duplicates().itertuples(index=False):
        if model in names:
            continue
        found = prices.catalog_model(provider, model)
        if found and found in by_catalog:
            renames[(provider, model)] = by_catalog[found]
            continue
        # Cloud exports drop the vendor prefix of a catalog id: "llama3-3-70b-instruct-v1:0" for
        # Bedrock's "meta.llama3-3-70b-instruct-v1:0".
        suffix = [m for (_, cat), m in by_catalog.items() if str(cat).endswith("." + model)]
        if len(set(suffix)) == 1:
            renames[(provider, model)] = suffix[0]
    if not renames:
        return spend, 0
    spend = spend.copy()
    keys = list(zip(spend["ProviderName"], spend["x_Model"]))
    new = [renames.get(k, k[1]) for k in keys]
    changed = sum(1 for k in keys if k in renames)
    spend["x_Model"] = pd.Series(new, index=spend.index, dtype="str").where(spend["x_Model"].notna(), None)
    return spend, changed


def _catalog_ids(tiers: pd.DataFrame, model: str) -> tuple[str, str] | None:
    """The tier map's genai-prices ids of a model (indexed by Model), if it has them."""
    if model not in tiers.index or not tiers.at[model, "CatalogModel"]:
        return None
    return tiers.at[model, "CatalogProvider"], tiers.at[model, "CatalogModel"]


def model_catalog(spend: pd.DataFrame, tier_map: pd.DataFrame, at: pd.Timestamp,
                  negotiated: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """One row per model in the token spend; unknown models are kept with empty prices and listed."""
    tokens = spend[spend["x_SpendModality"] == "api_tokens"].dropna(subset=["x_Model"])
    seen = tokens.groupby("x_Model")["ProviderName"].agg(lambda s: s.value_counts().index[0])
    tiers = tier_map.set_index("Model")
    rows, missing = [], []
    for model, provider in seen.items():
        known = model in tiers.index
        ids = _catalog_ids(tiers, model) if known else None
        inp, source = price_in_force(provider, model, "input", at, negotiated, ids)
        out, _ = price_in_force(provider, model, "output", at, negotiated, ids)
        if inp is None:
            missing.append({"model": model, "provider": provider, "reason": "not in the price catalog",
                            "spend": float(tokens.loc[tokens["x_Model"] == model, "EffectiveCost"].sum())})
        if not known:
            missing.append({"model": model, "provider": provider, "reason": "not in the tier map",
                            "spend": float(tokens.loc[tokens["x_Model"] == model, "EffectiveCost"].sum())})
        rows.append({"Model": model, "Provider": tiers.at[model, "Provider"] if known else provider,
                     "Family": tiers.at[model, "Family"] if known else None,
                     "Tier": tiers.at[model, "Tier"] if known else None,
                     "OpenWeights": bool(tiers.at[model, "OpenWeights"]) if known else False,
                     "InputPricePerMTok": inp, "OutputPricePerMTok": out,
                     "PriceSource": None if inp is None else
                     f"{'negotiated (reference/negotiated_prices.csv)' if source == 'negotiated' else prices.catalog_version()} "
                     f"@ {at.date().isoformat()}"})
    # Reference models of the tier map stay available for re-tiering even when nothing runs on them.
    for model, row in tiers.iterrows():
        if model in seen.index or row["Tier"] not in TIERS:
            continue
        inp, _ = price_in_force(row["Provider"], model, "input", at, negotiated, _catalog_ids(tiers, model))
        out, _ = price_in_force(row["Provider"], model, "output", at, negotiated, _catalog_ids(tiers, model))
        if inp is None:
            continue
        rows.append({"Model": model, "Provider": row["Provider"], "Family": row["Family"], "Tier": row["Tier"],
                     "OpenWeights": bool(row["OpenWeights"]), "InputPricePerMTok": inp, "OutputPricePerMTok": out,
                     "PriceSource": f"{prices.catalog_version()} @ {at.date().isoformat()}"})
    return pd.DataFrame(rows, columns=list(COLUMNS["models"])), missing


# --- 6. reconciliation --------------------------------------------------------------------------------------

def usage_of_truth(usage: pd.DataFrame, truth: dict[tuple, str]) -> pd.DataFrame:
    """Per provider and month, the usage the counted source reports; another source's only where that one has
    none."""
    keep = []
    month = usage["Day"].dt.to_period("M").dt.to_timestamp()
    for (provider, when), rows in usage.groupby([usage["ProviderName"], month]):
        own = rows[rows["x_Source"] == truth.get((provider, "api_tokens", when, ""))]
        keep.append(own if len(own) else rows[rows["x_Source"] == rows["x_Source"].min()])
    return pd.concat(keep, ignore_index=True) if keep else usage


def reconcile(counted: pd.DataFrame, shadow: pd.DataFrame, usage: pd.DataFrame, negotiated: pd.DataFrame,
              tier_map: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per provider and month: billed token cost against usage priced at the price in force, with the variance.

    `usage` must hold one source per provider (see usage_of_truth): two sources' tokens would double it.
    """
    billed = counted[counted["x_SpendModality"] == "api_tokens"].assign(
        Month=lambda d: d["ChargePeriodStart"].dt.to_period("M").dt.to_timestamp())
    billed = billed.groupby(["ProviderName", "Month"])["EffectiveCost"].sum().rename("billed")
    usage = usage.assign(Month=usage["Day"].dt.to_period("M").dt.to_timestamp())
    tiers = (tier_map if tier_map is not None else pd.DataFrame(columns=["Model", "CatalogProvider", "CatalogModel"])
             ).set_index("Model")
    priced = []
    for (provider, model, token_type, month), tokens in usage.groupby(
            ["ProviderName", "x_Model", "x_TokenType", "Month"])["Tokens"].sum().items():
        price, _ = price_in_force(provider, model, token_type, month + pd.offsets.MonthEnd(0), negotiated,
                                  _catalog_ids(tiers, model))
        priced.append({"ProviderName": provider, "Month": month, "tokens": tokens,
                       "usage_cost": None if price is None else tokens / 1e6 * price, "unpriced": price is None})
    used = pd.DataFrame(priced, columns=["ProviderName", "Month", "tokens", "usage_cost", "unpriced"])
    used = used.groupby(["ProviderName", "Month"]).agg(tokens=("tokens", "sum"),
                                                       usage_cost=("usage_cost", lambda c: c.sum(min_count=1)),
                                                       unpriced=("unpriced", "any"))
    shadow_cost = (shadow.assign(Month=lambda d: d["ChargePeriodStart"].dt.to_period("M").dt.to_timestamp())
                   .groupby(["ProviderName", "Month"])["EffectiveCost"].sum().rename("other_sources"))
    out = pd.concat([billed, used, shadow_cost], axis=1).reset_index()
    out["variance"] = out["billed"] - out["usage_cost"]
    out["variance_share"] = out["variance"] / out["usage_cost"].where(out["usage_cost"] > 0)
    return out.sort_values(["ProviderName", "Month"], ignore_index=True)


# --- assembly -------------------------------------------------------------------------------------------------

def assemble(data_dir: Path, currency: str, truth_config: dict | None = None, settings: Settings | None = None,
             quarter_end: pd.Timestamp | None = None) -> Assembled:
    """The canonical tables of a raw folder, the dollar ledger, and the report of how they were made."""
    settings = settings or Settings()
    ref = data_dir / REFERENCE
    for path in sorted(ref.glob("*.csv")):  # the adapters' files are sniffed by files_in; these are read by name
        if not path.name.startswith((".", "~$")):
            sniff.check(path, delimiters=",")
    mapping = read_attribution(ref / "attribution.csv")
    catalog = ai_catalog.load(ref / ai_catalog.FILE)
    settings = replace(settings, attribution=mapping, ai_catalog=catalog, roster=read_roster(ref / ROSTER))
    results = run_adapters(data_dir, settings)
    spends = [r.spend for r in results.values() if r.spend is not None and len(r.spend)]
    if not spends:
        raise InputError(data_dir, "no AI spend found in any source folder" + _dropped_hint(results),
                         f"add at least one of {', '.join(s + '/' for s in SOURCES[:6])} with exports in it; if a "
                         f"service above is AI spend, add a rule for it to {REFERENCE}/{ai_catalog.FILE}.")
    (spend, excluded, usage), renamed_providers = canonical_providers(
        pd.concat(spends, ignore_index=True), _concat_excluded(results),
        pd.concat([r.usage for r in results.values() if r.usage is not None and len(r.usage)] or [empty_usage()],
                  ignore_index=True))
    # The money as read, before any step below can move it: the ledger balances the result against it.
    spend = spend.assign(x_ReadCost=spend["EffectiveCost"], x_ReadCurrency=spend["BillingCurrency"].str.upper())
    emitted = spend[["x_Source", "x_SourceFile", "ChargePeriodStart", "x_ReadCost", "x_ReadCurrency", "x_Basis"]]
    spend, rates = convert(spend, read_fx(ref / "fx_rates.csv"), currency)
    spend = attribute(spend, mapping)
    truth = choose_truth(spend, truth_config or {}, catalog)
    counted, shadow = split_by_truth(spend, truth, catalog)
    book = ledger.entries(emitted, excluded, counted, shadow)
    ledger.check(book)
    negotiated = read_negotiated(ref / "negotiated_prices.csv")
    tier_map = prices.load_tier_map(ref / "model_tiers.csv" if (ref / "model_tiers.csv").exists() else None)
    counted, renamed = canonical_models(counted, tier_map)
    usage, _ = canonical_models(usage, tier_map)
    # Priced at midday: at midnight the catalog gives some providers' off-peak night rates.
    end = (quarter_end if quarter_end is not None else counted["ChargePeriodStart"].max()) + pd.Timedelta(hours=12)
    models, unpriced = model_catalog(counted, tier_map, pd.Timestamp(end), negotiated)
    recon = reconcile(counted, shadow, usage_of_truth(usage, truth), negotiated, tier_map)
    frames = {
        "spend": counted[list(COLUMNS["spend"])].reset_index(drop=True),
        "seats": _concat([r.seats for r in results.values()], "seats"),
        "outcomes": _concat([r.outcomes for r in results.values()], "outcomes"),
        "use_cases": _concat([r.use_cases for r in results.values()], "use_cases"),
        "models": models,
        "seat_users": _concat([r.seat_users for r in results.values()], "seat_users"),
        "seat_apps": _concat([r.seat_apps for r in results.values()], "seat_apps"),
        "seat_feature_usage": _concat([r.seat_feature_usage for r in results.values()], "seat_feature_usage"),
    }
    fixes = Counter({"models: vendor model id renamed to the tier map's name": renamed} if renamed else {})
    if renamed_providers:
        fixes["providers: provider name spelled as the cloud exports spell it"] = renamed_providers
    for r in results.values():
        fixes.update({rule if rule.startswith(f"{r.name}") else f"{r.name}: {rule}": n for rule, n in r.fixes.items()})
    files = sorted({f for r in results.values() for f in r.files} | {p for p in ref.glob("*") if p.is_file()})
    report = {
        "sources": {name: {"files": len(r.files), "spend_rows": 0 if r.spend is None else len(r.spend),
                           "usage_rows": 0 if r.usage is None else len(r.usage), "notes": r.notes}
                    for name, r in results.items()},
        "fixes": dict(sorted(fixes.items())),
        "truth": truth_report(truth),
        "shadow_rows": int(len(shadow)),
        "unmapped": unmapped(counted).to_dict(orient="records"),
        "fx_rates": rates,
        "unpriced_models": unpriced,
        "reconciliation": recon.assign(Month=recon["Month"].dt.strftime("%Y-%m")).to_dict(orient="records"),
        "ai_catalog": catalog.version,
    }
    return Assembled(frames, files, report, [c for r in results.values() for c in r.checks], book, excluded)


def _concat_excluded(results: dict[str, SourceData]) -> pd.DataFrame | None:
    frames = [r.excluded for r in results.values() if r.excluded is not None and len(r.excluded)]
    return pd.concat(frames, ignore_index=True) if frames else None


def _dropped_hint(results: dict[str, SourceData]) -> str:
    """The largest services dropped as not AI, for the message of a folder with no AI spend at all."""
    excluded = _concat_excluded(results)
    if excluded is None:
        return ""
    top = excluded.groupby(excluded["ServiceName"].fillna("(no ServiceName)"))["EffectiveCost"].sum()
    return " (dropped as not AI, largest first: " + ", ".join(
        f"{name} {cost:,.2f}" for name, cost in top.sort_values(ascending=False).head(5).items()) + ")"


def _concat(frames: list, table: str) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return empty_table(COLUMNS[table])
    return pd.concat([f[list(COLUMNS[table])] for f in frames], ignore_index=True)
