"""Overlapping fetches of a vendor's cost or usage API: each bucket counts once, from the latest fetch.

Admin cost and usage endpoints are fetched again to pick up late charges, so two files can hold the same day,
and the later one may carry revised amounts, or no longer carry a line at all (revised to nothing). A bucket is
an endpoint kind, a start and an end; a result's identity is its group-by fields (every text or boolean field
present: line item, project or workspace, organisation, API key, model, batch, service tier...; null and
absent alike), numbered when a bucket holds several results that differ in nothing shown (the Anthropic cost
report grouped by description gives one `Web Search Usage` line per model, model null): one response never
repeats a result, so such results are distinct charges, not copies.

The fetches of a bucket are compared pairwise. Two fetches whose results share an identity are two fetches of
the same query: the later one replaces every result of the earlier one for that bucket, as a whole, lines it
no longer has included. Two fetches with disjoint identities are complementary (one export per project,
`project_ids=A` into one file and `project_ids=B` into another): both count. The later of two files is the one
whose buckets reach the latest end time (on a tie, the one whose path relative to the source folder sorts
last); of two copies of a bucket in one file (a page saved twice into a list of pages), the one further down.
Replaced results are excluded as `duplicate` when the fetch that counts holds the same result unchanged, else
as `superseded`, naming that fetch's file. Excluded cost results are handed to the dollar ledger
(`SourceData.excluded`), so the money stays visible.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import SourceData, excluded_frame

FIXES = {"duplicate": "duplicate_result_dropped", "superseded": "superseded_result_replaced"}
# Not identity: the measures (besides numbers and nested objects) and their unit, which a later fetch may fill
# in (OpenAI's `quantity_unit` is null where `quantity` is), and `object`, which the kind stands for
NOT_IDENTITY = frozenset({"amount", "quantity", "quantity_unit", "object"})


@dataclass
class Entry:
    """One result as read from one file, with what the adapter made of it."""

    file: str  # path relative to the source folder (x_SourceFile)
    start: pd.Timestamp
    end: pd.Timestamp
    kind: str  # the adapter's kind of result: cost, or a kind of usage
    result: dict
    bucket: int = 0  # position of the result's bucket in its file: two copies of a bucket in one file are two fetches
    read: object = None  # the spend row (cost results) or the usage records made of it
    cost: bool = False
    fixes: Counter = field(default_factory=Counter)  # normalisations; they count only if the result counts
    exclusion: str | None = None  # superseded or duplicate
    excluded_by: str | None = None  # the file whose results count instead
    counted_instead: list = field(default_factory=list)  # the entry that counts for the same identity, if any


def relative(path: Path, folder: Path) -> str:
    """A file's name as the ledger and the notes give it: its path relative to the source folder."""
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return path.name


def identity(result: dict) -> tuple:
    """The group-by fields of a result (text and booleans; null and absent alike), not its measures."""
    return tuple(sorted((k, v) for k, v in result.items()
                        if k not in NOT_IDENTITY and v is not None and isinstance(v, (str, bool))))


def _fingerprint(result: dict) -> str:
    return json.dumps(result, sort_keys=True, default=str)


def reach(ends: dict[str, list[pd.Timestamp]]) -> dict[str, int]:
    """Rank of each file by lateness: the latest bucket end it reaches, then its path."""
    latest = {f: max(e, default=pd.Timestamp.min) for f, e in ends.items()}
    return {f: rank for rank, f in enumerate(sorted(latest, key=lambda f: (latest[f], f)))}


def resolve(entries: list[Entry], ends: dict[str, list[pd.Timestamp]]) -> list[Entry]:
    """The entries that count, in the order read; the others get their exclusion and the file that won."""
    rank = reach(ends)
    fetches = defaultdict(lambda: defaultdict(list))  # bucket -> (file, bucket position) -> its entries
    for e in entries:
        fetches[(e.kind, e.start, e.end)][(e.file, e.bucket)].append(e)
    for group in fetches.values():
        _resolve_bucket(sorted(group.items(), key=lambda f: (rank[f[0][0]], f[0][1])))
    return [e for e in entries if e.exclusion is None]


def _resolve_bucket(fetches: list) -> None:
    """The fetches of one bucket, earliest first: each one that a later fetch of the same query overlaps is
    replaced, as a whole, by the fetches that count in the end."""
    keyed = [(where, _keyed(found)) for where, found in fetches]
    winners = {}  # position -> the positions of the fetches that count instead of it (itself when it counts)
    for i in reversed(range(len(keyed))):
        later = [j for j in range(i + 1, len(keyed)) if keyed[i][1].keys() & keyed[j][1].keys()]
        winners[i] = sorted({w for j in later for w in winners[j]}) if later else [i]
    for i, (_, found) in enumerate(keyed):
        if winners[i] == [i]:
            continue
        for key, e in found.items():
            # the latest fetch that counts and has this result; else (revised to nothing) the latest that counts
            same = [j for j in winners[i] if key in keyed[j][1]]
            j = (same or winners[i])[-1]
            e.excluded_by = keyed[j][0][0]
            e.counted_instead = [keyed[j][1][key]] if same else []
            same_result = same and _fingerprint(e.result) == _fingerprint(keyed[j][1][key].result)
            e.exclusion = "duplicate" if same_result else "superseded"


def _keyed(found: list[Entry]) -> dict[tuple, Entry]:
    """A fetch's results by identity; results equal in every group-by field are numbered in the order of their
    fingerprints, so that a copy of the page, whatever the order of its results, numbers them alike."""
    out, seen = {}, Counter()
    for e in sorted(found, key=lambda e: _fingerprint(e.result)):
        ident = identity(e.result)
        out[(ident, seen[ident])] = e
        seen[ident] += 1
    return out


def report(data: SourceData, entries: list[Entry]) -> None:
    """The excluded results of a source: counted per reason, cost ones to the ledger, one note per pair of files."""
    for e in entries:
        if e.exclusion:
            data.fixes[f"{data.name}.{FIXES[e.exclusion]}"] += 1
    rows = excluded_rows(entries)
    data.excluded = excluded_frame(rows) if rows else None
    data.notes += notes(data.name, entries)


def excluded_rows(entries: list[Entry]) -> list[dict]:
    """One ledger row (`adapters.EXCLUDED_COLUMNS`) per excluded cost result, its dollars as read."""
    columns = ("x_Source", "x_SourceFile", "ChargePeriodStart", "BillingCurrency", "EffectiveCost", "ProviderName",
               "ServiceName", "ServiceCategory")
    return [{**{c: e.read[c] for c in columns}, "x_Exclusion": e.exclusion, "x_ExcludedBy": e.excluded_by, "Rows": 1}
            for e in entries if e.exclusion and e.cost]


def notes(source: str, entries: list[Entry]) -> list[str]:
    """One note per pair of files and reason, for the data-quality page."""
    pairs = defaultdict(list)
    for e in entries:
        if e.exclusion:
            # a result the later fetch no longer has is told apart: nothing counts in its place
            pairs[(e.file, e.excluded_by, e.exclusion, e.cost, not e.counted_instead)].append(e)
    out = []
    for (file, winner, exclusion, cost, gone), group in sorted(pairs.items()):
        what = f"{source}: {len(group)} {'cost' if cost else 'usage'} result(s) of {file}"
        unit = _unit(group) if cost else ""
        if exclusion == "duplicate":
            where = "repeated in the same file" if file == winner else f"identical to those of {winner}"
            money = f" ({_money(_dollars(group), unit)} not counted again)" if cost else ""
            out.append(f"{what} {where}: counted once{money}.")
        elif gone:
            money = f" ({_money(_dollars(group), unit)} not counted)" if cost else ""
            out.append(f"{what} are not in the later fetch {winner} of the same bucket(s): revised to nothing, "
                       f"superseded{money}.")
        else:
            read = _dollars(group) if cost else 0.0
            now = _dollars({id(w): w for e in group for w in e.counted_instead}.values()) if cost else 0.0
            money = (f" ({_money(now - read, unit, sign=True)}: {_money(read, unit)} read there, "
                     f"{_money(now, unit)} counted)") if cost else ""
            out.append(f"{what} replaced by the later fetch {winner}{money}.")
    return out


def _dollars(entries) -> float:
    return sum(e.read["EffectiveCost"] for e in entries)


def _unit(entries) -> str:
    currencies = sorted({e.read["BillingCurrency"] for e in entries})
    return "$" if currencies == ["USD"] else "/".join(currencies) + " "


def _money(value: float, unit: str, sign: bool = False) -> str:
    """-$3.20, $1,234.50 or EUR 1,234.50."""
    return ("-" if value < 0 else "+" if sign else "") + f"{unit}{abs(value):,.2f}"
