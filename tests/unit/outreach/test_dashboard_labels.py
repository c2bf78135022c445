"""The dashboard's labels come from the message catalogue, like every problem's text."""

from __future__ import annotations

import json
import re

from libs.common.i18n import catalogue, normalized
from services.outreach.dashboard_labels import LABELS, page


def test_every_label_has_a_vietnamese_form_in_the_catalogue() -> None:
    vi = catalogue("vi")
    assert [text for text in LABELS.values() if normalized(text) not in vi.ids] == []


def test_the_page_is_served_with_both_languages_of_every_label() -> None:
    found = re.search(r"const I18N = (\{.*?\});\n", page())
    assert found, "the labels were not put in the page"
    labels = json.loads(found.group(1))
    assert labels["en"] == LABELS
    assert set(labels["vi"]) == set(LABELS)
    assert labels["vi"]["token"] == "Mã truy cập"
    assert labels["vi"]["unplaced"] == "Chưa xác định địa bàn"
    assert labels["en"]["unplaced"] == "Place not yet known"


def test_no_label_can_close_the_script_it_is_in() -> None:
    script = page().split("const I18N = ", 1)[1].split(";\n", 1)[0]
    assert "</" not in script
