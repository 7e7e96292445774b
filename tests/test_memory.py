"""The command line fixes glibc's mmap threshold: with the dynamic one, the large buffers of a
phase landed on the heap and stayed resident after it (a first 1M ingest started folding ~110 MB
higher)."""
import ctypes

import pytest

from custinfo import memory
from custinfo.cli.main import main


def test_map_large_allocations_sets_the_threshold_where_glibc_is_there():
    if memory._libc() is None:
        pytest.skip("no glibc malloc here")
    assert memory.map_large_allocations() is True
    buf = ctypes.create_string_buffer(4 << 20)  # an allocation over the threshold still works
    assert len(buf) == 4 << 20


def test_command_line_sets_it_before_running_a_command(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(memory, "map_large_allocations", lambda *a: calls.append(a) or True)
    assert main(["--version"]) == 0
    assert calls == [()]
    assert capsys.readouterr().out.strip()  # the version was printed
