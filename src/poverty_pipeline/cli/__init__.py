"""The ``poverty`` command (``main``) and the benchmark it runs (``bench``)."""
