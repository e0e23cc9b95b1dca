"""Vietnamese labels, with English beside, for the codes the marts use."""

from __future__ import annotations

import re

# the pages' templates read these here
from poverty_pipeline.reference.labels import FUNDING_SOURCE, SUBMISSION_KIND, UNIT  # noqa: F401

OUTCOME = {
    "accepted": ("Đã nhận", "accepted"),
    "accepted_with_warnings": ("Đã nhận, có cảnh báo", "accepted with warnings"),
    "rejected": ("Bị từ chối", "rejected"),
    "missing": ("Chưa nộp", "missing"),
}

TIMELINESS = {
    "on_time": ("Đúng hạn", "on time"),
    "late": ("Trễ hạn", "late"),
    "overdue": ("Quá hạn", "overdue"),
    "not_yet_due": ("Chưa đến hạn", "not yet due"),
}


ROLLUP_LEVEL = {
    "province": ("Toàn tỉnh", "province"),
    "district": ("Huyện", "district"),
    "agency_group": ("Nhóm đơn vị", "agency group"),
    "all_agencies": ("Tất cả đơn vị", "all agencies"),
}

# The flows of rpt_review_summary: out of poverty (drawn left of zero) and into it (right).
FLOWS_OUT = {
    "poor_escaped": ("Thoát nghèo", "escaped poverty"),
    "poor_left_review": ("Không còn trong danh sách", "left the review"),
    "poor_to_unclassifiable": ("Không phân loại được", "became unclassifiable"),
}
FLOWS_IN = {
    "near_poor_to_poor": ("Từ cận nghèo", "from near-poor"),
    "newly_poor": ("Nghèo mới", "newly poor"),
    "re_poor": ("Tái nghèo", "fell back into poverty"),
    "poor_not_compared": ("Chưa so sánh được", "not compared (first review)"),
}
NEAR_POOR_FLOWS_OUT = {
    "near_poor_escaped": ("Thoát cận nghèo", "escaped near-poverty"),
    "near_poor_to_poor": ("Thành hộ nghèo", "became poor"),
    "near_poor_left_review": ("Không còn trong danh sách", "left the review"),
    "near_poor_to_unclassifiable": ("Không phân loại được", "became unclassifiable"),
}
NEAR_POOR_FLOWS_IN = {
    "poor_escaped_to_near_poor": ("Từ nghèo", "from poor"),
    "newly_near_poor": ("Cận nghèo mới", "newly near-poor"),
    "re_near_poor": ("Tái cận nghèo", "near-poor again"),
    "near_poor_not_compared": ("Chưa so sánh được", "not compared (first review)"),
}
# Households on a list of the year before whose territory had no review in the year: they
# are not in the start of the year (start + not reviewed = the year before's end).
NOT_REVIEWED = ("Năm trước, địa bàn không rà soát", "of the year before, territory not reviewed")

# What a measure is, in words (the charts' series and the tables' headers).
MEASURES = {
    "poor": ("Hộ nghèo", "poor"),
    "near_poor": ("Hộ cận nghèo", "near-poor"),
}
_DOCUMENT = {"Quyết định": "QĐ", "Nghị định": "NĐ", "Thông tư": "TT"}


def standard_label(standard: dict) -> str:
    """A standard by the legal document it comes from, read from its legal source in the
    warehouse: ``QĐ 59/2015``, ``NĐ 07/2021``; the code's first part when none is named."""
    found = re.search(r"(Quyết định|Nghị định|Thông tư)\s+(\d+)/(\d{4})", standard.get("legal_source") or "")
    if found:
        return f"{_DOCUMENT[found[1]]} {found[2]}/{found[3]}"
    return standard["standard_code"].split("_")[0]


def vi_en(table: dict[str, tuple[str, str]], code: str | None) -> str:
    """``Vietnamese (English)`` for a code; the code itself when the table does not know it."""
    if code is None:
        return ""
    vi, en = table.get(code, (code, ""))
    return f"{vi} ({en})" if en else vi
