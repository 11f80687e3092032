"""Errors a user can act on, every one of them in this module. Each carries the message the command line prints
(without a traceback) and its exit code. Exceptions that never reach a user stay in their module: the SMTP outcome
classes of `mail` (Transient, Permanent, Uncertain, Fatal) and `prices.PriceNotFound`, a LookupError for
code that looks a price up."""

from __future__ import annotations


class BoardpackError(Exception):
    """Base class: a failure the user can fix; the CLI prints it without a traceback."""

    exit_code = 2


class InputError(BoardpackError):
    """An input file cannot be read as the table it should hold."""

    def __init__(self, path, problem: str, hint: str, line: int | None = None, column: str | None = None):
        self.path, self.problem, self.hint, self.line, self.column = str(path), problem, hint, line, column
        where = self.path + (f", line {line}" if line else "") + (f", column {column}" if column else "")
        super().__init__(f"{where}: {problem}\n  How to fix: {hint}")


class NoDataError(BoardpackError):
    """The requested quarter has no spend rows, or the data has no complete quarter."""


class ContractError(BoardpackError):
    """A critical data-contract expectation failed; the message is the full gate report."""


class ConfigError(BoardpackError):
    """The configuration file is missing, malformed or inconsistent."""


class LedgerError(BoardpackError):
    """The dollar ledger does not balance: money would be lost or made up between the inputs and the pack."""


class MetricsFileError(BoardpackError):
    """metrics.json is not what its schema (boardpack/data/metrics.schema.json) describes."""


class NotAPack(BoardpackError):
    """The folder given is neither a version of a pack nor a quarter folder with a current version."""


class RenderError(BoardpackError, RuntimeError):
    """The pack could not be rendered to HTML or PDF; no output file was written."""


class BuildLocked(BoardpackError):
    """Another build of the quarter holds its lock; the message names it."""

    exit_code = 75  # EX_TEMPFAIL (sysexits.h): nothing is wrong with the input; try again later


class PublishError(BoardpackError):
    """The quarter folder is not in a shape a version can be published into."""


class MailError(BoardpackError):
    """The pack cannot be sent as asked (a refusal, bad recipients, bad SMTP settings); nothing was sent."""



class LockedError(MailError):
    """Another send of the quarter holds the lock."""


class EngineError(BoardpackError):
    """The engine asked for cannot start: a missing extra, Java, or a bad setting."""


class StepFailed(BoardpackError):
    """A notebook failed; the message is the user-facing report."""
