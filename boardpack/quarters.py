"""Calendar quarters: parsing `2026-Q3`, bounds, and the latest complete quarter in the data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .exceptions import NoDataError

if TYPE_CHECKING:
    import pandas as pd

_PATTERN = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    q: int

    @staticmethod
    def label(text: str) -> str:
        """A quarter as written (2026-Q3, 2026q3) in the pack's spelling, 2026-Q3, without pandas (a send needs no
        more); NoDataError when it is not one."""
        return str(Quarter.parse(text))

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        m = _PATTERN.match(str(text).strip())
        if not m:
            raise NoDataError(f"'{text}' is not a quarter; write it as YYYY-Qn, for example 2026-Q3.")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, ts) -> "Quarter":
        import pandas as pd

        ts = pd.Timestamp(ts)
        return cls(ts.year, (ts.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.q}"

    @property
    def start(self) -> pd.Timestamp:
        import pandas as pd

        return pd.Timestamp(year=self.year, month=3 * self.q - 2, day=1)

    @property
    def end(self) -> pd.Timestamp:
        """Exclusive end: the first instant of the next quarter."""
        return self.next().start

    @property
    def months(self) -> list[pd.Timestamp]:
        import pandas as pd

        return [self.start + pd.DateOffset(months=i) for i in range(3)]

    def previous(self) -> "Quarter":
        return Quarter(self.year - 1, 4) if self.q == 1 else Quarter(self.year, self.q - 1)

    def next(self) -> "Quarter":
        return Quarter(self.year + 1, 1) if self.q == 4 else Quarter(self.year, self.q + 1)

    def contains(self, ts: pd.Series) -> pd.Series:
        return (ts >= self.start) & (ts < self.end)


def quarters_in(timestamps: pd.Series) -> list[Quarter]:
    """Every quarter that has at least one timestamp, in order."""
    import pandas as pd

    # distinct months first: a spend table rolled up by day still has a row per day and key
    months = pd.to_datetime(timestamps.dropna()).dt.to_period("M").unique()
    return sorted({Quarter.of(m.to_timestamp()) for m in months})


def latest_complete_quarter(month_starts: pd.Series) -> Quarter:
    """The latest quarter whose three months all have data."""
    import pandas as pd

    months = set(pd.to_datetime(month_starts.dropna()).dt.to_period("M").unique())
    complete = [q for q in quarters_in(month_starts) if all(m.to_period("M") in months for m in q.months)]
    if not complete:
        raise NoDataError("The spend data holds no complete quarter (three months with charges).")
    return complete[-1]
