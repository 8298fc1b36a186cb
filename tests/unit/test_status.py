import pytest

from trainyard.errors import InvalidTransitionError
from trainyard.status import ALLOWED, TERMINAL, RunStatus, check_transition, parse_status


def test_terminal_statuses_allow_nothing():
    for status in TERMINAL:
        assert ALLOWED[status] == frozenset()
        for target in RunStatus:
            with pytest.raises(InvalidTransitionError, match="already"):
                check_transition(status, target)


def test_the_happy_path_is_allowed():
    path = [RunStatus.QUEUED, RunStatus.PREPARING, RunStatus.RUNNING, RunStatus.COMPLETED]
    for current, target in zip(path, path[1:], strict=False):
        check_transition(current, target)


def test_parse_status_is_case_insensitive_and_helpful():
    assert parse_status("Running") is RunStatus.RUNNING
    with pytest.raises(InvalidTransitionError, match="expected one of"):
        parse_status("finished")
