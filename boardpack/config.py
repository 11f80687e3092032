"""The run configuration: company, targets, reference models. Read from a TOML file."""

from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path

from .engine import ENGINES, EngineSettings
from .exceptions import ConfigError
from .forecast import SCENARIO_KEYS
from .schema import TIERS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config" / "boardpack.toml"

DEFAULT_TARGETS = {"value_multiple": 3.0, "workload_fit": 0.80, "portable_spend_share": 0.50}


@dataclass(frozen=True)
class Config:
    company: str = "Example Corp"
    confidentiality: str = "Confidential"
    currency: str = "USD"
    paper: str = "A4"
    targets: dict = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    reference_models: dict = field(default_factory=dict)
    truth: dict = field(default_factory=dict)  # provider -> the source whose cost counts (raw data folders)
    seat_prices: dict = field(default_factory=dict)  # seat product -> price per seat and month (raw folders)
    scenarios: dict = field(default_factory=dict)  # name -> assumptions (see boardpack.forecast)
    branding: dict = field(default_factory=dict)  # logo, primary_colour, accent_colour, font
    engine: EngineSettings = field(default_factory=EngineSettings)
    path: str = ""

    def as_dict(self) -> dict:
        return {k: asdict(v) if is_dataclass(v) else v for k, v in ((k, getattr(self, k)) for k in self.__dataclass_fields__)}


def _seat_prices(prices: dict, path: Path) -> dict:
    for product, price in prices.items():
        if not isinstance(price, (int, float)) or price < 0:
            raise ConfigError(f"{path}: [sources] seat_prices {product!r} must be a price per seat and month, got {price!r}.")
    return {product: float(price) for product, price in prices.items()}


def _engine(raw: dict, path: Path) -> EngineSettings:
    known = set(EngineSettings.__dataclass_fields__)
    if set(raw) - known:
        raise ConfigError(f"{path}: [engine] has unknown keys {sorted(set(raw) - known)}; use {sorted(known)}.")
    if raw.get("name", "duckdb") not in ENGINES:
        raise ConfigError(f"{path}: [engine] name must be one of {', '.join(ENGINES)}, got {raw['name']!r}.")
    for key in ("expensive_check_rows", "large_table_mb"):
        if key in raw and (not isinstance(raw[key], (int, float)) or raw[key] < 0):
            raise ConfigError(f"{path}: [engine] {key} must be a number >= 0, got {raw[key]!r}.")
    if not isinstance(raw.get("spark_conf", {}), dict):
        raise ConfigError(f"{path}: [engine] spark_conf must be a table of spark.* settings.")
    return EngineSettings(**raw)


def load_config(path: str | Path | None = None) -> Config:
    """Read the TOML configuration; missing keys take the documented defaults."""
    path = Path(path or DEFAULT_CONFIG)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found. Copy config/boardpack.toml and edit it.")
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e}).")
    company = raw.get("company", {})
    targets = {**DEFAULT_TARGETS, **raw.get("targets", {})}
    for key, value in targets.items():
        if not isinstance(value, (int, float)) or value <= 0:
            raise ConfigError(f"{path}: [targets] {key} must be a positive number, got {value!r}.")
    reference = raw.get("reference_models", {})
    unknown = set(reference) - set(TIERS)
    if unknown:
        raise ConfigError(f"{path}: [reference_models] has unknown tiers {sorted(unknown)}; use {list(TIERS)}.")
    scenarios = raw.get("scenarios", {})
    for name, assumptions in scenarios.items():
        unknown = set(assumptions) - set(SCENARIO_KEYS) - {"label"}
        if unknown:
            raise ConfigError(f"{path}: [scenarios.{name}] has unknown keys {sorted(unknown)}; use {list(SCENARIO_KEYS)}.")
        for key, value in assumptions.items():
            if key != "label" and not isinstance(value, (int, float)):
                raise ConfigError(f"{path}: [scenarios.{name}] {key} must be a number (0.10 = 10%), got {value!r}.")
    branding = dict(raw.get("branding", {}))
    for key in ("primary_colour", "accent_colour"):
        if key in branding and not re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", str(branding[key])):
            raise ConfigError(f"{path}: [branding] {key} must be a hex colour like #1f3a5f, got {branding[key]!r}.")
    if branding.get("logo"):
        logo = (path.parent / branding["logo"]) if not Path(branding["logo"]).is_absolute() else Path(branding["logo"])
        if not logo.is_file():
            raise ConfigError(f"{path}: [branding] logo {branding['logo']!r} not found (paths are relative to the config file).")
        branding["logo"] = str(logo.resolve())
    engine = _engine(raw.get("engine", {}), path)
    paper = company.get("paper", "A4")
    if paper not in ("A4", "Letter"):
        raise ConfigError(f"{path}: [company] paper must be A4 or Letter, got {paper!r}.")
    return Config(
        company=company.get("name", Config.company),
        confidentiality=company.get("confidentiality", Config.confidentiality),
        currency=company.get("currency", "USD").upper(),
        paper=paper,
        targets={k: float(v) for k, v in targets.items()},
        reference_models=dict(reference),
        truth=dict(raw.get("sources", {}).get("truth", {})),
        seat_prices=_seat_prices(raw.get("sources", {}).get("seat_prices", {}), path),
        scenarios=scenarios,
        branding=branding,
        engine=engine,
        path=str(path),
    )
