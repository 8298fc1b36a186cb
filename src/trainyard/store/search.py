"""Run search in MLflow's grammar: ``filter_string``, ``order_by`` and page tokens.

Parsed here once, into plain values, so every Store backend compiles the same meaning (SQL in
``store/sql/search.py``; ``RestStore`` passes the strings on to the server)::

    metrics.rmse < 1 and params.alpha = '0.1' and tags.`my key` LIKE '%x%'
    attributes.status = 'completed'     order_by: ["metrics.rmse DESC", "attributes.start_time"]

Clauses are joined by ``and``. Metrics compare numbers; params and tags compare strings with
``=``, ``!=``, ``LIKE``, ``ILIKE`` or ``IN (...)``. Runs that lack a metric, param or tag named
in the filter do not match; when ordering by one, they come last.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass

from trainyard.errors import InvalidInputError
from trainyard.limits import MAX_FILTER_METRICS, MAX_FILTER_TERMS, MAX_FILTER_VALUES, MAX_ORDER_KEYS
from trainyard.status import RunStatus

ENTITIES = {
    "metric": "metric",
    "metrics": "metric",
    "param": "param",
    "params": "param",
    "parameter": "param",
    "parameters": "param",
    "tag": "tag",
    "tags": "tag",
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
    "run": "attribute",
}
# attribute name as users write it -> RunInfo column, and whether it holds numbers
ATTRIBUTES: dict[str, tuple[str, bool]] = {
    "status": ("status", False),
    "run_name": ("name", False),
    "name": ("name", False),
    "run_id": ("id", False),
    "id": ("id", False),
    "experiment_id": ("experiment_id", False),
    "start_time": ("start_time", True),
    "end_time": ("end_time", True),
    "created": ("created_at", True),
    "created_at": ("created_at", True),
}
# MLflow's status names, so an MLflow client's filter means the same here
STATUS_ALIASES = {"finished": "completed", "killed": "canceled", "scheduled": "queued"}
NUMBER_OPS = ("=", "!=", "<", "<=", ">", ">=")
STRING_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
MAX_PAGE = 50_000

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<lparen>\()
      | (?P<rparen>\))
      | (?P<comma>,)
      | '(?P<sq>(?:[^']|'')*)'
      | "(?P<dq>(?:[^"]|"")*)"
      | `(?P<bq>[^`]*)`
      | (?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]))
      | (?P<word>[A-Za-z_][\w.:/-]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Clause:
    """One comparison: ``entity`` is metric, param, tag or attribute; ``key`` a name or column."""

    entity: str
    key: str
    op: str
    value: float | str | tuple[str, ...]


@dataclass(frozen=True)
class OrderBy:
    entity: str
    key: str
    descending: bool


def _shown(filter_string: str) -> str:
    return repr(filter_string if len(filter_string) <= 200 else filter_string[:200] + "...")


def _bad(filter_string: str, why: str) -> InvalidInputError:
    return InvalidInputError(
        f"filter {_shown(filter_string)}: {why}; write e.g. \"metrics.rmse < 1 and params.alpha = '0.1'\""
    )


def _within_limits(filter_string: str, clauses: list[Clause]) -> list[Clause]:
    """``clauses``, if a database can run them (``trainyard.limits``); else say which limit is passed."""
    values = sum(len(c.value) if isinstance(c.value, tuple) else 1 for c in clauses)
    metrics = len({c.key for c in clauses if c.entity == "metric"})
    for count, limit, what in (
        (len(clauses), MAX_FILTER_TERMS, "comparisons"),
        (values, MAX_FILTER_VALUES, "values to compare with"),
        (metrics, MAX_FILTER_METRICS, "different metrics"),
    ):
        if count > limit:
            raise InvalidInputError(
                f"the filter has {count} {what} and a search takes at most {limit}; narrow it or "
                f"split it into several searches (filter {_shown(filter_string)})"
            )
    return clauses


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _bad(text, f"cannot read {text[pos : pos + 20].strip()!r}")
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "sq":
            value, kind = value.replace("''", "'"), "str"
        elif kind == "dq":
            value, kind = value.replace('""', '"'), "str"
        out.append((kind, value))
        pos = m.end()
    return out


def _split_name(text: str, name: str, quoted: str | None = None) -> tuple[str, str]:
    """``metrics.val.loss`` -> (metric, "val.loss"); a bare word is an attribute."""
    head, dot, rest = name.partition(".")
    if dot and head.lower() in ENTITIES:
        entity, key = ENTITIES[head.lower()], rest
    elif not dot and name.lower() in ENTITIES and quoted is not None:
        entity, key = ENTITIES[name.lower()], quoted
    else:
        entity, key = "attribute", name
    if entity == "attribute":
        if key.lower() not in ATTRIBUTES:
            raise _bad(text, f"unknown attribute {key!r}; use one of {', '.join(sorted(ATTRIBUTES))}")
        key = key.lower()
    if not key:
        raise _bad(text, f"{name!r} names no key")
    return entity, key


def _read_name(text: str, toks: list[tuple[str, str]], i: int) -> tuple[str, str, int]:
    kind, word = toks[i]
    if kind == "bq":
        raise _bad(text, f"`{word}` needs an entity in front, e.g. metrics.`{word}`")
    if kind != "word":
        raise _bad(text, f"expected a name such as metrics.rmse, got {word!r}")
    if word.endswith(".") and i + 1 < len(toks) and toks[i + 1][0] in ("bq", "str"):
        entity, key = _split_name(text, word[:-1], toks[i + 1][1])
        return entity, key, i + 2
    entity, key = _split_name(text, word)
    return entity, key, i + 1


def _status_value(text: str, value: str) -> str:
    low = STATUS_ALIASES.get(value.lower(), value.lower())
    if low not in {s.value for s in RunStatus}:
        allowed = ", ".join(s.value for s in RunStatus)
        raise _bad(text, f"status {value!r} is not one of {allowed}")
    return low


def parse_filter(filter_string: str | None) -> list[Clause]:
    """The clauses of ``filter_string`` (none for blank); ``InvalidInputError`` says what is wrong."""
    if filter_string is None or not filter_string.strip():
        return []
    text = filter_string
    toks = _tokens(text)
    clauses: list[Clause] = []
    i = 0
    while True:
        if i >= len(toks):
            raise _bad(text, "it ends where a comparison was expected")
        entity, key, i = _read_name(text, toks, i)
        op, i = _read_op(text, toks, i)
        value, i = _read_value(text, toks, i, op)
        clauses.append(_checked(text, Clause(entity, key, op, value)))
        if i == len(toks):
            return _within_limits(text, clauses)
        if toks[i][0] != "word" or toks[i][1].lower() != "and":
            raise _bad(
                text, f"expected 'and' between comparisons, got {toks[i][1]!r} (only 'and' is supported)"
            )
        i += 1


def _read_op(text: str, toks: list[tuple[str, str]], i: int) -> tuple[str, int]:
    if i >= len(toks):
        raise _bad(text, "a comparison is missing its operator")
    kind, word = toks[i]
    if kind == "op":
        return ("!=" if word == "<>" else word), i + 1
    if kind == "word" and word.upper() in ("LIKE", "ILIKE", "IN"):
        return word.upper(), i + 1
    if kind == "word" and word.upper() == "NOT" and i + 1 < len(toks) and toks[i + 1][1].upper() == "IN":
        return "NOT IN", i + 2
    raise _bad(text, f"unknown operator {word!r}; use =, !=, <, <=, >, >=, LIKE, ILIKE or IN")


def _read_value(
    text: str, toks: list[tuple[str, str]], i: int, op: str
) -> tuple[float | str | tuple[str, ...], int]:
    if i >= len(toks):
        raise _bad(text, "a comparison is missing its value")
    if op in ("IN", "NOT IN"):
        if toks[i][0] != "lparen":
            raise _bad(text, f"{op} needs a list in parentheses, e.g. ('a', 'b')")
        items, i = [], i + 1
        while i < len(toks) and toks[i][0] == "str":
            items.append(toks[i][1])
            i += 1
            if i < len(toks) and toks[i][0] == "comma":
                i += 1
        if i >= len(toks) or toks[i][0] != "rparen" or not items:
            raise _bad(text, f"{op} needs a non-empty list of quoted strings in parentheses")
        return tuple(items), i + 1
    kind, word = toks[i]
    if kind == "num":
        return float(word), i + 1
    if kind == "str":
        return word, i + 1
    raise _bad(text, f"expected a number or a quoted string, got {word!r}")


def _checked(text: str, clause: Clause) -> Clause:
    numeric = clause.entity == "metric" or (clause.entity == "attribute" and ATTRIBUTES[clause.key][1])
    if numeric:
        if clause.op not in NUMBER_OPS or not isinstance(clause.value, float):
            raise _bad(text, f"{clause.entity} {clause.key!r} compares numbers with {', '.join(NUMBER_OPS)}")
        return clause
    if clause.op not in STRING_OPS or isinstance(clause.value, float):
        raise _bad(
            text, f"{clause.entity} {clause.key!r} compares quoted strings with {', '.join(STRING_OPS)}"
        )
    if clause.entity == "attribute" and ATTRIBUTES[clause.key][0] == "status":
        if clause.op in ("LIKE", "ILIKE"):
            raise _bad(text, "status compares with =, !=, IN or NOT IN")
        if isinstance(clause.value, tuple):
            return Clause(
                clause.entity, clause.key, clause.op, tuple(_status_value(text, v) for v in clause.value)
            )
        return Clause(clause.entity, clause.key, clause.op, _status_value(text, str(clause.value)))
    return clause


def parse_order_by(order_by: list[str] | tuple[str, ...] | None) -> list[OrderBy]:
    """``["metrics.rmse DESC", "attributes.start_time"]`` -> keys; ascending unless DESC."""
    if order_by is not None and len(order_by) > MAX_ORDER_KEYS:
        raise InvalidInputError(
            f"order_by has {len(order_by)} items; a search orders by at most {MAX_ORDER_KEYS} keys"
        )
    result = []
    for item in order_by or ():
        if not isinstance(item, str) or not item.strip():
            raise InvalidInputError(f"order_by item {item!r} must be a string such as 'metrics.rmse DESC'")
        toks = _tokens(item)
        descending = False
        if toks and toks[-1][0] == "word" and toks[-1][1].upper() in ("ASC", "DESC"):
            descending = toks.pop()[1].upper() == "DESC"
        try:
            entity, key, used = _read_name(item, toks, 0) if toks else ("", "", 0)
        except InvalidInputError:
            used = -1
        if not toks or used != len(toks):
            raise InvalidInputError(
                f"order_by item {item!r}: write '<metrics|params|tags|attributes>.<key> [ASC|DESC]'"
            )
        result.append(OrderBy(entity, ATTRIBUTES[key][0] if entity == "attribute" else key, descending))
    return result


def encode_page_token(offset: int) -> str:
    """Tokens hold an offset: a run created between two page requests can shift later pages by one."""
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_page_token(token: str | None) -> int:
    """The offset a page token stands for; a token we did not make is refused."""
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        offset = None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidInputError(f"page_token {token[:40]!r} is not one this store handed out")
    return offset


def check_max_results(max_results: int | None) -> int | None:
    if max_results is not None and (
        not isinstance(max_results, int) or isinstance(max_results, bool) or not 0 < max_results <= MAX_PAGE
    ):
        raise InvalidInputError(
            f"max_results must be a whole number from 1 to {MAX_PAGE}, got {max_results!r}"
        )
    return max_results
