"""Errors a user can act on. Each carries the message the command line prints."""

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
