"""The `boardpack` command line: build a quarter's pack, generate the sample data."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from .config import ROOT

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DEFAULT_DATA = ROOT / "data" / "sample"


@app.command()
def build(
    quarter: Optional[str] = typer.Option(None, help="Quarter to report, e.g. 2026-Q3. Default: the latest complete quarter."),
    data: Path = typer.Option(DEFAULT_DATA, help="Folder with spend, seats, outcomes, use_cases and models files."),
    config: Path = typer.Option(ROOT / "config" / "boardpack.toml", help="Configuration file (TOML)."),
    reports: Path = typer.Option(ROOT / "reports", help="Folder the pack is published in, as <reports>/<quarter>/."),
) -> None:
    """Validate the data, compute the metrics and render the board pack (HTML and PDF)."""
    from .build import build as run_build
    from .exceptions import BoardpackError

    if data == DEFAULT_DATA and not (data / "spend.csv").exists():
        sample(out_dir=data)
    started = time.perf_counter()
    out.print(f"[bold]boardpack[/] building {quarter or 'the latest complete quarter'} from {data}")

    def show(step):
        out.print(f"  [green]✓[/] {step.name:<9} {step.summary}" + (f"  [dim]({step.seconds:.1f} s)[/]" if step.seconds else ""))

    try:
        with out.status("running…", spinner="dots"):
            target = run_build(quarter, data, config, reports, on_step=show)
    except BoardpackError as e:
        err.print("[bold red]✗ No pack was rendered.[/] Earlier packs are untouched.\n")
        typer.echo(str(e), err=True)  # plain: a report must not be re-wrapped or coloured
        raise typer.Exit(getattr(e, "exit_code", 2))
    out.print(f"Board pack: {target / 'board-pack.pdf'}  [dim]({time.perf_counter() - started:.1f} s)[/]")


@app.command()
def sample(out_dir: Path = typer.Option(DEFAULT_DATA, "--out", help="Folder to write the sample tables to.")) -> None:
    """Generate the deterministic sample enterprise (Northwind Group) as canonical CSV tables."""
    from .sample import generate

    paths = generate(out_dir)
    out.print(f"  [green]✓[/] sample    {len(paths)} tables written to {out_dir}")


if __name__ == "__main__":
    app()
