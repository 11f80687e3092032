"""Render tests: notebook outputs in the boardpack class vocabulary -> self-contained HTML -> PDF."""

from __future__ import annotations

import io
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from boardpack.render import RenderError, html_to_pdf, notebook_to_html

pypdf = pytest.importorskip("pypdf")

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
SECRET = "SECRET_PARAMETER_SOURCE = 'do-not-print-me'"


def _context(status="PROVISIONAL", paper="A4"):
    return {
        "company": "Acme Industrial plc",
        "title": "AI value board pack",
        "quarter": "2025-Q3",
        "status": status,
        "generated": "2025-10-06",
        "confidentiality": "Confidential – board members only",
        "paper": paper,
    }


def _svg_chart() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    quarters = ["2024-Q4", "2025-Q1", "2025-Q2", "2025-Q3"]
    ax.bar([q for q in quarters], [410, 520, 640, 700], color="#9aa7b4", label="Spend (k€)")
    ax.plot(quarters, [600, 900, 1350, 1720], color="#1f3a5f", marker="o", label="Value, base case (k€)")
    ax.set_title("Value grew 2.4× faster than spend since Q4", loc="left", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, loc="upper left")
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _html_cell(html: str, tags=()):
    cell = new_code_cell(source="display(HTML(...))  # CODE_SOURCE_MARKER")
    cell.outputs = [new_output("display_data", data={"text/html": html, "text/plain": "<HTML>"})]
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def _table(rows: int) -> str:
    head = "".join(
        f'<th class="{c}">{h}</th>' for h, c in
        [("Use case", ""), ("Business unit", ""), ("Spend (k€)", "num"), ("Value (k€)", "num"),
         ("Multiple", "num"), ("Status", "")]
    )
    rag = ['<span class="bp-rag bp-green">On track</span>', '<span class="bp-rag bp-amber">Watch</span>',
           '<span class="bp-rag bp-red">Off track</span>']
    body = "".join(
        f"<tr><td>Use case {i:02d} – contract review assistant</td><td>BU {i % 7}</td>"
        f'<td class="num">{12.5 * i:,.1f}</td><td class="num">{31.0 * i:,.1f}</td>'
        f'<td class="num">{2.48:.2f}×</td><td>{rag[i % 3]}</td></tr>'
        for i in range(1, rows + 1)
    )
    return f'<table border="1" class="dataframe bp-table"><thead><tr style="text-align: right;">{head}</tr></thead><tbody>{body}</tbody></table>'


def build_notebook(path: Path, status: str = "PROVISIONAL") -> Path:
    """A pack-shaped executed notebook: cover, summary (KPIs, headlines, chart), a long table, appendix."""
    svg = _svg_chart()
    badge = f'<span class="bp-status bp-status-{status.lower()}">{status}</span>'
    cover = (
        '<div class="bp-cover"><div class="bp-cover-company">Acme Industrial plc</div>'
        '<h1 class="bp-cover-title">AI value board pack</h1><div class="bp-cover-quarter">Q3 2025 (July – September)</div>'
        f'{badge}<div class="bp-cover-date">Generated 6 October 2025</div>'
        '<div class="bp-cover-confidential">Confidential – board members only. Do not forward.</div></div>'
    )
    kpi = (
        '<div class="bp-kpi bp-{rag}"><div class="bp-kpi-label">{label}</div><div class="bp-kpi-value">{value}</div>'
        '<div class="bp-kpi-target">Target {target}</div><div class="bp-kpi-delta">{delta} vs Q2</div>'
        '<div class="bp-kpi-meaning">{meaning}</div></div>'
    )
    kpis = '<div class="bp-kpis">' + "".join(
        kpi.format(**k) for k in [
            dict(rag="green", label="Value multiple", value="2.46×", target="≥ 2.0×", delta="+0.31×",
                 meaning="Each euro of AI spend returned €2.46 of measured value (base case)."),
            dict(rag="amber", label="Over-provisioned spend", value="18%", target="≤ 10%", delta="−4 pts",
                 meaning="Share of token spend on a model tier above what the use case needs."),
            dict(rag="red", label="Largest provider share", value="71%", target="≤ 50%", delta="+6 pts",
                 meaning="Concentration risk: HHI 0.55; two use cases have no fallback provider."),
        ]
    ) + "</div>"
    headlines = (
        '<ul class="bp-headlines">'
        "<li>AI returned <strong>€1.72m</strong> of value on €0.70m spend this quarter, a 2.46× multiple.</li>"
        "<li>Spend rose 9% while token volume rose 64%: unit costs fell 34%.</li>"
        "<li>€126k a quarter could be saved by moving 4 use cases to a smaller model tier.</li>"
        "<li>One provider carries 71% of spend; two critical use cases have no tested fallback.</li></ul>"
    )
    summary = (
        '<section class="bp-section"><h2>Executive summary</h2>' + kpis + headlines +
        f'<figure class="bp-chart">{svg}<figcaption>Spend and value by quarter, k€. Value is the base case '
        "of the outcome estimates.</figcaption></figure>"
        '<p class="bp-note">Value is estimated by use-case owners; ranges and evidence are in the appendix. '
        'Source: https://example.invalid/finops-export (not fetched).</p></section>'
    )
    value = (
        '<section class="bp-section"><h2>Value by use case</h2>'
        '<div class="bp-two-col"><div><h3>What the multiple means</h3><p>A multiple above 1× means a use case '
        "returns more value than it costs. Ten use cases are above 2×.</p></div><div><h3>Evidence mix</h3>"
        "<p>62% of value is backed by measured outcomes, 38% by owner estimates.</p></div></div>"
        "<h3>All use cases</h3>" + _table(60) +
        '<p class="bp-note">Multiple = value (base case) ÷ attributed spend. Status: '
        '<span class="bp-rag bp-green">On track</span> ≥ 2×, <span class="bp-rag bp-amber">Watch</span> 1–2×, '
        '<span class="bp-rag bp-red">Off track</span> &lt; 1×.</p></section>'
    )
    appendix = (
        '<section class="bp-section"><h2>Appendix: data confidence</h2><p>Two warning-level expectations '
        'failed; the pack is provisional.</p><script src="https://cdn.example.invalid/x.js"></script>'
        '<img src="https://cdn.example.invalid/logo.png" alt="logo"></section>'
    )

    params = new_code_cell(source=SECRET)
    params.metadata["tags"] = ["injected-parameters"]
    params.outputs = [new_output("stream", name="stdout", text=SECRET + "\n")]
    svg_cell = new_code_cell(source="fig  # CODE_SOURCE_MARKER")
    svg_cell.outputs = [new_output("display_data", data={"image/svg+xml": svg, "text/plain": "<Figure>"})]
    warn = new_code_cell(source="import warnings")
    warn.outputs = [new_output("stream", name="stderr", text="FutureWarning: STDERR_NOISE\n")]

    nb = new_notebook(cells=[
        params, warn,
        _html_cell(cover), _html_cell(summary), _html_cell(value),
        new_markdown_cell("### Spend dynamics (image/svg+xml output)"), svg_cell,
        _html_cell(appendix),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Render provisional A4, final A4 and provisional Letter packs once for all tests."""
    out = {}
    base = tmp_path_factory.mktemp("render")
    for key, status, paper in [("prov", "PROVISIONAL", "A4"), ("final", "FINAL", "A4"), ("letter", "PROVISIONAL", "Letter")]:
        nb = build_notebook(base / f"{key}.ipynb", status=status)
        html = notebook_to_html(nb, base / f"{key}.html", _context(status, paper), TEMPLATES)
        pdf = base / f"{key}.pdf"
        pages = html_to_pdf(html, pdf)
        out[key] = {"html": html.read_text(encoding="utf-8"), "pdf": pdf, "pages": pages,
                    "reader": pypdf.PdfReader(pdf)}
    return out


def _page_texts(reader) -> list[str]:
    return [page.extract_text() or "" for page in reader.pages]


def test_html_is_self_contained(rendered):
    html = rendered["prov"]["html"]
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert "<script src" not in html.lower()
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    assert "cdn.example.invalid" not in html
    assert "require.js" not in html and "mathjax" not in html.lower()
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html
    assert html.count("<svg") == 2  # figure.bp-chart inline and the image/svg+xml output, both inline


def test_code_parameters_and_noise_are_hidden(rendered):
    html = rendered["prov"]["html"]
    assert "do-not-print-me" not in html and "SECRET_PARAMETER_SOURCE" not in html
    assert "CODE_SOURCE_MARKER" not in html
    assert "STDERR_NOISE" not in html
    assert "In&nbsp;[" not in html and "Out[" not in html
    assert "<title>Acme Industrial plc – AI value board pack – 2025-Q3</title>" in html


def test_pdf_pages_and_metadata(rendered):
    r = rendered["prov"]
    assert r["pdf"].is_file() and r["pages"] > 1
    assert len(r["reader"].pages) == r["pages"]
    meta = r["reader"].metadata
    assert meta.title == "Acme Industrial plc – AI value board pack – 2025-Q3"
    assert meta.author == "Acme Industrial plc"


def test_provisional_on_every_page_and_never_when_final(rendered):
    prov = _page_texts(rendered["prov"]["reader"])
    assert all("PROVISIONAL" in t for t in prov), [i for i, t in enumerate(prov, 1) if "PROVISIONAL" not in t]
    final = _page_texts(rendered["final"]["reader"])
    assert len(final) > 1
    assert not any("PROVISIONAL" in t for t in final)
    assert "FINAL" in final[0]


def test_page_numbers_and_running_header(rendered):
    texts = _page_texts(rendered["prov"]["reader"])
    n = len(texts)
    assert not re.search(r"\b1 / \d", texts[0])  # the cover carries no number, but counts as page 1
    assert re.search(rf"\b2 / {n}\b", texts[1])
    assert re.search(rf"\b{n} / {n}\b", texts[-1])
    assert "AI value board pack · 2025-Q3" in texts[1]
    assert "Confidential – board members only" in texts[1]


def test_long_table_spans_pages_with_repeated_header(rendered):
    texts = _page_texts(rendered["prov"]["reader"])
    pages_with_rows = [t for t in texts if "contract review assistant" in t]
    assert len(pages_with_rows) >= 2
    assert all("Business unit" in t for t in pages_with_rows)  # thead repeated


@pytest.mark.parametrize("key,size", [("prov", (595, 842)), ("letter", (612, 792))])
def test_paper_size(rendered, key, size):
    for page in rendered[key]["reader"].pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == size


def test_errors_leave_no_partial_files(tmp_path):
    with pytest.raises(RenderError):
        notebook_to_html(tmp_path / "missing.ipynb", tmp_path / "x.html", _context(), TEMPLATES)
    nb = build_notebook(tmp_path / "nb.ipynb")
    with pytest.raises(RenderError, match="status"):
        notebook_to_html(nb, tmp_path / "x.html", _context(status="DRAFT"), TEMPLATES)
    with pytest.raises(RenderError, match="paper"):
        notebook_to_html(nb, tmp_path / "x.html", _context(paper="A3"), TEMPLATES)
    with pytest.raises(RenderError):
        html_to_pdf(tmp_path / "missing.html", tmp_path / "x.pdf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nb.ipynb"]


def test_existing_output_untouched_on_failure(tmp_path):
    target = tmp_path / "pack.pdf"
    target.write_bytes(b"previous")
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body>x</body></html>", encoding="utf-8")
    with pytest.raises(RenderError):
        html_to_pdf(tmp_path / "nope.html", target)
    assert target.read_bytes() == b"previous"
    assert html_to_pdf(bad, target) == 1
    assert target.read_bytes().startswith(b"%PDF")
