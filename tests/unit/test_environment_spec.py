import subprocess
import sys

import pytest

from trainyard.environments import Environment, resolve
from trainyard.environments.builder import MARKER
from trainyard.errors import InvalidInputError


def test_build_hash_ignores_env_vars_order_and_whitespace():
    a = Environment(name="a", requirements=["six==1.16.0", "numpy>=1"], env_vars={"X": "1"})
    b = Environment(name="b", requirements=["numpy>=1", " six==1.16.0 "])
    assert a.build_hash() == b.build_hash()
    assert a.build_hash() != Environment(requirements=["six==1.15.0"]).build_hash()
    assert a.build_hash() != Environment(python="3.10", requirements=a.requirements).build_hash()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"requirements": [""]}, "empty"),
        ({"requirements": ["not a requirement !!"]}, "not a valid requirement"),
        ({"python": "python3"}, "3.11"),
        ({"env_vars": {"BAD-NAME": "1"}}, "identifiers"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_specs_are_refused_clearly(fields, message):
    with pytest.raises(InvalidInputError, match=message):
        Environment(**fields)


def test_from_file_reads_a_requirements_file(tmp_path):
    (tmp_path / "requirements.txt").write_text("# pinned\nsix==1.16.0  # inline\n\n")
    (tmp_path / "env.yml").write_text("name: six\nrequirements_file: requirements.txt\nenv_vars: {A: '1'}\n")
    env = Environment.from_file(tmp_path / "env.yml")
    assert env.requirements == ["six==1.16.0"] and env.env_vars == {"A": "1"}
    assert Environment.from_pip_requirements("p", tmp_path / "requirements.txt").requirements == [
        "six==1.16.0"
    ]


@pytest.mark.parametrize(("body", "message"), [("- a\n- b\n", "mapping"), ("a: [", "not valid YAML")])
def test_bad_files(tmp_path, body, message):
    (tmp_path / "env.yml").write_text(body)
    with pytest.raises(InvalidInputError, match=message):
        Environment.from_file(tmp_path / "env.yml")
    with pytest.raises(InvalidInputError, match="does not exist"):
        Environment.from_file(tmp_path / "missing.yml")


def test_default_environment_is_this_interpreter():
    resolved = resolve(Environment(env_vars={"A": "1"}))
    assert (
        resolved.python == sys.executable and resolved.env_vars == {"A": "1"} and resolved.build_hash is None
    )


def test_cache_hit_runs_nothing(tmp_path, monkeypatch):
    env = Environment(name="x", requirements=["six"])
    target = tmp_path / env.build_hash()
    target.mkdir()
    (target / MARKER).write_text("{}")

    def forbidden(*_a, **_k):
        raise AssertionError("a cache hit must not start a process")

    monkeypatch.setattr(subprocess, "Popen", forbidden)
    monkeypatch.setattr(subprocess, "run", forbidden)
    lines = []
    resolved = resolve(env, tmp_path, log=lines.append)
    assert resolved.cache_hit and resolved.python == str(target / "bin" / "python")
    assert "cache hit" in lines[0]


def test_register_and_get_round_trip(tmp_path):
    from trainyard.store.sql.store import SqlStore

    store = SqlStore(f"sqlite:///{tmp_path}/t.db")
    env = Environment(name="sk", requirements=["six"], env_vars={"A": "1"})
    first = env.register(store)
    assert env.register(store).version == first.version == 1
    assert Environment(name="sk", requirements=["six==1.16.0"]).register(store).version == 2
    assert Environment.get(store, "sk", 1) == env
    assert Environment.get(store, "sk").requirements == ["six==1.16.0"]
