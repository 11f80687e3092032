"""Role views: short PDFs for the CFO, the CIO and each business unit, cut from the full pack (README, "Role views").

No number is computed twice. A CFO or CIO view is a view cover followed by sections of the full pack's rendered
HTML (`board-pack.html`), taken byte for byte by their ids (the anchors the contents page links to), so its
numbers are the full pack's by construction. A business-unit view adds one page of its own,
`pages.business_unit_page`, whose use-case rows are the rows of the full pack's Appendix A (`pages.use_case_rows`)
and whose seats are metrics.json's `seats_by_unit`. Each view is written as `views/<name>.html` and rendered to
`views/<name>.pdf` with the full pack's renderer and date (the same inputs give the same bytes); `views/index.json`
lists them for `boardpack send` (recipients.toml `view = ...`).

Pages the pack does not have yet (budgets and commitments, sprawl) are named in one line on the view's cover with the
file that would fill them; once the full pack has a section with that id, the view takes the section instead.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from . import project
from .sniff import sha256

INDEX = "views/index.json"
VIEW_CSS = "boardpack/view.css"  # of the templates (the project's, else the package's); added to the pack's own styles
FULL = "full"
BU_PREFIX = "bu:"


@dataclass(frozen=True)
class View:
    name: str  # as recipients.toml names it: cfo, cio, bu:<business unit>
    title: str  # on the cover, in the running header, the mail and the attachment's name
    lede: str
    sections: tuple[str, ...]  # ids of the full pack's sections, in order; absent ones are left out
    pending: tuple[str, ...] = ()  # sections the pack cannot have yet: a section of that id, else PENDING's line
    cut: bool = True  # every page is a page of the full pack (a business-unit view has a page of its own)


# Pages a later input will fill (not in the pack yet): id -> (title, what is missing and which file would fill it).
PENDING = {
    "budgets": ("Budgets and commitments",
                "no budget file in the data; add budgets.csv (budget per quarter and business unit) and "
                "commitments.csv (contracted commitments) to show spend against them"),
    "sprawl": ("Sprawl",
               "no tool inventory in the data; add tools.csv (every AI tool, model and subscription in use, "
               "with its owner) to show how many overlap"),
}
ROLES = {
    "cfo": View("cfo", "CFO view",
                "For the Chief Financial Officer: spend, the value it returns, the spend bridge, the forecast and "
                "what was restated.",
                ("executive-summary", "restatement", "value", "spend-dynamics", "outlook"), ("budgets",)),
    "cio": View("cio", "CIO view",
                "For the Chief Information Officer: whether each workload runs on the model it needs, idle seats, "
                "and how freely we could change provider.",
                ("executive-summary", "workload-fit", "flexibility"), ("sprawl",)),
}
# A PROVISIONAL pack's running header says "see appendix": every view then carries the appendix that lists what failed.
PROVISIONAL_SECTIONS = ("data-confidence",)
BUSINESS_UNIT_SECTION = "business-unit"

_SECTION = re.compile(r'<section\b[^>]*\bid="([^"]+)"[^>]*>.*?</section>', re.S)
_H2 = re.compile(r"<h2\b[^>]*>(.*?)</h2>", re.S)
_TAG = re.compile(r"<[^>]+>")


def choices(business_units: list[str]) -> str:
    """The values `view` may take, for messages: full, cfo, cio, bu:<each business unit>."""
    return ", ".join([FULL, *ROLES, *(f"{BU_PREFIX}{u}" for u in business_units)])


def check_name(value) -> str | None:
    """None when `value` is a view name a recipients file may give (full, cfo, cio, bu:<name>), else why not."""
    if not isinstance(value, str) or not value.strip():
        return "must be a non-empty string"
    value = normal(value)
    if value in (FULL, *ROLES):
        return None
    if value.startswith(BU_PREFIX):
        return None if value[len(BU_PREFIX):].strip() else "names no business unit after bu:"
    return "is not a view"


def normal(value: str) -> str:
    """A view name as the index spells it: roles in lower case, no spaces around it nor after bu: ("CFO" -> "cfo",
    "bu: Legal" -> "bu:Legal"); a business unit keeps the case the use-case register gives it."""
    value = value.strip()
    if value.lower().startswith(BU_PREFIX):
        return f"{BU_PREFIX}{value[len(BU_PREFIX):].strip()}"
    return value.lower() if value.lower() in (FULL, *ROLES) else value


def business_unit_view(unit: str) -> View:
    return View(f"{BU_PREFIX}{unit}", f"{unit} business-unit view",
                f"For {unit}: its use cases, its share of AI spend and of the value it returns, and its seats.",
                (BUSINESS_UNIT_SECTION,), cut=False)


def slug(text: str) -> str:
    """A file-name part: ASCII letters, digits and hyphens (Sales & Marketing -> sales-marketing)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def file_stems(units: list[str]) -> dict[str, str]:
    """Business unit -> its view's file name without extension, `bu-<slug>`, unique and the same every build."""
    stems, taken = {}, set()
    for unit in sorted(units):
        base = f"bu-{slug(unit) or hashlib.sha256(unit.encode()).hexdigest()[:8]}"
        stem, n = base, 2
        while stem in taken:
            stem, n = f"{base}-{n}", n + 1
        stems[unit] = stem
        taken.add(stem)
    return stems


# ----------------------------------------------------------------------------------------------- assembly

def split(full_html: str) -> tuple[str, str, dict[str, str]]:
    """The full pack's HTML as (head up to </head>, body start up to <main ...>, section id -> its <section>)."""
    head_end = full_html.index("</head>")
    body = full_html.index("<body", head_end)
    main = full_html.index(">", full_html.index("<main", body)) + 1
    sections = {}
    for match in _SECTION.finditer(full_html):
        if "<section" in match.group(0)[1:]:  # the pages never nest sections; a nested one would be cut short
            raise ValueError(f"board-pack.html: section {match.group(1)!r} holds another section")
        if match.group(1) in sections:
            raise ValueError(f"board-pack.html: two sections with the id {match.group(1)!r}")
        sections[match.group(1)] = match.group(0)
    return full_html[:head_end], full_html[body:main], sections


def heading(section: str) -> str:
    """A section's title, as its <h2> prints it."""
    match = _H2.search(section)
    return html.unescape(_TAG.sub("", match.group(1))).strip() if match else ""


def _css_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("<", "\\3c ") + '"'


def assemble(head: str, body_start: str, cover: str, sections: list[str], running_header: str, title: str,
             css: str) -> str:
    """One view's HTML: the full pack's head (its CSS, paper and marks) with the view's title and running header,
    the view's own `css`, its cover and the chosen sections."""
    head = re.sub(r"<title>.*?</title>", f"<title>{html.escape(title)}</title>", head, count=1, flags=re.S)
    style = (f'<style type="text/css">\n{css}\n@page {{ @top-left {{ content: {_css_str(running_header)}; }} }}\n'
             f"</style>\n")
    return f"{head}{style}</head>\n{body_start}\n{cover}\n" + "\n".join(sections) + "\n</main>\n</body>\n</html>\n"


def restatement_line(restatement: dict | None, quarter: str) -> tuple[str, str] | None:
    """For a view whose pack has no restatement section: the one line that says why (restatement.json)."""
    if restatement is None:
        return None
    reissue = restatement.get("reissue")
    if reissue is None:
        return "Restatements", f"none: this is the first issue of the {quarter} pack"
    return "Restatements", f"none: no number changed since {reissue['old']['version']}"


def choose(view: View, available: set[str], status: str, restatement: dict | None,
           quarter: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The sections of a view that the pack has, in order, and the cover's one-line notes for what it lacks: a
    pending page (PENDING) and, for a view that shows restatements, why there is no restatement section."""
    wanted = list(view.sections) + list(view.pending)
    if status != "FINAL":
        wanted += [s for s in PROVISIONAL_SECTIONS if s not in wanted]
    chosen = [s for s in wanted if s in available]
    notes = [PENDING[p] for p in view.pending if p not in available]
    if "restatement" in view.sections and "restatement" not in available:
        notes += [n for n in [restatement_line(restatement, quarter)] if n]
    return chosen, notes


def write(staging: Path, cfg, generated: str, full_pages: int) -> list[dict]:
    """Write every role view of the pack in `staging` (views/*.html, *.pdf, index.json); the index's entries."""
    from . import metrics_json, pages, render
    from .steps import write_json

    m = metrics_json.read(staging)
    full_html = (staging / "board-pack.html").read_text(encoding="utf-8")
    path = staging / "restatement.json"
    restatement = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    head, body_start, sections = split(full_html)
    full_sha = sha256(staging / "board-pack.pdf")
    css = (project.templates_dir() / VIEW_CSS).read_text(encoding="utf-8")
    order = [s for s in sections if s != "contents"]
    units = pages.business_units(m)
    stems = file_stems(units)
    plan = [(view.name, view, {}) for view in ROLES.values()]
    plan += [(stems[u], business_unit_view(u), {BUSINESS_UNIT_SECTION: pages.business_unit_page(m, u).data})
             for u in units]
    entries = []
    for stem, view, own in plan:
        available = {**sections, **own}
        chosen, notes = choose(view, set(available), m["status"], restatement, m["quarter"])
        others = [heading(sections[s]) for s in order if s not in chosen]
        contents = [(s, heading(available[s])) for s in chosen]
        cover = pages.view_cover(m, cfg, generated, view, contents, notes, others, full_pages, full_sha).data
        title = f"{cfg.company} – AI value board pack – {m['quarter']} – {view.title}"
        running = f"{cfg.company} · AI value board pack · {m['quarter']} · {view.title}"
        html_path = staging / "views" / f"{stem}.html"
        html_path.parent.mkdir(exist_ok=True)
        html_path.write_text(assemble(head, body_start, cover, [available[s] for s in chosen], running, title, css),
                             encoding="utf-8")
        pdf_path = html_path.with_suffix(".pdf")
        count = render.html_to_pdf(html_path, pdf_path, generated)
        entries.append({"view": view.name, "title": view.title,
                        "business_unit": view.name[len(BU_PREFIX):] if view.name.startswith(BU_PREFIX) else None,
                        "pdf": f"views/{pdf_path.name}", "html": f"views/{html_path.name}", "pages": count,
                        "contents": [{"id": s, "title": t} for s, t in contents],
                        "pending": [p for p in view.pending if p not in available]})
    write_json({"quarter": m["quarter"], "full": {"pdf": "board-pack.pdf", "sha256": full_sha, "pages": full_pages},
                "views": entries}, staging / INDEX)
    return entries
