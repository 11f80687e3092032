"""Model, token type, token units, block sizes and tags read off a FOCUS row's text: pure functions,
called once per distinct value (`adapters.by_value`) and tested directly."""

from __future__ import annotations

import json
import re

USE_CASE_KEYS = {"use_case", "usecase", "use-case"}
BU_KEYS = {"business_unit", "businessunit", "business-unit", "bu", "cost_center", "costcenter", "cost-center"}
ATTRIBUTION_TAGS = ("project", "application", "app", "team", "product", "workload")

GPU_RE = re.compile(r"(?i)gpu|nvidia|(?<![a-z0-9])(a100|h100|h200|b200|l4|l40s|t4|v100|a10g?)(?![a-z0-9])|"
                    r"(?<![a-z0-9])ml\.(g|p|inf|trn)\d|(?<![a-z0-9])(p3|p4d|p4de|p5|p5e|g4dn|g5|g6|g6e)\.|"
                    r"(?<![a-z0-9])n[cd]\w*_?v\d")
TOKEN_UNIT_RE = re.compile(r"(?i)token")
TOKEN_METER_RE = re.compile(r"(?i)token")  # `Input global Tokens`, AWS Marketplace `InputTokenCount`
SEAT_UNIT_RE = re.compile(r"(?i)user|seat|licen|/\s*month|per month")
# A unit that only counts (how many of what, the meter says): Microsoft's `Units`, `1K`, `1K Units`
COUNT_UNIT_RE = re.compile(r"(?i)\s*(\d[\d,]*\s*[km]?|[km])?\s*(units?|count|each)?\s*")
UNIT_SCALE_RE = re.compile(r"(?i)^\s*(\d[\d,]*)?\s*(k|thousand|m|million|mn)?\s*(tokens?|units?)?\s*$")
MODEL_FAMILY_RE = re.compile(
    r"(?i)(?<![a-z0-9])(gpt|o[1-9]|chatgpt|claude|gemini|gemma|llama|mistral|mixtral|ministral|codestral|pixtral|"
    r"magistral|command|titan|nova|deepseek|grok|phi|qwen|jamba|text-embedding|embed|dall-e|whisper|tts|"
    r"imagen|veo|sonar)(?=[\s\-_.:0-9]|$)")
MODEL_STOP = {"input", "inp", "in", "output", "outp", "out", "prompt", "completion", "completions", "tokens", "token",
              "cached", "cache", "batch", "global", "glbl", "gl", "regional", "rgnl", "regnl", "data", "datazone",
              "dzone", "dz", "for", "per", "usd", "text", "audio", "image", "images", "characters", "chars",
              "requests", "request", "units", "unit", "provisioned", "ptu", "hours", "hour", "the", "and", "on",
              "with", "long", "context", "standard", "priority", "flex", "1k", "1m", "1000", "1000000", "million",
              "amazon", "bedrock", "edition", "marketplace", "azure", "vertex"}
TOKEN_TYPE_RES = (  # first match wins
    ("cache_write", re.compile(r"(?i)cache[\s_-]*(write|creation|writes)|cache[\s_-]*storage")),
    ("cached_input", re.compile(r"(?i)cached|cache[\s_-]*(read|hit)")),
    # AWS Marketplace usage types run the words together: USE1_InputTokenCount
    ("output", re.compile(r"(?i)(?<![a-z])(output|outp|completion|completions|generated|response)(?=token|[^a-z]|$)")),
    ("input", re.compile(r"(?i)(?<![a-z])(input|inp|prompt)(?=token|[^a-z]|$)")),
)


def _norm_key(key: str) -> str:
    """A tag key without provider prefix (`user:`, `scheme/`), lower case, spaces as underscores."""
    return re.split(r"[:/]", str(key))[-1].strip().lower().replace(" ", "_")


def _parse_tags(text: str) -> dict | None:
    """{'json': canonical JSON text, 'tags': {normalised key: value}, 'fixed': bool}, or None if not an object."""
    fixed = False
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        try:
            value, fixed = json.loads("{" + text + "}"), True
        except (json.JSONDecodeError, TypeError):
            return None
    if not isinstance(value, dict):
        return None
    tags = {}
    for key, v in value.items():
        tags.setdefault(_norm_key(key), v)
    return {"json": text if not fixed else json.dumps(value, ensure_ascii=False, separators=(",", ":")),
            "tags": tags, "fixed": fixed}


def _attribution(info: dict | None, sub_account, account) -> tuple:
    tags = (info or {}).get("tags", {})

    def first(keys):
        for key in tags:
            if key in keys and tags[key] not in (None, "", True, False):
                return str(tags[key])
        return None

    use_case, bu = first(USE_CASE_KEYS), first(BU_KEYS)
    key = None
    for name in ATTRIBUTION_TAGS:
        if tags.get(name) not in (None, "", True, False):
            key = f"focus.tag:{name}={tags[name]}"
            break
    if key is None and isinstance(sub_account, str) and sub_account:
        key = f"focus.subaccount:{sub_account}"
    if key is None and isinstance(account, str) and account:
        key = f"focus.account:{account}"
    return use_case, bu, key


def _unit_scale(unit) -> float | None:
    """Tokens per unit of a token row: 1 for `Tokens` or `Units`, 1000 for `1K Tokens`/`1000 Tokens`/`1K`,
    1e6 for `1M Tokens`; None for anything else (and for an empty unit)."""
    if not isinstance(unit, str) or not unit.strip():
        return None
    m = UNIT_SCALE_RE.match(unit)
    if not m:
        return None
    number = float(m.group(1).replace(",", "")) if m.group(1) else 1.0
    suffix = (m.group(2) or "").lower()
    return number * {"": 1, "k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6}[suffix]


def _block_size(value) -> float | None:
    """x_PricingBlockSize as a number of units per priced block (None when absent, unreadable or not > 0)."""
    try:
        size = float(str(value).replace(",", "").strip())
    except (TypeError, ValueError):
        return None
    return size if size > 0 else None


def parse_model(text: str) -> str | None:
    """The model named in a SKU/meter/description text, lower case with hyphens; None when none is recognisable.

    `gpt-4o-0806-Inp-glbl Tokens` -> `gpt-4o-0806`; `Claude 3.5 Sonnet input tokens` -> `claude-3.5-sonnet`;
    `anthropic.claude-3-5-sonnet-20240620-v1:0` -> `claude-3-5-sonnet-20240620-v1:0`.
    """
    if not isinstance(text, str):
        return None
    for part in text.split("|"):
        part = re.sub(r"(?i):(?=(input|output|in|out|prompt|completion|cached|cache)(?![a-z]))", " ", part)
        m = MODEL_FAMILY_RE.search(part)
        if not m:
            continue
        # "text" is a stop word (Gemini "... text tokens") except in the family name text-embedding itself
        family = m.group(1).lower()
        words = family.split("-") if family == "text-embedding" else []
        for word in re.split(r"[\s\-_/,()]+", part[m.end() if words else m.start():]):
            w = word.strip().lower()
            if not w:
                continue
            if w in MODEL_STOP or w.startswith("$") or not re.fullmatch(r"[a-z0-9.:]+", w):
                break
            words.append(w)
        if words:
            model = "-".join(words).strip(".:")
            if model.startswith("claude"):  # Anthropic's ids write versions with hyphens: claude-3-5-sonnet
                model = re.sub(r"(\d)\.(\d)", r"\1-\2", model)
            return model
    return None


def parse_token_type(text: str) -> str | None:
    """input / output / cached_input / cache_write named in a SKU/meter/description text, else None."""
    if not isinstance(text, str):
        return None
    for token_type, pattern in TOKEN_TYPE_RES:
        if pattern.search(text):
            return token_type
    return None
