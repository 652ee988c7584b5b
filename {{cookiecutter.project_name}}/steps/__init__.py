"""Project code shared by the training code, the Databricks notebooks and the local pipeline.

A package (rather than loose scripts) so that notebooks, tests and MLflow all import it
the same way, as ``steps.<module>``, with the project root on ``sys.path``.
"""
