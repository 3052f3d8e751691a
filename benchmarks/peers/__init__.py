"""Peers for benchmarks/columnar_bench.py: the same three rules, written by hand in other tools.

Each module has ``evaluate(cols, params) -> dict`` of boolean arrays named as
``columnar_bench.OUTPUTS``, over the same pre-derived columns (``columnar_bench.synthetic``).
"""
