"""GitHub Copilot metrics by feature -> the seat_feature_usage table (schema.SEAT_FEATURE_USAGE_COLUMNS).

Two shapes, both under `github_copilot/` beside the seat lists (tests/fixtures/github_copilot/NOTES.md says where
each comes from):

- the legacy metrics API, `GET /orgs/{org}/copilot/metrics` (also the enterprise and team forms): a JSON array of
  days, each with `date`, `total_active_users`, `total_engaged_users` and `copilot_ide_code_completions`,
  `copilot_ide_chat`, `copilot_dotcom_chat`, `copilot_dotcom_pull_requests` (engaged users per feature; code
  suggestions, acceptances and lines per editor x model x language). Read as organisation rows, Report
  `metrics_api`: code_completion, ide_chat, dotcom_chat, pull_request_summaries and `any` (total_engaged_users).
- the usage-metrics reports that replaced it (`.../copilot/metrics/reports/organization-1-day`, `-28-day`,
  `users-1-day`, `users-28-day`; enterprise forms alike): NDJSON (`.ndjson`, `.jsonl`) or a JSON array of the same
  records, as GitHub's example schema prints them. An organisation or enterprise record (a day, or a 28-day
  report whose `day_totals` holds the days) gives organisation rows, Report `totals_report`: one per
  `totals_by_feature` item (code generations as Suggestions, acceptances, lines), `cli` (daily_active_cli_users),
  `code_review` (daily_active_copilot_code_review_users) and `any` (daily_active_users). A user record
  (`user_login`) gives user rows, Report `users_report`, EngagedUsers 1: one per `totals_by_feature` item with any
  activity, and `cli`, `code_review` (active), `ide_chat` and `chat_panel_agent_mode` from the `used_*` flags where
  no feature item says so already.

What a report does not give stays empty, never 0. A day reported twice (overlapping 28-day saves) counts once: of
organisation rows, the usage-metrics report's over the legacy API's, else the last file read (names sorted).
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pandas as pd

from ..exceptions import InputError
from ..schema import SEAT_FEATURE_USAGE_COLUMNS
from . import SourceData, _typed

PROVIDER = "GitHub"
SUFFIXES = (".ndjson", ".jsonl")
LEGACY_FEATURES = {"copilot_ide_code_completions": "code_completion", "copilot_ide_chat": "ide_chat",
                   "copilot_dotcom_chat": "dotcom_chat", "copilot_dotcom_pull_requests": "pull_request_summaries"}
# usage-metrics count field -> column
COUNTS = {"user_initiated_interaction_count": "Interactions", "code_generation_activity_count": "Suggestions",
          "code_acceptance_activity_count": "Acceptances", "loc_suggested_to_add_sum": "LinesSuggested",
          "loc_added_sum": "LinesAccepted"}
CHAT_FEATURES = ("ide_chat", "chat_inline", "chat_panel_ask_mode", "chat_panel_edit_mode", "chat_panel_agent_mode",
                 "chat_panel_plan_mode", "chat_panel_custom_mode", "chat_panel_unknown_mode")
AGENT_FEATURES = ("chat_panel_agent_mode", "agent_edit")
# which of two rows of one day, feature and seat wins: the newer report
RANK = {"metrics_api": 0, "totals_report": 1, "users_report": 1}
KEY = ["Day", "SeatId", "Feature"]


def records(path: Path) -> tuple[str, list[tuple[int, dict]]] | None:
    """('legacy' or 'usage', [(line, record)]) when the file is Copilot metrics; None when it is not (a seat list
    or billing summary, which the seat reader takes)."""
    text = _text(path)
    if path.name.lower().endswith(SUFFIXES):
        out = []
        for line, raw in enumerate(text.splitlines(), 1):
            if raw.strip():
                try:
                    out.append((line, json.loads(raw)))
                except json.JSONDecodeError as e:
                    raise InputError(path, f"not an NDJSON line ({e.msg})", "save the report as downloaded from its "
                                     "download_links, one JSON object per line.", line=line) from None
        _check_objects(path, out)
        return "usage", out
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return None  # the seat reader says what is wrong with it
    if isinstance(doc, dict) and "download_links" in doc:
        raise InputError(path, "this is the usage-metrics API's answer (download_links), not the report",
                         "download the NDJSON file each of its download_links points to, and save that.")
    items = doc if isinstance(doc, list) else [doc]
    if not items or not all(isinstance(d, dict) for d in items):
        return None
    first = items[0]
    if "date" in first and any(k in first for k in ("total_active_users", "total_engaged_users", *LEGACY_FEATURES)):
        return "legacy", list(enumerate(items, 1))
    if "day_totals" in first or "user_login" in first or ("day" in first and "totals_by_feature" in first):
        return "usage", list(enumerate(items, 1))
    return None


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(path, f"not UTF-8 text ({e.reason})", "save the report as it was downloaded.") from None


def _check_objects(path: Path, items: list[tuple[int, object]]) -> None:
    for line, item in items:
        if not isinstance(item, dict):
            raise InputError(path, f"line {line} is not a JSON object", "keep one report record per line.",
                             line=line)


def rows(path: Path, kind: str, items: list[tuple[int, dict]]) -> list[dict]:
    """The seat_feature_usage rows of one file."""
    out = []
    for line, item in items:
        if kind == "legacy":
            out += _legacy_day(path, line, item)
        elif "day_totals" in item:
            for day in item["day_totals"] or []:
                out += _totals_day(path, line, day)
        elif item.get("user_login"):
            if not any(k in item for k in ("totals_by_feature", "used_chat", "used_agent", "used_cli")):
                continue  # a user-teams record (who is in which team) says nothing of use
            out += _user_day(path, line, item)
        else:
            out += _totals_day(path, line, item)
    for row in out:
        row["file"] = path.name
    return out


def combine(found: list[dict], data: SourceData) -> pd.DataFrame:
    """Every file's rows as one table, each day x seat x feature once."""
    if not found:
        return _typed([], SEAT_FEATURE_USAGE_COLUMNS)
    frame = pd.DataFrame(found)
    frame["rank"] = frame["Report"].map(RANK)
    frame["order"] = range(len(frame))
    frame = frame.sort_values(["rank", "order"], kind="stable")
    seat = frame["SeatId"].fillna("")
    repeated = frame.assign(SeatId=seat).duplicated(KEY, keep="last")
    if repeated.any():
        data.fixes["github.metrics_day_reported_twice"] += int(repeated.sum())
        days = sorted(set(frame.loc[repeated, "Day"].dt.strftime("%Y-%m-%d")))
        data.notes.append(f"github_copilot: {len(days)} day(s) of Copilot metrics are in more than one file "
                          f"({days[0]} to {days[-1]}); each is counted once (the usage-metrics report's over the "
                          "legacy API's, else the last file).")
    frame = frame[~repeated].sort_values(["Day", "Report", "SeatId", "Feature"], na_position="first", kind="stable")
    out = _typed(frame.drop(columns=["rank", "order", "file"]).to_dict("records"), SEAT_FEATURE_USAGE_COLUMNS)
    for column, kind in SEAT_FEATURE_USAGE_COLUMNS.items():
        if kind == "string":
            out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out.reset_index(drop=True)


# --- shapes ----------------------------------------------------------------------------------------------

def _day(path: Path, line: int, value, field: str) -> pd.Timestamp:
    try:  # ISO 8601 only: 30/09/2026 or 09/30/2026 would be read either way
        day = pd.Timestamp(datetime.date.fromisoformat(value)) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise InputError(path, f"{field} {value!r} is not a day (YYYY-MM-DD)", "save the report as GitHub gives it.",
                         line=line, column=field)
    return day


def _number(path: Path, line: int, value, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise InputError(path, f"{field} {value!r} is not a count", "save the report as GitHub gives it.",
                         line=line, column=field)
    return float(value)


def _row(day, feature: str, report: str, seat: str | None = None, **values) -> dict:
    return {"ProviderName": PROVIDER, "Day": day, "SeatId": seat, "Feature": feature, "Report": report, **values}


def _sum(path: Path, line: int, items, field: str) -> float | None:
    """The sum of `field` over items that give it; None when none does."""
    given = [_number(path, line, i.get(field), field) for i in items if i.get(field) is not None]
    return float(sum(given)) if given else None


def _legacy_day(path: Path, line: int, day: dict) -> list[dict]:
    when = _day(path, line, day.get("date"), "date")
    out = []
    if day.get("total_engaged_users") is not None:
        out.append(_row(when, "any", "metrics_api",
                        EngagedUsers=_number(path, line, day["total_engaged_users"], "total_engaged_users")))
    for key, feature in LEGACY_FEATURES.items():
        block = day.get(key)
        if not isinstance(block, dict):
            continue  # the feature was off, or nobody used it: the API leaves it out
        engaged = _number(path, line, block.get("total_engaged_users"), f"{key}.total_engaged_users")
        values = {"EngagedUsers": engaged}
        if key == "copilot_ide_code_completions":
            languages = [lang for editor in block.get("editors") or [] for model in editor.get("models") or []
                         for lang in model.get("languages") or []]
            values |= {"Suggestions": _sum(path, line, languages, "total_code_suggestions"),
                       "Acceptances": _sum(path, line, languages, "total_code_acceptances"),
                       "LinesSuggested": _sum(path, line, languages, "total_code_lines_suggested"),
                       "LinesAccepted": _sum(path, line, languages, "total_code_lines_accepted")}
        elif key == "copilot_ide_chat":
            models = [m for editor in block.get("editors") or [] for m in editor.get("models") or []]
            values["Interactions"] = _sum(path, line, models, "total_chats")
        elif key == "copilot_dotcom_chat":
            values["Interactions"] = _sum(path, line, block.get("models") or [], "total_chats")
        else:
            models = [m for repo in block.get("repositories") or [] for m in repo.get("models") or []]
            values["Interactions"] = _sum(path, line, models, "total_pr_summaries_created")
        out.append(_row(when, feature, "metrics_api", **values))
    return out


def _counts(path: Path, line: int, item: dict) -> dict:
    return {column: _number(path, line, item.get(field), field) for field, column in COUNTS.items()}


def _totals_day(path: Path, line: int, day: dict) -> list[dict]:
    when = _day(path, line, day.get("day"), "day")
    out = [_row(when, "any", "totals_report",
                EngagedUsers=_number(path, line, day.get("daily_active_users"), "daily_active_users"))]
    for item in day.get("totals_by_feature") or []:
        out.append(_row(when, str(item.get("feature") or "unknown"), "totals_report", **_counts(path, line, item)))
    cli = day.get("totals_by_cli") if isinstance(day.get("totals_by_cli"), dict) else None
    if cli or day.get("daily_active_cli_users") is not None:
        prompts = (cli or {}).get("prompt_count")
        out.append(_row(when, "cli", "totals_report",
                        EngagedUsers=_number(path, line, day.get("daily_active_cli_users"), "daily_active_cli_users"),
                        Interactions=_number(path, line, prompts, "totals_by_cli.prompt_count")))
    if day.get("daily_active_copilot_code_review_users") is not None:
        out.append(_row(when, "code_review", "totals_report", EngagedUsers=_number(
            path, line, day["daily_active_copilot_code_review_users"], "daily_active_copilot_code_review_users")))
    return out


def _user_day(path: Path, line: int, user: dict) -> list[dict]:
    when = _day(path, line, user.get("day"), "day")
    seat = f"user:{str(user['user_login']).strip().lower()}"
    out = []
    for item in user.get("totals_by_feature") or []:
        counts = _counts(path, line, item)
        if any(v for v in counts.values()):  # a feature listed without any activity was not used
            out.append(_row(when, str(item.get("feature") or "unknown"), "users_report", seat, EngagedUsers=1.0,
                            **counts))
    used = {r["Feature"] for r in out}
    cli = user.get("totals_by_cli") if isinstance(user.get("totals_by_cli"), dict) else {}
    flags = [("used_chat", "ide_chat", CHAT_FEATURES), ("used_agent", "chat_panel_agent_mode", AGENT_FEATURES),
             ("used_cli", "cli", ("cli",)), ("used_copilot_code_review_active", "code_review", ("code_review",))]
    for flag, feature, already in flags:
        if user.get(flag) is True and not used & set(already):
            extra = {"Interactions": _number(path, line, cli.get("prompt_count"), "totals_by_cli.prompt_count")} \
                if feature == "cli" else {}
            out.append(_row(when, feature, "users_report", seat, EngagedUsers=1.0, **extra))
    return out
