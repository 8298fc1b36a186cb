"""Execute Python Script: the user's ``azureml_main(dataframe1, dataframe2)`` run on the step's tables.

As in Azure ML Studio: the script defines ``azureml_main``, which is called with the two input
tables as pandas DataFrames (``None`` for an input that is not wired) and returns a DataFrame or
a tuple of one or two; the first is ``result_dataset``, the second ``python_device``. What the
script prints goes to the step's log. A folder or a zip given as ``script_bundle`` is put on
``sys.path`` so the script can import its modules.

A user's mistake is one line naming what to fix (no ``azureml_main``, a syntax error, an
exception, a return value that is not DataFrames); for an exception the traceback, trimmed to
the script's own lines, is printed first (to stderr, which a pipeline step keeps in its log).
"""

from __future__ import annotations

import inspect
import linecache
import sys
import tempfile
import traceback
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from trainyard.components.base import ComponentInputError, Context, Param, Port, component

ENTRY = "azureml_main"
SCRIPT_FILE = "<script>"  # the name the script's lines have in a traceback
DEFAULT_SCRIPT = """\
# The script MUST contain a function named azureml_main,
# which is the entry point for this module.

# imports up here can be used to
import pandas as pd

# The entry point function MUST have two input arguments.
# If the input port is not connected, the corresponding
# dataframe argument will be None.
#   Param<dataframe1>: a pandas.DataFrame
#   Param<dataframe2>: a pandas.DataFrame
def azureml_main(dataframe1 = None, dataframe2 = None):

    # Execution logic goes here
    print(f'Input pandas.DataFrame #1: {dataframe1}')

    # If a zip file or a folder is given as script_bundle, it is put
    # on sys.path. Therefore, if it contains a Python file mymodule.py
    # you can import it using:
    # import mymodule

    # Return value must be of a sequence of pandas.DataFrame
    # E.g.
    #   -  Single return value: return dataframe1,
    #   -  Two return values: return dataframe1, dataframe2
    return dataframe1,
"""
RETURN_HINT = "return a DataFrame or a tuple of one or two, e.g. `return dataframe1,`"


def _load(script: str) -> Callable[..., Any]:
    """The script's ``azureml_main``, the script run once as a module (its imports, its globals)."""
    linecache.cache[SCRIPT_FILE] = (len(script), None, script.splitlines(keepends=True), SCRIPT_FILE)
    try:
        code = compile(script, SCRIPT_FILE, "exec")
    except SyntaxError as exc:
        raise ComponentInputError(f"script line {exc.lineno}: {exc.msg}; fix the script") from None
    namespace: dict[str, Any] = {"__name__": "__main__"}
    _call(lambda: exec(code, namespace), "running the script")
    entry = namespace.get(ENTRY)
    if not callable(entry):
        raise ComponentInputError(
            f"the script defines no function {ENTRY}; add `def {ENTRY}(dataframe1 = None, "
            "dataframe2 = None):` that returns the result table(s)"
        )
    try:
        inspect.signature(entry).bind(None, None)
    except TypeError:
        raise ComponentInputError(
            f"{ENTRY}{inspect.signature(entry)} must take two arguments: "
            f"`def {ENTRY}(dataframe1 = None, dataframe2 = None):`"
        ) from None
    except ValueError:  # a callable without a signature (a builtin): let the call tell
        pass
    return entry


def _call(fn: Callable[[], Any], doing: str) -> Any:
    """``fn()``; an exception in the user's code is printed with the script's frames only and
    becomes one line naming the exception and where it was raised."""
    try:
        return fn()
    except Exception as exc:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == SCRIPT_FILE]
        trimmed = ["Traceback (most recent call last):\n", *traceback.format_list(frames)]
        print("".join(trimmed + traceback.format_exception_only(exc)), end="", file=sys.stderr, flush=True)
        where = f" at script line {frames[-1].lineno}, in {frames[-1].name}" if frames else ""
        detail = "".join(traceback.format_exception_only(exc)).strip().splitlines()[-1]
        raise ComponentInputError(f"{doing} raised {detail}{where}; fix the script") from None


def _tables(returned: Any) -> list[pd.DataFrame]:
    """The DataFrames ``azureml_main`` returned; an error naming what it returned otherwise."""
    if isinstance(returned, pd.DataFrame):
        returned = [returned]
    elif not isinstance(returned, tuple | list):
        what = "None" if returned is None else f"a {type(returned).__name__}"
        raise ComponentInputError(f"{ENTRY} returned {what}; {RETURN_HINT}")
    if not 1 <= len(returned) <= 2:
        raise ComponentInputError(f"{ENTRY} returned {len(returned)} values; {RETURN_HINT}")
    for i, item in enumerate(returned, start=1):
        if not isinstance(item, pd.DataFrame):
            raise ComponentInputError(
                f"{ENTRY} returned a {type(returned).__name__} whose item {i} is "
                f"{type(item).__name__}, not a pandas DataFrame; {RETURN_HINT}"
            )
        odd = [c for c in item.columns if not isinstance(c, str)]  # Parquet, which stores it, needs str
        if odd:
            raise ComponentInputError(
                f"{ENTRY}'s DataFrame {i} has column names that are not strings ({odd[0]!r}); "
                "name them, e.g. `df.columns = [str(c) for c in df.columns]`"
            )
    return list(returned)


@contextmanager
def _bundle(path: str | None) -> Iterator[None]:
    """``path`` (a folder, or a zip unpacked to a temporary folder) on ``sys.path`` meanwhile; the
    modules imported from it are forgotten after, so another bundle's same names load afresh."""
    if not path:
        yield
        return
    given = Path(path)
    if not given.exists():
        raise ComponentInputError(f"script_bundle: no such file or folder {path!r}")
    if given.is_file() and not zipfile.is_zipfile(given):
        raise ComponentInputError(f"script_bundle: {path!r} is neither a zip file nor a folder")
    with tempfile.TemporaryDirectory(prefix="script-bundle-") as tmp:
        folder = given.resolve()
        if given.is_file():
            folder = Path(tmp) / "Script Bundle"
            with zipfile.ZipFile(given) as archive:
                archive.extractall(folder)
        sys.path.insert(0, str(folder))
        try:
            yield
        finally:
            sys.path.remove(str(folder))
            for name, module in list(sys.modules.items()):
                if str(getattr(module, "__file__", None) or "").startswith(str(folder)):
                    del sys.modules[name]


@component(
    name="execute-python-script",
    display_name="Execute Python Script",
    category="Python Language",
    description="Run your Python function azureml_main(dataframe1, dataframe2) on up to two tables "
    "(pandas DataFrames); the DataFrames it returns are the outputs.",
    inputs=[
        Port("dataframe1", "table", "The first table, azureml_main's dataframe1.", optional=True),
        Port("dataframe2", "table", "The second table, azureml_main's dataframe2.", optional=True),
    ],
    outputs=[
        Port("result_dataset", "table", "The first DataFrame azureml_main returns."),
        Port("python_device", "table", "The second DataFrame azureml_main returns, if any.", optional=True),
    ],
    params=[
        Param("script", "python", DEFAULT_SCRIPT, "Python source defining azureml_main."),
        Param(
            "script_bundle",
            "path",
            None,
            "A zip file or a folder of Python modules the script imports (put on sys.path).",
            optional=True,
        ),
    ],
)
def execute_python_script(
    ctx: Context,
    dataframe1: pd.DataFrame | None,
    dataframe2: pd.DataFrame | None,
    script: str,
    script_bundle: str | None,
) -> dict[str, Any]:
    with _bundle(script_bundle):
        entry = _load(script)
        tables = [None if df is None else df.copy() for df in (dataframe1, dataframe2)]
        returned = _call(lambda: entry(*tables), ENTRY)
    results = _tables(returned)
    ctx.log("result_rows", len(results[0]))
    return {"result_dataset": results[0], "python_device": results[1] if len(results) > 1 else None}
