"""The example model: everything that makes this project a taxi-fare regressor, in one package.

Every ML track (MLflow Recipes, MLflow 3, feature store) imports what is model-specific from
here and keeps only its own machinery (splitting, logging, registering, validating, serving).
To put your own model into the project, replace this package and ``data/sample.parquet``,
then run ``pytest tests/test_model_spec*.py`` (tests/test_model_spec.py and, where the package
brings features and an estimator, tests/test_model_spec_fit.py): it names anything your package lacks.

The package must provide (the contract test checks each name and its type):

- ``model_spec.data``: ``SAMPLE_PATH``, ``DATABRICKS_INPUT_PATH``, ``LABEL``, ``TIME_COLUMN``, ``TASK``.
- ``model_spec.contract``: ``INPUT_CONTRACT`` (rows a model may score) and ``TRAINING_CONTRACT``
  (rows it may learn from), pandera schemas.
- ``model_spec.features``: ``transformer_fn``, an unfitted scikit-learn transformer from raw
  rows to model features. Logged models carry this file, so it imports third-party packages only.
- ``model_spec.estimator``: ``estimator_fn``, an unfitted scikit-learn estimator of ``TASK``.
- ``model_spec.metrics``: ``THRESHOLDS`` (metric name to the worst passing value),
  ``GREATER_IS_BETTER`` (metric name to whether higher values are better) and
  ``compute_metrics(predictions, targets)``.
- ``model_spec.prediction``: ``PREDICTION_COLUMN`` and ``prediction_column(model, rows)``.
"""
