"""Two engines for one cadre over the same compiled rules: durable_rules (``durable.py``, the
default) and plain Python (``python.py``); the columnar engine (``run/columnar``) is the third.

All take a compiled set and one encoded cadre fact and return the same
:class:`~cadre_policy.run.firings.Firings`; ``run/engines.py`` chooses one by name.
"""
