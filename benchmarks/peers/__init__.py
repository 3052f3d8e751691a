"""Peers: the product's work written by hand in other tools.

For benchmarks/columnar_bench.py, each module has ``evaluate(cols, params) -> dict`` of boolean
arrays named as ``columnar_bench.OUTPUTS``, over the same pre-derived columns
(``columnar_bench.synthetic``). For benchmarks/floor_bench.py, ``duckdb_peer``, ``polars_peer``
and ``numpy_peer`` have ``job(tables, spec)``: a draft's whole what-if from the Arrow read
(``job.py`` runs it in its own process; ``agree.py`` compares its list with the product's).
"""
