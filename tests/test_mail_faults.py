"""Sending under faults (issue 14): a rebuild during a send, a reply lost after DATA, a process killed mid-delivery,
4xx/5xx per recipient, a server that is down or refuses TLS, non-ASCII passwords.

The server is aiosmtpd on 127.0.0.1, driven by the test: it can hold a message until released, drop the
connection after it has the whole message (the client never gets the reply), never answer, and reply 4xx/5xx
per recipient at RCPT or after DATA. The CLI runs as a user runs it. The pack is a copy of the session's
sample pack laid out as published versions: reports/<quarter>/v1, `latest` -> v1, the stable names through it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import threading
from collections import Counter
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from .conftest import ROOT
from .test_mail import RECIPIENTS, free_port, self_signed

QUARTER = "2026-Q3"
CHAIR, DIRECTOR, CFO, CIO = ("margaret.okafor@northwind.example", "priya.raman@northwind.example",
                             "sofia.alvarez@northwind.example", "kenji.watanabe@northwind.example")
EVERYONE = [CHAIR, DIRECTOR, CFO, CIO]  # the defaults.send list of the fixture, in file order
UNCERTAIN_EXIT = 4
NON_ASCII_PASSWORD = "Pässwörd-€-日本-7Q!x"


# ------------------------------------------------------------------------------------------- the server

class Faults:
    """aiosmtpd handler whose behaviour each test sets: replies per recipient, holds, drops, silence."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.received: list[dict] = []  # messages the server had whole (accepted, or dropped before the reply)
        self.rcpt: dict[str, list[str]] = {}  # address -> replies to RCPT, one used per try; then 250
        self.after_data: dict[str, list[str]] = {}  # address -> "drop", "silent" or a reply, one per try; then 250
        self.hold, self.hold_at = 0, "data"  # hold this many messages until `release`: after DATA, or at RCPT
        self.release, self.holding = threading.Event(), threading.Event()
        self.password = NON_ASCII_PASSWORD
        self.logins: list[tuple[str, bool]] = []

    async def _held(self, where: str) -> None:
        if self.hold_at == where and self.hold > 0:
            self.hold -= 1
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await self._held("rcpt")
        if self.rcpt.get(address):
            reply = self.rcpt[address].pop(0)
            if reply == "drop":
                server.transport.abort()
                await asyncio.sleep(3600)  # cancelled when the connection is lost
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        [address] = envelope.rcpt_tos
        headers = BytesHeaderParser().parsebytes(envelope.original_content)
        record = {"rcpt": address, "sha": headers["X-Boardpack-PDF-SHA256"], "message_id": " ".join(headers["Message-ID"].split())}
        action = self.after_data[address].pop(0) if self.after_data.get(address) else "250"
        if action[0] in "45":
            return action  # refused: the server does not have it
        self.received.append(record)
        await self._held("data")
        if action == "drop":  # the whole message is here; the reply never leaves
            server.transport.abort()
            await asyncio.sleep(3600)
        if action == "silent":
            await asyncio.sleep(3600)
        return "250 2.0.0 Ok: queued"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == self.password.encode("utf-8")
        self.logins.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)

    def per_recipient(self) -> Counter:
        return Counter(m["rcpt"] for m in self.received)


@pytest.fixture(scope="module")
def plain_server():
    """No TLS, no login: the faults under test are in the delivery, not the session."""
    handler = Faults()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    controller.handler = handler
    yield controller
    handler.release.set()
    controller.stop()


@pytest.fixture
def server(plain_server) -> Faults:
    plain_server.handler.reset()
    yield plain_server.handler
    plain_server.handler.release.set()  # a failed test must not leave a client waiting


def smtp_env(port: int, tmp_path: Path, **extra) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BOARDPACK_")}
    return clean | {"BOARDPACK_ENV_FILE": str(tmp_path / "no.env"), "BOARDPACK_SMTP_HOST": "127.0.0.1",
                    "BOARDPACK_SMTP_PORT": str(port), "BOARDPACK_SMTP_SECURITY": "none",
                    "BOARDPACK_MAIL_FROM": "Board pack <boardpack@northwind.example>",
                    "BOARDPACK_SMTP_BACKOFF": "0.01", "BOARDPACK_SMTP_TIMEOUT": "10"} | extra


@pytest.fixture
def env(plain_server, tmp_path) -> dict:
    return smtp_env(plain_server.port, tmp_path)


def cli(env: dict, reports: Path, *args: str, popen: bool = False):
    command = [sys.executable, "-m", "boardpack.cli", "send", "--quarter", QUARTER, "--reports", str(reports),
               "--recipients", str(RECIPIENTS), *args]
    if popen:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    return subprocess.run(command, check=False, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


# ------------------------------------------------------------------------------------------ the layout

STABLE = {"latest", ".send"}


def _stable_names(quarter: Path) -> None:
    """What a publish does besides the versions: every top-level name is rebuilt through `latest`, except .send."""
    for entry in quarter.iterdir():
        if entry.name in STABLE or (entry.name[:1] == "v" and entry.name[1:].isdigit()):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    for entry in (quarter / "latest").iterdir():
        os.symlink(Path("latest") / entry.name, quarter / entry.name)


def fake_publish(reports: Path, source: Path | None = None) -> str:
    """Publish the next version of the quarter: a copy of `source` (default: the current one), `latest` swapped
    atomically, the stable names rebuilt. Returns the new version's name."""
    quarter = reports / QUARTER
    versions = [int(p.name[1:]) for p in quarter.glob("v*") if p.name[1:].isdigit()] if quarter.exists() else []
    name = f"v{max(versions, default=0) + 1}"
    shutil.copytree(source or (quarter / "latest").resolve(), quarter / name)
    tmp = quarter / f".latest-{name}"
    os.symlink(name, tmp)
    os.replace(tmp, quarter / "latest")
    _stable_names(quarter)
    return name


@pytest.fixture(scope="module")
def built(sample_pack) -> Path:
    """The folder of the session's pack, whichever layout the build published it in."""
    quarter = sample_pack[0]
    return (quarter / "latest").resolve() if (quarter / "latest").exists() else quarter


@pytest.fixture
def reports(tmp_path, built) -> Path:
    """reports/2026-Q3 with one published version v1 (a copy of the session's pack)."""
    target = tmp_path / "reports"
    (target / QUARTER).mkdir(parents=True)
    fake_publish(target, built)
    return target


def log_entries(reports: Path) -> list[dict]:
    path = reports / QUARTER / ".send" / "send-log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def pdf_sha(reports: Path) -> str:
    return json.loads((reports / QUARTER / "manifest.json").read_text())["outputs"]["board-pack.pdf"]["sha256"]


def no_traceback(proc) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr


# ------------------------------------------------------------------------------ item 1: send, rebuild, send

def test_send_rebuild_send_refuses_the_second_send_and_serves_nobody_twice(server, reports, env):
    server.hold = 1  # the first message waits at the server: the first send is in the middle of its run
    first = cli(env | {"BOARDPACK_SMTP_TIMEOUT": "60"}, reports, popen=True)
    try:
        assert server.holding.wait(30), "the first send never reached the server"
        assert fake_publish(reports) == "v2"  # same inputs, same files: the same PDF hash
        assert (reports / QUARTER / "latest").resolve().name == "v2"

        second = cli(env, reports)
        no_traceback(second)
        assert second.returncode == 2, second.stdout + second.stderr
        assert f"Another send of {QUARTER} is running" in second.stderr
        assert f"pid {first.pid}" in second.stderr
        assert re.search(r"started \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", second.stderr), second.stderr
        assert server.per_recipient() == {CHAIR: 1}  # the refused send delivered nothing
    finally:
        server.release.set()
        out, errors = first.communicate(timeout=60)
    assert first.returncode == 0, out + errors

    third = cli(env, reports)
    assert third.returncode == 0, third.stdout + third.stderr
    assert third.stdout.count("skipped") == 4 and "--resend" in third.stdout
    assert server.per_recipient() == {r: 1 for r in EVERYONE}  # nobody received the same PDF twice

    entries = log_entries(reports)
    assert [e["recipient"] for e in entries] == EVERYONE
    assert all(e["result"] == "sent" and e["pdf_sha256"] == pdf_sha(reports) for e in entries)
    assert {e["version"] for e in entries} == {"v1"}  # the first send loaded v1 and sent it to the end
    assert not any((reports / QUARTER / v / "send-log.jsonl").exists() for v in ("v1", "v2"))


def test_the_lock_and_the_log_live_outside_every_version(server, reports, env):
    assert cli(env, reports, "--group", "board").returncode == 0
    send_dir = reports / QUARTER / ".send"
    assert (send_dir / "send-log.jsonl").is_file() and (send_dir / ".send-log.jsonl.lock").is_file()
    fake_publish(reports)
    fake_publish(reports)  # v3: the log still decides
    again = cli(env, reports)
    assert again.returncode == 0, again.stdout + again.stderr
    assert server.per_recipient() == {r: 1 for r in EVERYONE}
    by = {e["recipient"]: e["version"] for e in log_entries(reports)}
    assert by == {CHAIR: "v1", DIRECTOR: "v1", CFO: "v1", CIO: "v3"}  # which version each recipient received


def test_a_rebuilt_pack_with_another_pdf_is_a_new_pack_and_the_output_says_who_had_the_old_one(server, reports, env):
    assert cli(env, reports, "--group", "board").returncode == 0
    v2 = reports / QUARTER / fake_publish(reports)
    with open(v2 / "board-pack.pdf", "ab") as f:  # what a build whose PDF bytes differ publishes
        f.write(b"%another build\n")
    manifest = json.loads((v2 / "manifest.json").read_text())
    manifest["outputs"]["board-pack.pdf"]["sha256"] = hashlib.sha256((v2 / "board-pack.pdf").read_bytes()).hexdigest()
    (v2 / "manifest.json").write_text(json.dumps(manifest))

    proc = cli(env, reports)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert server.per_recipient() == {CHAIR: 2, DIRECTOR: 2, CFO: 2, CIO: 1}
    assert f"3 of them had received another PDF of {QUARTER} before (v1)" in proc.stdout
    assert {e["version"] for e in log_entries(reports)[3:]} == {"v2"}


def test_a_reports_folder_that_cannot_be_written_is_a_clear_error(server, reports, env):
    (reports / QUARTER / ".send").write_text("not a folder")
    proc = cli(env, reports)
    no_traceback(proc)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Stopped:" in proc.stderr and str(reports / QUARTER / ".send") in proc.stderr
    assert server.received == []


def _legacy_in_quarter(reports: Path, pack: Path, entry: str) -> None:
    """The layout before versions: the pack's files and its send log directly in reports/<quarter>/."""
    shutil.rmtree(reports / QUARTER)
    shutil.copytree(pack, reports / QUARTER)
    (reports / QUARTER / "send-log.jsonl").write_text(entry + "\n")


def _legacy_migrated(reports: Path, pack: Path, entry: str) -> None:
    """An old pack moved into v1 by the upgrade, with the send log the old build kept inside the pack."""
    (reports / QUARTER / "v1" / "send-log.jsonl").write_text(entry + "\n")


@pytest.mark.parametrize("layout", [_legacy_in_quarter, _legacy_migrated], ids=lambda f: f.__name__.strip("_"))
def test_a_send_log_of_the_old_layout_is_still_honoured(server, reports, env, built, layout):
    old = {"time": "2026-10-05T09:00:00+00:00", "quarter": QUARTER, "recipient": DIRECTOR, "name": "Priya Raman",
           "message_id": "<old@northwind.example>", "pdf_sha256": pdf_sha(reports), "result": "sent", "attempts": 1}
    layout(reports, built, json.dumps(old))
    proc = cli(env, reports)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert server.per_recipient() == {CHAIR: 1, CFO: 1, CIO: 1}  # the director already had this PDF
    assert "skipped" in proc.stdout and "2026-10-05" in proc.stdout
    assert [e["recipient"] for e in log_entries(reports)] == [CHAIR, CFO, CIO]  # new entries: in .send only
    assert {e["version"] for e in log_entries(reports)} == {None if layout is _legacy_in_quarter else "v1"}
    assert json.loads((reports / QUARTER / ("" if layout is _legacy_in_quarter else "v1") / "send-log.jsonl")
                      .read_text()) == old  # the old log is read, never rewritten


# ------------------------------------------------------------------------- item 2: a reply lost after DATA

@pytest.mark.parametrize("fault", ["drop", "silent"])
def test_a_reply_lost_after_data_is_uncertain_and_never_resent_automatically(server, reports, env, fault):
    server.after_data = {DIRECTOR: [fault]}
    proc = cli(env | {"BOARDPACK_SMTP_TIMEOUT": "1"}, reports)
    no_traceback(proc)
    assert proc.returncode == UNCERTAIN_EXIT, proc.stdout + proc.stderr
    assert server.per_recipient() == {r: 1 for r in EVERYONE}  # the server had the director's message once
    by = {e["recipient"]: e for e in log_entries(reports)}
    assert by[DIRECTOR]["result"] == "uncertain" and by[DIRECTOR]["attempts"] == 1
    assert by[DIRECTOR]["message_id"] == server.received[1]["message_id"]
    assert all(by[r]["result"] == "sent" for r in (CHAIR, CFO, CIO))
    assert "uncertain" in proc.stderr and DIRECTOR in proc.stderr and by[DIRECTOR]["message_id"] in proc.stderr
    assert f"--only {DIRECTOR} --resend" in proc.stderr

    again = cli(env, reports)  # a plain re-run does not send it again
    assert again.returncode == 0, again.stdout + again.stderr
    assert server.per_recipient()[DIRECTOR] == 1 and again.stdout.count("skipped") == 4
    assert DIRECTOR in again.stderr and "uncertain" in again.stderr

    resent = cli(env, reports, "--only", DIRECTOR, "--resend")  # the explicit way to send again
    assert resent.returncode == 0, resent.stdout + resent.stderr
    assert server.per_recipient() == {CHAIR: 1, DIRECTOR: 2, CFO: 1, CIO: 1}
    assert [e["result"] for e in log_entries(reports) if e["recipient"] == DIRECTOR] == ["uncertain", "sent"]


def test_a_drop_before_the_end_of_data_is_retried_and_delivered_once(server, reports, env):
    server.rcpt = {CFO: ["drop"]}  # before DATA: the server cannot have the message
    proc = cli(env, reports)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert server.per_recipient() == {r: 1 for r in EVERYONE}
    by = {e["recipient"]: e for e in log_entries(reports)}
    assert by[CFO]["result"] == "sent" and by[CFO]["attempts"] == 2


def test_a_send_killed_during_a_delivery_leaves_it_uncertain(server, reports, env):
    server.hold = 1
    first = cli(env | {"BOARDPACK_SMTP_TIMEOUT": "60"}, reports, popen=True)
    assert server.holding.wait(30)
    first.send_signal(signal.SIGKILL)  # no handler runs: only what is on disk survives
    first.communicate(timeout=30)
    server.release.set()

    proc = cli(env, reports)
    no_traceback(proc)
    assert proc.returncode == UNCERTAIN_EXIT, proc.stdout + proc.stderr
    assert server.per_recipient() == {r: 1 for r in EVERYONE}
    by = {e["recipient"]: e for e in log_entries(reports)}
    assert by[CHAIR]["result"] == "uncertain" and "ended" in by[CHAIR]["error"]
    assert by[CHAIR]["message_id"] == server.received[0]["message_id"]
    assert CHAIR in proc.stderr and f"--only {CHAIR} --resend" in proc.stderr


@pytest.mark.parametrize("where", ["rcpt", "data"])
def test_an_interrupted_send_leaves_uncertain_only_what_the_server_may_have(server, reports, env, where):
    server.hold, server.hold_at = 1, where  # Ctrl-C while the client waits for the reply to RCPT, or to the end of DATA
    first = cli(env | {"BOARDPACK_SMTP_TIMEOUT": "60"}, reports, popen=True)
    assert server.holding.wait(30)
    first.send_signal(signal.SIGINT)
    out, errors = first.communicate(timeout=30)  # not waiting for the held reply: the session is dropped
    server.release.set()
    assert first.returncode != 0 and "Traceback" not in out + errors, out + errors

    proc = cli(env, reports)
    no_traceback(proc)
    assert server.per_recipient() == {r: 1 for r in EVERYONE}
    by = {e["recipient"]: e for e in log_entries(reports)}
    if where == "data":
        assert proc.returncode == UNCERTAIN_EXIT, proc.stdout + proc.stderr
        assert by[CHAIR]["result"] == "uncertain" and f"--only {CHAIR} --resend" in proc.stderr
    else:  # the server never had the message: the next send delivers it, once
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert by[CHAIR]["result"] == "sent"


# ------------------------------------------------------------------------------ replies per recipient

@pytest.mark.parametrize("phase, replies, result, attempts, shown", [
    ("rcpt", ["550 5.1.1 mailbox unavailable"], "failed", 1, "550 5.1.1 mailbox unavailable"),
    ("rcpt", ["452 4.2.2 mailbox full"] * 9, "failed", 3, "452 4.2.2 mailbox full (gave up after 3 attempts)"),
    ("data", ["554 5.7.1 message rejected as spam"], "failed", 1, "554 5.7.1 message rejected as spam"),
    ("data", ["451 4.3.0 try again later"], "sent", 2, None),
    ("data", ["451 4.3.0 try again later"] * 3, "failed", 3, "451 4.3.0 try again later (gave up after 3 attempts)"),
], ids=["rcpt-5xx", "rcpt-4xx-always", "data-5xx", "data-4xx-once", "data-4xx-always"])
def test_replies_per_recipient(server, reports, env, phase, replies, result, attempts, shown):
    getattr(server, "rcpt" if phase == "rcpt" else "after_data")[CFO] = list(replies)
    proc = cli(env, reports)
    no_traceback(proc)
    by = {e["recipient"]: e for e in log_entries(reports)}
    assert (by[CFO]["result"], by[CFO]["attempts"]) == (result, attempts)
    assert all(by[r]["result"] == "sent" for r in (CHAIR, DIRECTOR, CIO))  # one recipient does not stop the others
    assert server.per_recipient() == {r: 1 for r in EVERYONE if r != CFO or result == "sent"}
    if result == "sent":
        assert proc.returncode == 0, proc.stdout + proc.stderr
    else:
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert f"{CFO}: {shown}" in proc.stderr and shown in by[CFO]["error"]
        assert "A re-run sends only to those not yet served" in proc.stderr


# ------------------------------------------------------------------------------ the session

def test_a_server_that_is_down_stops_the_send_with_a_clear_message(reports, tmp_path):
    proc = cli(smtp_env(free_port(), tmp_path, BOARDPACK_SMTP_ATTEMPTS="2"), reports)
    no_traceback(proc)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "cannot reach 127.0.0.1" in proc.stderr and "gave up after 2 attempts" in proc.stderr
    assert log_entries(reports) == []


class _RefusesStartTLS(SMTP):
    async def smtp_STARTTLS(self, arg):
        await self.push("454 4.7.0 TLS not available due to temporary reason")


class _Refusing(Controller):
    def factory(self):
        return _RefusesStartTLS(self.handler, **self.SMTP_kwargs)


@pytest.fixture(scope="module")
def tls_context(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert, key = self_signed(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, cert


@pytest.mark.parametrize("case", ["not-offered", "refused", "implicit-tls-on-a-plain-port"])
def test_tls_that_cannot_be_had_stops_the_send_with_a_clear_message(reports, tmp_path, tls_context, case):
    context, cert = tls_context
    handler = Faults()
    if case == "refused":
        controller = _Refusing(handler, hostname="127.0.0.1", port=free_port(), tls_context=context)
    else:
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        security = "tls" if case.startswith("implicit") else "starttls"
        proc = cli(smtp_env(controller.port, tmp_path, BOARDPACK_SMTP_SECURITY=security, BOARDPACK_SMTP_ATTEMPTS="1",
                            BOARDPACK_SMTP_CAFILE=str(cert), BOARDPACK_SMTP_TIMEOUT="3"), reports)
    finally:
        controller.stop()
    no_traceback(proc)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    expected = {"not-offered": "does not offer STARTTLS",
                "refused": "refused STARTTLS (454 4.7.0 TLS not available due to temporary reason)",
                "implicit-tls-on-a-plain-port": "TLS handshake"}[case]
    assert expected in proc.stderr and "BOARDPACK_SMTP_SECURITY" in proc.stderr
    assert handler.received == [] and log_entries(reports) == []


@pytest.fixture(scope="module")
def auth_server(tls_context):
    """STARTTLS and AUTH required (PLAIN and LOGIN), the password non-ASCII."""
    context, cert = tls_context
    handler = Faults()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            require_starttls=True, authenticator=handler.authenticate, auth_required=True,
                            auth_require_tls=True)
    controller.start()
    controller.handler, controller.cafile = handler, cert
    yield controller
    controller.stop()


@pytest.mark.parametrize("correct", [True, False], ids=["right-password", "wrong-password"])
def test_a_non_ascii_password_logs_in_as_utf8(auth_server, reports, tmp_path, correct):
    handler = auth_server.handler
    handler.reset()
    password = NON_ASCII_PASSWORD if correct else NON_ASCII_PASSWORD.replace("ö", "o")
    (tmp_path / "secrets.env").write_text(f"BOARDPACK_SMTP_PASSWORD={password}\n", encoding="utf-8")
    env = smtp_env(auth_server.port, tmp_path, BOARDPACK_ENV_FILE=str(tmp_path / "secrets.env"),
                   BOARDPACK_SMTP_SECURITY="starttls", BOARDPACK_SMTP_USER="boardpack-sender",
                   BOARDPACK_SMTP_CAFILE=str(auth_server.cafile))
    proc = cli(env, reports, "--group", "executives")
    no_traceback(proc)
    assert password not in proc.stdout + proc.stderr
    assert handler.logins and all(ok is correct for _, ok in handler.logins)
    if correct:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert handler.per_recipient() == {CFO: 1, CIO: 1}
    else:
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "refused the login of 'boardpack-sender' (535" in proc.stderr and handler.received == []


class _CramOnly:
    """A server that offers only CRAM-MD5, which has no defined encoding for a non-ASCII secret."""

    async def auth_CRAM__MD5(self, server, args):
        return AuthResult(success=False, handled=False)


def test_a_non_ascii_password_without_a_mechanism_to_carry_it_is_a_clear_error(reports, tmp_path, tls_context):
    context, cert = tls_context
    handler = type("Handler", (Faults, _CramOnly), {})()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            require_starttls=True, authenticator=handler.authenticate, auth_required=True,
                            auth_require_tls=True, auth_exclude_mechanism=["LOGIN", "PLAIN"])
    controller.start()
    try:
        env = smtp_env(controller.port, tmp_path, BOARDPACK_SMTP_SECURITY="starttls",
                       BOARDPACK_SMTP_USER="boardpack-sender", BOARDPACK_SMTP_PASSWORD=NON_ASCII_PASSWORD,
                       BOARDPACK_SMTP_CAFILE=str(cert))
        proc = cli(env, reports, "--group", "executives")
    finally:
        controller.stop()
    no_traceback(proc)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "non-ASCII" in proc.stderr and "CRAM-MD5" in proc.stderr and NON_ASCII_PASSWORD not in proc.stderr
    assert handler.received == []


class _NoAuth(Faults):
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [line for line in responses if not line.startswith("250-AUTH")]


@pytest.mark.parametrize("offer", ["no-auth-extension", "no-mechanism"])
def test_a_login_the_server_does_not_offer_is_a_clear_error(reports, tmp_path, tls_context, offer):
    context, cert = tls_context
    handler = _NoAuth() if offer == "no-auth-extension" else Faults()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            auth_exclude_mechanism=["LOGIN", "PLAIN"])
    controller.start()
    try:
        env = smtp_env(controller.port, tmp_path, BOARDPACK_SMTP_SECURITY="starttls",
                       BOARDPACK_SMTP_USER="boardpack-sender", BOARDPACK_SMTP_PASSWORD="secret",
                       BOARDPACK_SMTP_CAFILE=str(cert))
        proc = cli(env, reports, "--group", "executives")
    finally:
        controller.stop()
    no_traceback(proc)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "does not offer a login" in proc.stderr and "BOARDPACK_SMTP_USER" in proc.stderr
    assert handler.received == []


def test_credentials_that_are_not_text_are_a_clear_error():
    from boardpack import mail

    with pytest.raises(mail.MailError, match="BOARDPACK_SMTP_PASSWORD is not valid UTF-8"):
        mail.smtp_settings({"BOARDPACK_SMTP_HOST": "h", "BOARDPACK_SMTP_USER": "u", "BOARDPACK_MAIL_FROM": "a@b.example",
                            "BOARDPACK_SMTP_PASSWORD": "caf\udce9"})  # how Python reads a Latin-1 byte in a UTF-8 env
