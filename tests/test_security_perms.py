"""Files are created 0600 and directories 0700 whatever the umask, and loose ones are tightened."""
from __future__ import annotations

import os
import stat

import pytest

from custinfo.security.perms import secure_mkdir, secure_open, secure_tree


def mode(p) -> int:
    return stat.S_IMODE(os.lstat(p).st_mode)


@pytest.fixture
def open_umask():
    old = os.umask(0)
    yield
    os.umask(old)


def test_secure_open_creates_owner_only_file_even_with_umask_zero(tmp_path, open_umask):
    with secure_open(tmp_path / "a.txt", "w") as fh:
        fh.write("张伟")
    assert mode(tmp_path / "a.txt") == 0o600
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "张伟"


def test_secure_open_tightens_an_existing_loose_file(tmp_path):
    f = tmp_path / "b.bin"
    f.write_bytes(b"x")
    os.chmod(f, 0o644)
    with secure_open(f, "ab") as fh:
        fh.write(b"y")
    assert mode(f) == 0o600 and f.read_bytes() == b"xy"


def test_secure_open_x_refuses_to_overwrite(tmp_path):
    (tmp_path / "c").write_text("keep")
    with pytest.raises(FileExistsError):
        secure_open(tmp_path / "c", "x")


def test_secure_open_rejects_unknown_modes(tmp_path):
    with pytest.raises(ValueError):
        secure_open(tmp_path / "d", "q")


def test_secure_mkdir_makes_missing_parents_0700(tmp_path, open_umask):
    d = secure_mkdir(tmp_path / "store" / "audit")
    assert mode(d) == 0o700 and mode(tmp_path / "store") == 0o700


def test_secure_mkdir_tightens_existing_dir(tmp_path):
    d = tmp_path / "loose"
    d.mkdir(mode=0o755)
    os.chmod(d, 0o755)
    secure_mkdir(d)
    assert mode(d) == 0o700


def test_secure_tree_tightens_everything_but_not_through_symlinks(tmp_path):
    root = tmp_path / "store"
    (root / "t" / "part").mkdir(parents=True)
    (root / "t" / "part" / "f.parquet").write_bytes(b"x")
    outside = tmp_path / "outside.txt"
    outside.write_text("o")
    os.chmod(outside, 0o644)
    (root / "link").symlink_to(outside)
    for p in (root, root / "t", root / "t" / "part"):
        os.chmod(p, 0o755)
    os.chmod(root / "t" / "part" / "f.parquet", 0o644)
    changed = secure_tree(root)
    assert changed == 4
    assert mode(root) == mode(root / "t") == mode(root / "t" / "part") == 0o700
    assert mode(root / "t" / "part" / "f.parquet") == 0o600
    assert mode(outside) == 0o644
    assert secure_tree(root) == 0
