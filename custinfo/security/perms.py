"""Owner-only files and directories (0600 / 0700), whatever the process umask says.

``os.open(path, flags, 0o600)`` only applies the mode when the file is created, and the umask can
only take bits away, so every helper here also ``chmod``s what it opens or creates: a file that
existed with looser permissions is tightened on first touch.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO, Any

FILE_MODE = 0o600
DIR_MODE = 0o700

_FLAGS = {
    "r": os.O_RDONLY,
    "w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
    "a": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
    "x": os.O_WRONLY | os.O_CREAT | os.O_EXCL,
}


def secure_mkdir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and missing parents) as 0700; an existing directory is tightened to 0700.

    Parents that already exist are left alone: they may be shared directories such as /tmp.
    """
    p = Path(path)
    missing = []
    cur = p
    while not cur.exists():
        missing.append(cur)
        if cur.parent == cur:
            break
        cur = cur.parent
    for d in reversed(missing):
        try:
            os.mkdir(d, DIR_MODE)
        except FileExistsError:  # another process made it in between
            pass
        os.chmod(d, DIR_MODE)
    if not p.is_dir():
        raise NotADirectoryError(str(p))
    os.chmod(p, DIR_MODE)
    return p


def _flags_for(mode: str) -> int:
    base = mode.replace("b", "").replace("t", "")
    plus = "+" in base
    kind = base.replace("+", "")
    if kind not in _FLAGS or len(kind) != 1:
        raise ValueError(f"unsupported file mode {mode!r} (use r, w, a or x, with optional b and +)")
    flags = _FLAGS[kind]
    if plus:
        flags = (flags & ~(os.O_RDONLY | os.O_WRONLY)) | os.O_RDWR
    return flags | getattr(os, "O_CLOEXEC", 0)


def secure_open(path: str | os.PathLike[str], mode: str = "r", *, encoding: str | None = None,
                **kwargs: Any) -> IO[Any]:
    """``open()`` that creates files as 0600 and tightens an existing file to 0600.

    Text modes default to UTF-8. Read-only opens (``"r"``) do not change permissions.
    """
    fd = os.open(os.fspath(path), _flags_for(mode), FILE_MODE)
    try:
        if mode.replace("b", "").replace("t", "") != "r":
            os.fchmod(fd, FILE_MODE)
        if "b" not in mode and encoding is None:
            encoding = "utf-8"
        return os.fdopen(fd, mode, encoding=encoding, **kwargs)
    except BaseException:
        os.close(fd)
        raise


def secure_tree(path: str | os.PathLike[str]) -> int:
    """chmod a whole tree: directories 0700, regular files 0600; symlinks are not followed.

    Returns how many entries had their mode changed.
    """
    root = Path(path)
    changed = 0
    if not root.exists():
        return 0
    changed += _tighten(root)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            changed += _tighten(Path(dirpath) / name)
    return changed


def _tighten(p: Path) -> int:
    st = os.lstat(p)
    if stat.S_ISLNK(st.st_mode):
        return 0
    want = DIR_MODE if stat.S_ISDIR(st.st_mode) else FILE_MODE if stat.S_ISREG(st.st_mode) else None
    if want is None or stat.S_IMODE(st.st_mode) == want:
        return 0
    os.chmod(p, want)
    return 1
