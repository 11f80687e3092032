"""Email the published board pack: recipients, refusals, composition, SMTP delivery and the send log.

The pure part (recipients, subject, bodies, messages) takes plain values and returns values, so it can be
tested and previewed without a server. Each recipient receives the PDF of their `view` (recipients.toml): the
full pack, or one of the role views the build cut from it (boardpack/views.py; README, "Role views"). The I/O
part checks the published pack, and each view sent, against its manifest, reads the SMTP settings from the
environment (or a `.env` file), talks to the server with smtplib, one message per recipient, and records every
delivery (with its view and the SHA-256 of the PDF attached) in `reports/<quarter>/.send/send-log.jsonl`,
outside every published version, so that the same PDF is never sent twice to the same person. A delivery whose
reply was lost after the server had the whole message is logged as `uncertain` and never retried on its
own. The SMTP password lives only in the environment: it is never written to a message, a log or a report.
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import html
import json
import os
import re
import smtplib
import socket
import ssl
import time
import tomllib
from base64 import b64encode
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from pathlib import Path
from typing import Callable, Iterable, Iterator

from . import fmt, metrics_json, project, publish, views
from .exceptions import LockedError, MailError, MetricsFileError, NoDataError
from .quarters import Quarter

# The names publish.py moves an old-layout log under, and locks while it does: the same file excludes both.
SEND_LOG, SEND_LOCK = publish.SEND_LOG, publish.SEND_LOCK
# The delivery under way, on disk until its outcome is logged: what a killed send leaves says who may have it.
IN_FLIGHT = "in-flight.json"
UNCERTAIN_EXIT = 4
NOTIFY_LOG = "notify-log.jsonl"
OUTBOX = "outbox"
TITLE = "AI value board pack"
# The three headline metrics of the executive summary: key, label, formatter.
HEADLINES = (("value_multiple", "Value multiple", fmt.multiple),
             ("workload_fit", "Workload fit", fmt.pct),
             ("portable_spend_share", "Portable spend", fmt.pct))
RAG_COLOURS = {"green": "#1b7a3d", "amber": "#9a6a00", "red": "#b3261e"}
SECURITY = ("starttls", "tls", "none")

# An address as people type it in a distribution list: local@domain.tld, no display name, no spaces.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"{_LOCAL}@{_LABEL}(?:\.{_LABEL})+")


# ----------------------------------------------------------------------------------------------- recipients

@dataclass(frozen=True)
class Recipient:
    key: str
    name: str
    address: str
    role: str = ""
    view: str = views.FULL  # which PDF they receive: full, cfo, cio or bu:<business unit> (README, "Role views")

    @property
    def header(self) -> str:
        return formataddr((self.name, self.address))


def valid_address(address: str) -> bool:
    """True for a plain addr-spec such as ada@northwind.example (no display name, no spaces)."""
    return isinstance(address, str) and len(address) <= 254 and bool(_ADDRESS.fullmatch(address))


def _clean_text(value, what: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or any(c in value for c in "\r\n"):
        raise MailError(f"{where}: {what} must be a non-empty single line of text, got {value!r}.")
    return value.strip()


def parse_recipients(raw: dict, source: str) -> tuple[dict[str, Recipient], dict[str, list[str]], dict]:
    """Check a parsed recipients file: people, groups, defaults. Name the file and the entry on any error."""
    people_raw, groups_raw, defaults = raw.get("people", {}), raw.get("groups", {}), raw.get("defaults", {})
    if not isinstance(people_raw, dict) or not isinstance(groups_raw, dict) or not isinstance(defaults, dict):
        raise MailError(f"{source}: [people], [groups] and [defaults] must be tables.")
    people = {}
    for key, entry in people_raw.items():
        where = f"{source}, [people.{key}]"
        if not isinstance(entry, dict):
            raise MailError(f"{where}: must be a table with name, address and role.")
        address = entry.get("address")
        if not valid_address(address):
            raise MailError(f"{where}: address {address!r} is not a valid email address.\n"
                            f"  How to fix: write it as name@domain.tld, without the person's name or spaces.")
        view = entry.get("view", views.FULL)
        why = views.check_name(view)
        if why:
            raise MailError(f"{where}: view {view!r} {why}; the views are full (the whole pack, the default), cfo, "
                            f"cio and bu:<business unit>, e.g. bu:Legal.")
        people[key] = Recipient(key, _clean_text(entry.get("name"), "name", where), address,
                                _clean_text(entry.get("role", "-"), "role", where), views.normal(view))
    groups = {}
    for name, members in groups_raw.items():
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise MailError(f"{source}, [groups] {name}: must be a list of keys of [people], e.g. [\"chair\", \"cfo\"].")
        unknown = [m for m in members if m not in people]
        if unknown:
            raise MailError(f"{source}, [groups] {name}: {', '.join(unknown)} not in [people]; "
                            f"known: {', '.join(sorted(people)) or 'nobody'}.")
        groups[name] = list(members)
    return people, groups, defaults


def load_recipients(path: str | Path, groups: Iterable[str] | None = None, default: str = "send") -> list[Recipient]:
    """The people of `groups` (or of the file's [defaults] `default` list), once each, in file order.

    Refuses an unreadable file, an unknown group, a malformed address and an empty result.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MailError(f"{path}: recipients file not found.\n"
                        f"  How to fix: write the project's config/recipients.toml with the people and groups "
                        f"(boardpack init writes an example to edit).") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise MailError(f"{path}: not valid TOML ({e}).") from None
    people, group_map, defaults = parse_recipients(raw, str(path))
    wanted = list(groups or defaults.get(default) or [])
    if not wanted:
        raise MailError(f"{path}: no group chosen; pass --group or set [defaults] {default} = [\"board\"].")
    chosen: dict[str, Recipient] = {}
    for group in wanted:
        if group not in group_map:
            raise MailError(f"{path}: no group {group!r}; the groups are {', '.join(group_map) or 'none'}.")
        for key in group_map[group]:
            person = people[key]
            chosen.setdefault(person.address.lower(), person)
    if not chosen:
        raise MailError(f"{path}: the recipient list is empty (groups {', '.join(wanted)} have no members); "
                        f"nothing was sent.")
    return list(chosen.values())


def select(people: list[Recipient], only: Iterable[str] | None, source: str) -> list[Recipient]:
    """The chosen recipients restricted to `only` (addresses or [people] keys); refuse a name not among them."""
    only = [o.strip() for o in only or [] if o.strip()]
    if not only:
        return people
    by = {r.address.lower(): r for r in people} | {r.key: r for r in people if r.key}
    unknown = [o for o in only if o.lower() not in by and o not in by]
    if unknown:
        raise MailError(f"--only {', '.join(unknown)}: not among the chosen recipients of {source} "
                        f"({', '.join(r.address for r in people)}); nothing was sent.\n"
                        f"  How to fix: name a chosen address, or choose its group with --group.")
    wanted = {(by.get(o.lower()) or by[o]).address.lower() for o in only}
    return [r for r in people if r.address.lower() in wanted]


# ---------------------------------------------------------------------------------------------- composition

def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-") or "boardpack"


def attachment_name(company: str, quarter: str, status: str, view: str = "") -> str:
    """Northwind-Group-AI-board-pack-2026-Q3.pdf (PROVISIONAL packs say so in the name too); a role view's name
    says which: ...-2026-Q3-CFO-view.pdf, ...-2026-Q3-Sales-Marketing-view.pdf (`view`: CFO, Sales-Marketing)."""
    return (f"{slug(company)}-AI-board-pack-{quarter}" + (f"-{view}-view" if view else "")
            + ("-PROVISIONAL" if status != "FINAL" else "") + ".pdf")


def subject(company: str, quarter: str, status: str, view_title: str = "") -> str:
    return f"{company} · {TITLE} {quarter} · " + (f"{view_title} · " if view_title else "") + status


def _view_lines(view_title: str, contents: Iterable[str], company: str, q: str, status: str) -> list[str]:
    """The opening of a message: which pack, and for a role view, which view and what it holds."""
    if not view_title:
        return [f"Attached is the {company} {TITLE} for {q} ({status})."]
    return [f"Attached is the {view_title} of the {company} {TITLE} for {q} ({status}): the pages chosen for "
            f"your role, with the same numbers as the full pack.", f"In this view: {'; '.join(contents)}."]


def headlines(metrics: dict) -> list[dict]:
    """The three headline metrics as display strings: label, value, target, status; all through fmt."""
    return [{"label": label, "value": f(metrics.get(key)), "target": f((metrics.get("targets") or {}).get(key)),
             "rag": str((metrics.get("rag") or {}).get(key) or "n/a")} for key, label, f in HEADLINES]


def body_text(metrics: dict, company: str, recipient: Recipient, pdf_name: str, pdf_sha256: str,
              confidentiality: str = "", view_title: str = "", contents: Iterable[str] = ()) -> str:
    q, status = metrics["quarter"], metrics["status"]
    lines = [f"Dear {recipient.name},", "", *_view_lines(view_title, contents, company, q, status), ""]
    if status != "FINAL":
        lines += ["PROVISIONAL: some data checks failed; the appendix of the pack lists them.", ""]
    lines += ["Headline metrics:"]
    width = max(len(h["label"]) for h in headlines(metrics))
    lines += [f"  {h['label']:<{width}}  {h['value']:>8}  target {h['target']:>8}  {h['rag'].upper()}"
              for h in headlines(metrics)]
    lines += ["", f"AI spend in {q}: {fmt.money(metrics.get('spend'), metrics.get('currency', 'USD'))}; "
                  f"evidenced value: {fmt.money(metrics.get('value'), metrics.get('currency', 'USD'))}.",
              "", f"Attachment: {pdf_name}", f"SHA-256: {pdf_sha256}"]
    if confidentiality:
        lines += ["", confidentiality]
    return "\n".join(lines) + "\n"


def body_html(metrics: dict, company: str, recipient: Recipient, pdf_name: str, pdf_sha256: str,
              confidentiality: str = "", view_title: str = "", contents: Iterable[str] = ()) -> str:
    e = html.escape
    q, status = metrics["quarter"], metrics["status"]
    rows = "".join(
        f"<tr><td>{e(h['label'])}</td><td style=\"text-align:right\"><strong>{e(h['value'])}</strong></td>"
        f"<td style=\"text-align:right\">{e(h['target'])}</td>"
        f"<td style=\"color:{RAG_COLOURS.get(h['rag'], '#333')}\">{e(h['rag'].upper())}</td></tr>"
        for h in headlines(metrics))
    warn = ("<p><strong>PROVISIONAL:</strong> some data checks failed; the appendix of the pack lists them.</p>"
            if status != "FINAL" else "")
    cur = metrics.get("currency", "USD")
    return (f"<!doctype html><html><body style=\"font-family:sans-serif\">"
            f"<p>Dear {e(recipient.name)},</p>"
            + "".join(f"<p>{e(line)}</p>" for line in _view_lines(view_title, contents, company, q, status))
            + f"{warn}"
            f"<table cellpadding=\"6\" style=\"border-collapse:collapse\">"
            f"<tr><th align=\"left\">Metric</th><th>{e(q)}</th><th>Target</th><th align=\"left\">Status</th></tr>"
            f"{rows}</table>"
            f"<p>AI spend in {e(q)}: {e(fmt.money(metrics.get('spend'), cur))}; "
            f"evidenced value: {e(fmt.money(metrics.get('value'), cur))}.</p>"
            f"<p style=\"color:#555\">Attachment: {e(pdf_name)}<br>SHA-256: <code>{e(pdf_sha256)}</code></p>"
            + (f"<p style=\"color:#555\"><em>{e(confidentiality)}</em></p>" if confidentiality else "")
            + "</body></html>\n")


def _message(sender: str, recipient: Recipient, subj: str, date: datetime.datetime) -> EmailMessage:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = recipient.header
    msg["Subject"] = subj
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = make_msgid(idstring="boardpack", domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    return msg


def compose_pack(pack: "Pack", recipient: Recipient, sender: str, date: datetime.datetime | None = None,
                 doc: "Document | None" = None) -> EmailMessage:
    """One recipient's message: subject, plain and HTML body from metrics.json, the PDF of their view attached
    (`doc`, default: the one their `view` names)."""
    doc = doc or pack.document(recipient)
    args = (pack.metrics, pack.company, recipient, doc.attachment, doc.sha256, pack.confidentiality, doc.title,
            doc.contents)
    msg = _message(sender, recipient, subject(pack.company, pack.quarter, pack.status, doc.title),
                   date or datetime.datetime.now(datetime.timezone.utc))
    msg["X-Boardpack-Quarter"] = pack.quarter
    msg["X-Boardpack-View"] = doc.view
    msg["X-Boardpack-PDF-SHA256"] = doc.sha256
    msg.set_content(body_text(*args), cte="quoted-printable")  # 7-bit safe through any relay
    msg.add_alternative(body_html(*args), subtype="html", cte="quoted-printable")
    msg.add_attachment(doc.pdf, maintype="application", subtype="pdf", filename=doc.attachment)
    return msg


def compose_failure(company: str, quarter: str | None, report: str, command: str, recipient: Recipient,
                    sender: str, date: datetime.datetime | None = None) -> EmailMessage:
    """A failed-build notice: what ran, and the error report attached (and quoted) instead of a pack."""
    date = date or datetime.datetime.now(datetime.timezone.utc)
    which = quarter or "latest complete quarter"
    msg = _message(sender, recipient, f"{company} · {TITLE} {which} · BUILD FAILED", date)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(f"Dear {recipient.name},\n\nThe scheduled build of the {TITLE} ({which}) failed on "
                    f"{socket.gethostname()} at {date:%Y-%m-%d %H:%M} UTC. No pack was rendered; earlier packs "
                    f"are untouched.\n\nCommand: {command}\n\nThe error report is attached; it reads:\n\n"
                    + "\n".join("    " + line for line in report.splitlines()) + "\n", cte="quoted-printable")
    msg.add_attachment(report.encode("utf-8"), maintype="text", subtype="plain", params={"charset": "utf-8"},
                       filename=f"boardpack-error-{slug(which)}.txt")  # bytes: the report verbatim
    return msg


# --------------------------------------------------------------------------------------------- the pack

@dataclass(frozen=True)
class Document:
    """What one recipient receives: the full pack, or one of its role views (views/index.json)."""
    view: str  # full, cfo, cio, bu:<business unit>
    title: str  # "" for the full pack; "CFO view", "Legal business-unit view"
    pdf: bytes = field(repr=False)
    sha256: str
    attachment: str
    contents: tuple[str, ...] = ()  # the titles of a view's sections


@dataclass
class Pack:
    quarter: str
    folder: Path
    status: str
    company: str
    confidentiality: str
    metrics: dict
    pdf: bytes = field(repr=False)
    sha256: str
    version: str | None = None  # "v3"; None for a pack of the layout before versions
    reports: Path | None = None
    outputs: dict = field(default_factory=dict, repr=False)  # manifest.json's outputs: file -> sha256, bytes
    views: dict | None = field(default=None, repr=False)  # views/index.json; None: built before role views
    _documents: dict = field(default_factory=dict, repr=False)

    @property
    def attachment(self) -> str:
        return attachment_name(self.company, self.quarter, self.status)

    @property
    def home(self) -> Path:
        """reports/<quarter>/: the versions, `latest`, the stable names, .send/ (or, before versions, the pack)."""
        return publish.quarter_dir(self.reports, self.quarter) if self.reports is not None else self.folder

    @property
    def send_dir(self) -> Path:
        if self.reports is None:
            raise MailError(f"{self.folder}: a pack loaded without its reports folder cannot be sent.")
        return publish.send_dir(self.reports, self.quarter)

    @property
    def label(self) -> str:
        return f"{self.quarter} pack" + (f" {self.version}" if self.version else "")

    @property
    def business_units(self) -> list[str]:
        return [v["business_unit"] for v in (self.views or {}).get("views", []) if v.get("business_unit")]

    def document(self, recipient: Recipient) -> Document:
        """The PDF `recipient.view` names, checked against the manifest; refuse a view the pack does not have."""
        view = recipient.view or views.FULL
        if view == views.FULL:
            return Document(views.FULL, "", self.pdf, self.sha256, self.attachment)
        if view in self._documents:
            return self._documents[view]
        who = f"{recipient.name} ([people.{recipient.key}])" if recipient.key else recipient.name
        if self.views is None:
            raise MailError(f"{who}: view {view!r}, but the {self.label} was built before role views (it has no "
                            f"{views.INDEX}); nothing was sent.\n  How to fix: rebuild it (make quarterly-report "
                            f"QUARTER={self.quarter}), or give them view = \"full\" in the recipients file.")
        entry = next((v for v in self.views.get("views", []) if v["view"] == view), None)
        if entry is None:
            raise MailError(f"{who}: view {view!r} is not a view of the {self.label}; the choices are "
                            f"{views.choices(self.business_units)}. Nothing was sent.\n  How to fix: correct its "
                            f"`view` in the recipients file (a business unit as the use-case register names it).")
        pdf = published(self.folder, self.outputs, entry["pdf"], self.quarter)
        name = slug(entry["business_unit"]) if entry.get("business_unit") else view.upper()
        doc = Document(view, entry["title"], pdf, _sha256(pdf),
                       attachment_name(self.company, self.quarter, self.status, name),
                       tuple(c["title"] for c in entry.get("contents", [])))
        self._documents[view] = doc
        return doc


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def published(folder: Path, outputs: dict, name: str, quarter: str) -> bytes:
    """The bytes of a file of the pack, refused unless they are the ones its manifest (`outputs`) recorded."""
    try:
        data = (folder / name).read_bytes()
    except FileNotFoundError:
        data = b""
    expected, actual = (outputs.get(name) or {}).get("sha256"), _sha256(data)
    if expected != actual:
        raise MailError(f"{folder / name}: SHA-256 {actual} differs from manifest.json ({expected}); the file changed "
                        f"after the pack was published. Nothing was sent.\n  How to fix: rebuild the pack "
                        f"(make quarterly-report QUARTER={quarter}) and send again.")
    return data


def load_pack(reports: str | Path, quarter: str, allow_provisional: bool = False) -> Pack:
    """The published pack of `quarter`, checked against its manifest; refuse what must not be sent."""
    if not quarter:
        raise MailError("No quarter given; name the pack to send, e.g. --quarter 2026-Q3 (make email QUARTER=2026-Q3).")
    try:
        q = Quarter.label(quarter)
    except NoDataError as e:
        raise MailError(str(e)) from None
    # Resolved once: a publish that swaps `latest` during the send cannot change what this send reads or sends.
    folder = publish.current(reports, q) or publish.quarter_dir(reports, q)
    manifest_path, pdf_path, metrics_path = folder / "manifest.json", folder / "board-pack.pdf", folder / "metrics.json"
    if not (manifest_path.is_file() and pdf_path.is_file() and metrics_path.is_file()):
        folder = publish.quarter_dir(reports, q)
        raise MailError(f"No published pack for {q} in {Path(reports)} (expected {folder}/board-pack.pdf, "
                        f"metrics.json and manifest.json); nothing was sent.\n"
                        f"  How to fix: build it first with make quarterly-report QUARTER={q}.")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise MailError(f"{folder}: manifest.json or metrics.json is not valid JSON ({e}); nothing was sent.") from None
    try:
        metrics_json.check(metrics, str(metrics_path))
    except MetricsFileError as e:
        raise MailError(f"{e}\n  Nothing was sent.") from None
    outputs = manifest.get("outputs", {})
    pdf = published(folder, outputs, "board-pack.pdf", q)
    published(folder, outputs, "metrics.json", q)
    status = metrics.get("status")
    if manifest.get("quarter") != q or metrics.get("quarter") != q or manifest.get("status") != status:
        raise MailError(f"{folder}: manifest.json and metrics.json disagree on the quarter or status; nothing was sent.")
    if status != "FINAL" and not allow_provisional:
        raise MailError(f"The {q} pack is {status}: some warning checks failed (see {folder / 'data-quality.html'}). "
                        f"Nothing was sent.\n  How to fix: fix the data and rebuild, or send it as PROVISIONAL "
                        f"on purpose with --allow-provisional (make email ... ALLOW_PROVISIONAL=1).")
    cfg = manifest.get("config") or {}
    index = None
    if views.INDEX in outputs:  # the role views, if the pack has them; each PDF is checked when it is sent
        index = json.loads(published(folder, outputs, views.INDEX, q))
    return Pack(q, folder, status, cfg.get("company") or "boardpack", cfg.get("confidentiality") or "",
                metrics, pdf, _sha256(pdf), publish.version_of(folder), Path(reports), outputs, index)


# ------------------------------------------------------------------------------------------ SMTP settings

@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    user: str
    password: str = field(repr=False)
    sender: str
    cafile: str | None = None
    timeout: float = 30.0
    attempts: int = 3
    backoff: float = 2.0

    @property
    def secrets(self) -> list[str]:
        return [self.password] if self.password else []


def read_env(env_file: str | Path | None = None) -> dict[str, str]:
    """BOARDPACK_* settings: the `.env` file (BOARDPACK_ENV_FILE or the project's), then the environment, which wins."""
    from dotenv import dotenv_values

    path = Path(env_file or os.environ.get("BOARDPACK_ENV_FILE") or project.env_file())
    values = {k: v for k, v in dotenv_values(path).items() if v} if path.is_file() else {}
    values.update({k: v for k, v in os.environ.items() if k.startswith("BOARDPACK_") and v})
    return values


def smtp_settings(env: dict[str, str], need_server: bool = True) -> SmtpSettings:
    """Check the SMTP settings; for a dry run (need_server False) only the sender is used."""
    def number(key, default, kind):
        try:
            return kind(env.get(key, default))
        except ValueError:
            raise MailError(f"{key} must be a number, got {env[key]!r}.") from None

    security = env.get("BOARDPACK_SMTP_SECURITY", "starttls").lower()
    if security not in SECURITY:
        raise MailError(f"BOARDPACK_SMTP_SECURITY must be one of {', '.join(SECURITY)}, got {security!r}.")
    sender = env.get("BOARDPACK_MAIL_FROM", "" if need_server else "Board pack <boardpack@localhost.invalid>")
    if not valid_address(parseaddr(sender)[1]) or any(c in sender for c in "\r\n"):
        raise MailError(f"BOARDPACK_MAIL_FROM must be an address such as 'Board pack <boardpack@example.com>', "
                        f"got {sender!r}.")
    s = SmtpSettings(host=env.get("BOARDPACK_SMTP_HOST", ""),
                     port=number("BOARDPACK_SMTP_PORT", 465 if security == "tls" else 587, int),
                     security=security, user=env.get("BOARDPACK_SMTP_USER", ""),
                     password=env.get("BOARDPACK_SMTP_PASSWORD", ""), sender=sender,
                     cafile=env.get("BOARDPACK_SMTP_CAFILE") or None,
                     timeout=number("BOARDPACK_SMTP_TIMEOUT", 30, float),
                     attempts=max(1, number("BOARDPACK_SMTP_ATTEMPTS", 3, int)),
                     backoff=max(0.0, number("BOARDPACK_SMTP_BACKOFF", 2.0, float)))
    for key, value in (("BOARDPACK_SMTP_USER", s.user), ("BOARDPACK_SMTP_PASSWORD", s.password)):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # bytes the locale could not decode arrive as surrogates
            raise MailError(f"{key} is not valid UTF-8 text; check the encoding of the .env file or of the "
                            f"environment. Nothing was sent.") from None
    if need_server:
        if not s.host:
            raise MailError("BOARDPACK_SMTP_HOST is not set; put the SMTP settings in .env (see .env.example) "
                            "or in the environment. Nothing was sent.")
        if s.user and not s.password:
            raise MailError("BOARDPACK_SMTP_USER is set but BOARDPACK_SMTP_PASSWORD is not. Nothing was sent.")
        if s.user and s.security == "none":
            raise MailError("BOARDPACK_SMTP_SECURITY=none would send the password unencrypted; use starttls or tls. "
                            "Nothing was sent.")
        if s.cafile and not Path(s.cafile).is_file():
            raise MailError(f"BOARDPACK_SMTP_CAFILE: {s.cafile} not found. Nothing was sent.")
    return s


def redact(text: str, secrets: Iterable[str]) -> str:
    """Defence in depth: no secret survives into a message we print or log."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


# -------------------------------------------------------------------------------------------------- SMTP

class Transient(Exception):
    """A failure worth retrying (4xx reply, dropped connection, timeout)."""


class Unreachable(Transient):
    """The server cannot be reached or the session cannot be opened: the same for every recipient."""


class Permanent(Exception):
    """A failure for this recipient that retrying will not fix (5xx reply)."""


class Uncertain(Exception):
    """The whole message reached the server but its reply did not reach us: it may have been delivered."""


class Fatal(Exception):
    """A failure for every recipient (login refused, certificate not trusted): stop the run."""


class _Session:
    """smtplib's session, noting when the end of DATA has gone out.

    From that moment the server may hold the message, so a connection lost before its reply means "maybe
    delivered", not "failed": retrying it blindly is how a recipient gets the pack twice.
    """

    in_doubt = False

    def data(self, msg: bytes):
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        body = re.sub(rb"(?m)^\.", b"..", msg)  # dot-stuffing, as smtplib's own data() does
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        self.in_doubt = True  # before the send: an interruption inside it cannot tell whether the dot went out
        try:
            self.send(body + b".\r\n")
        except smtplib.SMTPServerDisconnected:
            self.in_doubt = False  # the send failed, so its last bytes, the final dot, never left
            raise
        code, reply = self.getreply()
        self.in_doubt = False
        return code, reply


class _PlainSession(_Session, smtplib.SMTP):
    pass


class _TLSSession(_Session, smtplib.SMTP_SSL):
    pass


_SMTPLIB_AUTH = ("CRAM-MD5", "PLAIN", "LOGIN")  # what smtplib.login can do


class Mailer:
    """One SMTP session, reopened when it drops; delivers one message to one recipient."""

    def __init__(self, settings: SmtpSettings):
        self.s, self.smtp = settings, None

    @property
    def in_doubt(self) -> bool:
        """True while the server may hold a message whose reply has not come."""
        return self.smtp is not None and self.smtp.in_doubt

    def _connect(self) -> smtplib.SMTP:
        s = self.s
        where = f"{s.host}:{s.port}"
        hint = (f"check BOARDPACK_SMTP_SECURITY ({s.security}; tls for port 465, starttls for 587) "
                f"and BOARDPACK_SMTP_PORT")
        context = ssl.create_default_context(cafile=s.cafile) if s.security != "none" else None
        smtp = None
        try:
            if s.security == "tls":
                smtp = _TLSSession(s.host, s.port, timeout=s.timeout, context=context)
            else:
                smtp = _PlainSession(s.host, s.port, timeout=s.timeout)
            smtp.ehlo()
            if s.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise Fatal(f"{where} does not offer STARTTLS; refusing to send in clear "
                                f"(set BOARDPACK_SMTP_SECURITY=tls for port 465).")
                try:
                    smtp.starttls(context=context)
                except smtplib.SMTPResponseException as e:
                    refusal = (f"{where} refused STARTTLS ({e.smtp_code} {_text(e.smtp_error)}); refusing to send "
                               f"in clear; {hint}")
                    raise (Unreachable if 400 <= e.smtp_code < 500 else Fatal)(refusal) from None
                smtp.ehlo()
            if s.user:
                self._login(smtp)
            return smtp
        except (Fatal, Unreachable):
            _close(smtp)
            raise
        except ssl.SSLCertVerificationError as e:
            _close(smtp)
            raise Fatal(f"the certificate of {where} is not trusted ({e.verify_message}); "
                        f"if the server uses a private CA, point BOARDPACK_SMTP_CAFILE at its certificate.") from None
        except ssl.SSLError as e:
            _close(smtp)
            raise Unreachable(f"the TLS handshake with {where} failed ({e.reason or e}); {hint}") from None
        except smtplib.SMTPAuthenticationError as e:
            _close(smtp)
            raise Fatal(f"{where} refused the login of {s.user!r} ({e.smtp_code} "
                        f"{_text(e.smtp_error)}); check BOARDPACK_SMTP_USER and BOARDPACK_SMTP_PASSWORD.") from None
        except smtplib.SMTPNotSupportedError as e:
            _close(smtp)
            raise Fatal(f"{where}: {e}") from None
        except (smtplib.SMTPException, OSError) as e:
            _close(smtp)
            raise Unreachable(f"cannot reach {where} ({type(e).__name__}: {e})") from None

    def _login(self, smtp: smtplib.SMTP) -> None:
        s = self.s
        where = f"{s.host}:{s.port}"
        if not smtp.has_extn("auth"):
            raise Fatal(f"{where} does not offer a login (no AUTH in its EHLO reply); leave BOARDPACK_SMTP_USER and "
                        f"BOARDPACK_SMTP_PASSWORD empty for a relay that needs none, or check BOARDPACK_SMTP_HOST "
                        f"and BOARDPACK_SMTP_PORT.")
        offered = smtp.esmtp_features.get("auth", "").upper().split()
        if not set(offered) & set(_SMTPLIB_AUTH):
            raise Fatal(f"{where} does not offer a login boardpack can use (it offers {', '.join(offered) or 'none'}; "
                        f"boardpack speaks {', '.join(_SMTPLIB_AUTH)}); check BOARDPACK_SMTP_USER, "
                        f"BOARDPACK_SMTP_HOST and BOARDPACK_SMTP_PORT.")
        if (s.user + s.password).isascii():
            smtp.login(s.user, s.password)
        else:
            self._login_utf8(smtp, offered)

    def _login_utf8(self, smtp: smtplib.SMTP, offered: list[str]) -> None:
        """smtplib encodes credentials as ASCII and raises on anything else; PLAIN and LOGIN carry the bytes
        as they are, and servers read them as UTF-8. CRAM-MD5 hashes the secret in an encoding the server
        chose when it stored it, so it is not tried with non-ASCII credentials."""
        s = self.s
        user, password = s.user.encode("utf-8"), s.password.encode("utf-8")

        def b64(data: bytes) -> str:
            return b64encode(data).decode("ascii")

        if "PLAIN" in offered:
            code, reply = smtp.docmd("AUTH", "PLAIN " + b64(b"\0" + user + b"\0" + password))
        elif "LOGIN" in offered:
            code, reply = smtp.docmd("AUTH", "LOGIN")
            if code == 334:
                code, reply = smtp.docmd(b64(user))
            if code == 334:
                code, reply = smtp.docmd(b64(password))
        else:
            raise Fatal(f"{s.host}:{s.port} offers only {', '.join(offered)} for the login, which cannot carry "
                        f"the non-ASCII characters of BOARDPACK_SMTP_USER or BOARDPACK_SMTP_PASSWORD; use a server "
                        f"(or port) that offers PLAIN or LOGIN, or an ASCII password.")
        if code not in (235, 503):  # 503: already authenticated
            raise smtplib.SMTPAuthenticationError(code, reply)

    def deliver(self, msg: EmailMessage, address: str) -> None:
        """Send msg to one address; raise Transient, Permanent, Uncertain or Fatal."""
        if self.smtp is None:
            self.smtp = self._connect()
        self.smtp.in_doubt = False
        try:
            refused = self.smtp.send_message(msg, from_addr=parseaddr(self.s.sender)[1], to_addrs=[address])
        except smtplib.SMTPRecipientsRefused as e:
            code, reply = e.recipients.get(address, next(iter(e.recipients.values()), (550, b"refused")))
            self._reset()
            raise (Transient if 400 <= code < 500 else Permanent)(f"{code} {_text(reply)}") from None
        except smtplib.SMTPResponseException as e:  # a reply came: the server's answer is certain
            self._reset()
            raise (Transient if 400 <= e.smtp_code < 500 else Permanent)(f"{e.smtp_code} {_text(e.smtp_error)}") from None
        except (smtplib.SMTPException, OSError) as e:
            in_doubt = self.smtp.in_doubt
            self.close()
            if in_doubt:
                raise Uncertain(f"no reply after the server had the whole message ({type(e).__name__}: {e})") from None
            raise Transient(f"{type(e).__name__}: {e}") from None
        if refused:
            raise Permanent(str(refused))

    def _reset(self) -> None:
        try:
            self.smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None

    def abort(self) -> None:
        """Drop the session without QUIT: an interrupted send must not wait on a server that stopped answering."""
        _close(self.smtp)
        self.smtp = None


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        smtp.close()


def _text(reply) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def deliver_with_retry(mailer: Mailer, msg: EmailMessage, address: str, attempts: int, backoff: float,
                       sleep: Callable[[float], None] = time.sleep) -> tuple[str, int, str]:
    """(result, attempts used, last error); result is sent, failed or uncertain. Transient failures wait
    backoff, 2×backoff, ... between tries. An uncertain delivery is never tried again: the server may have it.

    A server still unreachable after the last attempt raises Fatal: every other recipient would fail alike.
    """
    error, unreachable = "", False
    for attempt in range(1, attempts + 1):
        try:
            mailer.deliver(msg, address)
            return "sent", attempt, ""
        except Uncertain as e:
            return "uncertain", attempt, str(e)
        except Permanent as e:
            return "failed", attempt, str(e)
        except Transient as e:
            error, unreachable = str(e), isinstance(e, Unreachable)
            if attempt < attempts:
                sleep(backoff * 2 ** (attempt - 1))
    if unreachable:
        raise Fatal(f"{error}; gave up after {attempts} attempts")
    return "failed", attempts, f"{error} (gave up after {attempts} attempts)"


# --------------------------------------------------------------------------------------------- send log

def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def read_log(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    entries = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                entries.append(json.loads(line))
            except ValueError:
                raise MailError(f"{path}, line {n}: not a JSON line; the send log must not be edited by hand.") from None
    return entries


def legacy_logs(home: Path) -> list[Path]:
    """Send logs of the layout before versions, read so nobody gets a pack twice after the upgrade, never
    written: the quarter's own (until a publish moves it into .send/) and any in a version folder (an upgrade
    done by hand may have moved the old pack there whole)."""
    found, seen = [], set()
    for path in [home / SEND_LOG, *sorted(home.glob(f"v*/{SEND_LOG}"))]:
        if path.is_file() and path.resolve() not in seen:
            seen.add(path.resolve())
            found.append(path)
    return found


def pack_log(pack: Pack) -> list[dict]:
    """Every delivery recorded for the quarter: the legacy logs first, then .send/send-log.jsonl."""
    return [e for path in [*legacy_logs(pack.home), pack.send_dir / SEND_LOG] for e in read_log(path)]


def served(entries: list[dict], pdf_sha256: str) -> dict[str, dict]:
    """Recipients (lower-cased address) who have, or may have, the pack with this hash: the entry that says so.

    A `sent` entry wins over an `uncertain` one; an uncertain delivery counts as served until someone decides
    otherwise with --resend, because sending it again may be the second copy.
    """
    done: dict[str, dict] = {}
    for e in entries:
        address = (e.get("recipient") or "").lower()
        if not address or e.get("pdf_sha256") != pdf_sha256 or e.get("result") not in ("sent", "uncertain"):
            continue
        if e["result"] == "sent" or done.get(address, {}).get("result") != "sent":
            done[address] = e
    return done


def append_log(path: Path, entry: dict, secrets: Iterable[str] = ()) -> None:
    """One JSON line, flushed to disk before the next recipient is tried."""
    line = redact(json.dumps(entry, ensure_ascii=False, allow_nan=False), secrets)  # strict JSON: no bare NaN
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_in_flight(folder: Path, entry: dict) -> None:
    tmp = folder / f".{IN_FLIGHT}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, folder / IN_FLIGHT)  # whole or absent: a torn file could not say who may have the pack
    _fsync_dir(folder)


def _clear_in_flight(folder: Path) -> None:
    (folder / IN_FLIGHT).unlink(missing_ok=True)


def recover_in_flight(folder: Path, log_path: Path, secrets: Iterable[str] = ()) -> list[dict]:
    """A delivery an earlier send began and never logged (it was killed): log it as uncertain; the new entries."""
    path = folder / IN_FLIGHT
    if not path.is_file():
        return []
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        path.unlink()  # only the atomic replace writes it, so this is not ours
        return []
    if any(e.get("message_id") == entry.get("message_id") for e in read_log(log_path)):
        path.unlink()  # the outcome was logged; the send ended before it tidied up
        return []
    pid, started = entry.pop("pid", "?"), entry.pop("started", "?")
    entry |= {"time": now_iso(), "result": "uncertain", "attempts": None,
              "error": f"the send (pid {pid}, delivery started {started}) ended during this delivery; "
                       f"the server may have the message"}
    append_log(log_path, entry, secrets)
    path.unlink()
    return [entry]


@contextmanager
def locked(folder: Path, quarter: str, holder: dict) -> Iterator[None]:
    """One send of a quarter at a time (a cron job and a person must not both send).

    The lock file lives in .send/, which no publish touches: a lock inside a folder that a rebuild swaps out
    stops excluding anyone. It holds who has it, so a refused send can name them; the flock is what counts.
    """
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / SEND_LOCK, os.O_RDWR | os.O_CREAT, 0o666)
    with os.fdopen(fd, "r+", encoding="utf-8") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = publish.lock_holder(f.fileno())
            who = (f"pid {other.get('pid')} on {other.get('host')}, started {other.get('started')}"
                   if other.get("pid") else "it has only just started")
            raise LockedError(f"Another send of {quarter} is running ({who}); wait for it to finish, then run "
                              f"again: it sends only to those not yet served. Nothing was sent.") from None
        try:
            f.seek(0)
            f.truncate()
            f.write(json.dumps(holder))
            f.flush()
            yield
        finally:
            f.seek(0)
            f.truncate()
            fcntl.flock(f, fcntl.LOCK_UN)


# -------------------------------------------------------------------------------------------------- runs

@dataclass
class Outcome:
    recipient: Recipient
    result: str  # sent | failed | uncertain | skipped | written
    detail: str = ""
    attempts: int = 0
    message_id: str = ""
    # skipped: the log entry that says they have this PDF (or may); sent or written: one that says they received
    # another PDF of the quarter, which this one follows as a new pack
    entry: dict = field(default_factory=dict)

    @property
    def still_uncertain(self) -> bool:
        """Skipped because an earlier delivery of this pack is uncertain and nobody has resolved it."""
        return self.result == "skipped" and self.entry.get("result") == "uncertain"


def send_pack(pack: Pack, recipients: list[Recipient], settings: SmtpSettings, resend: bool = False,
              dry_run: bool = False, report: Callable[[Outcome], None] = lambda o: None) -> list[Outcome]:
    """Send (or, dry run, write to outbox/) one message per recipient not yet served with this PDF."""
    outcomes: list[Outcome] = []
    try:
        return _send(pack, recipients, settings, resend, dry_run, report, outcomes)
    except OSError as e:  # the reports folder, not the server: SMTP errors never get this far
        where = e.filename or pack.home
        raise MailError(f"Stopped: {where}: {e.strerror or e}. Check the permissions and free space of the reports "
                        f"folder." + _so_far(outcomes)
                        + ("\n  A delivery under way when this happened is reported as uncertain by the next send."
                           if not dry_run else "")) from None


def _send(pack: Pack, recipients: list[Recipient], settings: SmtpSettings, resend: bool, dry_run: bool,
          report: Callable[[Outcome], None], outcomes: list[Outcome]) -> list[Outcome]:
    folder = pack.send_dir
    log_path = folder / SEND_LOG

    def done(o: Outcome) -> None:
        outcomes.append(o)
        report(o)

    # what each recipient receives, the PDF of their view: every view is checked before anything is sent
    docs = {r.address.lower(): pack.document(r) for r in recipients}
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": now_iso(), "version": pack.version}
    with locked(folder, pack.quarter, holder):
        recovered = recover_in_flight(folder, log_path, settings.secrets)
        for e in recovered:
            done(Outcome(Recipient("", e.get("name") or e["recipient"], e["recipient"]), "uncertain", e["error"],
                         0, e.get("message_id") or "", e))
        entries = pack_log(pack)
        # never twice: a recipient is served when the log says they have (or may have) the PDF of their view
        by_sha = {} if resend else {sha: served(entries, sha) for sha in {d.sha256 for d in docs.values()}}
        already = {a: by_sha[d.sha256][a] for a, d in docs.items() if a in by_sha.get(d.sha256, {})}
        earlier = {e["recipient"].lower(): e for e in entries if e.get("result") == "sent"
                   and (e.get("recipient") or "").lower() in docs and e.get("quarter") == pack.quarter
                   and e.get("pdf_sha256") != docs[e["recipient"].lower()].sha256}
        just_reported = set()  # reported above as uncertain, so not again as skipped
        for e in recovered:
            if e["recipient"].lower() in docs and e.get("pdf_sha256") == docs[e["recipient"].lower()].sha256:
                just_reported.add(e["recipient"].lower())
        todo = []
        for r in recipients:
            entry = already.get(r.address.lower())
            if entry is None:
                todo.append(r)
            elif r.address.lower() not in just_reported:
                what = "already sent" if entry["result"] == "sent" else "delivery uncertain since"
                done(Outcome(r, "skipped", f"{what} {entry.get('time', '')}", message_id=entry.get("message_id") or "",
                             entry=entry))
        if dry_run:
            outbox = pack.home / OUTBOX  # not in the version: a published version is never written to
            outbox.mkdir(exist_ok=True)
            for old in outbox.glob("*.eml"):
                old.unlink()
            for n, r in enumerate(todo, start=1):
                msg = compose_pack(pack, r, settings.sender, doc=docs[r.address.lower()])
                path = outbox / f"{n:02d}-{slug(r.address)}.eml"
                path.write_bytes(msg.as_bytes(policy=policy.SMTP))
                done(Outcome(r, "written", str(path), message_id=msg["Message-ID"],
                             entry=earlier.get(r.address.lower(), {})))
            return outcomes
        mailer = Mailer(settings)
        try:
            for r in todo:
                doc = docs[r.address.lower()]
                msg = compose_pack(pack, r, settings.sender, doc=doc)
                # pdf_sha256: the PDF attached (the view's); pack_sha256: the full pack's it was cut from
                entry = {"time": now_iso(), "quarter": pack.quarter, "version": pack.version, "recipient": r.address,
                         "name": r.name, "message_id": msg["Message-ID"], "view": doc.view, "pdf_sha256": doc.sha256,
                         "attachment": doc.attachment, "pack_sha256": pack.sha256, "status": pack.status}
                _write_in_flight(folder, entry | {"pid": os.getpid(), "started": entry["time"]})
                try:
                    result, attempts, error = deliver_with_retry(mailer, msg, r.address, settings.attempts,
                                                                 settings.backoff)
                except Fatal as e:
                    _clear_in_flight(folder)  # Fatal comes from opening the session: no message went out
                    raise MailError(redact(f"Stopped: {e}", settings.secrets) + _so_far(outcomes)) from None
                except BaseException:
                    if not mailer.in_doubt:  # interrupted before the end of DATA or after its reply
                        _clear_in_flight(folder)
                    mailer.abort()
                    raise  # else the file stays, and the next send logs this delivery as uncertain
                error = redact(error, settings.secrets)
                append_log(log_path, entry | {"time": now_iso(), "result": result, "attempts": attempts,
                                              "error": error or None}, settings.secrets)
                _clear_in_flight(folder)
                done(Outcome(r, result, error, attempts, msg["Message-ID"],
                             earlier.get(r.address.lower(), {}) if result == "sent" else {}))
        finally:
            mailer.close()
    return outcomes


def _so_far(outcomes: list[Outcome]) -> str:
    text = ""
    if any(o.result == "sent" for o in outcomes):
        text += "\n  Those already sent are in the send log; a re-run sends only to the others."
    uncertain = [o for o in outcomes if o.result == "uncertain"]
    if uncertain:
        text += ("\n  Uncertain (the server may have the message; a re-run does not send it again): "
                 + ", ".join(f"{o.recipient.address} (Message-ID {o.message_id})" for o in uncertain))
    return text


def notify_failure(reports: str | Path, company: str, quarter: str | None, report_text: str, command: str,
                   recipients: list[Recipient], settings: SmtpSettings) -> list[Outcome]:
    """Email a failed build's error report to `recipients`; log each notice in <reports>/notify-log.jsonl."""
    log_path = Path(reports) / NOTIFY_LOG
    report_text = redact(report_text, settings.secrets)
    outcomes = []
    mailer = Mailer(settings)
    try:
        for r in recipients:
            msg = compose_failure(company, quarter, report_text, command, r, settings.sender)
            try:
                result, attempts, error = deliver_with_retry(mailer, msg, r.address, settings.attempts, settings.backoff)
            except Fatal as e:
                result, attempts, error = "failed", 1, str(e)
            error = redact(error, settings.secrets)
            outcomes.append(Outcome(r, result, error, attempts, msg["Message-ID"]))
            Path(reports).mkdir(parents=True, exist_ok=True)
            append_log(log_path, {"time": now_iso(), "quarter": quarter, "recipient": r.address,
                                  "message_id": msg["Message-ID"], "report_sha256": _sha256(report_text.encode()),
                                  "result": result, "attempts": attempts, "error": error or None}, settings.secrets)
    finally:
        mailer.close()
    return outcomes
