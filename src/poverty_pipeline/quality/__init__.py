"""Checks after the warehouse build: the Great Expectations quality gate on the marts, and the
reconciliation of what communes claimed with what the warehouse recomputes."""
