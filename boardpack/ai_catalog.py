"""The AI-spend catalog: which charges of a cloud or SaaS bill are AI spend, and of which kind.

One reviewed data file, `boardpack/data/ai_spend_catalog.csv` (its header explains the columns), read top to
bottom: the first rule that matches a charge decides. A company's own rules, in `reference/ai_spend_catalog.csv`
of a raw data folder, come first. The FOCUS adapter runs the rules as SQL on the engine (`rule_sql`); seat
reports find their product family here too (`family_of`). Its version goes in the manifest.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd

from .exceptions import InputError

FILE = "ai_spend_catalog.csv"
COLUMNS = ("Provider", "Column", "Pattern", "Modality", "Product", "Family", "Note")
MODALITIES = ("api_tokens", "seat_licence", "self_hosted", "platform", "auto", "not_ai")
MATCH_COLUMNS = ("ServiceCategory", "ServiceName", "SkuId", "SkuMeter", "ChargeDescription", "ProviderName",
                 "PublisherName")
ANY = "*"  # the descriptive columns together
ANY_COLUMNS = ("ServiceName", "SkuMeter", "ChargeDescription", "SkuId")


@dataclass(frozen=True)
class Rule:
    column: str
    pattern: str
    modality: str
    product: str = ""
    family: str = ""
    provider: str = ""
    origin: str = ""  # file and line, for messages and the data-quality page

    @property
    def kept(self) -> bool:
        return self.modality != "not_ai"


@dataclass(frozen=True)
class Catalog:
    rules: tuple[Rule, ...]
    version: str

    def rule(self, number: int) -> Rule | None:
        """Rule `number` (1-based, as `rule_sql` numbers them); None for 0 (no rule matched)."""
        return self.rules[number - 1] if 0 < number <= len(self.rules) else None


def _read(source, origin: str) -> tuple[list[Rule], str]:
    with source.open("r", encoding="utf-8") as fh:
        text = fh.read()
    version = next((m.group(1) for m in re.finditer(r"(?m)^#.*?version ([\w.\-]+)", text)), "unversioned")
    frame = pd.read_csv(pd.io.common.StringIO(text), comment="#", dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS[:4] if c not in frame.columns]
    if missing:
        raise InputError(origin, f"missing column(s) {missing} (rule: AI-spend catalog columns)",
                         f"the header must be {','.join(COLUMNS)}.")
    rules = []
    # line numbers: the header is the first line that is not a comment
    first = next(i for i, line in enumerate(text.splitlines(), 1) if line.strip() and not line.startswith("#"))
    for i, row in enumerate(frame.to_dict("records")):
        line = first + 1 + i
        column, modality = row["Column"].strip(), row["Modality"].strip()
        if column != ANY and column not in MATCH_COLUMNS:
            raise InputError(origin, f"Column {column!r} is not one the catalog can read (rule: catalog columns)",
                             f"use one of {', '.join(MATCH_COLUMNS)} or *.", line=line, column="Column")
        if modality not in MODALITIES:
            raise InputError(origin, f"Modality {modality!r} is not a kind of spend (rule: catalog modalities)",
                             f"use one of {', '.join(MODALITIES)}.", line=line, column="Modality")
        for field in ("Pattern", "Provider"):
            try:
                re.compile(row.get(field, ""))
            except re.error as e:
                raise InputError(origin, f"{field} {row.get(field)!r} is not a regular expression ({e})",
                                 "write a regular expression without look-arounds (it runs on DuckDB and Spark).",
                                 line=line, column=field) from None
        if not row["Pattern"].strip():
            raise InputError(origin, "Pattern is empty (rule: catalog patterns)", "write the text to match.",
                             line=line, column="Pattern")
        rules.append(Rule(column, row["Pattern"].strip(), modality, row.get("Product", "").strip(),
                          row.get("Family", "").strip() or row.get("Product", "").strip(),
                          row.get("Provider", "").strip(), f"{origin}:{line}"))
    return rules, version


@lru_cache(maxsize=1)
def shipped() -> Catalog:
    """The catalog the package ships, read once."""
    source = resources.files("boardpack") / "data" / FILE
    rules, version = _read(source, f"boardpack/data/{FILE}")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    return Catalog(tuple(rules), f"boardpack AI-spend catalog {version} (sha256 {digest})")


def load(company_file: Path | None = None) -> Catalog:
    """The shipped catalog, after the company's own rules when `company_file` exists."""
    base = shipped()
    if company_file is None or not Path(company_file).is_file():
        return base
    own, _ = _read(Path(company_file), str(company_file))
    own_digest = hashlib.sha256(Path(company_file).read_bytes()).hexdigest()[:12]
    return Catalog(tuple(own) + base.rules, f"{base.version} + {len(own)} company rule(s) from "
                                            f"{Path(company_file).name} (sha256 {own_digest})")


def _regex(pattern: str) -> str:
    return "(?i)(?:" + pattern + ")"


def rule_sql(catalog: Catalog, column: dict[str, str], lit) -> str:
    """The number of the first rule a row matches (0: none), as SQL both engines run.

    `column` maps each of MATCH_COLUMNS to the SQL of its (null-normalised) value; `lit` quotes a literal.
    A prefilter (one alternation per column) spares the rule-by-rule CASE for the many rows no rule names.
    """
    text = {c: f"coalesce({column[c]}, '')" for c in MATCH_COLUMNS}
    text[ANY] = "concat_ws(' | ', " + ", ".join(column[c] for c in ANY_COLUMNS) + ")"

    def matches(col: str, pattern: str) -> str:
        return f"regexp_matches({text[col]}, {lit(_regex(pattern))})"

    by_column: dict[str, list[str]] = {}
    for rule in catalog.rules:
        by_column.setdefault(rule.column, []).append(rule.pattern)
    prefilter = " OR ".join(matches(col, "|".join(f"(?:{p})" for p in patterns)) for col, patterns in by_column.items())
    whens = []
    for number, rule in enumerate(catalog.rules, 1):
        cond = matches(rule.column, rule.pattern)
        if rule.provider:
            cond = f"({cond} AND {matches('ProviderName', rule.provider)})"
        whens.append(f"WHEN {cond} THEN {number}")
    return f"CASE WHEN NOT ({prefilter}) THEN 0 {' '.join(whens)} ELSE 0 END"


def kept_sql(catalog: Catalog, rule: str) -> str:
    """Whether the rule number `rule` (SQL) keeps the row as AI spend."""
    kept = [str(n) for n, r in enumerate(catalog.rules, 1) if r.kept]
    return f"({rule} IN ({', '.join(kept)}))" if kept else "FALSE"


def match(catalog: Catalog, values: dict[str, str | None]) -> Rule | None:
    """The first rule matching a charge given as {column: value} (Python side, for seat products)."""
    def text(col):
        if col == ANY:
            return " | ".join(v for v in (values.get(c) for c in ANY_COLUMNS) if v)
        return values.get(col) or ""

    for rule in catalog.rules:
        if re.search(_regex(rule.pattern), text(rule.column)) and (
                not rule.provider or re.search(_regex(rule.provider), values.get("ProviderName") or "")):
            return rule
    return None


def family_of(catalog: Catalog, product: str) -> str:
    """The product family of a seat product ("GitHub Copilot Business" -> "GitHub Copilot"); itself if none."""
    rule = match(catalog, {"ServiceName": product})
    return rule.family if rule is not None and rule.modality == "seat_licence" and rule.family else product
