"""The run configuration: company, targets, reference models. Read from a TOML file, checked against `Schema`."""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
)
from pydantic_core import PydanticCustomError

from . import project
from .engine import ENGINES, EngineSettings
from .exceptions import ConfigError
from .schema import ENTERPRISE_ONLY_FEATURES, SEAT_RULES, TIERS


def __getattr__(name: str):
    # DEFAULT_CONFIG was a constant of the checkout; now the project's file (boardpack/project.py), looked up when asked
    if name == "DEFAULT_CONFIG":
        return project.config_file()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    seats: dict = field(default_factory=lambda: dict(SEAT_RULES))  # schema.SEAT_RULES: the [seats] keys
    viva_insights: dict = field(default_factory=dict)  # how Copilot assisted hours are valued (adapters/viva.py)
    branding: dict = field(default_factory=dict)  # logo, primary_colour, accent_colour, font
    engine: EngineSettings = field(default_factory=EngineSettings)
    path: str = ""

    def as_dict(self) -> dict:
        return {k: asdict(v) if is_dataclass(v) else v for k, v in ((k, getattr(self, k)) for k in self.__dataclass_fields__)}


# --- the schema ------------------------------------------------------------------------------------------
# Every section forbids unknown keys: a typo (`currancy`, `[target]`) must stop the run, not fall back to a
# default the board never chose. Numbers are strict (TOML has them; "3" is a typo too).

class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def _check(rule: str, ok, hint=lambda v: "") -> AfterValidator:
    """A bound as a validator whose message states the rule (and a fix for the value, when there is one)."""
    def check(value):
        if not ok(value):
            raise PydanticCustomError("bound", "must be {rule}{hint}", {"rule": rule, "hint": hint(value)})
        return value
    return AfterValidator(check)


def _percent_hint(value: float) -> str:
    return f"; {value:g} reads as {value * 100:g}%: write {value / 100:g}" if 1 < value <= 100 else ""


Share = Annotated[float, _check("a share in (0, 1] (0.80 = 80%)", lambda v: 0 < v <= 1, _percent_hint)]
Fraction = Annotated[float, _check("a share in [0, 1] (0.5 = half)", lambda v: 0 <= v <= 1, _percent_hint)]
NonNegative = Annotated[float, _check(">= 0", lambda v: v >= 0)]
Colour = Annotated[str, _check("a hex colour like #1f3a5f",
                               lambda v: re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", v))]


class Company(_Section):
    name: str = "Example Corp"
    confidentiality: str = "Confidential"
    currency: Annotated[str, _check("an ISO 4217 code such as USD or EUR",
                                    lambda v: re.fullmatch(r"[A-Za-z]{3}", v))] = "USD"
    paper: Annotated[str, _check("A4 or Letter", lambda v: v in ("A4", "Letter"))] = "A4"


class Targets(_Section):
    value_multiple: Annotated[float, _check("> 0 (3.0 = three of value per one of spend)", lambda v: v > 0)] \
        = DEFAULT_TARGETS["value_multiple"]
    workload_fit: Share = DEFAULT_TARGETS["workload_fit"]
    portable_spend_share: Share = DEFAULT_TARGETS["portable_spend_share"]


ReferenceModels = create_model("ReferenceModels", __base__=_Section, **{tier: (str | None, None) for tier in TIERS})


class Scenario(_Section):
    """Assumptions of one what-if (boardpack.forecast); the bounds keep every forecast quarter's spend >= 0."""

    label: str | None = None
    usage_growth: Annotated[float, _check("> -1 (0.10 = 10% more a quarter; -1 would stop all usage)",
                                           lambda v: v > -1)] = 0.0
    price_change: Annotated[float, _check(">= -1 (-0.25 = 25% cheaper; below -1 prices turn negative)",
                                           lambda v: v >= -1)] = 0.0
    retiering_adopted: Fraction = 0.0
    idle_seats_reallocated: Fraction = 0.0
    seats_reclaimed: Fraction = 0.0

    @field_validator("seats_reclaimed")
    @classmethod
    def _not_both_seat_levers(cls, value: float, info: ValidationInfo) -> float:
        # the reclaimable seats are among the idle ones: a scenario with both would save the same seats twice
        if value and info.data.get("idle_seats_reallocated"):
            raise PydanticCustomError("bound", "must be {rule}{hint}", {
                "rule": "0 when idle_seats_reallocated is set (both take back the same idle seats)",
                "hint": "; keep one of the two in this scenario"})
        return value


class Branding(_Section):
    logo: str | None = None
    primary_colour: Colour | None = None
    accent_colour: Colour | None = None
    font: str | None = None


class Engine(_Section):
    name: Annotated[str, _check(f"one of {', '.join(ENGINES)}", lambda v: v in ENGINES)] = EngineSettings.name
    spark_master: str = EngineSettings.spark_master
    spark_remote: str = EngineSettings.spark_remote
    spark_conf: dict = {}  # any spark.* setting
    expensive_check_rows: NonNegative = EngineSettings.expensive_check_rows


def _ascending_days(days: list[int]) -> bool:
    return 1 <= len(days) <= 5 and all(d >= 1 for d in days) and days == sorted(set(days))


class Seats(_Section):
    reclaim_days: Annotated[list[int], _check("1 to 5 whole days, each >= 1, ascending, e.g. [30, 60, 90]",
                                              _ascending_days)] = SEAT_RULES["reclaim_days"]
    headline_share: Share = SEAT_RULES["headline_share"]
    engaged_months: Annotated[int, _check("1, 2 or 3 (monthly reports of a quarter)", lambda v: 1 <= v <= 3)] \
        = SEAT_RULES["engaged_months"]
    # the features a GitHub Copilot Enterprise seat gives over Business (docs/metrics.md): a seat whose user used
    # none of them in the quarter is listed to move to Business
    enterprise_only_features: list[str] = ENTERPRISE_ONLY_FEATURES


class Sources(_Section):
    truth: dict[str, str] = {}
    seat_prices: dict[str, Annotated[float, _check(">= 0 (a price per seat and month)", lambda v: v >= 0)]] = {}


Rate = Annotated[float, _check("> 0 (the reporting currency per hour)", lambda v: v > 0)]


class VivaInsights(_Section):
    """How a Viva Insights person query's Copilot assisted hours become value (README, "Copilot assisted hours")."""

    loaded_hourly_rate: Rate | None = None  # what an hour of the people's work costs, fully loaded
    loaded_hourly_rate_low: Rate | None = None  # the range of the value; each defaults to the rate
    loaded_hourly_rate_high: Rate | None = None
    use_case: str | None = None  # default: the use case the attribution map gives Microsoft 365 Copilot's seats
    owner: str | None = None  # who answers for the estimate (the outcome rows' Owner)

    @field_validator("loaded_hourly_rate_low")
    @classmethod
    def _low_below_rate(cls, value: float | None, info: ValidationInfo) -> float | None:
        base = info.data.get("loaded_hourly_rate")
        if value is not None and base is not None and value > base:
            raise PydanticCustomError("bound", "must be {rule}{hint}", {"rule": "<= loaded_hourly_rate", "hint": ""})
        return value

    @field_validator("loaded_hourly_rate_high")
    @classmethod
    def _ordered(cls, value: float | None, info: ValidationInfo) -> float | None:
        low, base = info.data.get("loaded_hourly_rate_low"), info.data.get("loaded_hourly_rate")
        if value is not None and any(v is not None and v > value for v in (low, base)):
            raise PydanticCustomError("bound", "must be {rule}{hint}", {
                "rule": ">= loaded_hourly_rate and loaded_hourly_rate_low", "hint": ""})
        return value


class Schema(_Section):
    company: Company = Company()
    targets: Targets = Targets()
    reference_models: ReferenceModels = ReferenceModels()
    scenarios: dict[str, Scenario] = {}
    branding: Branding = Branding()
    engine: Engine = Engine()
    sources: Sources = Sources()
    seats: Seats = Seats()
    viva_insights: VivaInsights = VivaInsights()


# --- messages --------------------------------------------------------------------------------------------

SECTIONS = {name: f.annotation for name, f in Schema.model_fields.items()
            if isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel)}  # [scenarios.*]: Scenario


def _section_of(loc: tuple) -> tuple[str, tuple, type[BaseModel] | None]:
    """(TOML section as written, the key path inside it, the model of that section) of an error location."""
    if len(loc) == 1:
        return "", loc, Schema
    if loc[0] == "scenarios" and len(loc) >= 3:
        return f"scenarios.{loc[1]}", loc[2:], Scenario
    return str(loc[0]), loc[1:], SECTIONS.get(loc[0])


def _where(loc: tuple) -> str:
    section, key, _ = _section_of(loc)
    name = ".".join(str(k) for k in key)
    return f"[{section}] {name}" if section else name


def _nearest(key: str, model: type[BaseModel]) -> str:
    """`did you mean ...?` with the closest valid key of the section (difflib), else the valid keys."""
    keys = list(model.model_fields)
    match = difflib.get_close_matches(key, keys, n=1)
    return f"did you mean {match[0]}?" if match else f"valid keys are {', '.join(keys)}."


def _nearest_top(key: str) -> str:
    """For a name above every section: a misspelt section, or a key written above the section it belongs in."""
    match = difflib.get_close_matches(key, list(Schema.model_fields), n=1)
    if match:
        return f"did you mean [{match[0]}]?"
    inner = {k: section for section, model in SECTIONS.items() for k in model.model_fields}
    match = difflib.get_close_matches(key, list(inner), n=1)
    if match:
        return f"did you mean [{inner[match[0]]}] {match[0]}?"
    return f"valid sections are {', '.join(f'[{s}]' for s in Schema.model_fields)}."


def _message(error: dict, path: Path) -> str:
    loc, kind, value = tuple(error["loc"]), error["type"], error.get("input")
    where = _where(loc)
    if kind == "extra_forbidden":
        section, key, model = _section_of(loc)
        if section == "":
            what = f"unknown section [{key[-1]}]" if isinstance(value, dict) else f"unknown key {where}"
            return f"{path}: {what}: {_nearest_top(str(key[-1]))}"
        return f"{path}: unknown key {where}: {_nearest(str(key[-1]), model)}"
    if kind == "bound":
        return f"{path}: {where} = {value!r} {error['msg']}."
    if kind in ("model_type", "dict_type") and loc[0] == "scenarios":
        return (f"{path}: {where} = {value!r} is not a scenario: write each scenario as a table of its own, "
                f"e.g. [scenarios.faster_usage] with {loc[-1]} = {value!r} under it.")
    if kind in ("model_type", "dict_type"):
        return f"{path}: {where} must be a table, got {value!r}."
    if kind in ("int_type", "float_type"):
        percent = " (0.10 = 10%)" if loc[0] == "scenarios" else ""
        return f"{path}: {where} must be a number{percent}, got {value!r}."
    if kind == "string_type":
        return f"{path}: {where} must be text in quotes, got {value!r}."
    return f"{path}: {where}: {error['msg']}, got {value!r}."


def _validated(raw: dict, path: Path) -> Schema:
    try:
        return Schema.model_validate(raw)
    except ValidationError as e:  # every problem at once, one line each
        raise ConfigError("\n".join(_message(error, path) for error in e.errors())) from None


def _logo(branding: dict, path: Path) -> dict:
    """The logo path made absolute (it is written relative to the config file)."""
    if not branding.get("logo"):
        return branding
    logo = Path(branding["logo"])
    logo = logo if logo.is_absolute() else path.parent / logo
    if not logo.is_file():
        raise ConfigError(f"{path}: [branding] logo {branding['logo']!r} not found (paths are relative to the config file).")
    return {**branding, "logo": str(logo.resolve())}


def load_config(path: str | Path | None = None) -> Config:
    """Read the TOML configuration; missing keys take the documented defaults. An unknown key or section, or a
    value out of its bounds, is a ConfigError naming the file, the key and the fix (`Schema`)."""
    path = Path(path or project.config_file())
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found. Copy config/boardpack.toml and edit it.") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e}).") from None
    schema = _validated(raw, path)
    company, sources = schema.company, schema.sources
    return Config(
        company=company.name,
        confidentiality=company.confidentiality,
        currency=company.currency.upper(),
        paper=company.paper,
        targets={k: float(v) for k, v in schema.targets.model_dump().items()},
        reference_models=schema.reference_models.model_dump(exclude_none=True),
        truth=dict(sources.truth),
        seat_prices={product: float(price) for product, price in sources.seat_prices.items()},
        scenarios={name: dict(raw["scenarios"][name]) for name in schema.scenarios},  # as written: label, assumptions
        seats=schema.seats.model_dump(),
        viva_insights=schema.viva_insights.model_dump(exclude_none=True),
        branding=_logo(schema.branding.model_dump(exclude_none=True), path),
        engine=EngineSettings(**raw.get("engine", {})),  # as written: 5000000 rows stay an int
        path=str(path),
    )
