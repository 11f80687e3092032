"""Executed pack notebook -> self-contained print HTML (nbconvert, `boardpack` template) -> PDF (WeasyPrint).

Both steps write to a temporary file next to the target and `os.replace` it at the end, so a failure
never leaves a partial HTML or PDF behind; failures raise `RenderError`.
"""

from __future__ import annotations

import datetime
import os
import re
import uuid
from pathlib import Path

from .exceptions import RenderError

TEMPLATE_NAME = "boardpack"
STATUSES = ("FINAL", "PROVISIONAL")
PAPERS = {"a4": "A4", "letter": "Letter"}
CONTEXT_DEFAULTS = {
    "title": "AI value board pack",
    "confidentiality": "Confidential – prepared for the board. Do not forward.",
    "paper": "A4",
}
REQUIRED_KEYS = ("company", "quarter", "status", "generated")


# ---------------------------------------------------------------------------------------------- context


def check_context(context: dict) -> dict:
    """Return a complete, normalised render context (defaults filled in) or raise RenderError."""
    if not isinstance(context, dict):
        raise RenderError(f"render context must be a dict, got {type(context).__name__}")
    ctx = {**CONTEXT_DEFAULTS, **{k: v for k, v in context.items() if v is not None}}
    missing = [k for k in REQUIRED_KEYS if not str(ctx.get(k, "")).strip()]
    if missing:
        raise RenderError(f"render context is missing {', '.join(missing)}")
    ctx["status"] = str(ctx["status"]).strip().upper()
    if ctx["status"] not in STATUSES:
        raise RenderError(f"render context status must be FINAL or PROVISIONAL, got {context['status']!r}")
    paper = PAPERS.get(str(ctx["paper"]).strip().lower())
    if paper is None:
        raise RenderError(f"render context paper must be A4 or Letter, got {context['paper']!r}")
    ctx["paper"] = paper
    for key in ("company", "title", "quarter", "generated", "confidentiality"):
        ctx[key] = str(ctx[key])
    return ctx


# ---------------------------------------------------------------------------------- external references

_RE_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>|<script\b[^>]*/>", re.I | re.S)
_RE_LINK = re.compile(r"<link\b[^>]*>", re.I)
_RE_XML_PROLOG = re.compile(r"<\?xml[^>]*\?>", re.I)
_RE_SVG_DOCTYPE = re.compile(r"<!DOCTYPE\s+svg[^>]*>", re.I)
_RE_SVG_METADATA = re.compile(r"<metadata\b[^>]*>.*?</metadata\s*>", re.I | re.S)
_RE_XMLNS = re.compile(r"""\s+xmlns(?::[\w-]+)?\s*=\s*(?:"[^"]*"|'[^']*')""", re.I)
# src/href/... pointing at a network location (http:, https:, protocol-relative //host)
_RE_EXT_IMG = re.compile(r"""<img\b[^>]*\bsrc\s*=\s*["']?\s*(?:https?:)?//[^>]*>""", re.I)
_RE_EXT_ATTR = re.compile(
    r"""\s+(?:src|href|xlink:href|srcset|poster|background|action|formaction|data|cite)\s*=\s*"""
    r"""(?:"\s*(?:https?:)?//[^"]*"|'\s*(?:https?:)?//[^']*'|(?:https?:)?//[^\s>]+)""",
    re.I,
)
_RE_EXT_CSS_URL = re.compile(r"""url\(\s*["']?\s*(?:https?:)?//[^)]*\)""", re.I)
_RE_CSS_IMPORT = re.compile(r"@import\b[^;]*;", re.I)
_RE_LEFTOVER = re.compile(
    r"""<script\b[^>]*\bsrc|\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//""", re.I
)


_RE_SVG_BLOCK = re.compile(r"<svg\b.*?</svg\s*>", re.I | re.S)
_RE_ID = re.compile(r"""\bid\s*=\s*["']([^"']+)["']""")


def uniquify_svg_ids(html: str) -> str:
    """Prefix the ids inside each inline <svg> (and their #refs) so several matplotlib charts never clash."""
    counter = 0

    def one(match: re.Match) -> str:
        nonlocal counter
        svg = match.group(0)
        ids = set(_RE_ID.findall(svg))
        if not ids:
            return svg
        counter += 1
        prefix = f"bpsvg{counter}-"
        alternation = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
        svg = re.sub(rf"""(\bid\s*=\s*["'])({alternation})(["'])""", rf"\g<1>{prefix}\g<2>\g<3>", svg)
        return re.sub(rf"""(#)({alternation})(?=["')])""", rf"\g<1>{prefix}\g<2>", svg)

    return _RE_SVG_BLOCK.sub(one, html)


def strip_external_references(html: str) -> str:
    """Remove scripts, <link>s, network URLs in attributes and CSS, and SVG prologs/namespaces/metadata.

    Text that merely mentions a URL is kept (it is printed, never fetched). Namespace declarations are
    dropped because the HTML parser puts inline <svg> in the SVG namespace by itself.
    """
    html = _RE_SCRIPT.sub("", html)
    html = _RE_LINK.sub("", html)
    html = _RE_XML_PROLOG.sub("", html)
    html = _RE_SVG_DOCTYPE.sub("", html)
    html = _RE_SVG_METADATA.sub("", html)
    html = _RE_XMLNS.sub("", html)
    html = _RE_EXT_IMG.sub("", html)
    html = _RE_EXT_ATTR.sub("", html)
    html = _RE_EXT_CSS_URL.sub("none", html)
    html = _RE_CSS_IMPORT.sub("", html)
    return html


# ---------------------------------------------------------------------------------------- atomic write


def _atomic_write(target: Path, write) -> None:
    """Call write(tmp_path) on a temp file in target's folder, then os.replace it onto target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # not mkstemp: its 0600 mode would survive the rename; a unique name + normal umask is what we want
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------------ HTML


def notebook_to_html(nb_path: Path, html_path: Path, context: dict, template_dir: Path) -> Path:
    """Convert an executed notebook to self-contained print HTML with the `boardpack` template.

    Code and prompts are hidden; cells tagged `parameters`/`injected-parameters`/`remove-cell`/`bp-hide`
    are dropped; `context` (company, title, quarter, status, generated, confidentiality, paper) reaches
    the template as `resources["boardpack"]`. Returns `html_path`.
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb_path, html_path, template_dir = Path(nb_path), Path(html_path), Path(template_dir)
    ctx = check_context(context)
    if not (template_dir / TEMPLATE_NAME / "index.html.j2").is_file():
        raise RenderError(f"{template_dir}: no {TEMPLATE_NAME}/index.html.j2 template found")
    try:
        nb = nbformat.read(nb_path, as_version=4)
    except FileNotFoundError:
        raise RenderError(f"{nb_path}: notebook not found") from None
    except Exception as exc:  # nbformat raises several types for unreadable JSON / schema
        raise RenderError(f"{nb_path}: cannot read notebook: {exc}") from exc

    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(template_dir)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,  # markdown images become data: URIs, so the HTML stands alone
    )
    resources = {
        "boardpack": ctx,
        "metadata": {"name": ctx["title"], "path": str(nb_path.parent)},
    }
    try:
        body, _ = exporter.from_notebook_node(nb, resources=resources)
    except Exception as exc:
        raise RenderError(f"{nb_path}: nbconvert failed: {type(exc).__name__}: {exc}") from exc

    body = uniquify_svg_ids(strip_external_references(body))
    leftover = _RE_LEFTOVER.search(body)
    if leftover:  # defensive: the stripping above should make this impossible
        raise RenderError(f"{nb_path}: HTML still references an external resource near {leftover.group(0)!r}")

    def write(tmp: Path) -> None:
        tmp.write_text(body, encoding="utf-8")

    try:
        _atomic_write(html_path, write)
    except OSError as exc:
        raise RenderError(f"{html_path}: cannot write HTML: {exc}") from exc
    return html_path


# ------------------------------------------------------------------------------------------------- PDF


def html_to_pdf(html_path: Path, pdf_path: Path, generated: str | None = None) -> int:
    """Render the pack HTML to PDF with WeasyPrint, fetching only file: and data: URLs; return the page count.

    PDF title and author come from the HTML <title> and <meta name="author">. `generated` (the pack's date,
    YYYY-MM-DD) fixes every timestamp the PDF carries (fontTools stamps the font subsets it embeds with the
    time unless SOURCE_DATE_EPOCH says otherwise), so the same pack renders to the same bytes.
    """
    html_path, pdf_path = Path(html_path), Path(pdf_path)
    if not html_path.is_file():
        raise RenderError(f"{html_path}: HTML not found")
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher

        fetcher = URLFetcher(allowed_protocols={"file", "data"}, timeout=2)
        document = HTML(filename=str(html_path), url_fetcher=fetcher, encoding="utf-8").render()

    except Exception as exc:
        raise RenderError(f"{html_path}: WeasyPrint could not lay out the pack: {type(exc).__name__}: {exc}") from exc
    pages = len(document.pages)
    if pages == 0:
        raise RenderError(f"{html_path}: the pack rendered to zero pages")

    def write(tmp: Path) -> None:
        saved = os.environ.get("SOURCE_DATE_EPOCH")
        if generated:
            day = datetime.datetime.fromisoformat(generated).replace(tzinfo=datetime.timezone.utc)
            os.environ["SOURCE_DATE_EPOCH"] = str(int(day.timestamp()))
        try:
            document.write_pdf(tmp)
        finally:
            if saved is None:
                os.environ.pop("SOURCE_DATE_EPOCH", None)
            else:
                os.environ["SOURCE_DATE_EPOCH"] = saved

    try:
        _atomic_write(pdf_path, write)
    except Exception as exc:
        raise RenderError(f"{pdf_path}: cannot write PDF: {type(exc).__name__}: {exc}") from exc
    return pages
