import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainyard.artifacts import safe_name
from trainyard.artifacts.fsspec_store import FsspecArtifactStore
from trainyard.errors import ArtifactPathError

BAD = [
    "../x",
    "/etc/passwd",
    "..%2fx",
    "%2e%2e/x",
    "%252e%252e/x",
    "a;/../b",
    "a\\..\\b",
    "C:\\x",
    "C:/x",
    "a\x00b",
    "a\nb",
    "a#b",
    "",
    "   ",
    ".",
    "a/../../b",
    "~/x",
]


@pytest.mark.parametrize("name", BAD)
def test_unsafe_names_are_rejected(name):
    with pytest.raises(ArtifactPathError):
        safe_name(name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("outputs/model.pkl", "outputs/model.pkl"), ("./a//b", "a/b"), ("modèle/ünï.txt", "modèle/ünï.txt")],
)
def test_safe_names_are_normalised(name, expected):
    assert safe_name(name) == expected


@given(st.text(min_size=1, max_size=40))
def test_any_accepted_name_stays_inside_the_root(tmp_path_factory, name):
    root = tmp_path_factory.mktemp("art")
    store = FsspecArtifactStore(root)
    try:
        key = safe_name(name)
    except ArtifactPathError:
        return
    path = store.local_path(key)
    assert path is not None
    assert str(path.resolve()).startswith(str(root.resolve()))


def test_symlink_out_of_the_store_is_refused(tmp_path):
    store = FsspecArtifactStore(tmp_path / "store")
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "store" / "link").symlink_to(outside)
    with pytest.raises(ArtifactPathError):
        store.put_bytes("link/x.txt", b"no")
    assert not (outside / "x.txt").exists()


def test_round_trip_and_listing(tmp_path):
    store = FsspecArtifactStore(tmp_path)
    store.put_bytes("runs/r/outputs/a.txt", b"A")
    store.put_bytes("runs/r/outputs/sub/b.txt", b"B")
    assert store.list("runs/r") == ["outputs/a.txt", "outputs/sub/b.txt"]
    assert store.get_bytes("runs/r/outputs/sub/b.txt") == b"B"
    assert store.download("runs/r/outputs/a.txt", tmp_path / "dl" / "a.txt").read_bytes() == b"A"


def test_failed_upload_leaves_nothing(tmp_path, monkeypatch):
    store = FsspecArtifactStore(tmp_path)

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(store.fs, "mv", boom)
    with pytest.raises(OSError):
        store.put_bytes("runs/r/x.bin", b"data")
    assert store.list("runs/r") == []
