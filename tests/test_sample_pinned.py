"""The bundled sample's headline numbers, pinned: any change to a metric, a rule of the pipeline or the sample
itself that moves a number the board reads fails here, and must be explained in the commit that changes it.

The values are those of `make quarterly-report` on data/sample (2026-Q3). They are not recomputed by the code
under test: a change that moves them is either a fix (update the pin, say why) or a defect.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

CENT = 0.01

# 2026-12 (issue 11): the sample has GitHub Copilot Enterprise seats beside Business (200 to 400 at $39, UC-02), so
# spend, UC-02's value (drawn in proportion to its spend), idle seats, the ratios over spend and the seat forecast
# moved; each new number was recomputed apart with pandas from data/sample (docs/metrics.md's definitions: spend and
# value summed, idle cost per product x month x unit, HHI of provider shares, the log-linear fit of each kind of
# spend over its last six quarters) and agreed to the cent. Tokens, re-tiering, workload fit and the bridge: unmoved.
PINNED = {
    "spend": 6_969_769.18,  # was 6,922,969.18: + 46,800.00 of Enterprise seats (1,200 seat-months x $39)
    "value": 20_581_067.30,  # was 20,319,437.30
    "token_spend": 3_898_741.98,
    "retiering_savings": 675_676.60,
    "idle_seat_cost": 961_366.00,  # was 955,984.00
}
RATIOS = {
    "value_multiple": 2.9529051496329712,  # was 2.935075510960861
    "workload_fit": 0.7142366687182957,
    "portable_spend_share": 0.49012047027132793,  # was 0.49343373621489894
    "hhi": 2215.6118342073732,  # was 2242.391574143843
    "consumption_share": 0.41188845550905145,  # was 0.41467286480220483
    "open_weight_share": 0.10244238342802353,
    "unattributed_spend_share": 0.05817481066503464,  # was 0.05856807850557892
}
BRIDGE = {"previous_token_spend": 3_420_406.16, "token_spend": 3_898_741.98, "volume": 1_223_299.53,
          "mix": -652_709.59, "price": -92_254.12}
# was 7,352,946.04, 7,881,336.27, 8,451,463.70, 9,067,164.36: only the seat trend moved, and the token scenarios
# by as much as the base
FORECAST_BASE = [7_407_669.42, 7_942_518.34, 8_519_744.44, 9_143_241.96]
SCENARIOS = {"usage_surge": [7_813_062.02, 8_850_269.67, 10_045_367.96, 11_424_123.53],
             "price_cut": [6_394_187.93, 6_861_862.00, 7_367_460.81, 7_914_583.51],
             # the base less half the re-tiering saving (675,676.60 a quarter) and a quarter of the 2,268,768.00 a
             # year of the seats unused for 90 days (RECLAIM below): 337,838.30 + 567,192.00 a quarter
             "right_sizing": [7_407_669.42 - 905_030.30, 7_942_518.34 - 905_030.30, 8_519_744.44 - 905_030.30,
                              9_143_241.96 - 905_030.30]}


@pytest.fixture(scope="module")
def m(sample_pack):
    pack, _ = sample_pack
    return json.loads((pack / "metrics.json").read_text())


def test_headline_money_is_pinned_to_the_cent(m):
    assert m["quarter"] == "2026-Q3" and m["status"] == "FINAL"
    for key, value in PINNED.items():
        assert m[key] == pytest.approx(value, abs=CENT), key


def test_headline_ratios_are_pinned(m):
    for key, value in RATIOS.items():
        assert m[key] == pytest.approx(value, rel=1e-9), key


def test_bridge_is_pinned_and_sums_to_the_change(m):
    b = m["bridge"]
    for key, value in BRIDGE.items():
        assert b[key] == pytest.approx(value, abs=CENT), key
    assert round(b["volume"] + b["mix"] + b["price"], 2) == round(b["token_spend"] - b["previous_token_spend"], 2)


def test_forecast_and_scenarios_are_pinned(m):
    fc = m["forecast"]
    assert fc["quarters"] == ["2026-Q4", "2027-Q1", "2027-Q2", "2027-Q3"]
    assert fc["base"] == pytest.approx(FORECAST_BASE, abs=CENT)
    for name, path in SCENARIOS.items():
        assert fc["scenarios"][name]["spend"] == pytest.approx(path, abs=CENT), name


def test_the_ledger_of_the_sample_is_the_pack_spend(sample_pack, m):
    pack, _ = sample_pack
    ledger = json.loads((pack / "ledger.json").read_text())
    assert ledger["balanced"] and ledger["counted_reporting"]["2026-Q3"] == pytest.approx(m["spend"], abs=CENT)
    assert ledger["counted_reporting"]["2026-Q2"] == pytest.approx(m["previous"]["spend"], abs=CENT)


# Seats to take back at 2026-09-30 (the last seat report of the quarter): the generator's idle spells, counted
# apart when the sample was made (M365: 2,127 idle 30-59 days, 913 60-89, 6,753 90 or more, 1,547 never used
# since the first report listing them; GitHub: 102, 63, 209 and 94 never used since assignment, 92 of them for
# 90 days or more), at the quarter's seat prices (M365 $27.00, GitHub $19.00 a month); and since 2026-12 GitHub
# Copilot Enterprise: 8 idle 30-59 days, 5 60-89, 26 90 or more (13 never used), at $39.00, counted apart with pandas
# from seat_users (was 11,808 / 9,554 / 7,054 seats, 3,780,864.00 / 3,060,360.00 / 2,256,600.00 a year).
RECLAIM = {"30": (11_847, 3_799_116.00), "60": (9_585, 3_074_868.00), "90": (7_080, 2_268_768.00)}


def test_the_seats_to_take_back_are_pinned_and_the_list_adds_up(sample_pack, m):
    import pandas as pd

    r = m["reclaim"]
    assert r["days"] == [30, 60, 90] and r["material"]
    for days, (seats, cost) in RECLAIM.items():
        assert (r["total"][days]["seats"], r["total"][days]["cost_per_year"]) == (seats, pytest.approx(cost, abs=CENT))
    by_product = {p["product"]: p for p in r["products"]}
    assert by_product["Microsoft 365 Copilot"]["by_days"]["90"]["seats"] == 6_753
    assert by_product["GitHub Copilot Business"]["never_used"] == 94 and by_product["Microsoft 365 Copilot"]["anonymised"]
    assert by_product["GitHub Copilot Enterprise"]["never_used"] == 13
    listed = pd.read_csv(sample_pack[0] / "exports" / "reclaim.csv")
    assert len(listed) == 11_847 and listed.loc[listed["DaysIdle"] >= 90, "CostPerYear"].sum() == pytest.approx(2_268_768)


def test_the_adoption_of_the_sample_is_pinned_and_its_months_are_the_seat_reports(sample_pack, m):
    import pandas as pd

    by_product = {p["product"]: p for p in m["adoption"]["products"]}
    m365, github = by_product["Microsoft 365 Copilot"], by_product["GitHub Copilot Business"]
    assert (m365["licensed"], m365["active"], m365["engaged"]) == (32_000, 23_674, 16_177)
    assert (github["licensed"], github["active"], github["engaged"]) == (2_600, 2_293, 1_860)
    assert m365["retention"] == pytest.approx(0.9009983361064892, rel=1e-12)
    # each month's active seats are the seats table's ActiveUsers: two inputs, one count
    seats = pd.read_parquet(sample_pack[0] / "tables" / "seats.parquet")
    for product in (m365, github):
        for t in product["trend"]:
            month = seats[(seats["Product"] == product["product"]) & (seats["Month"] == pd.Timestamp(t["month"]))]
            assert (t["licensed"], t["active"]) == (month["LicensedSeats"].sum(), month["ActiveUsers"].sum())


def test_value_per_seat_and_break_even_of_the_sample_are_pinned(m):
    by_product = {p["product"]: p for p in m["value_per_seat"]}
    m365, github = by_product["Microsoft 365 Copilot"], by_product["GitHub Copilot Business"]
    # Copilot for knowledge work (UC-01) is all M365 seats: its 5,527,238.00 estimated value over 19,921.67 active
    # seats a month; a seat cost 81.00 a quarter; at the 3.00x target it breaks even with 87.6% of seats in use
    assert m365["value"] == pytest.approx(5_527_238.00, abs=CENT) and m365["cost_per_licensed_seat"] == pytest.approx(81.0)
    assert m365["break_even_utilisation"] == pytest.approx(3.0 * 81.0 / (5_527_238.00 / (59_765 / 3)), rel=1e-12)
    # was 0.4391731503047723: UC-02's value is now shared with the Enterprise seats, in their share of its spend
    assert github["break_even_utilisation"] == pytest.approx(0.4391609596883047, rel=1e-12)


def test_the_seat_page_states_the_seats_to_take_back(sample_pack):
    from pypdf import PdfReader

    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(sample_pack[0] / "board-pack.pdf").pages)
    assert "7,080 seats unused for 90 days or more (6,753 Microsoft 365 Copilot, 301 GitHub Copilot Business, " \
           "26 GitHub Copilot Enterprise): $2.27M a year if taken back" in text
    assert "Seats to take back" in text and "Break-even" in text and "87.6%" in text


# Breadth of use in the 2026-09-30 Microsoft 365 Copilot report: of its 32,000 seats, 20,624 used Copilot after
# 2026-08-31; the seats among them whose holder used each app in those 30 days (the sample's APP_USE skew).
BREADTH = {"Teams": 13_108, "Outlook": 10_549, "Word": 7_690, "Excel": 5_088, "PowerPoint": 4_123, "OneNote": 1_254,
           "Loop": 747, "Copilot Chat": 12_271}


def test_the_breadth_of_use_of_the_sample_is_pinned_and_counted_apart(sample_pack, m):
    import pandas as pd

    [p] = m["breadth"]["products"]
    assert (p["product"], p["report_date"], p["licensed"], p["active"]) == ("Microsoft 365 Copilot", "2026-09-30",
                                                                              32_000, 20_624)
    assert {a["app"]: a["seats"] for a in p["apps"]} == BREADTH
    teams = next(a for a in p["apps"] if a["app"] == "Teams")
    assert teams["share_of_active"] == pytest.approx(13_108 / 20_624, rel=1e-12)
    assert teams["share_of_licensed"] == pytest.approx(13_108 / 32_000, rel=1e-12)
    # the same counts, by a plain join of the two tables the pack read
    tables = sample_pack[0] / "tables"
    users, apps = pd.read_parquet(tables / "seat_users.parquet"), pd.read_parquet(tables / "seat_apps.parquet")
    report, since = pd.Timestamp("2026-09-30"), pd.Timestamp("2026-08-31")
    last = users[(users["Product"] == "Microsoft 365 Copilot") & (users["ReportDate"] == report)]
    active = last.loc[last["LastActivityDate"] > since, "SeatId"]
    assert len(active) == 20_624
    recent = apps[(apps["ReportDate"] == report) & (apps["LastActivityDate"] > since) & apps["SeatId"].isin(active)]
    assert recent.groupby("App").size().to_dict() == BREADTH
    # the sample's overall last activity is the latest of its per-app ones
    latest = apps[apps["ReportDate"] == report].groupby("SeatId")["LastActivityDate"].max()
    overall = last.set_index("SeatId")["LastActivityDate"].dropna()
    assert latest.sort_index().equals(overall.sort_index().rename(latest.name))


def test_the_copilot_breadth_and_downgrade_of_the_sample_are_its_tables_counted_apart(sample_pack, m):
    """GitHub Copilot (README, "GitHub Copilot: breadth of use"), recomputed here with pandas from data/sample by the
    definitions of docs/metrics.md, not by boardpack.copilot."""
    from pathlib import Path

    import pandas as pd

    root = Path(__file__).resolve().parent.parent / "data" / "sample"
    use = pd.read_csv(root / "seat_feature_usage.csv.gz", keep_default_na=False, na_values=[""])
    org, users = use[use["SeatId"].isna()], use[use["SeatId"].notna()]
    b = m["copilot_breadth"]
    assert (b["first_day"], b["last_day"], b["user_first_day"]) == ("2026-07-01", "2026-09-30", "2026-09-03")
    assert b["daily_active"] == pytest.approx(org.loc[org["Feature"] == "any", "EngagedUsers"].sum() / 92)
    completions = org[org["Feature"] == "code_completion"]
    assert b["acceptance_rate"] == pytest.approx(completions["Acceptances"].sum() / completions["Suggestions"].sum())
    assert b["acceptance_rate"] == pytest.approx(0.2906283257265708, rel=1e-12)
    mine = users[users["Feature"] == "code_completion"]
    assert b["groups"]["completions"]["daily"] == pytest.approx(mine.groupby("Day")["SeatId"].nunique().sum() / 28)
    assert b["groups"]["completions"]["distinct"] == mine["SeatId"].nunique()
    cli = org[org["Feature"] == "cli"]
    assert b["groups"]["cli"]["daily"] == pytest.approx(cli["EngagedUsers"].sum() / 92)
    # Enterprise seats of the 30 September list, not idle 30 days or more, whose holders used no default feature
    su = pd.read_csv(root / "seat_users.csv.gz", dtype=str, keep_default_na=False)
    ent = su[(su["Product"] == "GitHub Copilot Enterprise") & (su["ReportDate"] == "2026-09-30")]
    last, assigned = pd.to_datetime(ent["LastActivityDate"].replace("", None)), pd.to_datetime(ent["AssignedDate"])
    never = last.isna() | (last < assigned)
    idle = (pd.Timestamp("2026-09-30") - last.where(~never, assigned).clip(lower=assigned)).dt.days
    agentic = set(users.loc[users["Feature"].isin(["chat_panel_agent_mode", "chat_panel_plan_mode",
                                                   "chat_panel_custom_mode", "agent_edit", "cli", "code_review"]),
                            "SeatId"])
    moved = ent[(idle < 30) & ~ent["SeatId"].isin(agentic)]
    d = m["copilot_downgrade"]
    assert (d["enterprise_seats"], d["seats"], len(moved)) == (400, 160, 160)
    assert d["saving_per_year"] == pytest.approx(160 * (39.0 - 19.0) * 12)  # $38,400.00
    listed = pd.read_csv(sample_pack[0] / "exports" / "downgrade.csv")
    assert sorted(listed["SeatId"]) == sorted(moved["SeatId"]) and (listed["MoveTo"] == "GitHub Copilot Business").all()


# --- every number of the sample's metrics.json (issue 15, item 5) ------------------------------------------------
# The pins above are the numbers the board reads first; the golden file is all of them, so that no number of the
# pack moves unseen. A change that moves one fails here with the keys that moved; once it is understood, write the
# new file with BOARDPACK_UPDATE_GOLDEN=1 and commit it with the reason.
GOLDEN = Path(__file__).resolve().parent / "golden" / "sample-2026-Q3-metrics.json"


def _flat(obj, path=""):
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _flat(value, f"{path}.{key}" if path else key)
    elif isinstance(obj, list):
        yield f"{path}[len]", len(obj)
        for i, value in enumerate(obj):
            yield from _flat(value, f"{path}[{i}]")
    else:
        yield path, obj


def test_every_number_of_the_sample_is_the_golden_files(sample_pack, m):
    if os.environ.get("BOARDPACK_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text((sample_pack[0] / "metrics.json").read_text())
    golden, now = dict(_flat(json.loads(GOLDEN.read_text()))), dict(_flat(m))
    moved = sorted(k for k in golden.keys() | now.keys()
                   if k not in golden or k not in now
                   or (now[k] != pytest.approx(golden[k], rel=1e-9, abs=1e-9)
                       if isinstance(golden[k], float) and isinstance(now[k], (int, float)) else now[k] != golden[k]))
    assert not moved, (f"{len(moved)} value(s) of metrics.json moved from {GOLDEN.name}: {moved[:20]}; if that is "
                       f"intended, run the test with BOARDPACK_UPDATE_GOLDEN=1 and commit the file with the reason")
    assert len(golden) > 1000  # the whole file, not a few keys
