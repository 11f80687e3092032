"""Logging, through the standard library's `logging` under the logger `boardpack` (and `boardpack.<module>`).

The command line sets how much reaches the terminal (`-q`: errors only; default: warnings; `-v`: what each step
did; `-vv`: everything), and a build keeps its own log, at every level and with times, in the pack as
`logs/build.log` beside the notebooks' logs. Used as a library, boardpack adds no handler: the application's
logging configuration decides.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from pathlib import Path

LOGGER = "boardpack"
LEVELS = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}  # more than -v: DEBUG
_CONSOLE = "_boardpack_console"


def get(name: str) -> logging.Logger:
    """The logger of a module: `get(__name__)`."""
    return logging.getLogger(name if name.startswith(LOGGER) else f"{LOGGER}.{name}")


def configure(verbosity: int) -> None:
    """The terminal's share of the log for this process: `verbosity` -1 (-q) to 2 (-vv), on stderr."""
    logger = logging.getLogger(LOGGER)
    logger.setLevel(logging.DEBUG)
    for handler in [h for h in logger.handlers if getattr(h, _CONSOLE, False)]:
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    setattr(handler, _CONSOLE, True)
    handler.setLevel(LEVELS.get(verbosity, logging.DEBUG))
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)


@contextlib.contextmanager
def kept_in(path: Path):
    """Write everything logged under `boardpack` in this process to `path` (UTC times) for the duration."""
    logger = logging.getLogger(LOGGER)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    formatter = logging.Formatter("%(asctime)sZ %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.setLevel(logging.DEBUG)
    saved = logger.level
    logger.setLevel(logging.DEBUG)  # the file takes every level, whatever the terminal shows
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved)
        handler.close()
