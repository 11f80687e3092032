"""Where a quarter's published pack lives, how a build publishes a new version of it, and the build lock.

Layout of `reports/<quarter>/` (see README, "Versions"):

    v1/, v2/, ...        immutable published versions, each a complete pack (board-pack.pdf, metrics.json, ...)
    latest -> v2         the current version: a relative symlink, swapped atomically by a publish
    board-pack.pdf, ...  stable names that resolve through `latest` (readers of the old layout keep working)
    .send/               the send lock and the send log: outside every version, so no build moves them
    .build.lock          locked (flock) by the one build of the quarter that runs; it says who that is

A folder of the layout before versions (the pack's files directly in `reports/<quarter>/`) is read as it is,
and becomes v1 at the next publish.

Why a reader never sees half a pack: a version comes into being by one rename of a complete staging folder
and is never written again; the current pack changes by one rename of a symlink (`latest`). A reader that
resolves `latest` once, as `boardpack send` does, reads that version whole whatever is published meanwhile,
because publish never deletes or rewrites a version: that is how a build never replaces a pack being sent.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import fcntl
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

from .exceptions import BuildLocked, PublishError

LATEST = "latest"
SEND_DIR = ".send"
LOCK = ".build.lock"
OWNER = ".build-owner.json"  # in a staging folder: the build that owns it
STAGING = ".staging-"
REPLACED = ".replaced-"  # the code before versions moved the old pack aside under this name while publishing
TMP = ".tmp-"  # every temporary entry a publish makes in a quarter folder: .tmp-<what>-<pid>-<token>
SEND_LOG, SEND_LOCK = "send-log.jsonl", ".send-log.jsonl.lock"
MAIL_OWNED = {SEND_LOG, SEND_LOCK, "outbox"}  # written by `boardpack send` in the old layout: never part of a pack
KILL_AT = "BOARDPACK_TEST_KILL_AT"
ORPHAN_AGE = 60.0  # seconds: a staging folder without an owner file may be one that a build has just made
_VERSION = re.compile(r"v([1-9][0-9]*)")
_TEMPORARY = re.compile(r"\.tmp-.*-([0-9]+)-[0-9a-f]{8}")
_REPLACED = re.compile(r"\.replaced-(.+)-[0-9]+")


def quarter_dir(reports: str | Path, quarter: str) -> Path:
    return Path(reports) / str(quarter)


def current(reports: str | Path, quarter: str) -> Path | None:
    """The folder of the quarter's current pack, resolved (a version folder, or an old-layout pack); None if
    nothing is published."""
    folder = quarter_dir(reports, quarter)
    latest = folder / LATEST
    if latest.is_symlink() or latest.is_dir():
        target = latest.resolve()
        return target if (target / "board-pack.pdf").is_file() else None
    return folder if (folder / "board-pack.pdf").is_file() else None


def version_of(pack: Path) -> str | None:
    """`v3` for a version folder; None for a pack of the layout before versions."""
    name = Path(pack).name
    return name if name.startswith("v") and name[1:].isdigit() else None


def send_dir(reports: str | Path, quarter: str) -> Path:
    """The quarter's folder for the send lock and log (created)."""
    folder = quarter_dir(reports, quarter) / SEND_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def checkpoint(stage: str) -> None:
    """Tests only: with BOARDPACK_TEST_KILL_AT=<stage>, die here by SIGKILL, as a power cut or the OOM killer would."""
    if os.environ.get(KILL_AT) == stage:
        os.kill(os.getpid(), signal.SIGKILL)


def versions(folder: Path) -> list[int]:
    """The version numbers present in a quarter folder, in order."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return sorted(int(n[1:]) for n in names if n[:1] == "v" and _VERSION.fullmatch(n))


# ------------------------------------------------------------------------------------------------ publish

def publish(staging: Path, target: Path) -> Path:
    """Publish a complete staging folder as the next version of the quarter folder `target`, make it current and
    return it. Racing publishes each get their own version and the newest ends current; a build still holds the
    quarter's lock (build_lock), so that one pack never silently replaces another."""
    target.mkdir(parents=True, exist_ok=True)
    _check_latest(target)
    _clean_temporaries(target)
    migrate(target)
    _move_send_log(target)
    _readable(staging)
    version = _move_in(staging, target)
    checkpoint("publish:moved")
    _point_latest(target, version.name)
    checkpoint("publish:swapped")
    newest = f"v{versions(target)[-1]}"
    if newest != version.name:  # a racing publish moved a newer version in before our swap: it stays current
        _point_latest(target, newest)
    _link_names(target)
    return version


def _move_in(staging: Path, target: Path) -> Path:
    """Rename the staging folder to the next free vN: the rename is the claim, so racing publishes never share one."""
    while True:
        version = target / f"v{(versions(target) or [0])[-1] + 1}"
        _stamp(staging / "manifest.json", version.name)
        checkpoint("publish:before-move")
        try:
            os.rename(staging, version)
        except OSError as e:
            if e.errno in (errno.EEXIST, errno.ENOTEMPTY):
                continue
            raise
        # the owner file stays until the rename, so a staging folder is never ownerless for a later build to remove
        (version / OWNER).unlink(missing_ok=True)
        return version


def _stamp(manifest: Path, version: str) -> None:
    """Record the version in the manifest, after its quarter (the manifest is not among the hashed outputs)."""
    if not manifest.is_file():
        return
    data, stamped = json.loads(manifest.read_text(encoding="utf-8")), {}
    for key, value in data.items():
        if key != "version":
            stamped[key] = value
        if key == "quarter":
            stamped["version"] = version
    stamped.setdefault("version", version)
    _write_new(manifest, json.dumps(stamped, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def _write_new(path: Path, text: str) -> None:
    """Write `path` as a new file (a hard link to the old one, as in a migrated v1, keeps the old bytes)."""
    tmp = _temporary(path.parent, "write")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _temporary(folder: Path, what: str) -> Path:
    return folder / f"{TMP}{what}-{os.getpid()}-{secrets.token_hex(4)}"


def _check_latest(folder: Path) -> None:
    """Refuse, before anything moves, a `latest` that is a folder: rename cannot put a link over it."""
    link = folder / LATEST
    if link.is_dir() and not link.is_symlink():
        raise PublishError(f"{link} is a folder, not the link to the current version: the quarter was copied without "
                           f"its links. Nothing was published.\n  How to fix: copy report folders with their links "
                           f"(cp -a, rsync -a), or move {link} out of the way, then build again.")


def _point_latest(folder: Path, version: str) -> None:
    """Swap `latest` to `version` in one rename: a reader resolves the old version or the new one, never nothing."""
    _swap_link(folder / LATEST, version)


def _swap_link(path: Path, target: str) -> None:
    """Make `path` a symlink to `target` in one rename, whatever was there (a file or a link)."""
    tmp = _temporary(path.parent, "link")
    os.symlink(target, tmp)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _reserved(name: str) -> bool:
    return name.startswith(".") or name == LATEST or _VERSION.fullmatch(name) is not None


def _link_of(path: Path) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def _link_names(folder: Path) -> None:
    """Give every entry of the current pack its stable name `<name> -> latest/<name>`; drop the names it lacks."""
    for name in sorted(os.listdir(folder / LATEST)):
        path, wanted = folder / name, f"{LATEST}/{name}"
        if _reserved(name) or _link_of(path) == wanted or (path.exists() and not path.is_symlink()):
            continue  # a real file or folder under a pack's name is someone's data: never replaced
        _swap_link(path, wanted)
    for name in os.listdir(folder):
        if not _reserved(name) and (_link_of(folder / name) or "").startswith(f"{LATEST}/") \
                and not (folder / name).exists():
            (folder / name).unlink(missing_ok=True)


def _readable(folder: Path) -> None:
    """mkdtemp and atomic writes create owner-only modes; a published pack is for everyone who can read reports/."""
    umask = os.umask(0)
    os.umask(umask)
    for path in [folder, *folder.rglob("*")]:
        os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~umask)


# ----------------------------------------------------------------------------------- the layout before versions

def migrate(folder: Path) -> None:
    """Make a quarter folder of the layout before versions v1, never leaving it without a readable board-pack.pdf.

    The old files are hard-linked into v1 (same bytes, nothing copied), `latest` is pointed at v1, and each old
    name is replaced by its stable link: a file in one rename; a folder (notebooks/, tables/, logs/) in two,
    because rename cannot put a link over a folder: the one instant a reader could miss it (README, "Versions").
    board-pack.pdf goes last, so while it is a plain file the migration is unfinished and the next publish
    finishes it; a kill at any point loses nothing."""
    marker = folder / "board-pack.pdf"
    if marker.is_symlink() or not marker.is_file():
        return
    if not versions(folder):
        draft = _temporary(folder, "migrate")
        draft.mkdir()
        for name in _old_entries(folder):
            if (folder / name).is_dir():
                shutil.copytree(folder / name, draft / name, symlinks=True, copy_function=_link_or_copy)
            else:
                _link_or_copy(folder / name, draft / name)
        _stamp(draft / "manifest.json", "v1")
        os.rename(draft, folder / "v1")
    if not (folder / LATEST).is_symlink():
        _point_latest(folder, f"v{versions(folder)[-1]}")
    checkpoint("migrate:v1")
    names = [n for n in _old_entries(folder) if os.path.lexists(folder / LATEST / n)]
    for name in sorted(names, key=lambda n: (n == "board-pack.pdf", not (folder / n).is_dir(), n)):
        _replace_with_link(folder, name)


def _old_entries(folder: Path) -> list[str]:
    """The old layout's pack: every plain entry of the quarter folder but the mail code's."""
    return sorted(n for n in os.listdir(folder)
                  if not _reserved(n) and n not in MAIL_OWNED and not (folder / n).is_symlink())


def _link_or_copy(src, dst) -> None:
    try:
        os.link(src, dst)
    except OSError:  # a file system without hard links: the bytes are copied instead
        shutil.copy2(src, dst)


def _replace_with_link(folder: Path, name: str) -> None:
    """Replace an old-layout entry by its stable link; v1 already holds its bytes."""
    path = folder / name
    if not path.is_dir():
        _swap_link(path, f"{LATEST}/{name}")
        return
    link, old = _temporary(folder, "link"), _temporary(folder, f"old-{name}")
    os.symlink(f"{LATEST}/{name}", link)
    os.rename(path, old)
    checkpoint("migrate:gap")
    os.rename(link, path)
    shutil.rmtree(old, ignore_errors=True)


def _move_send_log(folder: Path) -> None:
    """Move an old-layout send log into .send/, where `boardpack send` keeps it now, holding both send locks so
    that no send appends meanwhile; while a send runs, the log stays for the next publish to move."""
    old_log, old_lock = folder / SEND_LOG, folder / SEND_LOCK
    if not (old_log.exists() or old_lock.exists()):
        return
    send = send_dir(folder.parent, folder.name)
    with _try_flock(old_lock) as old_free, _try_flock(send / SEND_LOCK) as new_free:
        if not (old_free and new_free):
            return
        if old_log.exists() and (send / SEND_LOG).exists():  # both written: keep every line
            merged = _temporary(send, "log")
            merged.write_bytes(_lines(old_log) + _lines(send / SEND_LOG))
            os.replace(merged, send / SEND_LOG)
            old_log.unlink()
        elif old_log.exists():
            os.rename(old_log, send / SEND_LOG)
        old_lock.unlink(missing_ok=True)


def _lines(path: Path) -> bytes:
    data = path.read_bytes()
    return data if not data or data.endswith(b"\n") else data + b"\n"


@contextlib.contextmanager
def _try_flock(path: Path) -> Iterator[bool]:
    """Lock `path` if no one holds it; yield whether we did."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield True
    except BlockingIOError:
        yield False
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------------------ builds and leftovers

def owner() -> dict:
    """This process as a lock or a staging folder records it: enough to name it, and to tell if it still runs."""
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "command": shlex.join(sys.argv), "process_start": _process_start(os.getpid())}


def _process_start(pid: int) -> int | None:
    """When the process started (clock ticks since boot, from /proc): a later process reusing the pid differs."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == "Z" else int(fields[19])  # a zombie has finished: it builds nothing


def _alive(record: dict) -> bool:
    """Whether the process a record names still runs (not a later process that reuses its pid)."""
    if record.get("host") != socket.gethostname():
        return True  # another machine's processes cannot be seen from here: leave its folder alone
    pid = record.get("pid")
    if not isinstance(pid, int) or pid <= 0 or not _pid_exists(pid):
        return False
    started = record.get("process_start")
    return started is None or _process_start(pid) == started  # None: no /proc here, the pid is all there is


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def new_staging(reports: Path) -> Path:
    """A private staging folder in reports/ that names its owner, so that a later build can tell a dead one."""
    staging = Path(tempfile.mkdtemp(prefix=STAGING, dir=reports))
    try:
        (staging / OWNER).write_text(json.dumps(owner()), encoding="utf-8")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def clean_leftovers(reports: Path) -> list[Path]:
    """Remove what dead builds left in reports/: staging folders, and the `.replaced-*` folders of the code before
    versions (one that holds the only pack of its quarter is put back instead). Returns what it removed."""
    done = [p for p in sorted(reports.glob(STAGING + "*")) if p.is_dir() and _orphan(p)]
    for path in done:
        shutil.rmtree(path, ignore_errors=True)
    for path in sorted(reports.glob(REPLACED + "*")):
        m = _REPLACED.fullmatch(path.name)
        if m and current(reports, m.group(1)) is None and (path / "board-pack.pdf").is_file():
            _put_back(path, reports / m.group(1))
        shutil.rmtree(path, ignore_errors=True)
        done.append(path)
    return done


def _orphan(staging: Path) -> bool:
    """A staging folder no live build owns."""
    try:
        return not _alive(json.loads((staging / OWNER).read_text(encoding="utf-8")))
    except (OSError, ValueError):  # no owner file (yet): the code before owners, or a build that just made it
        try:
            return time.time() - staging.stat().st_mtime > ORPHAN_AGE
        except FileNotFoundError:
            return False


def _put_back(replaced: Path, quarter: Path) -> None:
    """The code before versions was killed between moving the old pack aside and moving the new one in."""
    if not quarter.exists():
        with contextlib.suppress(OSError):
            os.rename(replaced, quarter)
            return
    for entry in replaced.iterdir():
        if not os.path.lexists(quarter / entry.name):
            os.rename(entry, quarter / entry.name)


def _clean_temporaries(folder: Path) -> None:
    """Remove the temporary entries of dead publishes in a quarter folder (a live one's are left alone)."""
    for name in os.listdir(folder):
        m = name.startswith(TMP) and _TEMPORARY.fullmatch(name)
        if m and not _pid_exists(int(m.group(1))):
            path = folder / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


@contextlib.contextmanager
def build_lock(folder: Path) -> Iterator[None]:
    """Hold the quarter's build lock for the block; refuse with BuildLocked, naming the holder, if another build has it."""
    fd = _acquire(folder)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(owner()).encode(), 0)
        yield
    finally:
        # removed while still locked: a build that opened this file meanwhile sees it gone and locks a new one
        (folder / LOCK).unlink(missing_ok=True)
        os.close(fd)
        with contextlib.suppress(OSError):
            folder.rmdir()  # only if empty: a failed first build of a quarter leaves no folder behind


def _acquire(folder: Path) -> int:
    path = folder / LOCK
    while True:
        folder.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)  # not inherited: a notebook kernel never holds it
        except FileNotFoundError:  # a build that just ended removed the empty folder
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = lock_holder(fd)
            os.close(fd)
            raise BuildLocked(_refusal(folder, holder)) from None
        try:
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)  # the holder before us removed this file as it ended: lock the one in its place


def lock_holder(fd: int) -> dict:
    """Who holds the lock of an open lock file, as it wrote there (JSON); it may be a moment from writing it.
    The build lock and the send lock (boardpack.mail) both say who holds them this way."""
    for _ in range(20):
        with contextlib.suppress(ValueError):
            record = json.loads(os.pread(fd, 65536, 0) or b"null")
            if isinstance(record, dict):
                return record
        time.sleep(0.05)
    return {}


def _refusal(folder: Path, holder: dict) -> str:
    who = (f"pid {holder.get('pid')} on {holder.get('host')}, started {holder.get('started')}, "
           f"command: {holder.get('command')}" if holder else "it has not said who it is yet")
    return (f"Another build of {folder.name} is running ({who}).\n"
            f"  This build stopped before publishing, so that neither pack silently replaces the other; the published "
            f"pack in {folder} is untouched.\n"
            f"  How to fix: wait for that build to finish (its pack becomes {folder / LATEST}), then build again if "
            f"you still need a new pack. A build that died holds no lock: the lock ends with its process.")
