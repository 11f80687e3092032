"""Emailing the pack: a real SMTP server on 127.0.0.1 (aiosmtpd) with STARTTLS, a self-signed certificate and
AUTH; the CLI as a user runs it; what the server received checked against the published pack."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from boardpack import fmt, mail

from .conftest import ROOT

FIXTURES = Path(__file__).parent / "fixtures" / "mail"
RECIPIENTS = FIXTURES / "recipients.toml"
USER = "boardpack-sender"
PASSWORD = "pw-7Q!x9#Zr-never-on-disk"
REJECTED = "bounce@northwind.example"
QUARTER = "2026-Q3"
BOARD_AND_EXECUTIVES = ["margaret.okafor@northwind.example", "priya.raman@northwind.example",
                        "sofia.alvarez@northwind.example", "kenji.watanabe@northwind.example"]
ANALYSTS = ["amara.nwosu@northwind.example", "lucas.bernard@northwind.example"]


# ------------------------------------------------------------------------------------------- the server

class Recorder:
    """aiosmtpd handler: records every message; rejects REJECTED; answers 451 to `tempfail` a few times."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.messages: list[dict] = []
        self.tempfail: dict[str, int] = {}
        self.auth_seen: list[tuple[str, bytes, bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == REJECTED:
            return "550 5.1.1 <bounce@northwind.example>: mailbox unavailable"
        if self.tempfail.get(address, 0) > 0:
            self.tempfail[address] -= 1
            return "451 4.3.0 temporary failure, try again"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append({"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                              "data": envelope.original_content,
                              "tls": server.transport.get_extra_info("ssl_object") is not None,
                              "authenticated": session.authenticated,
                              "parsed": message_from_bytes(envelope.original_content, policy=policy.default)})
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
              and auth_data.password == PASSWORD.encode())
        self.auth_seen.append((mechanism, auth_data.login, ok))
        return AuthResult(success=ok, handled=False)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, made now; (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "boardpack test SMTP")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def smtp_server(tmp_path_factory):
    """STARTTLS required, AUTH required (LOGIN/PLAIN, only after TLS), on a free loopback port."""
    import ssl

    cert, key = self_signed(tmp_path_factory.mktemp("tls"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            require_starttls=True, authenticator=recorder.authenticate, auth_required=True,
                            auth_require_tls=True)
    controller.start()
    controller.cafile, controller.recorder = cert, recorder
    yield controller
    controller.stop()


@pytest.fixture
def server(smtp_server) -> Recorder:
    smtp_server.recorder.reset()
    return smtp_server.recorder


def smtp_env(smtp_server, dotenv: Path, **extra) -> dict:
    """The environment of a user's shell: SMTP settings, tiny back-off; BOARDPACK_* of the test runner dropped."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BOARDPACK_")}
    return clean | {"BOARDPACK_ENV_FILE": str(dotenv), "BOARDPACK_SMTP_HOST": "127.0.0.1",
                    "BOARDPACK_SMTP_PORT": str(smtp_server.port), "BOARDPACK_SMTP_SECURITY": "starttls",
                    "BOARDPACK_SMTP_USER": USER, "BOARDPACK_MAIL_FROM": "Board pack <boardpack@northwind.example>",
                    "BOARDPACK_SMTP_CAFILE": str(smtp_server.cafile), "BOARDPACK_SMTP_BACKOFF": "0.01",
                    "BOARDPACK_SMTP_TIMEOUT": "10"} | extra


@pytest.fixture(scope="module")
def published(smtp_server, sample_data, tmp_path_factory) -> Path:
    """The sample pack built once by `boardpack scheduled` with the password in the environment of the build
    (so the notebooks, their kernels and the manifest could see it): <reports>/2026-Q3."""
    tmp = tmp_path_factory.mktemp("published")
    env = smtp_env(smtp_server, tmp / "no.env", BOARDPACK_SMTP_PASSWORD=PASSWORD)
    proc = boardpack(env, "scheduled", "--data", str(sample_data), "--reports", str(tmp / "reports"),
                     "--recipients", str(RECIPIENTS))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith("Board pack:") and smtp_server.recorder.messages == []
    return tmp / "reports" / QUARTER


@pytest.fixture
def reports(tmp_path, published) -> Path:
    """A private copy of the published pack, for tests that send from it or spoil it: <reports>/2026-Q3."""
    target = tmp_path / "reports"
    shutil.copytree(published, target / QUARTER, symlinks=True)  # versions, `latest` and stable names as built
    return target


@pytest.fixture
def env(tmp_path, smtp_server) -> dict:
    """What a user has: settings in the environment, the password only in a .env file."""
    dotenv = tmp_path / "secrets" / ".env"
    dotenv.parent.mkdir()
    dotenv.write_text(f"BOARDPACK_SMTP_PASSWORD={PASSWORD}\nBOARDPACK_SMTP_HOST=wrong.invalid\n")
    return smtp_env(smtp_server, dotenv)  # its BOARDPACK_SMTP_HOST wins over the .env's


def boardpack(env: dict, *args: str) -> subprocess.CompletedProcess:
    """`boardpack ...` in a fresh process with this environment, as `make email` runs it."""
    return subprocess.run([sys.executable, "-m", "boardpack.cli", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)


def send(env, reports, *args, recipients=RECIPIENTS):
    return boardpack(env, "send", "--quarter", QUARTER, "--reports", str(reports), "--recipients", str(recipients), *args)


def log_entries(reports: Path) -> list[dict]:
    path = reports / QUARTER / ".send" / "send-log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def attachments(msg) -> list[tuple[str, bytes]]:
    return [(a.get_filename(), a.get_content()) for a in msg.iter_attachments()]


# ---------------------------------------------------------------------------------------------- sending

def test_sends_one_message_per_recipient_with_the_published_pdf_and_the_metrics(server, reports, env):
    proc = send(env, reports)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pack = reports / QUARTER
    metrics = json.loads((pack / "metrics.json").read_text())
    manifest = json.loads((pack / "manifest.json").read_text())
    pdf = (pack / "board-pack.pdf").read_bytes()

    assert sorted(r for m in server.messages for r in m["rcpt_tos"]) == sorted(BOARD_AND_EXECUTIVES)
    assert all(len(m["rcpt_tos"]) == 1 for m in server.messages)  # CFO is in both groups: one message
    assert all(m["tls"] and m["authenticated"] for m in server.messages)
    assert server.auth_seen and all(ok for _, login, ok in server.auth_seen)
    ids = set()
    for m in server.messages:
        msg = m["parsed"]
        assert m["mail_from"] == "boardpack@northwind.example"
        assert msg["To"].addresses[0].addr_spec == m["rcpt_tos"][0]
        assert str(msg["Subject"]) == f"Northwind Group · AI value board pack {QUARTER} · FINAL"
        ids.add(str(msg["Message-ID"]).strip())
        text, html = msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()
        for key, formatter in (("value_multiple", fmt.multiple), ("workload_fit", fmt.pct),
                               ("portable_spend_share", fmt.pct)):
            for body in (text, html):
                assert formatter(metrics[key]) in body
                assert formatter(metrics["targets"][key]) in body
                assert metrics["rag"][key].upper() in body
        assert attachments(msg) == [(f"Northwind-Group-AI-board-pack-{QUARTER}.pdf", pdf)]
    assert len(ids) == len(server.messages)

    entries = log_entries(reports)
    assert {e["recipient"] for e in entries} == set(BOARD_AND_EXECUTIVES)
    assert {e["message_id"].strip() for e in entries} == ids
    assert all(e["result"] == "sent" and e["pdf_sha256"] == manifest["outputs"]["board-pack.pdf"]["sha256"]
               and e["time"] for e in entries)


def test_never_the_same_pack_twice_unless_resend(server, reports, env, tmp_path):
    recipients = tmp_path / "recipients.toml"
    recipients.write_text(RECIPIENTS.read_text())
    assert send(env, reports, "--group", "board", recipients=recipients).returncode == 0
    assert len(server.messages) == 3

    again = send(env, reports, "--group", "board", recipients=recipients)
    assert again.returncode == 0 and len(server.messages) == 3
    assert again.stdout.count("skipped") == 3 and "--resend" in again.stdout

    # a newcomer to the board: a re-run serves only them
    text = recipients.read_text().replace('board = ["chair", "director", "cfo"]',
                                          'board = ["chair", "director", "cfo", "cio"]')
    recipients.write_text(text)
    assert send(env, reports, "--group", "board", recipients=recipients).returncode == 0
    assert [m["rcpt_tos"] for m in server.messages[3:]] == [["kenji.watanabe@northwind.example"]]

    resent = send(env, reports, "--group", "board", "--resend", recipients=recipients)
    assert resent.returncode == 0 and len(server.messages) == 8
    assert len([e for e in log_entries(reports) if e["result"] == "sent"]) == 8


def test_a_rejected_recipient_is_reported_and_the_others_still_served(server, reports, env):
    proc = send(env, reports, "--group", "with-bounce")
    assert proc.returncode == 1
    assert sorted(r for m in server.messages for r in m["rcpt_tos"]) == [
        "kenji.watanabe@northwind.example", "margaret.okafor@northwind.example"]
    assert REJECTED in proc.stderr and "550" in proc.stderr and "mailbox unavailable" in proc.stderr
    failed = [e for e in log_entries(reports) if e["result"] == "failed"]
    assert [(e["recipient"], e["attempts"]) for e in failed] == [(REJECTED, 1)]  # a 5xx is not retried
    assert "550" in failed[0]["error"]

    again = send(env, reports, "--group", "with-bounce")  # only the one not yet served is tried
    assert again.returncode == 1 and len(server.messages) == 2 and again.stdout.count("skipped") == 2


def test_temporary_failures_are_retried_with_backoff(server, reports, env):
    server.tempfail = {"margaret.okafor@northwind.example": 2, "priya.raman@northwind.example": 9}
    proc = send(env, reports, "--group", "board")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    by = {e["recipient"]: e for e in log_entries(reports)}
    assert by["margaret.okafor@northwind.example"]["result"] == "sent"
    assert by["margaret.okafor@northwind.example"]["attempts"] == 3
    assert by["priya.raman@northwind.example"]["result"] == "failed"
    assert "451" in by["priya.raman@northwind.example"]["error"] and "gave up after 3 attempts" in proc.stderr
    assert by["sofia.alvarez@northwind.example"]["result"] == "sent"


def test_dry_run_writes_eml_files_and_sends_nothing(server, reports, env):
    env = env | {"BOARDPACK_SMTP_HOST": ""}  # a dry run needs no server
    proc = send(env, reports, "--dry-run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert server.messages == [] and server.auth_seen == []
    assert not (reports / QUARTER / ".send" / "send-log.jsonl").exists()
    files = sorted((reports / QUARTER / "outbox").glob("*.eml"))
    assert len(files) == len(BOARD_AND_EXECUTIVES)
    pdf = (reports / QUARTER / "board-pack.pdf").read_bytes()
    for path in files:
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert msg["To"].addresses[0].addr_spec in BOARD_AND_EXECUTIVES
        assert attachments(msg)[0][1] == pdf and msg["Message-ID"]


# ---------------------------------------------------------------------------------------------- refusals

def make_provisional(pack: Path) -> None:
    """Restamp a copy as PROVISIONAL consistently (metrics, manifest and its hash of metrics.json)."""
    metrics = json.loads((pack / "metrics.json").read_text())
    (pack / "metrics.json").write_text(json.dumps(metrics | {"status": "PROVISIONAL"}))
    manifest = json.loads((pack / "manifest.json").read_text())
    manifest["status"] = "PROVISIONAL"
    manifest["outputs"]["metrics.json"]["sha256"] = mail._sha256((pack / "metrics.json").read_bytes())
    (pack / "manifest.json").write_text(json.dumps(manifest))


def test_a_provisional_pack_is_refused_unless_allowed(server, reports, env):
    make_provisional(reports / QUARTER)
    proc = send(env, reports, "--group", "board")
    assert proc.returncode == 2 and server.messages == []
    assert "PROVISIONAL" in proc.stderr and "--allow-provisional" in proc.stderr

    proc = send(env, reports, "--group", "board", "--allow-provisional")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(server.messages) == 3
    msg = server.messages[0]["parsed"]
    assert str(msg["Subject"]).endswith("· PROVISIONAL")
    assert attachments(msg)[0][0] == f"Northwind-Group-AI-board-pack-{QUARTER}-PROVISIONAL.pdf"


def _tampered_pdf(reports, tmp_path):
    with open(reports / QUARTER / "board-pack.pdf", "ab") as f:
        f.write(b"%tampered\n")
    return [], ["board-pack.pdf", "differs from manifest.json"]


def _no_pack(reports, tmp_path):
    shutil.rmtree(reports / QUARTER)
    return [], ["No published pack for 2026-Q3", "make quarterly-report QUARTER=2026-Q3"]


def _empty_list(reports, tmp_path):
    return ["--group", "nobody"], ["recipients.toml", "recipient list is empty"]


def _malformed_address(reports, tmp_path):
    bad = tmp_path / "recipients.toml"
    bad.write_text(RECIPIENTS.read_text().replace('"priya.raman@northwind.example"', '"priya.raman@@northwind"'))
    return ["--recipients", str(bad)], [str(bad), "[people.director]", "priya.raman@@northwind", "not a valid email address"]


def _unknown_group(reports, tmp_path):
    return ["--group", "bored"], ["no group 'bored'", "board, executives"]


@pytest.mark.parametrize("case", [_tampered_pdf, _no_pack, _empty_list, _malformed_address, _unknown_group],
                         ids=lambda f: f.__name__.strip("_"))
def test_refusals_send_nothing_and_say_why(server, reports, env, tmp_path, case):
    args, expected = case(reports, tmp_path)
    proc = send(env, reports, *args)  # a later --recipients wins over the default one
    assert proc.returncode == 2, proc.stdout + proc.stderr
    for text in expected:
        assert text in proc.stderr
    assert server.messages == [] and server.auth_seen == []


def test_an_untrusted_certificate_or_a_wrong_password_stops_before_any_delivery(server, reports, env):
    proc = send(env | {"BOARDPACK_SMTP_CAFILE": ""}, reports, "--group", "board")  # verification is the default
    assert proc.returncode == 2 and "not trusted" in proc.stderr and "BOARDPACK_SMTP_CAFILE" in proc.stderr
    proc = send(env | {"BOARDPACK_SMTP_PASSWORD": "wrong-password"}, reports, "--group", "board")
    assert proc.returncode == 2 and "refused the login" in proc.stderr and "wrong-password" not in proc.stderr
    assert server.messages == [] and not log_entries(reports)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_on_its_own_port(reports, env, smtp_server, tmp_path):
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*self_signed(tmp_path))
    recorder = Recorder()
    # aiosmtpd counts only STARTTLS as TLS for auth_require_tls; here every byte is encrypted anyway
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), ssl_context=context,
                            authenticator=recorder.authenticate, auth_required=True, auth_require_tls=False)
    controller.start()
    try:
        proc = send(env | {"BOARDPACK_SMTP_SECURITY": "tls", "BOARDPACK_SMTP_PORT": str(controller.port),
                           "BOARDPACK_SMTP_CAFILE": str(tmp_path / "cert.pem")}, reports, "--group", "executives")
    finally:
        controller.stop()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(r for m in recorder.messages for r in m["rcpt_tos"]) == [
        "kenji.watanabe@northwind.example", "sofia.alvarez@northwind.example"]
    assert all(m["authenticated"] and m["tls"] for m in recorder.messages)


# ----------------------------------------------------------------------- failure notice and secrets

@pytest.fixture(scope="module")
def failed_schedule(smtp_server, sample_data, tmp_path_factory):
    """`boardpack scheduled` on a quarter the data does not cover: (process, messages received, reports dir)."""
    smtp_server.recorder.reset()
    tmp = tmp_path_factory.mktemp("scheduled")
    (tmp / ".env").write_text(f"BOARDPACK_SMTP_PASSWORD={PASSWORD}\n")
    proc = boardpack(smtp_env(smtp_server, tmp / ".env"), "scheduled", "--quarter", "2031-Q1", "--data",
                     str(sample_data), "--reports", str(tmp / "reports"), "--recipients", str(RECIPIENTS))
    return proc, list(smtp_server.recorder.messages), tmp / "reports"


def test_a_failed_scheduled_build_sends_the_error_report_to_the_analysts(failed_schedule):
    proc, messages, reports_dir = failed_schedule
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "No pack was rendered" in proc.stderr and "no spend rows in 2031-Q1" in proc.stderr
    assert sorted(r for m in messages for r in m["rcpt_tos"]) == sorted(ANALYSTS)
    for m in messages:
        msg = m["parsed"]
        assert str(msg["Subject"]) == "Northwind Group · AI value board pack 2031-Q1 · BUILD FAILED"
        [(name, report)] = attachments(msg)
        assert name == "boardpack-error-2031-Q1.txt"
        assert not name.endswith(".pdf")
        assert "no spend rows in 2031-Q1" in report and report in proc.stderr  # the CLI's report, verbatim
    assert not (reports_dir / "2031-Q1").exists()
    notices = [json.loads(line) for line in (reports_dir / "notify-log.jsonl").read_text().splitlines()]
    assert {n["recipient"] for n in notices} == set(ANALYSTS) and all(n["result"] == "sent" for n in notices)


def test_the_password_is_in_no_file_the_runs_wrote(server, reports, env, published, failed_schedule):
    results = [send(env, reports, "--group", "board"), send(env, reports, "--dry-run", "--resend"),
               send(env, reports, "--group", "with-bounce")]
    assert server.auth_seen and all(ok for *_, ok in server.auth_seen)  # the password was really used
    assert (reports / QUARTER / ".send" / "send-log.jsonl").exists() and list((reports / QUARTER / "outbox").glob("*.eml"))
    forms = [PASSWORD.encode(), base64.b64encode(PASSWORD.encode()),
             base64.b64encode(f"\0{USER}\0{PASSWORD}".encode())]
    # the build (notebooks, parameters, kernel logs, manifest, reports), the sends, the failure notice
    folders = (published.parent, reports, failed_schedule[2])
    written = [p for folder in folders for p in folder.rglob("*") if p.is_file()]
    names = {p.name for p in written}
    assert {"manifest.json", "02-metrics.ipynb", "send-log.jsonl", "notify-log.jsonl"} <= names
    assert any(p.suffix == ".eml" for p in written) and any(p.parent.name == "logs" for p in written)
    for path in written:
        data = path.read_bytes()
        assert not any(f in data for f in forms), path
    outputs = [r.stdout + r.stderr for r in results] + [failed_schedule[0].stdout + failed_schedule[0].stderr]
    assert not any(PASSWORD in text for text in outputs)
    assert not any(f in m["data"] for m in server.messages + failed_schedule[1] for f in forms)


# -------------------------------------------------------------------------------------- pure functions

def test_the_example_distribution_list_is_valid():
    board = mail.load_recipients(ROOT / "config" / "recipients.toml")
    analysts = mail.load_recipients(ROOT / "config" / "recipients.toml", default="notify")
    assert board and analysts and not {r.address for r in board} & {r.address for r in analysts}
    assert all(mail.valid_address(r.address) and r.role for r in board + analysts)


@pytest.mark.parametrize("address, ok", [("ada@northwind.example", True), ("a.b+c@x.co.uk", True),
                                         ("Ada <ada@x.com>", False), ("ada@x", False), ("a..b@x.com", False),
                                         ("ada@@x.com", False), ("ada @x.com", False), ("ada@x.com\n", False),
                                         ("", False)])
def test_address_check(address, ok):
    assert mail.valid_address(address) is ok


def test_settings_never_show_the_password():
    s = mail.smtp_settings({"BOARDPACK_SMTP_HOST": "h", "BOARDPACK_SMTP_USER": "u", "BOARDPACK_SMTP_PASSWORD": PASSWORD,
                            "BOARDPACK_MAIL_FROM": "a@b.example"})
    assert PASSWORD not in repr(s) and s.port == 587
    assert mail.redact(f"x {PASSWORD} y", s.secrets) == "x [redacted] y"
    with pytest.raises(mail.MailError, match="unencrypted"):
        mail.smtp_settings({"BOARDPACK_SMTP_HOST": "h", "BOARDPACK_SMTP_USER": "u", "BOARDPACK_SMTP_PASSWORD": "p",
                            "BOARDPACK_SMTP_SECURITY": "none", "BOARDPACK_MAIL_FROM": "a@b.example"})


@pytest.mark.parametrize("given, refusal", [
    ("2026-Q5", "'2026-Q5' is not a quarter; write it as YYYY-Qn, for example 2026-Q3."),
    ("", "No quarter given"),
])
def test_a_send_of_no_quarter_or_not_a_quarter_is_refused_before_reading_anything(tmp_path, given, refusal):
    """The quarter is read by quarters.Quarter, as everywhere else, without pandas (a send imports none)."""
    with pytest.raises(mail.MailError) as e:
        mail.load_pack(tmp_path / "reports", given)
    assert str(e.value).startswith(refusal)
    assert not (tmp_path / "reports").exists()
