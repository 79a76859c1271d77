"""Evaluation: ``metrics`` (pure functions chosen by name, protocols and crops), ``align`` (scale / shift
alignment), ``evaluate`` (score a pipeline or a predict function on a dataset: ``python -m depthgen.evaluate``)
and ``report`` (results table and files). The eval sets are in ``depthgen.data.eval_sets``."""
