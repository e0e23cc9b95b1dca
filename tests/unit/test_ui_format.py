"""How the pages write a target's figures: households whole, in the direction of the target."""

from __future__ import annotations

from decimal import Decimal

from poverty_pipeline.ui.app import measure


def test_a_household_target_is_a_whole_number_of_households():
    assert measure(Decimal("12112.5"), "households", "at_most") == "12.112 hộ (households)"
    assert measure(Decimal("3.2"), "households", "at_least") == "4 hộ (households)"
    assert measure(Decimal("694"), "households") == "694 hộ (households)"


def test_rates_keep_their_decimals():
    assert measure(Decimal("0.28"), "percent", "below") == "0,28%"
    assert measure(None, "percent") == "–"
