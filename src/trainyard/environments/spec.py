"""Environment specs: a Python version, requirements and env vars, versioned by name.

A spec's build hash covers what changes the built virtual environment (Python version,
requirements, trainyard's own version) and not the env vars, which are only set at run time.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from trainyard.errors import InvalidInputError
from trainyard.yamlfile import read_yaml_mapping

PYTHON_VERSION = re.compile(r"^3\.\d+(\.\d+)?$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _readable(exc: ValidationError, where: str) -> InvalidInputError:
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'spec'}: {e['msg']}" for e in exc.errors())
    return InvalidInputError(f"{where} is not a valid environment: {problems}")


class Environment(BaseModel):
    """``Environment(name="sklearn", requirements=["scikit-learn"])``; no python and no
    requirements is the default environment: the submitting interpreter, nothing built."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="default", min_length=1, max_length=250)
    python: str | None = None
    requirements: list[str] = Field(default_factory=list)
    env_vars: dict[str, str] = Field(default_factory=dict)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _readable(exc, f"environment {data.get('name', 'default')!r}") from None

    @field_validator("python")
    @classmethod
    def _python(cls, value: str | None) -> str | None:
        if value is not None and not PYTHON_VERSION.match(str(value)):
            raise ValueError(f"python must look like 3.11 or 3.11.7, got {value!r}")
        return None if value is None else str(value)

    @field_validator("requirements")
    @classmethod
    def _requirements(cls, values: list[str]) -> list[str]:
        cleaned = []
        for value in values:
            text = str(value).strip()
            if not text:
                raise ValueError("a requirement is empty")
            try:
                Requirement(text)
            except InvalidRequirement as exc:
                raise ValueError(f"{text!r} is not a valid requirement ({exc})") from None
            cleaned.append(text)
        return cleaned

    @field_validator("env_vars")
    @classmethod
    def _env_vars(cls, values: dict[str, str]) -> dict[str, str]:
        bad = [k for k in values if not ENV_NAME.match(k)]
        if bad:
            raise ValueError(f"env var names must be identifiers: {', '.join(map(repr, bad))}")
        return {k: str(v) for k, v in values.items()}

    @classmethod
    def from_file(cls, path: str | Path) -> Environment:
        """YAML with ``name``, ``python``, ``requirements`` or ``requirements_file``, ``env_vars``."""
        path = Path(path)
        raw = read_yaml_mapping(path, "environment")
        req_file = raw.pop("requirements_file", None)
        if req_file is not None:
            raw["requirements"] = [
                *raw.get("requirements", []),
                *read_requirements(path.parent / str(req_file)),
            ]
        return cls(**raw)

    @classmethod
    def from_pip_requirements(cls, name: str, file_path: str | Path) -> Environment:
        return cls(name=name, requirements=read_requirements(Path(file_path)))

    @property
    def is_default(self) -> bool:
        return self.python is None and not self.requirements

    def build_hash(self) -> str:
        body = {
            "python": self.python or f"{sys.version_info.major}.{sys.version_info.minor}",
            "requirements": sorted(" ".join(r.split()) for r in self.requirements),
            "trainyard": package_version("trainyard"),
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def register(self, store: Any) -> Any:
        """Record this spec under its name; the same spec again keeps its version."""
        return store.register_environment(self.name, self.model_dump(), self.build_hash())

    @classmethod
    def get(cls, store: Any, name: str, version: int | None = None) -> Environment:
        return cls(**store.get_environment(name, version).spec)


def read_requirements(path: Path) -> list[str]:
    if not path.is_file():
        raise InvalidInputError(f"requirements file {path} does not exist")
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]
