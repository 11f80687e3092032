"""Role views (issue 12, item 5): the CFO, CIO and business-unit PDFs the build cuts from the full pack, checked on the
session's sample pack (the build makes them; no extra build here), and sent by `boardpack send` to a real SMTP server
according to each person's `view`."""

from __future__ import annotations

import hashlib
import json
import re
import shutil

import pandas as pd
import pytest
from pypdf import PdfReader

from boardpack import fmt, views
from boardpack.metrics import MEASURED_OR_ESTIMATED

from .test_end_to_end import pdf_text

# env, server, smtp_server: fixtures of the mail tests, a real SMTP server (STARTTLS, a login) on 127.0.0.1
from .test_mail import QUARTER, attachments, boardpack, env, server, smtp_server  # noqa: F401

ROLE_ONLY = {  # the pages only one role's view has: the other view must not have them
    "cfo": ("Value: what the spend returns", "Spend dynamics: volume, mix and price of token spend",
            "Outlook: forecast and scenarios"),
    "cio": ("Workload fit: the right model for the work",
            "Flexibility: exposure to lock-in and to consumption pricing"),
}


@pytest.fixture(scope="module")
def pack(sample_pack):
    """The published version of the session's sample pack, its metrics, index, manifest and tables."""
    folder = (sample_pack[0] / "latest").resolve()
    read = lambda name: json.loads((folder / name).read_text())  # noqa: E731
    return {"folder": folder, "metrics": read("metrics.json"), "index": read(views.INDEX),
            "manifest": read("manifest.json"), "full": pdf_text(folder / "board-pack.pdf"),
            "html": (folder / "board-pack.html").read_text()}


def entry(pack, view: str) -> dict:
    return next(v for v in pack["index"]["views"] if v["view"] == view)


def unwrap(text: str) -> str:
    return " ".join(text.split())


def quarter_rows(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    return frame[frame[column].dt.to_period("Q").astype(str) == QUARTER.replace("-", "")]


def body_rows(html: str, section: str) -> list[str]:
    """The <tr> of the first table body of a section of a pack's HTML."""
    part = re.search(rf'<section\b[^>]*\bid="{section}".*?</section>', html, re.S).group(0)
    return re.findall(r"<tr>.*?</tr>", re.search(r"<tbody>(.*?)</tbody>", part, re.S).group(1), re.S)


def page_body(text: str) -> str:
    """A page's text without its running header's view name and its page number, which differ between a view and the
    full pack by design."""
    text = re.sub(r" · (CFO|CIO) view\n", "\n", text)
    return re.sub(r"\d+ / \d+\s*$", "", text).strip()


# ------------------------------------------------------------------------------------------------- the files

def test_the_build_writes_a_cfo_a_cio_and_one_view_per_business_unit_into_the_manifest(pack):
    units = sorted({u["business_unit"] for u in pack["metrics"]["use_cases"] if u["business_unit"]})
    assert len(units) == 8  # the sample's business units with spend or outcomes in 2026-Q3
    index = pack["index"]
    assert [v["view"] for v in index["views"]] == ["cfo", "cio", *(f"bu:{u}" for u in units)]
    assert entry(pack, "bu:Sales & Marketing")["pdf"] == "views/bu-sales-marketing.pdf"
    outputs = pack["manifest"]["outputs"]
    assert index["full"]["sha256"] == outputs["board-pack.pdf"]["sha256"]
    for v in index["views"]:
        for name in (v["pdf"], v["html"]):
            data = (pack["folder"] / name).read_bytes()
            assert outputs[name]["sha256"] == hashlib.sha256(data).hexdigest(), name  # the manifest hashes each view
        pages = PdfReader(pack["folder"] / v["pdf"]).pages
        assert len(pages) == v["pages"] <= (7 if v["view"] in ("cfo", "cio") else 3), v["view"]  # short
    assert outputs[views.INDEX]


def test_every_page_of_the_cfo_and_cio_views_is_a_page_of_the_full_pack(pack):
    full = {page_body(p) for p in pack["full"]}
    for view in ("cfo", "cio"):
        pages = pdf_text(pack["folder"] / entry(pack, view)["pdf"])
        assert len(pages) >= 4
        for n, page in enumerate(pages[1:], start=2):  # after the view's cover: word for word, number for number
            assert page_body(page) in full, f"{view} page {n} is not a page of the full pack"


def test_the_views_state_the_headline_numbers_of_the_full_pack(pack):
    m, full = pack["metrics"], unwrap(" ".join(pack["full"]))
    headline = [fmt.multiple(m["value_multiple"]), fmt.pct(m["workload_fit"]), fmt.pct(m["portable_spend_share"]),
                fmt.money(m["spend"], "USD"), fmt.money(m["value"], "USD")]
    cfo_only = [fmt.money(m["forecast"]["base"][-1], "USD"), fmt.money(m["bridge"]["volume"], "USD"),
                fmt.money(m["bridge"]["mix"], "USD"), fmt.pct(m["forecast"]["mape"])]
    cio_only = [fmt.money(m["retiering_savings"], "USD"), fmt.money(m["idle_seat_cost"], "USD"),
                f"{m['hhi']:,.0f}", fmt.pct(m["top_provider_share"]), *(s["product"] for s in m["seats"])]
    for text in headline + cfo_only + cio_only:
        assert text in full, text
    cfo = unwrap(" ".join(pdf_text(pack["folder"] / "views/cfo.pdf")))
    cio = unwrap(" ".join(pdf_text(pack["folder"] / "views/cio.pdf")))
    for text in headline + cfo_only:
        assert text in cfo, text
    for text in headline + cio_only:
        assert text in cio, text


def test_a_cio_view_has_no_cfo_page_and_a_cfo_view_no_cio_page(pack):
    for view, other in (("cfo", "cio"), ("cio", "cfo")):
        reader = PdfReader(pack["folder"] / entry(pack, view)["pdf"])
        titles = [item.title for item in reader.outline if not isinstance(item, list)]
        assert titles == ["Executive summary", *ROLE_ONLY[view]], view
        after_cover = unwrap(" ".join(p.extract_text() for p in reader.pages[1:]))
        for title in ROLE_ONLY[other]:
            assert title not in after_cover, (view, title)
        assert [c["id"] for c in entry(pack, view)["contents"]][0] == "executive-summary"


def test_pages_the_pack_cannot_have_yet_are_one_line_naming_the_file(pack):
    cfo_cover = unwrap(pdf_text(pack["folder"] / "views/cfo.pdf")[0])
    cio_cover = unwrap(pdf_text(pack["folder"] / "views/cio.pdf")[0])
    assert "Budgets and commitments: no budget file in the data; add budgets.csv" in cfo_cover
    assert "Restatements: none: this is the first issue of the 2026-Q3 pack" in cfo_cover
    assert "Sprawl: no tool inventory in the data; add tools.csv" in cio_cover
    assert "Budgets" not in cio_cover and "Sprawl" not in cfo_cover
    assert entry(pack, "cfo")["pending"] == ["budgets"] and entry(pack, "cio")["pending"] == ["sprawl"]


def test_a_section_the_pack_gains_replaces_its_line_and_a_provisional_view_carries_its_appendix():
    cfo = views.ROLES["cfo"]
    full = {"executive-summary", "value", "spend-dynamics", "outlook", "data-confidence", "definitions"}
    chosen, notes = views.choose(cfo, full, "FINAL", {"reissue": None, "prior_quarter": None}, QUARTER)
    assert chosen == ["executive-summary", "value", "spend-dynamics", "outlook"]
    assert [n[0] for n in notes] == ["Budgets and commitments", "Restatements"]
    # a later pack with a budgets page and a restatement: both are taken, no line is left
    chosen, notes = views.choose(cfo, full | {"budgets", "restatement"}, "FINAL", None, QUARTER)
    assert chosen == ["executive-summary", "restatement", "value", "spend-dynamics", "outlook", "budgets"]
    assert notes == []
    unchanged = {"reissue": {"old": {"version": "v1"}, "changed": False}, "prior_quarter": None}
    assert views.choose(cfo, full, "FINAL", unchanged, QUARTER)[1][-1] == ("Restatements",
                                                                          "none: no number changed since v1")
    # PROVISIONAL: the running header says "see appendix", so the appendix that lists what failed is there
    for view in (views.ROLES["cio"], views.business_unit_view("Legal")):
        chosen, _ = views.choose(view, full | {"business-unit"}, "PROVISIONAL", None, QUARTER)
        assert chosen[-1] == "data-confidence"


# ------------------------------------------------------------------------------------------- business units

@pytest.fixture(scope="module")
def tables(pack):
    read = lambda name: pd.read_parquet(pack["folder"] / "tables" / f"{name}.parquet")  # noqa: E731
    return {"spend": quarter_rows(read("spend"), "ChargePeriodStart"), "use_cases": read("use_cases"),
            "outcomes": quarter_rows(read("outcomes"), "Month"), "seats": quarter_rows(read("seats"), "Month"),
            "seat_users": quarter_rows(read("seat_users"), "ReportDate")}


@pytest.mark.parametrize("unit", ["Legal", "Sales & Marketing", "Group IT"])
def test_a_business_unit_view_has_its_rows_of_appendix_a_and_its_share_from_the_tables(pack, tables, unit):
    v = entry(pack, f"bu:{unit}")
    html = (pack["folder"] / v["html"]).read_text()
    # its use cases, as the register assigns them, and the very rows of the full pack's Appendix A
    ids = set(tables["use_cases"].loc[tables["use_cases"]["BusinessUnit"] == unit, "UseCaseId"])
    appendix = [row for row in body_rows(pack["html"], "use-cases")
                if re.search(r"<td>(UC-\d+)</td>", row).group(1) in ids]
    assert appendix and body_rows(html, "business-unit") == appendix
    # its share of spend and value, worked out here from the validated tables
    spend = tables["spend"]
    unit_spend = spend.loc[spend["x_UseCaseId"].isin(ids), "EffectiveCost"].sum()
    graded = tables["outcomes"][tables["outcomes"]["Evidence"].isin(MEASURED_OR_ESTIMATED)]
    unit_value = graded.loc[graded["UseCaseId"].isin(ids), "ValueBase"].sum()
    text = unwrap(" ".join(pdf_text(pack["folder"] / v["pdf"])))
    assert (f"They spent {fmt.money(unit_spend)}, {fmt.pct(unit_spend / spend['EffectiveCost'].sum())} of the "
            f"{fmt.money(spend['EffectiveCost'].sum())} of AI spend") in text
    assert (f"returned {fmt.money(unit_value)} of evidenced value, "
            f"{fmt.pct(unit_value / graded['ValueBase'].sum())} of the {fmt.money(pack['metrics']['value'])} in the "
            f"pack: a value multiple of "
            f"{fmt.multiple(unit_value / unit_spend)}") in text
    # its seats, from the seat report's rows that name it: a month's average, as the full pack counts seats
    seats = tables["seats"][tables["seats"]["BusinessUnit"] == unit]
    months = tables["seats"]["Month"].nunique()
    for product, rows in seats.groupby("Product"):
        line = (f"{product} {fmt.number(rows['LicensedSeats'].sum() / months)} "
                f"{fmt.number(rows['ActiveUsers'].sum() / months)}")
        assert line in text, line
    # its seats to take back: the rows of the pack's list for IT that name it, counted here
    reclaim = pd.read_csv(pack["folder"] / "exports" / "reclaim.csv")
    users = tables["seat_users"]
    assert (reclaim["BusinessUnit"] == unit).any()
    for product, rows in reclaim[reclaim["BusinessUnit"] == unit].groupby("Product"):
        mine = users[users["Product"] == product]
        held = (mine[mine["ReportDate"] == mine["ReportDate"].max()]["BusinessUnit"] == unit).sum()
        line = (f"{product} {fmt.number(held)} "
                + " ".join(fmt.number((rows["DaysIdle"] >= d).sum()) for d in (30, 60, 90))
                + f" {fmt.number(rows['NeverUsed'].sum())} {fmt.money((rows['DaysIdle'] >= 90).sum() * rows['CostPerYear'].iloc[0])}")
        assert line in text, line


def test_the_business_units_seats_add_up_to_the_full_packs(pack):
    m = pack["metrics"]
    for product in m["seats"]:
        rows = [s for s in m["seats_by_unit"] if s["product"] == product["product"]]
        for key in ("licensed_seats", "active_users", "seat_cost", "idle_seat_cost"):
            assert sum(r[key] for r in rows) == pytest.approx(product[key], abs=0.005), (product["product"], key)


# ------------------------------------------------------------------------------------------------------ mail

RECIPIENTS = """
[defaults]
send = ["everyone"]

[people.chair]
name = "Margaret Okafor"
address = "margaret.okafor@northwind.example"
role = "Chair of the Board"

[people.cfo]
name = "Sofia Alvarez"
address = "sofia.alvarez@northwind.example"
role = "Chief Financial Officer"
view = "cfo"

[people.cio]
name = "Kenji Watanabe"
address = "kenji.watanabe@northwind.example"
role = "Chief Information Officer"
view = "cio"

[people.sales]
name = "Oliver Grant"
address = "oliver.grant@northwind.example"
role = "Head of Sales & Marketing"
view = "bu:Sales & Marketing"

[groups]
everyone = ["chair", "cfo", "cio", "sales"]
"""
NAME = "Northwind-Group-AI-board-pack-2026-Q3"
EXPECTED = {  # address -> (view, the file of the pack attached, its name in the message)
    "margaret.okafor@northwind.example": ("full", "board-pack.pdf", f"{NAME}.pdf"),
    "sofia.alvarez@northwind.example": ("cfo", "views/cfo.pdf", f"{NAME}-CFO-view.pdf"),
    "kenji.watanabe@northwind.example": ("cio", "views/cio.pdf", f"{NAME}-CIO-view.pdf"),
    "oliver.grant@northwind.example": ("bu:Sales & Marketing", "views/bu-sales-marketing.pdf",
                                       f"{NAME}-Sales-Marketing-view.pdf")}


@pytest.fixture
def reports(tmp_path, pack):
    """A private copy of the session's pack as the only published version of the quarter: <reports>."""
    target = tmp_path / "reports"
    shutil.copytree(pack["folder"], target / QUARTER / "v1")
    (target / QUARTER / "latest").symlink_to("v1")
    return target


def send(env, reports, recipients, *args):  # noqa: F811  (env: the fixture's value, passed in)
    return boardpack(env, "send", "--quarter", QUARTER, "--reports", str(reports), "--recipients", str(recipients),
                     *args)


def log(reports) -> list[dict]:
    path = reports / QUARTER / ".send" / "send-log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_each_recipient_receives_the_view_of_their_role_and_the_log_names_it(
        server, reports, env, tmp_path):  # noqa: F811  (fixtures of test_mail)
    recipients = tmp_path / "recipients.toml"
    recipients.write_text(RECIPIENTS)
    proc = send(env, reports, recipients)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    version = reports / QUARTER / "v1"
    assert sorted(r for m in server.messages for r in m["rcpt_tos"]) == sorted(EXPECTED)
    for m in server.messages:
        view, path, name = EXPECTED[m["rcpt_tos"][0]]
        msg = m["parsed"]
        assert attachments(msg) == [(name, (version / path).read_bytes())]  # the view's PDF, named for it
        assert msg["X-Boardpack-View"] == view
        text = unwrap(msg.get_body(("plain",)).get_content())
        if view == "full":
            assert str(msg["Subject"]) == f"Northwind Group · AI value board pack {QUARTER} · FINAL"
            assert "view" not in text.split(".")[0]
        else:
            title = {"cfo": "CFO view", "cio": "CIO view"}.get(view, "Sales & Marketing business-unit view")
            assert str(msg["Subject"]) == f"Northwind Group · AI value board pack {QUARTER} · {title} · FINAL"
            assert f"Attached is the {title} of the Northwind Group AI value board pack for {QUARTER}" in text
    entries = {e["recipient"]: e for e in log(reports)}
    manifest = json.loads((version / "manifest.json").read_text())
    for address, (view, path, name) in EXPECTED.items():
        e = entries[address]
        assert (e["result"], e["view"], e["attachment"]) == ("sent", view, name)
        assert e["pdf_sha256"] == manifest["outputs"][path]["sha256"]  # the file attached, as the manifest has it
        assert e["pack_sha256"] == manifest["outputs"]["board-pack.pdf"]["sha256"]

    again = send(env, reports, recipients)  # never twice: each already has the PDF of their view
    assert again.returncode == 0 and len(server.messages) == 4 and again.stdout.count("skipped") == 4

    # the CFO now gets the full pack: a PDF she does not have, so she alone receives it
    recipients.write_text(RECIPIENTS.replace('view = "cfo"\n', ""))
    switched = send(env, reports, recipients)
    assert switched.returncode == 0, switched.stdout + switched.stderr
    assert [m["rcpt_tos"] for m in server.messages[4:]] == [["sofia.alvarez@northwind.example"]]
    assert attachments(server.messages[4]["parsed"])[0][0] == "Northwind-Group-AI-board-pack-2026-Q3.pdf"
    assert log(reports)[-1]["view"] == "full" and switched.stdout.count("skipped") == 3


@pytest.mark.parametrize("value, expected", [
    ("ceo", ["[people.cio]", "view 'ceo' is not a view", "full", "cfo", "cio", "bu:<business unit>"]),
    ("bu:Legl", ["Kenji Watanabe ([people.cio])", "view 'bu:Legl' is not a view of the 2026-Q3 pack v1",
                 "full, cfo, cio, bu:Customer Service", "bu:Legal", "bu:Sales & Marketing"]),
])
def test_an_unknown_view_or_business_unit_sends_nothing_and_names_the_person_and_the_choices(
        server, reports, env, tmp_path, value, expected):  # noqa: F811
    recipients = tmp_path / "recipients.toml"
    recipients.write_text(RECIPIENTS.replace('view = "cio"', f'view = "{value}"'))
    proc = send(env, reports, recipients)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    for text in expected:
        assert text in proc.stderr, text
    assert server.messages == [] and log(reports) == []


def test_the_example_distribution_list_sends_views_the_sample_pack_has(pack):
    from boardpack import mail

    from .conftest import ROOT

    people = mail.load_recipients(ROOT / "config" / "recipients.toml")
    by_view = {r.view: r for r in people}
    assert {"full", "cfo", "cio"} <= set(by_view) and by_view["cfo"].role == "Chief Financial Officer"
    units = [r.view[3:] for r in people if r.view.startswith("bu:")]
    assert units and set(units) <= {v["business_unit"] for v in pack["index"]["views"] if v["business_unit"]}
    board = mail.load_recipients(ROOT / "config" / "recipients.toml", ["board"])
    assert board and all(r.view == "full" for r in board)  # board members get the full pack
