"""External run-to-failure data sets for evaluating the platform's ML on data it did not make.

``python -m bench.datasets.progpy_sets pump --out DIR`` writes one (see that module).
"""

__all__: list[str] = []
