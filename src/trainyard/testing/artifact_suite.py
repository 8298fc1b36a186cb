"""The ArtifactStore conformance suite: every ArtifactStore implementation must pass it unchanged.

Use it by subclassing in a test module that provides an ``artifacts`` fixture giving a fresh,
empty store for each test::

    import pytest
    from trainyard.testing.artifact_suite import ArtifactSuite

    @pytest.fixture
    def artifacts(tmp_path):
        return MyArtifactStore(...)

    class TestMyArtifactStore(ArtifactSuite):
        pass

A store behind a server overrides the ``run_folder`` fixture too (see ``ArtifactSuite.run_folder``).

The tests use the ``trainyard.artifacts.ArtifactStore`` interface only, and hold each method to
the contract its docstring states: the bytes, the keys listed, and which ``TrainyardError`` a
missing or a bad key raises. Needs pytest and hypothesis (trainyard's ``dev`` extra).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainyard.artifacts import ArtifactStore
from trainyard.errors import ArtifactPathError, InvalidInputError, NotFoundError

BAD_KEYS = ["../escape", "/etc/passwd", "", "a/../../b", "%2e%2e/x", "c:\\windows"]
BIG = 2 * 1024 * 1024 + 17  # over one transfer chunk, so reads and appends span several

PROPERTY_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Every method, called on a key (the bad one, or a missing one), with harmless other arguments.
CALLS: dict[str, Callable[[ArtifactStore, str, Path], Any]] = {
    "put_file": lambda a, k, tmp: a.put_file(k, _file(tmp, b"x")),
    "put_bytes": lambda a, k, tmp: a.put_bytes(k, b"x"),
    "copy from": lambda a, k, tmp: a.copy(k, "target"),
    "copy to": lambda a, k, tmp: a.copy(_stored(a, "source"), k),
    "append": lambda a, k, tmp: a.append(k, b"x"),
    "read": lambda a, k, tmp: b"".join(a.read(k, 0)),
    "open": lambda a, k, tmp: a.open(k).close(),
    "get_bytes": lambda a, k, tmp: a.get_bytes(k),
    "download": lambda a, k, tmp: a.download(k, tmp / "dest"),
    "size": lambda a, k, tmp: a.size(k),
    "exists": lambda a, k, tmp: a.exists(k),
    "is_file": lambda a, k, tmp: a.is_file(k),
    "list": lambda a, k, tmp: a.list(k),
    "delete": lambda a, k, tmp: a.delete(k),
    "copy_tree_in": lambda a, k, tmp: a.copy_tree_in(k, _tree(tmp)),
    "local_path": lambda a, k, tmp: a.local_path(k),
}
READS = ["read", "open", "get_bytes", "download", "size", "copy from"]


def _file(tmp: Path, data: bytes, name: str = "source.bin") -> Path:
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _stored(artifacts: ArtifactStore, key: str, data: bytes = b"stored") -> str:
    artifacts.put_bytes(key, data)
    return key


def _tree(tmp: Path) -> Path:
    root = tmp / "tree"
    _file(root, b"1", "a.txt")
    _file(root, b"2", "sub/b.txt")
    return root


def _read(artifacts: ArtifactStore, key: str, offset: int = 0) -> bytes:
    return b"".join(artifacts.read(key, offset))


def _pattern(n: int) -> bytes:
    """``n`` bytes in which every offset's byte is different from its neighbours' (catches shifts)."""
    return bytes(i * 7 % 251 for i in range(n))


class ArtifactSuite:
    """Subclass in a module that provides an ``artifacts`` fixture (a fresh, empty ArtifactStore)."""

    @pytest.fixture
    def run_folder(self) -> str:
        """One run's folder, where the delete tests delete (a server deletes only inside a run
        that exists: a subclass for a server overrides this with a real run's ``runs/<id>``)."""
        return "runs/r"

    # whole files ------------------------------------------------------------------------------
    def test_put_bytes_then_get_bytes_and_replace(self, artifacts: ArtifactStore) -> None:
        artifacts.put_bytes("runs/r/outputs/model.bin", b"first")
        assert artifacts.get_bytes("runs/r/outputs/model.bin") == b"first"
        artifacts.put_bytes("runs/r/outputs/model.bin", b"second, longer")
        assert artifacts.get_bytes("runs/r/outputs/model.bin") == b"second, longer"
        artifacts.put_bytes("empty", b"")
        assert artifacts.get_bytes("empty") == b"" and artifacts.is_file("empty")

    def test_put_file_download_and_open_a_big_file(self, artifacts: ArtifactStore, tmp_path: Path) -> None:
        data = _pattern(BIG)
        artifacts.put_file("big/file.bin", _file(tmp_path, data))
        dest = artifacts.download("big/file.bin", tmp_path / "deep" / "down" / "file.bin")
        assert dest == tmp_path / "deep" / "down" / "file.bin" and dest.read_bytes() == data
        with artifacts.open("big/file.bin") as fh:
            head = fh.read(10)
            rest = fh.read()
        assert head + rest == data
        assert artifacts.size("big/file.bin") == BIG

    def test_names_with_spaces_and_unicode_round_trip(self, artifacts: ArtifactStore) -> None:
        key = "runs/r/outputs/a report (final)/ünïcødé €.txt"
        artifacts.put_bytes(key, b"ok")
        assert artifacts.get_bytes(key) == b"ok"
        assert artifacts.list("runs/r/outputs") == ["a report (final)/ünïcødé €.txt"]

    def test_a_folder_cannot_be_overwritten_by_a_file(self, artifacts: ArtifactStore, tmp_path: Path) -> None:
        _stored(artifacts, "folder/inside.txt")
        with pytest.raises(InvalidInputError):
            artifacts.put_bytes("folder", b"x")
        with pytest.raises(InvalidInputError):
            artifacts.put_file("folder", _file(tmp_path, b"x"))
        with pytest.raises(InvalidInputError):
            artifacts.append("folder", b"x")
        assert artifacts.get_bytes("folder/inside.txt") == b"stored"

    # listing and deleting -----------------------------------------------------------------------
    def test_list_is_relative_sorted_and_recursive(self, artifacts: ArtifactStore) -> None:
        for key in ("runs/r/b.txt", "runs/r/a/z.txt", "runs/r/a/y/x.txt", "runs/other/c.txt"):
            _stored(artifacts, key)
        assert artifacts.list("runs/r") == ["a/y/x.txt", "a/z.txt", "b.txt"]
        assert artifacts.list("runs/r/a") == ["y/x.txt", "z.txt"]
        assert artifacts.list("runs/missing") == []
        assert artifacts.list("runs/r/b.txt") == []  # a file has nothing below it

    def test_exists_and_is_file(self, artifacts: ArtifactStore) -> None:
        _stored(artifacts, "runs/r/logs/std_log.txt")
        assert artifacts.exists("runs/r/logs/std_log.txt") and artifacts.is_file("runs/r/logs/std_log.txt")
        assert artifacts.exists("runs/r/logs") and not artifacts.is_file("runs/r/logs")
        assert not artifacts.exists("runs/r/nothing") and not artifacts.is_file("runs/r/nothing")

    def test_delete_a_file_a_folder_and_nothing(self, artifacts: ArtifactStore, run_folder: str) -> None:
        d = f"{run_folder}/d"
        for key in (f"{d}/one.txt", f"{d}/sub/two.txt", f"{d}/sub/three.txt", "keep.txt"):
            _stored(artifacts, key)
        artifacts.delete(f"{d}/one.txt")
        assert not artifacts.exists(f"{d}/one.txt") and artifacts.list(d) == ["sub/three.txt", "sub/two.txt"]
        artifacts.delete(f"{d}/sub")
        assert artifacts.list(d) == [] and not artifacts.exists(f"{d}/sub/two.txt")
        artifacts.delete(f"{run_folder}/never/was")  # no error
        assert artifacts.get_bytes("keep.txt") == b"stored"

    def test_copy_tree_in_uploads_every_file_but_symlinks(
        self, artifacts: ArtifactStore, tmp_path: Path
    ) -> None:
        root = _tree(tmp_path)
        (root / "link.txt").symlink_to(root / "a.txt")
        keys = artifacts.copy_tree_in("runs/r/outputs", root)
        assert keys == ["runs/r/outputs/a.txt", "runs/r/outputs/sub/b.txt"]
        assert artifacts.list("runs/r/outputs") == ["a.txt", "sub/b.txt"]
        assert artifacts.get_bytes("runs/r/outputs/sub/b.txt") == b"2"

    # copy -------------------------------------------------------------------------------------
    def test_copy(self, artifacts: ArtifactStore) -> None:
        _stored(artifacts, "runs/r/outputs/model.bin", b"weights")
        _stored(artifacts, "models/m/1/model.bin", b"old")
        artifacts.copy("runs/r/outputs/model.bin", "models/m/1/model.bin")
        artifacts.copy("runs/r/outputs/model.bin", "models/m/2/model.bin")
        assert artifacts.get_bytes("models/m/1/model.bin") == b"weights"
        assert artifacts.get_bytes("models/m/2/model.bin") == b"weights"
        assert artifacts.get_bytes("runs/r/outputs/model.bin") == b"weights"

    def test_copy_refuses_a_folder_source_and_a_folder_target(self, artifacts: ArtifactStore) -> None:
        _stored(artifacts, "folder/file.txt")
        with pytest.raises(NotFoundError):
            artifacts.copy("folder", "elsewhere")
        with pytest.raises(InvalidInputError):
            artifacts.copy("folder/file.txt", "folder")
        assert not artifacts.exists("elsewhere")

    # reads from an offset ---------------------------------------------------------------------
    def test_read_from_offsets(self, artifacts: ArtifactStore) -> None:
        data = _pattern(BIG)
        artifacts.put_bytes("log", data)
        for offset in (0, 1, 1000, 1024 * 1024 - 1, 1024 * 1024, BIG - 1):
            assert _read(artifacts, "log", offset) == data[offset:], offset
        assert _read(artifacts, "log", BIG) == b""
        assert _read(artifacts, "log", BIG + 100) == b""  # past the end: nothing, no error

    def test_read_streams_in_chunks(self, artifacts: ArtifactStore) -> None:
        artifacts.put_bytes("log", _pattern(BIG))
        chunks = artifacts.read("log", 5)
        first = next(chunks)
        assert 0 < len(first) < BIG - 5  # not all at once
        assert first + b"".join(chunks) == _pattern(BIG)[5:]

    def test_read_an_empty_file_and_a_negative_offset(self, artifacts: ArtifactStore) -> None:
        artifacts.put_bytes("empty", b"")
        assert _read(artifacts, "empty") == b""
        _stored(artifacts, "file")
        with pytest.raises(InvalidInputError):
            _read(artifacts, "file", -1)

    def test_reads_of_a_folder_are_not_found(self, artifacts: ArtifactStore, tmp_path: Path) -> None:
        _stored(artifacts, "folder/file.txt")
        for name in READS:
            with pytest.raises(NotFoundError):
                CALLS[name](artifacts, "folder", tmp_path)

    # appends ----------------------------------------------------------------------------------
    def test_append_creates_then_grows_and_returns_the_size(self, artifacts: ArtifactStore) -> None:
        assert artifacts.append("runs/r/logs/std_log.txt", b"line 1\n") == 7
        assert artifacts.append("runs/r/logs/std_log.txt", b"line 2\n") == 14
        assert artifacts.get_bytes("runs/r/logs/std_log.txt") == b"line 1\nline 2\n"
        assert _read(artifacts, "runs/r/logs/std_log.txt", 7) == b"line 2\n"
        assert artifacts.list("runs/r") == ["logs/std_log.txt"]

    def test_an_append_at_an_offset_is_safe_to_retry(self, artifacts: ArtifactStore) -> None:
        assert artifacts.append("log", b"one\n", at=0) == 4
        assert artifacts.append("log", b"two\n", at=4) == 8
        assert artifacts.append("log", b"two\n", at=4) == 8  # a retry whose first try landed
        with pytest.raises(InvalidInputError, match="is 8 bytes, not the 6"):
            artifacts.append("log", b"three\n", at=6)
        with pytest.raises(InvalidInputError, match="is 8 bytes, not the 4"):
            artifacts.append("log", b"owt\n", at=4)  # other bytes there: not a retry
        assert artifacts.get_bytes("log") == b"one\ntwo\n"

    def test_an_empty_append_creates_an_empty_file(self, artifacts: ArtifactStore) -> None:
        assert artifacts.append("new", b"") == 0
        assert artifacts.is_file("new") and artifacts.get_bytes("new") == b""
        _stored(artifacts, "old", b"abc")
        assert artifacts.append("old", b"") == 3 and artifacts.get_bytes("old") == b"abc"

    def test_a_big_append(self, artifacts: ArtifactStore) -> None:
        artifacts.append("log", b"head\n")
        assert artifacts.append("log", _pattern(BIG)) == 5 + BIG
        assert artifacts.get_bytes("log") == b"head\n" + _pattern(BIG)

    def test_concurrent_appends_each_land_whole_and_a_reader_sees_prefixes(
        self, artifacts: ArtifactStore
    ) -> None:
        writers, lines = 4, 15
        done = threading.Event()
        seen: list[bytes] = []

        def follow() -> None:  # a log's reader, polling from the offset it got to
            got = b""
            while True:
                last = done.is_set()
                if artifacts.is_file("log"):
                    got += _read(artifacts, "log", len(got))
                    seen.append(got)
                if last:
                    return

        def write(w: int) -> None:
            for i in range(lines):
                artifacts.append("log", f"writer {w} line {i:03d} {'.' * (w * 10)}\n".encode())

        reader = threading.Thread(target=follow)
        reader.start()
        threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        done.set()
        reader.join(120)
        final = artifacts.get_bytes("log")
        expected = {f"writer {w} line {i:03d} {'.' * (w * 10)}" for w in range(writers) for i in range(lines)}
        assert sorted(final.decode().splitlines()) == sorted(expected)  # every append whole, once
        assert all(final.startswith(prefix) for prefix in seen) and seen[-1] == final
        for w in range(writers):  # one writer's appends keep their order
            mine = [ln for ln in final.decode().splitlines() if ln.startswith(f"writer {w} ")]
            assert mine == sorted(mine)

    @given(pieces=st.lists(st.binary(max_size=300), max_size=8))
    @PROPERTY_SETTINGS
    def test_appends_then_reads_from_every_offset(
        self, artifacts: ArtifactStore, pieces: list[bytes]
    ) -> None:
        key = f"prop/{uuid.uuid4().hex}"
        whole = b""
        for piece in pieces:
            offset = len(whole)
            assert artifacts.append(key, piece) == offset + len(piece)
            whole += piece
            assert _read(artifacts, key, offset) == piece
        if pieces:
            assert artifacts.get_bytes(key) == whole and artifacts.size(key) == len(whole)

    # bad and missing keys ---------------------------------------------------------------------
    @pytest.mark.parametrize("method", sorted(CALLS))
    def test_bad_keys_are_refused_by_every_method(
        self, artifacts: ArtifactStore, tmp_path: Path, method: str
    ) -> None:
        for key in BAD_KEYS:
            with pytest.raises(ArtifactPathError):
                CALLS[method](artifacts, key, tmp_path)
        assert artifacts.list("source") == [] and not artifacts.exists("target")

    @pytest.mark.parametrize("method", READS)
    def test_missing_keys_are_not_found(self, artifacts: ArtifactStore, tmp_path: Path, method: str) -> None:
        with pytest.raises(NotFoundError):
            CALLS[method](artifacts, "runs/none/logs/std_log.txt", tmp_path)
        assert not (tmp_path / "dest").exists()  # a failed download leaves nothing behind

    def test_missing_keys_do_not_exist_list_nothing_and_delete_quietly(
        self, artifacts: ArtifactStore, run_folder: str
    ) -> None:
        assert not artifacts.exists("runs/none") and not artifacts.is_file("runs/none")
        assert artifacts.list("runs/none") == []
        artifacts.delete(f"{run_folder}/none")

    # the optional fast path -------------------------------------------------------------------
    def test_local_path_is_none_or_the_file_itself(self, artifacts: ArtifactStore) -> None:
        _stored(artifacts, "runs/r/outputs/model.bin", b"weights")
        path = artifacts.local_path("runs/r/outputs/model.bin")
        assert path is None or path.read_bytes() == b"weights"
