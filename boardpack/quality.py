"""The offline data-quality page: every contract check, what failed and how to fix it."""

from __future__ import annotations

from pathlib import Path

import jinja2

from . import fmt, project
from .contracts import shown

TEMPLATE = "data-quality.html.j2"  # in the project's templates/, else the package's


def render_quality(validation: dict, provenance: dict, company: str, path: str | Path,
                   sources: dict | None = None, ledger: dict | None = None) -> Path:
    """Write data-quality.html: self-contained, no scripts, no external assets."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(project.templates_dir()), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(pct=fmt.pct, money_exact=fmt.money_exact, sample=shown)
    env.globals["zip"] = zip
    checks = sorted(validation["checks"], key=lambda c: (c["success"], c["severity"] != "critical", c["table"]))
    html = env.get_template(TEMPLATE).render(v=validation, checks=checks, prov=provenance, company=company,
                                             sources=sources, ledger=ledger)
    path = Path(path)
    path.write_text(html, encoding="utf-8")
    return path

