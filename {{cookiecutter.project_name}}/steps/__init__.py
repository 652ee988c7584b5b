{%- set recipes = cookiecutter | derived("ml_code") == "mlflow_recipes" -%}
"""Project code shared by {% if recipes %}the MLflow Recipe{% else %}the fare_model modules{% endif %}, the Databricks notebooks and the local pipeline.

A package (rather than loose scripts) so that notebooks, tests and MLflow all import it
the same way, as ``steps.<module>``, with the project root on ``sys.path``.
"""
