"""Tiền Giang poverty-reduction monitoring pipeline: read, normalise, validate and load
commune submissions; reference data; sample submissions; the command line."""
