"""What an input file is, judged from its first bytes before any parser sees it; and which files are copies.

A parser handed the wrong bytes can spin for minutes (200 MB of NUL bytes named spend.csv kept pandas busy
for more than ten minutes at 3.6 GB: issue 14, "Hold under faults", item 5) or fail with a message that names
neither the file nor the cause. `check` looks at no more than HEAD bytes from the start of a file (for gzip,
the first HEAD bytes of its decompressed text) and TAIL bytes from its end, so it costs milliseconds at any
size, and refuses with an InputError that names the file and says what it looks like:

- not a regular file: a folder, a named pipe (FIFO: it reads as empty, and cannot be read twice or hashed for
  the manifest), a device; a symbolic link that loops or points to nothing; a file that cannot be opened;
- an empty file;
- the bytes of another kind of file under the name: a ZIP archive (an .xlsx workbook), Parquet, gzip, a PDF,
  an .xls workbook... under .csv or .json; CSV text under .parquet, .xlsx or .csv.gz; gzip data that ends in
  its first HEAD bytes (a truncation further on is caught where the file is read: `ingest.read_raw`, DuckDB);
  a Parquet file without its closing footer;
- NUL bytes (a zero-filled or interrupted copy) at its start or end, and UTF-16 text;
- an HTML page (a sign-in or error page saved instead of the export), JSON under .csv, anything but JSON
  under .json;
- text that is not UTF-8, with the line, the character of the line and the byte of the file (`bad_utf8` finds
  them in a whole file when the parser meets the byte beyond HEAD);
- where the reader needs commas (`delimiters=","`: the canonical tables, Microsoft 365 reports, reference
  files), a table delimited by `;`, tab or `|`. The FOCUS and LiteLLM readers (DuckDB) and the analysts' sheets
  find the delimiter themselves and pass `delimiters=None`.

Copies: a table file whose bytes equal another's in the same source folder (the same export saved twice) is
read once (`distinct`); the source then names it in a note and a warning, and its money goes to the dollar
ledger as a `duplicate` of the file read (`account_copies`). JSON pages are not compared here: the OpenAI and
Anthropic adapters compare fetches result by result (adapters/refetch.py), and the GitHub adapter counts each
seat once.
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import errno
import hashlib
import os
import re
import stat
import zlib
from collections import defaultdict
from pathlib import Path

from .exceptions import InputError

HEAD = 64 * 1024  # what is read (and, for gzip, decompressed) from the start of a file
TAIL = 4 * 1024   # what is read from its end: an interrupted copy ends in NUL bytes; Parquet ends in its footer

TEXT, JSON, PARQUET, XLSX = "text", "json", "parquet", "xlsx"
NOUN = {TEXT: "a CSV file", JSON: "a JSON file", PARQUET: "a Parquet file", XLSX: "an Excel workbook"}
TABLES = (".csv", ".csv.gz", ".tsv", ".parquet", ".xlsx", ".xlsm")  # compared for copies by `distinct`
DELIMITERS = {";": "';'", "\t": "tab", "|": "'|'"}

# Leading bytes of the files most often saved under the wrong name.
MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook or a zipped export)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"PAR1", "a Parquet file"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 (.xls) workbook or another old Office file"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"ARROW1", "an Arrow (Feather) file"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data"),
)
UTF16 = (b"\xff\xfe", b"\xfe\xff")
BOM = b"\xef\xbb\xbf"
HTML_START = (b"<!doctype html", b"<html", b"<head", b"<body", b"<!--")
JSON_START = re.compile(rb"^(?:\{|\[\s*(?:[\[{\"\]]|-?\d|true|false|null))")

AGAIN = "copy or export the file again"
EMPTY = {TEXT: "export it again; the first line must be the header row.",
         JSON: "save the API response body again, as it came.", PARQUET: f"{AGAIN}.", XLSX: f"{AGAIN}."}
UTF8_HINT = "save the file as UTF-8 (in Excel: Save As 'CSV UTF-8')."
TRUNCATED_GZIP = "a truncated gzip file: its compressed data ends before the end of the stream"
GZIP_HINT = f"{AGAIN}; `gzip -t` tests a gzip file."
MALFORMED_HINT = "every line needs as many fields as the header; quote any value that contains a comma."


# --- the file itself -------------------------------------------------------------------------------------

def os_error(path: Path, error: OSError) -> InputError:
    """An OSError of opening or reading `path`, in the words of the problem."""
    if error.errno == errno.ELOOP:
        return InputError(path, "a symbolic link that loops back on itself (symlink loop): it leads to no file",
                          "point the link at the real file (`ls -l` shows where it leads), or put the file itself "
                          "here.")
    if isinstance(error, PermissionError) or error.errno in (errno.EACCES, errno.EPERM):
        return InputError(path, "cannot be read: permission denied",
                          f"let the user who runs boardpack read it (chmod a+r '{path}'), or copy it to a folder that "
                          "user can read.")
    if error.errno == errno.ENOENT and os.path.islink(path):
        return InputError(path, f"a symbolic link to {os.readlink(path)}, which does not exist",
                          "point the link at the real file, or put the file itself here.")
    if error.errno == errno.ENOENT:
        return InputError(path, "file not found", "check the path; the file was there when the folder was listed.")
    if error.errno == errno.EISDIR:
        return InputError(path, "a folder, not a file", "put the file itself here.")
    return InputError(path, f"cannot be read ({error.strerror or error})",
                      f"check the disk or share it is on, then {AGAIN}.")


def _stat(path: Path) -> os.stat_result:
    try:
        return os.stat(path)
    except OSError as e:
        raise os_error(path, e) from None


def _not_regular(path: Path, mode: int) -> InputError | None:
    if stat.S_ISDIR(mode):
        return InputError(path, "a folder, not a file", "put the file itself here, under this name.")
    if stat.S_ISFIFO(mode):
        kind = "a named pipe (FIFO), not a regular file: it waits for a writer or reads as empty, and cannot be " \
               "read twice or hashed for the manifest"
    elif stat.S_ISSOCK(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = f"a {'socket' if stat.S_ISSOCK(mode) else 'device'}, not a regular file"
    else:
        return None
    return InputError(path, kind, "write the data to a regular file and put that file here.")


def check_folder(path: Path) -> None:
    """The data folder (DATA) is there and is a folder; a link loop or a link to nothing is named as such."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            raise InputError(path, f"DATA is a symbolic link to {os.readlink(path)}, which does not exist",
                             "point DATA at the real folder.") from None
        raise InputError(path, "data folder not found", "pass DATA=path/to/folder holding spend, seats, outcomes, "
                         "use_cases and models files.") from None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise InputError(path, "DATA is a symbolic link that loops back on itself (symlink loop): it leads to no "
                             "folder", "point DATA at the real folder (`ls -l` shows where the link leads).") from None
        raise os_error(path, e) from None
    if not stat.S_ISDIR(mode):
        raise InputError(path, "DATA is a file, not a folder",
                         "pass DATA=path/to/folder holding the tables, not one of them.")


def _ends(path: Path, size: int) -> tuple[bytes, bytes]:
    """The first HEAD and the last TAIL bytes (the tail is empty when the head holds the whole file)."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD)
            if size <= HEAD:
                return head, b""
            f.seek(max(size - TAIL, HEAD))
            return head, f.read(TAIL)
    except OSError as e:
        raise os_error(path, e) from None


def _gunzip_head(path: Path) -> tuple[bytes, bool]:
    """(the first HEAD bytes of the decompressed text, whether that is all of it)."""
    z = zlib.decompressobj(zlib.MAX_WBITS | 16)
    out = b""
    try:
        with open(path, "rb") as f:
            while len(out) < HEAD and not z.eof:
                data = z.unconsumed_tail or f.read(16 * 1024)
                if not data:
                    raise InputError(path, TRUNCATED_GZIP, GZIP_HINT)
                out += z.decompress(data, HEAD - len(out))
            whole = z.eof and not z.unused_data and not f.read(1)
    except zlib.error as e:
        raise InputError(path, f"damaged gzip data ({e})", GZIP_HINT) from None
    except OSError as e:
        raise os_error(path, e) from None
    return out, whole


def kind_of(path: Path) -> tuple[str, bool]:
    """(what the file's name says it holds, whether it is gzip-compressed)."""
    name = path.name.lower()
    gz = name.endswith(".gz")
    base = name[:-3] if gz else name
    if base.endswith(".parquet"):
        return PARQUET, gz
    if base.endswith((".xlsx", ".xlsm")):
        return XLSX, gz
    if base.endswith((".json", ".ndjson", ".jsonl")):  # NDJSON: GitHub Copilot's usage-metrics reports
        return JSON, gz
    return TEXT, gz


# --- what bytes look like --------------------------------------------------------------------------------

def looks_like(head: bytes) -> str:
    """What the first bytes of a file are, in words."""
    for magic, words in MAGIC:
        if head.startswith(magic):
            return words
    if head.startswith(UTF16) or _utf16_without_bom(head):
        return "UTF-16 text"
    if b"\0" in head:
        return "nothing but NUL bytes" if not head.strip(b"\0") else "binary data"
    text = head.removeprefix(BOM).lstrip()
    if _html(text):
        return "an HTML page"
    if text.lower().startswith(b"<?xml"):
        return "XML"
    if JSON_START.match(text):
        return "JSON"
    line = text.split(b"\n", 1)[0]
    if line.count(b",") or any(line.count(d.encode()) for d in DELIMITERS):
        return "CSV text"
    return "text"


def _utf16_without_bom(head: bytes) -> bool:
    """ASCII text as UTF-16 without a byte-order mark: every other byte NUL, the others not."""
    even, odd = head[:200:2], head[1:200:2]
    mostly, seldom = (lambda half: half.count(0) > 0.9 * len(half)), (lambda half: half.count(0) < 0.1 * len(half))
    return len(head) >= 8 and ((mostly(odd) and seldom(even)) or (mostly(even) and seldom(odd)))


def _html(text: bytes) -> bool:
    start = text[:1024].lower()
    return start.startswith(HTML_START) or (start.startswith(b"<") and b"<html" in start)


def _title(head: bytes) -> str:
    found = re.search(rb"<title[^>]*>(.*?)</title>", head[:HEAD], re.I | re.S)
    return f' ("{" ".join(found.group(1).decode("utf-8", "replace").split())[:80]}")' if found else ""


# --- text that is not UTF-8 ------------------------------------------------------------------------------

def _advance(line: int, column: int, text: str) -> tuple[int, int]:
    """The line and the characters already read on it, after `text`."""
    breaks = text.count("\n")
    if breaks:
        return line + breaks, len(text) - text.rfind("\n") - 1
    return line, column + len(text)


def _first_bad_utf8(chunks, path: Path, gz: bool, how: str = UTF8_HINT) -> InputError | None:
    """The error for the first byte of `chunks` (the file's bytes in order) that is not UTF-8, if any."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, column, offset = 1, 0, 0
    for chunk, final in chunks:
        pending = decoder.getstate()[0]
        try:
            text = decoder.decode(chunk, final)
        except UnicodeDecodeError as e:
            buffer = pending + chunk
            line, column = _advance(line, column, buffer[: e.start].decode("utf-8"))
            at = offset - len(pending) + e.start + 1
            byte = buffer[e.start]
            shown = bytes([byte]).decode("cp1252", "replace")
            return InputError(
                path, f"not UTF-8 text: byte 0x{byte:02X} at character {column + 1} of the line, byte {at:,} of the "
                f"file{' once decompressed' if gz else ''} ({e.reason}); in Windows-1252 (Latin-1) it would be "
                f"{shown!r}", f"{how[:-1]}, or convert it: iconv -f cp1252 -t utf-8 FILE > FILE.utf8.", line=line)
        line, column = _advance(line, column, text)
        offset += len(chunk)
    return None


def bad_utf8(path: Path) -> InputError | None:
    """Where a whole file (decompressed, for gzip) first breaks UTF-8: for a parser's UnicodeDecodeError,
    whose offset counts from a buffer of its own, not from the file. Reads the file once; only on that error."""
    import gzip

    gz = path.name.lower().endswith(".gz")
    try:
        with (gzip.open(path, "rb") if gz else open(path, "rb")) as f:
            def chunks():
                while True:
                    chunk = f.read(1 << 20)
                    yield chunk, not chunk
                    if not chunk:
                        return
            return _first_bad_utf8(chunks(), path, gz)
    except (OSError, EOFError, zlib.error):  # unreadable further on: the caller's own message stands
        return None


def engine_read_error(path: Path, message: str) -> InputError:
    """An engine's error while reading a whole file, in the words a pandas read of it would have had: a
    truncated gzip stream, text that is not UTF-8 (found again with its line and character), a line with
    more fields than the header (named by the engine)."""
    text = str(message).strip()
    line = re.search(r"CSV Error on Line: (\d+)", text)
    if "gzip" in text.lower() and ("end of" in text.lower() or "truncated" in text.lower()):
        return InputError(path, TRUNCATED_GZIP, GZIP_HINT)
    if line and "unicode" in text.lower():
        return bad_utf8(path) or InputError(path, "not UTF-8 text", UTF8_HINT, line=int(line.group(1)))
    if line:
        found = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
        detail = f"{found.group(2)} fields where the header has {found.group(1)}" if found else text.splitlines()[0]
        return InputError(path, f"malformed CSV ({detail})", MALFORMED_HINT, line=int(line.group(1)))
    return InputError(path, f"cannot be read: {text.splitlines()[0]}",
                      "export the table again as CSV (header row) or Parquet.")


# --- the check -------------------------------------------------------------------------------------------

def check(path: Path, delimiters: str | None = ",") -> None:
    """Refuse a file that cannot be what its name says, from its first and last few KB (see the module).

    `delimiters`: "," where the reader needs commas; None where it finds the delimiter itself.
    """
    path = Path(path)
    info = _stat(path)
    refused = _not_regular(path, info.st_mode)
    if refused:
        raise refused
    kind, gz = kind_of(path)
    if info.st_size == 0:
        raise InputError(path, "the file is empty", EMPTY[kind])
    head, tail = _ends(path, info.st_size)
    whole = info.st_size <= HEAD
    if gz:
        if not head.startswith(b"\x1f\x8b"):
            raise InputError(path, f"not gzip-compressed, though named .gz: it is {looks_like(head)}",
                             "compress it with gzip, or remove .gz from its name.")
        head, whole = _gunzip_head(path)
        tail = b""
        if not head:
            raise InputError(path, "the file is empty (its gzip data holds nothing)", EMPTY[kind])
    if kind == PARQUET:
        _parquet(path, head, tail or head)
    elif kind == XLSX:
        if not head.startswith(b"PK\x03\x04"):
            raise InputError(path, f"not an Excel workbook (.xlsx): it is {looks_like(head)}",
                             "save it from Excel as .xlsx, or give it the extension of what it is (.csv).")
    else:
        _text(path, head, tail, kind, delimiters, whole, gz)


def _parquet(path: Path, head: bytes, tail: bytes) -> None:
    if not head.startswith(b"PAR1"):
        raise InputError(path, f"not a Parquet file: it is {looks_like(head)}",
                         "write the file again with a Parquet writer, or give it the extension of what it is "
                         "(.csv).")
    if not tail.endswith(b"PAR1"):
        raise InputError(path, "a truncated Parquet file: it does not end with the Parquet footer",
                         f"{AGAIN}; the writer may have stopped before closing it.")


def _text(path: Path, head: bytes, tail: bytes, kind: str, delimiters: str | None, whole: bool, gz: bool) -> None:
    noun = NOUN[kind]
    as_utf8 = "save the file as UTF-8" + (" (in Excel: Save As 'CSV UTF-8')." if kind == TEXT else ".")
    looks = looks_like(head)
    if any(head.startswith(magic) for magic, _ in MAGIC):
        raise InputError(path, f"not {noun}: it is {looks}", f"{AGAIN} as {noun}, or give it the extension of "
                         "what it is.")
    if looks == "UTF-16 text":
        raise InputError(path, "UTF-16 text, not UTF-8", as_utf8)
    if looks == "nothing but NUL bytes":
        raise InputError(path, f"not {noun}: its first {len(head):,} bytes are nothing but NUL bytes (a zero-filled "
                         "or unfinished copy)", f"{AGAIN}.")
    if b"\0" in head:
        at = head.index(b"\0")
        raise InputError(path, f"not {noun}: it is binary data (a NUL byte at byte {at + 1:,})",
                         f"{AGAIN} as {noun}, or give it the extension of what it is.",
                         line=head.count(b"\n", 0, at) + 1)
    if b"\0" in tail:
        raise InputError(path, "NUL bytes at the end of the file: an interrupted or zero-padded copy",
                         f"{AGAIN}, and check that the copy finished.")
    text = head.removeprefix(BOM).lstrip()
    if _html(text):
        raise InputError(path, f"an HTML page{_title(head)}, not {noun}: a sign-in or error page saved instead of "
                         "the export", "download the export again and check that it opens as "
                         f"{'JSON' if kind == JSON else 'a table'} before saving it.")
    refused = _first_bad_utf8([(head, whole)], path, gz, as_utf8)
    if refused:
        raise refused
    if kind == JSON:
        if not JSON_START.match(text):
            raise InputError(path, f"not a JSON file: it is {looks} ({_start(text)})",
                             "save the API response body as it came, one page per file or a JSON list of pages.")
        return
    if looks == "JSON":
        raise InputError(path, "JSON, not a CSV file", "export the table as CSV (header row, comma-separated).")
    if delimiters:
        _delimiter(path, text, delimiters, whole)


def _start(text: bytes) -> str:
    return "it starts " + repr(text[:40].decode("utf-8", "replace"))


def _delimiter(path: Path, text: bytes, delimiters: str, whole: bool) -> None:
    """The header line must be split by one of `delimiters`: another delimiter found more often means the
    file was saved with it (a European Excel writes `;`, "Text (tab delimited)" tabs)."""
    if b"\n" not in text and not whole:
        return  # a header longer than HEAD: leave it to the parser
    header = text.split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("\r")
    wanted = max(header.count(d) for d in delimiters)
    found = max(DELIMITERS, key=header.count)
    if found not in delimiters and header.count(found) > wanted:
        names = " or ".join("commas" if d == "," else DELIMITERS.get(d, repr(d)) for d in delimiters)
        raise InputError(path, f"delimited by {DELIMITERS[found]}, not by {names}: its header line is "
                         f"{header[:100]!r}", "save it as comma-separated CSV (in Excel: Save As 'CSV UTF-8 (Comma "
                         "delimited)'); numbers then take a decimal point.", line=1)


# --- copies ----------------------------------------------------------------------------------------------

_COPIES: contextvars.ContextVar[list | None] = contextvars.ContextVar("boardpack_copies", default=None)


def distinct(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, Path]]]:
    """(the files to read, in order; [(copy, the file read instead)]): of table files with equal bytes, the one
    with the shortest name is read (copies add " (1)", " - Copy", "Copy of "...), on a tie the first in path
    order. Only files of equal size are compared, by their ends first, so distinct exports cost one stat."""
    by_size = defaultdict(list)
    for p in paths:
        if p.name.lower().endswith(TABLES):
            by_size[os.stat(p).st_size].append(p)
    copies = {}
    for size, same in by_size.items():
        for alike in _groups(same, lambda p, size=size: _ends(p, size)).values():
            for group in _groups(alike, sha256).values():
                kept, *others = sorted(group, key=lambda p: (len(str(p)), p))
                copies.update({other: kept for other in others})
    left_out = [(p, copies[p]) for p in paths if p in copies]
    found = _COPIES.get()
    if found is not None:
        found.extend(left_out)
    return [p for p in paths if p not in copies], left_out


def _groups(paths: list[Path], key) -> dict:
    """`paths` by `key`, only where two or more could share one (a single file is no copy of anything)."""
    groups = defaultdict(list)
    for p in paths if len(paths) > 1 else []:
        groups[key(p)].append(p)
    return groups


def sha256(path: Path) -> str:
    """A file's SHA-256, read a megabyte at a time (the manifest's hashes, and copies of one export)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@contextlib.contextmanager
def collecting_copies():
    """The copies `distinct` leaves out while the block runs (one source's adapter), as they are found."""
    found: list = []
    token = _COPIES.set(found)
    try:
        yield found
    finally:
        _COPIES.reset(token)


TABLE_OF = {"m365_copilot": "seats", "github_copilot": "seats", "use_cases": "use_cases", "outcomes": "outcomes"}


def account_copies(data, copies: list[tuple[Path, Path]], folder: Path) -> None:
    """What a source read once: each copy named in the notes and in a warning (the pack is PROVISIONAL until
    one is removed), listed with the files read (its hash goes to the manifest), and its money, which is the
    money of the file read instead, in the dollar ledger as a `duplicate` of that file (SourceData.excluded)."""
    import pandas as pd

    from .adapters import excluded_frame
    from .adapters.refetch import relative
    from .contracts import Check

    rows = []
    for copy, original in copies:
        name, kept = relative(copy, folder), relative(original, folder)
        money = _money_of(data, kept)
        rows += [{**m, "x_Source": data.name, "x_SourceFile": name, "x_Exclusion": "duplicate",
                  "x_ExcludedBy": kept} for m in money]
        totals = defaultdict(float)
        for m in money:
            totals[m["BillingCurrency"]] += m["EffectiveCost"]
        dollars = ", ".join(f"{v:,.2f} {c}" for c, v in sorted(totals.items()))
        data.files.append(copy)
        data.fixes[f"{data.name}.duplicate_file_read_once"] += 1
        data.notes.append(f"{data.name}: {name} has the same bytes as {kept}: read once" + (
            f" ({dollars} in the dollar ledger as a duplicate of {kept})." if dollars else "."))
        data.checks.append(Check(
            table=TABLE_OF.get(data.name, "spend"), source=str(copy), expectation="expect_files_to_be_distinct",
            column=None, severity="warning", success=False,
            rule=f"the same bytes as {kept}: an export present twice, read once"
                 + (f" ({dollars} not counted again)" if dollars else ""),
            hint=f"remove {name} if it is a copy (made by hand, or a download saved twice); if both are real "
                 "exports, export them again: two exports cannot be byte for byte the same.",
            observed={"copy_of": kept, "duplicated": {c: round(v, 2) for c, v in sorted(totals.items())}}))
    if rows:
        frame = excluded_frame(rows)
        data.excluded = frame if data.excluded is None else pd.concat([data.excluded, frame], ignore_index=True)


def _money_of(data, file: str) -> list[dict]:
    """The money a source read from one file (what it counted and what it excluded), per day, currency and
    service, as `adapters.EXCLUDED_COLUMNS` rows; estimates are not read from a file and are left out."""
    import pandas as pd

    columns = ["ChargePeriodStart", "BillingCurrency", "ProviderName", "ServiceName", "ServiceCategory"]
    parts = []
    if data.spend is not None and len(data.spend):
        spend = data.spend[(data.spend["x_SourceFile"] == file) & data.spend["x_Basis"].ne("estimated")]
        parts.append(spend[columns + ["EffectiveCost"]].assign(Rows=1.0))
    if data.excluded is not None and len(data.excluded):
        parts.append(data.excluded.loc[data.excluded["x_SourceFile"] == file, columns + ["EffectiveCost", "Rows"]])
    parts = [p for p in parts if len(p)]
    if not parts:
        return []
    read = pd.concat(parts, ignore_index=True)
    return read.groupby(columns, dropna=False, sort=True)[["EffectiveCost", "Rows"]].sum().reset_index().to_dict(
        "records")
