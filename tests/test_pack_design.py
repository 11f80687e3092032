"""The board-grade pack: outline, contents, headline numbers, alt text, forecast page, branding."""

from __future__ import annotations

import json
import re

import pytest
from pypdf import PdfReader

from boardpack import pages
from boardpack.config import Config


@pytest.fixture(scope="module")
def pack(sample_pack):
    folder = sample_pack[0]
    reader = PdfReader(folder / "board-pack.pdf")
    return {"reader": reader, "pages": [p.extract_text() for p in reader.pages],
            "metrics": json.loads((folder / "metrics.json").read_text()),
            "html": (folder / "board-pack.html").read_text()}


def outline(reader) -> list[tuple[str, int]]:
    return [(item.title, reader.get_destination_page_number(item) + 1) for item in reader.outline
            if not isinstance(item, list)]


def test_pdf_outline_has_every_section_in_order(pack):
    titles = [t for t, _ in outline(pack["reader"])]
    assert titles == ["Contents"] + [title for _, title in pages.SECTIONS]


def test_contents_page_numbers_match_where_sections_start(pack):
    toc = pack["pages"][1]
    starts = dict(outline(pack["reader"]))
    for _, title in pages.SECTIONS:
        m = re.search(re.escape(title) + r"[ .]*?(\d+)\s*$", toc, re.M)
        assert m, f"{title!r} not in the contents page"
        assert int(m.group(1)) == starts[title]
        assert title in pack["pages"][starts[title] - 1]


def _money(text: str) -> float:
    value, suffix = re.fullmatch(r"\$([\d.,]+)([KMB]?)", text).groups()
    return float(value.replace(",", "")) * {"": 1, "K": 1e3, "M": 1e6, "B": 1e9}[suffix]


def test_summary_sentences_state_the_numbers_of_metrics_json(pack):
    m, text = pack["metrics"], " ".join(pack["pages"][2].split())
    spend = re.search(r"AI spend was (\$[\d.,]+[KM]?) in " + m["quarter"], text)
    assert _money(spend.group(1)) == pytest.approx(m["spend"], rel=0.005)
    multiple = re.search(r"a value multiple of ([\d.]+)× against a target of ([\d.]+)×", text)
    assert float(multiple.group(1)) == pytest.approx(m["value_multiple"], abs=0.005)
    assert float(multiple.group(2)) == m["targets"]["value_multiple"]
    b = m["bridge"]
    jevons = re.search(r"Unit cost per million tokens ([−+][\d.]+)%, token volume ([−+][\d.]+)%, token spend ([−+][\d.]+)%", text)
    signed = lambda s: float(s.replace("−", "-"))  # noqa: E731
    assert signed(jevons.group(1)) == pytest.approx((b["unit_cost_per_mtok"] / b["previous_unit_cost_per_mtok"] - 1) * 100, abs=0.05)
    assert signed(jevons.group(2)) == pytest.approx((b["tokens"] / b["previous_tokens"] - 1) * 100, abs=0.05)
    assert signed(jevons.group(3)) == pytest.approx((b["token_spend"] / b["previous_token_spend"] - 1) * 100, abs=0.05)
    rightsizing = re.search(r"Right-sizing is worth (\$[\d.,]+[KM]?) a quarter", text)
    assert _money(rightsizing.group(1)) == pytest.approx(m["retiering_savings"] + m["idle_seat_cost"], rel=0.005)
    unattributed = re.search(r"([\d.]+)% of spend has no evidence of value", text)
    assert float(unattributed.group(1)) == pytest.approx(m["unattributed_spend_share"] * 100, abs=0.05)
    portable = re.search(r"([\d.]+)% of spend could switch provider", text)
    assert float(portable.group(1)) == pytest.approx(m["portable_spend_share"] * 100, abs=0.05)


def test_kpi_tiles_show_value_target_status_and_change(pack):
    m, text = pack["metrics"], pack["pages"][2]
    for key, label in (("value_multiple", "Value multiple"), ("workload_fit", "Workload fit"),
                       ("portable_spend_share", "Portable spend")):
        assert label in text
        assert m["rag"][key].upper() in text
    assert f"vs {m['previous']['quarter']}" in text


def test_every_chart_has_alt_text(pack):
    svgs = re.findall(r"<svg[^>]*>", pack["html"])
    assert len(svgs) >= 8
    assert all('aria-label="' in s and 'role="img"' in s for s in svgs)


def test_forecast_page_shows_the_backtest_and_scenarios(pack):
    m = pack["metrics"]
    page = next(p for p in pack["pages"] if "Outlook: forecast and scenarios" in p and "Backtest" in p)
    for test in m["forecast"]["backtest"]:
        assert test["quarter"] in page
    for scenario in m["forecast"]["scenarios"].values():
        assert " ".join(scenario["label"].split()[:3]) in " ".join(page.split())
    assert len(m["forecast"]["base"]) == 4 and m["forecast"]["mape"] is not None


def test_cover_carries_the_configured_logo(tmp_path):
    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>')
    cfg = Config(company="Acme", branding={"logo": str(logo)})
    html = pages.cover({"quarter": "2026-Q3", "status": "FINAL", "currency": "USD"}, cfg, "2026-10-01").data
    assert 'class="bp-cover-logo" src="data:image/svg+xml;base64,' in html


def test_fonts_are_embedded(pack):
    fonts = {}
    for page in pack["reader"].pages:
        for _name, ref in (page["/Resources"].get("/Font") or {}).items():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0].get_object() if descendants else font).get("/FontDescriptor")
            fonts[font.get("/BaseFont")] = descriptor.get_object() if descriptor else {}
    assert fonts
    for base, descriptor in fonts.items():
        assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), base


# --- pages without a basis for some metrics (issue 10, item 1) --------------------------------------------------

@pytest.fixture(scope="module")
def no_basis_metrics():
    """metrics.json of a quarter with seats and GPUs only, no outcome ledger and no use-case register."""
    from boardpack import metrics
    from boardpack.quarters import Quarter

    from .test_metrics import REF, SCENARIOS, TARGETS, no_token_tables
    from .test_metrics import tables as tables_fixture

    base = tables_fixture.__wrapped__()
    out = metrics.quarter_metrics(no_token_tables(base, outcomes=False, use_cases=False), Quarter(2026, 3), TARGETS,
                                  REF, "USD", "PROVISIONAL", SCENARIOS)
    return json.loads(json.dumps(out, default=str))  # as the pack notebook reads it


def _text(fragment) -> str:
    return " ".join(re.sub(r"<svg.*?</svg>", " ", fragment.data, flags=re.S).replace("&amp;", "&").split())


def test_pages_say_which_metrics_have_no_basis(no_basis_metrics):
    m = no_basis_metrics
    summary = _text(pages.executive_summary(m))
    assert summary.count("no token spend this quarter") >= 2 and "no outcomes recorded" in summary
    assert "no use-case register" in summary
    assert "NOT MEASURED" in summary and "bp-kpi bp-none" in pages.executive_summary(m).data
    workload = _text(pages.workload_page(m))
    assert "no token spend this quarter" in workload and "n/a" not in workload
    dynamics = _text(pages.dynamics_page(m))
    assert "no token spend this quarter" in dynamics and "<svg" not in pages.dynamics_page(m).data
    value = _text(pages.value_page(m))
    assert "no outcomes recorded" in value and "n/a" not in value
    flexibility = _text(pages.flexibility_page(m))
    assert "no use-case register" in flexibility and "no token spend this quarter" in flexibility
    outlook = _text(pages.outlook_page(m))
    assert "tokens: no token spend this quarter" in outlook and "no effect: no token spend" in outlook
    for page in (summary, workload, dynamics, value, flexibility, outlook):
        assert "None" not in page.split() and "nan" not in page.lower().split()
