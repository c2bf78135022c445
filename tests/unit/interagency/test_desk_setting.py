"""The interagency desk's province (issue 13, finding 3): partners' alerts that name no place of
ours are read there only, so production must name it and a wrong code must not start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.interagency.settings import InteragencySettings


def test_the_local_stack_desk_is_ha_noi() -> None:
    assert InteragencySettings(environment="development").alert_desk_province == "01"


def test_production_refuses_to_start_without_a_desk() -> None:
    settings = InteragencySettings(environment="production")
    assert settings.alert_desk_province == ""
    with pytest.raises(RuntimeError, match="CTIP_INTERAGENCY_ALERT_DESK_PROVINCE"):
        settings.check_production()


@pytest.mark.parametrize("code", ["00", "1", "00256", "xx"])
def test_a_desk_that_is_not_a_province_is_refused(code: str) -> None:
    with pytest.raises(ValidationError, match="must be a province code"):
        InteragencySettings(alert_desk_province=code)
