"""Investigations: each module's docstring says its question, its answer and when it was asked. Run them as
`python -m bench.probes.NAME` from the checkout's root; none is part of the suite (bench/run_all.py)."""
