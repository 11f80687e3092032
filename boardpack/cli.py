"""The `boardpack` command line: build a quarter's pack, make a project folder, generate the sample data."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from . import project as proj

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
VERBOSITY = {"level": 0}  # -1 (-q) to 2 (-vv): set by main() for every command


# Defaults are the project's (boardpack/project.py), looked up when a command runs: None here stands for them.
# Shared by `build` and `scheduled`, which take the same inputs.
QUARTER = typer.Option(None, help="Quarter to report, e.g. 2026-Q3. Default: the latest complete quarter.")
DATA = typer.Option(None, help="Folder with the canonical tables, or a raw folder of source exports. "
                    "Default: the project's data/sample (written on first use).")
CONFIG = typer.Option(None, help="Configuration file (TOML). Default: the project's config/boardpack.toml, "
                      "else the package's.")
REPORTS = typer.Option(None, help="Folder the pack is published in, as <reports>/<quarter>/. "
                       "Default: the project's reports/.")
ENGINE = typer.Option(None, help="Where large inputs are read, checked and aggregated: duckdb (embedded) or spark. "
                      "Default: [engine] name in the configuration, else duckdb.")


@app.callback()
def main(project: Optional[Path] = typer.Option(
        None, "--project", envvar=proj.ENV, help="The project folder: its config/, notebooks/, data_contracts/ and "
        "templates/ win over the package's, and reports/ and data/ are its. Default: the working directory (or "
        "the nearest folder above it with a config/boardpack.toml)."),
        verbose: int = typer.Option(0, "--verbose", "-v", count=True,
                                    help="Say more on stderr: -v what each step did, -vv everything (the build's own "
                                         "log is kept in the pack as logs/build.log either way)."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the result and errors.")) -> None:
    """The `boardpack` command line: build a quarter's pack, generate the sample data, make a project."""
    from . import log

    VERBOSITY["level"] = -1 if quiet else min(verbose, 2)
    log.configure(VERBOSITY["level"])
    if project is not None:
        if not project.is_dir():
            typer.echo(f"--project {project}: no such folder (boardpack init {project} makes a project).", err=True)
            raise typer.Exit(2)
        os.environ[proj.ENV] = str(project.resolve())  # and so to the notebooks' kernels, which inherit it


@app.command()
def build(quarter: Optional[str] = QUARTER, data: Optional[Path] = DATA, config: Optional[Path] = CONFIG,
          reports: Optional[Path] = REPORTS, engine: Optional[str] = ENGINE) -> None:
    """Validate the data, compute the metrics and render the board pack (HTML and PDF)."""
    from .build import build as run_build
    from .engine import ENGINES
    from .exceptions import BoardpackError

    if engine and engine not in ENGINES:
        typer.echo(f"--engine {engine}: unknown engine; use one of {', '.join(ENGINES)}.", err=True)
        raise typer.Exit(2)
    data, config, reports = _defaults(data, config, reports)
    # the project's sample is written on first use (abspath: a symbolic-link loop is the build's to report)
    if Path(os.path.abspath(data)) == proj.sample_dir() and not (data / "spend.csv").exists():
        sample(out_dir=data)
    started = time.perf_counter()
    quiet = VERBOSITY["level"] < 0
    if not quiet:
        out.print(f"[bold]boardpack[/] building {quarter or 'the latest complete quarter'} from {data}")

    def show(step):
        if not quiet:
            out.print(f"  [green]✓[/] {step.name:<9} {step.summary}" + (f"  [dim]({step.seconds:.1f} s)[/]" if step.seconds else ""))

    try:
        with contextlib.nullcontext() if quiet else out.status("running…", spinner="dots"):
            target = run_build(quarter, data, config, reports, on_step=show, engine=engine)
    except BoardpackError as e:
        err.print("[bold red]✗ No pack was rendered.[/] Earlier packs are untouched.\n")
        typer.echo(str(e), err=True)  # plain: a report must not be re-wrapped or coloured
        raise typer.Exit(getattr(e, "exit_code", 2)) from e
    from .publish import current, version_of

    version = version_of(current(target.parent, target.name) or target)
    out.print(f"Board pack: {target / 'board-pack.pdf'}  [dim]({version}, {time.perf_counter() - started:.1f} s)[/]")


def _defaults(data: Optional[Path], config: Optional[Path], reports: Optional[Path]) -> tuple[Path, Path, Path]:
    return data or proj.sample_dir(), config or proj.config_file(), reports or proj.reports_dir()


@app.command()
def sample(out_dir: Optional[Path] = typer.Option(None, "--out", help="Folder to write the sample tables to. "
                                                  "Default: the project's data/sample.")) -> None:
    """Generate the deterministic sample enterprise (Northwind Group) as canonical CSV tables."""
    from .sample import generate

    out_dir = out_dir or proj.sample_dir()
    paths = generate(out_dir)
    out.print(f"  [green]✓[/] sample    {len(paths)} tables written to {out_dir}")


@app.command()
def init(
    folder: Path = typer.Argument(..., help="The new project's folder (made if it does not exist)."),
    force: bool = typer.Option(False, "--force", help="Write into a folder that is not empty, replacing the "
                               "project files of the same name there."),
    company: Optional[str] = typer.Option(None, help="The company's name, for [company] name of the configuration."),
) -> None:
    """Make a project folder for a company: configuration, notebooks, data contracts and templates to edit (the
    package's defaults, copied), a Makefile, .env.example and an empty data/."""
    from .exceptions import BoardpackError

    try:
        written = proj.create(folder, force=force, company=company)
    except BoardpackError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from e
    out.print(f"  [green]✓[/] init      {len(written)} files written to {folder}")
    out.print(f"Next: cd {folder}, edit config/boardpack.toml, then `make sample` and `make quarterly-report` "
              f"to see the sample pack; put your data in data/ and `make quarterly-report DATA=data/<folder>`.")


SYMBOLS = {"sent": "[green]✓ sent   [/]", "written": "[green]✓ written[/]", "skipped": "[dim]· skipped[/]",
           "failed": "[bold red]✗ failed [/]", "uncertain": "[bold yellow]? uncertain[/]"}


@app.command()
def send(
    quarter: str = typer.Option("", help="Quarter of the published pack to send, e.g. 2026-Q3."),
    group: Optional[list[str]] = typer.Option(None, help="Group of the recipients file to send to (repeatable). Default: the file's defaults.send list."),
    recipients: Optional[Path] = typer.Option(None, help="Recipients file (TOML): people and groups. Default: the "
                                              "project's config/recipients.toml."),
    reports: Optional[Path] = typer.Option(None, help="Folder the packs are published in. Default: the project's reports/."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Write the messages as .eml files in <quarter>/outbox/ and send nothing."),
    allow_provisional: bool = typer.Option(False, "--allow-provisional", help="Send a PROVISIONAL pack (the subject says so)."),
    resend: bool = typer.Option(False, "--resend", help="Send again to recipients the send log says already have this pack, or may have it (uncertain)."),
    only: Optional[list[str]] = typer.Option(None, "--only", help="Only this address (or [people] key) of the chosen recipients (repeatable); with --resend, to send again to one person."),
) -> None:
    """Email the quarter's published PDF to the distribution list, one message per recipient."""
    from rich.markup import escape

    from . import mail
    from .exceptions import BoardpackError

    recipients, reports = recipients or proj.recipients_file(), reports or proj.reports_dir()
    try:
        pack = mail.load_pack(reports, quarter, allow_provisional)
        people = mail.select(mail.load_recipients(recipients, group, "send"), only, str(recipients))
        settings = mail.smtp_settings(mail.read_env(), need_server=not dry_run)
        verb = "writing" if dry_run else "sending"
        out.print(f"[bold]boardpack[/] {verb} the {pack.label} ({pack.status}, {pack.attachment}, "
                  f"SHA-256 {pack.sha256[:12]}…) to {len(people)} recipient(s)"
                  + ("" if dry_run else f" via {settings.host}:{settings.port} ({settings.security})"))

        def show(o):
            detail = escape(o.detail)  # a server's reply may hold [brackets] that rich would read as markup
            out.print(f"  {SYMBOLS[o.result]} {escape(o.recipient.name)} <{o.recipient.address}>"
                      + (f" [dim]({escape(o.recipient.view)} view)[/]" if o.recipient.view != "full" else "")
                      + (f"  [dim]{detail}[/]" if o.detail and o.result not in ("failed", "uncertain") else "")
                      + (f": {detail}" if o.result in ("failed", "uncertain") else ""))

        outcomes = mail.send_pack(pack, people, settings, resend=resend, dry_run=dry_run, report=show)
    except BoardpackError as e:
        err.print("[bold red]✗ Not sent.[/]")
        typer.echo(str(e), err=True)
        raise typer.Exit(getattr(e, "exit_code", 2)) from e
    count = {k: sum(o.result == k for o in outcomes) for k in ("sent", "written", "skipped", "failed", "uncertain")}
    if dry_run:
        out.print(f"Dry run: {count['written']} message(s) in {pack.home / mail.OUTBOX}; nothing was sent.")
    else:
        out.print(f"Sent {count['sent']} of {count['sent'] + count['failed'] + count['uncertain']}"
                  + (f"; {count['uncertain']} uncertain" if count["uncertain"] else "")
                  + (f"; {count['skipped']} already had this pack (--resend to send again)" if count["skipped"] else "")
                  + f". Send log: {pack.send_dir / mail.SEND_LOG}")
    followed = [o for o in outcomes if o.result in ("sent", "written") and o.entry]
    if followed:
        before = sorted({o.entry.get("version") or "an earlier build" for o in followed})
        out.print(f"{len(followed)} of them had received another PDF of {pack.quarter} before ({', '.join(before)}): "
                  f"a rebuilt pack with a new SHA-256 is a new pack.")
    again = ["boardpack send --quarter", pack.quarter,
             *(["--reports", str(reports)] if reports != proj.reports_dir() else []),
             *(["--recipients", str(recipients)] if recipients != proj.recipients_file() else []),
             *[a for g in group or [] for a in ("--group", g)]]

    def resend_command(uncertain) -> str:
        return " ".join([*again, *[a for o in uncertain for a in ("--only", o.recipient.address)], "--resend"])

    failed = [o for o in outcomes if o.result == "failed"]
    if failed:
        typer.echo(f"{len(failed)} recipient(s) not served:\n" + "\n".join(
            f"  {o.recipient.address}: {o.detail}" for o in failed)
            + "\nA re-run sends only to those not yet served.", err=True)
    uncertain = [o for o in outcomes if o.result == "uncertain"]
    if uncertain:
        n = len(uncertain)
        typer.echo(f"{n} deliver{'y' if n == 1 else 'ies'} uncertain: the server may have the whole message, but its "
                   f"reply never arrived, so it may have been delivered:\n" + "\n".join(
                       f"  {o.recipient.address} (Message-ID {o.message_id}): {o.detail}" for o in uncertain)
                   + "\nThey are not sent again automatically. Ask them, or look the Message-ID up in the mail "
                     "server's log; if it did not arrive, send it again with:\n  " + resend_command(uncertain), err=True)
    pending = [o for o in outcomes if o.still_uncertain]
    if pending:
        typer.echo("Still uncertain from an earlier send, not sent again:\n" + "\n".join(
            f"  {o.recipient.address} (Message-ID {o.message_id}, {o.entry.get('time', '')})" for o in pending)
            + "\nIf it did not arrive: " + resend_command(pending), err=True)
    if uncertain:
        raise typer.Exit(mail.UNCERTAIN_EXIT)
    if failed:
        raise typer.Exit(1)


@app.command()
def scheduled(
    quarter: Optional[str] = QUARTER, data: Optional[Path] = DATA, config: Optional[Path] = CONFIG,
    reports: Optional[Path] = REPORTS,
    recipients: Optional[Path] = typer.Option(None, help="Recipients file (TOML). Default: the project's "
                                              "config/recipients.toml."),
    group: Optional[list[str]] = typer.Option(None, help="Group to notify on failure (repeatable). Default: the file's defaults.notify list."),
    engine: Optional[str] = ENGINE,
) -> None:
    """For cron: build the pack as `build` does; if it fails, email the error report to the analysts."""
    import traceback

    from .exceptions import BoardpackError

    data, config, reports = _defaults(data, config, reports)
    recipients = recipients or proj.recipients_file()
    try:
        build(quarter=quarter, data=data, config=config, reports=reports, engine=engine)
        return
    except typer.Exit as stop:
        # build printed the report and raised Exit from inside `except BoardpackError`: that error is the context
        error = stop.__context__
        if not stop.exit_code or not isinstance(error, BoardpackError):
            raise
        code, report = stop.exit_code, str(error)
    except Exception as e:  # an unexpected crash must reach the analysts too
        code, report = 3, "Unexpected error:\n" + "".join(traceback.format_exception(e))
        typer.echo(report, err=True)
    command = " ".join(["boardpack build", *(["--quarter", quarter] if quarter else []), "--data", str(data),
                        "--config", str(config), "--reports", str(reports)])
    _notify(reports, config, quarter, report, command, recipients, group)
    raise typer.Exit(code)


def _notify(reports: Path, config: Path, quarter, report: str, command: str, recipients: Path, group) -> None:
    """Mail a failed build's report; a notice that cannot be sent is said on stderr, never hides the failure."""
    from . import mail
    from .config import load_config
    from .exceptions import BoardpackError

    try:
        company = load_config(config).company
    except BoardpackError:
        company = "boardpack"
    try:
        people = mail.load_recipients(recipients, group, "notify")
        outcomes = mail.notify_failure(reports, company, quarter, report, command, people,
                                       mail.smtp_settings(mail.read_env()))
    except BoardpackError as e:
        err.print("[bold red]✗ The failure notice was not sent:[/]")
        typer.echo(str(e), err=True)
        return
    for o in outcomes:
        err.print(f"  {SYMBOLS[o.result]} failure notice to {o.recipient.address}" + (f": {o.detail}" if o.detail else ""))


@app.command("diff")
def diff_versions(
    old: str = typer.Argument(..., help="The earlier version, e.g. v1 (or latest)."),
    new: str = typer.Argument(..., help="The later version, e.g. v2 (or latest)."),
    quarter: str = typer.Option(..., help="Quarter whose versions to compare, e.g. 2026-Q3."),
    reports: Optional[Path] = typer.Option(None, help="Folder the packs are published in. Default: the project's reports/."),
) -> None:
    """Which headline numbers changed between two versions of a quarter's pack, by how much, and why: the
    explanation the later pack's restatement page gives."""
    from . import restate

    reports = reports or proj.reports_dir()
    folders = [_version_folder(reports, quarter, name) for name in (old, new)]
    typer.echo(restate.text(restate.compare(*folders)), nl=False)


def _version_folder(reports: Path, quarter: str, name: str) -> Path:
    """reports/<quarter>/<name> of a published version (`latest`: the current one); exit 2 naming those there are."""
    from .exceptions import BoardpackError
    from .publish import LATEST, quarter_dir, version_of, versions
    from .quarters import Quarter

    try:
        quarter = str(Quarter.parse(quarter))
    except BoardpackError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from e
    folder = quarter_dir(reports, quarter)
    target = folder / name
    if (name == LATEST or version_of(target)) and (target / "metrics.json").is_file():
        return target.resolve()
    present = ", ".join(f"v{n}" for n in versions(folder)) or "none"
    typer.echo(f"{name}: no such version of {quarter} in {folder} (versions: {present}).\n"
               f"  How to fix: name two of the versions listed, e.g. boardpack diff --quarter {quarter} v1 v2"
               + (f" --reports {reports}" if reports != proj.reports_dir() else "") + ".", err=True)
    raise typer.Exit(2)


@app.command("verify")
def verify_pack(
    pack: Path = typer.Argument(..., help="A published version (reports/2026-Q3/v2), or a quarter folder: its latest."),
    data: Optional[Path] = typer.Option(None, help="Folder that holds the pack's inputs now, when they have moved "
                                        "since the build. Default: where the manifest says the build read them."),
    config: Optional[Path] = typer.Option(None, help="The configuration the pack was built with, when it has moved. "
                                          "Default: its path in the manifest."),
    no_rebuild: bool = typer.Option(False, "--no-rebuild", help="Check the hashes only; do not rebuild the metrics "
                                    "and tables to compare them."),
) -> None:
    """Check a published pack: every file against its manifest, its inputs against their hashes, and its metrics and
    tables against a rebuild. Exit status 0: verified; 1: something differs (each named); 2: not a pack."""
    from rich.markup import escape

    from . import verify as verifying
    from .exceptions import BoardpackError

    for option, path, kind in (("--data", data, Path.is_dir), ("--config", config, Path.is_file)):
        if path is not None and not kind(path):
            typer.echo(f"{option} {path}: no such {'folder' if option == '--data' else 'file'}.", err=True)
            raise typer.Exit(2)
    try:
        folder = verifying.pack_folder(pack)
    except BoardpackError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from e
    label = " ".join(x for x in (folder.parent.name, verifying.version_of(folder)) if x)
    out.print(f"[bold]boardpack[/] verifying {escape(str(folder))} ({escape(label)})")

    def show(check):
        mark = "[bold red]✗[/]" if check.failed else "[yellow]![/]" if check.findings else "[green]✓[/]"
        out.print(f"  {mark} {check.name:<9} {escape(check.summary)}"
                  + (f"  [dim]({check.seconds:.1f} s)[/]" if check.seconds >= 0.1 else ""))
        for finding in (f for f in check.findings if f.warning):
            out.print(f"      [yellow]![/] [dim]{escape(str(finding))}[/]")

    with out.status("verifying…", spinner="dots"):
        result = verifying.verify(folder, data, config, rebuild=not no_rebuild, on_check=show)
    if result.ok:
        out.print(f"[green]Verified[/]: {escape(str(folder))}" + ("" if not no_rebuild else " (hashes only: no rebuild)"))
        return
    err.print(f"[bold red]✗ Not verified:[/] {len(result.failures)} problem(s).")
    typer.echo("\n".join(f"  {f}" for f in result.failures), err=True)  # plain: file names must not be re-wrapped
    raise typer.Exit(1)


if __name__ == "__main__":
    app()
