from __future__ import annotations

import pytest

from libs.common.concurrency import check_if_match
from libs.common.errors import PreconditionFailed, Unprocessable


@pytest.mark.parametrize("if_match", [None, "3", '"3"', 'W/"3"', " 3 "])
def test_matching_or_absent_if_match_passes(if_match: str | None) -> None:
    check_if_match(if_match, 3)


@pytest.mark.parametrize("if_match", ["2", '"2"', 'W/"2"', "4"])
def test_stale_if_match_is_precondition_failed(if_match: str) -> None:
    with pytest.raises(PreconditionFailed):
        check_if_match(if_match, 3)


def test_precondition_failed_names_the_current_version() -> None:
    with pytest.raises(PreconditionFailed) as raised:
        check_if_match("2", 3)
    assert raised.value.extra == {"current_version": 3}


@pytest.mark.parametrize("if_match", ["abc", "", "*", "-1", "3.0", 'W/"abc"'])
def test_non_numeric_if_match_is_unprocessable(if_match: str) -> None:
    with pytest.raises(Unprocessable):
        check_if_match(if_match, 3)


def test_superscript_digit_if_match_is_unprocessable() -> None:
    with pytest.raises(Unprocessable):
        check_if_match("²", 2)
