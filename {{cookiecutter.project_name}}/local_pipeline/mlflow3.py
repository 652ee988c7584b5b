"""The whole MLflow 3 pipeline on this machine: ``make local-pipeline``.

The same modules as the Databricks jobs, against the MLflow store in the project root:

1. train: ``fare_model.training`` on the sample (all but its most recent tenth);
2. validate: ``fare_model.validation`` in ``enabled`` mode on the held-out trips, against
   the thresholds and, from the second run on, the current ``champion``;
3. deploy: ``fare_model.deployment`` moves ``champion`` to the validated version;
4. batch inference: ``fare_model.batch_inference`` scores the whole sample with the
   champion and adds the predictions to ``data/predictions.parquet`` (per record and model
   version, as the jobs add them to their table).

The sample fits in memory, so it is read once with pandas and no Spark session is started
(starting one costs more than the rest of the pipeline): the held-out trips are selected
and the sample is scored with the pandas forms of the jobs' functions (``held_out_trips``
on a pandas DataFrame, ``score_pandas``). The Spark forms that the jobs run are covered by
the unit tests and tests/fare_model/test_notebooks.py.

{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
The model gets its Unity Catalog name (``<dev catalog>.<schema>.<model>_local``, from
databricks-config/unity-catalog.json) in the local store, where three-level names and
aliases work as in Unity Catalog; the registry URI stays local and predictions go to a
parquet file instead of a Unity Catalog table (the seam: fare_model/unity_catalog.py).

{% endif -%}
It ends with a summary (run, model and aliases, metrics against their limits, predictions,
the ``mlflow ui`` command). A failing step exits non-zero with the step's name and cause.
"""

from __future__ import annotations

import os
import sys

from local_pipeline import (
    PROJECT_ROOT,
    SAMPLE_PATH,
    alias_lines,
    print_summary,
    run_as_command,
    save_predictions,
    step,
    use_local_mlflow_store,
)

EXPERIMENT_NAME = "{{ cookiecutter | derived("experiment_base_name") }}-local"
{%- if cookiecutter.include_models_in_unity_catalog != "yes" %}
MODEL_NAME = "{{ cookiecutter | derived("model_name") }}-local"
{%- endif %}


def run() -> None:
    sys.path.insert(0, str(PROJECT_ROOT))
    # MLflow reads these once, at import: no log lines for the SQLite schema migrations.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    use_local_mlflow_store()
    import mlflow
    import pandas as pd

    from fare_model.batch_inference import resolve_alias, score_pandas
    from fare_model.data import held_out_trips
    from fare_model.deployment import promote_to_champion
    from fare_model.registry import CHAMPION
    from fare_model.training import train_and_register
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
    from fare_model.unity_catalog import name_in, settings
{%- endif %}
    from fare_model.validation import validate_model_version
    from steps.validation import RunMode
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}

    MODEL_NAME = name_in("dev", settings()["model"] + "_local")  # noqa: N806 - the other tracks' constant
{%- endif %}

    mlflow.set_experiment(EXPERIMENT_NAME)
    trips = pd.read_parquet(SAMPLE_PATH)
    with step("train: fare_model.training on the sample"):
        model = train_and_register(trips, MODEL_NAME, source=str(SAMPLE_PATH))
    with step("validate: fare_model.validation on the held-out trips"):
        outcome = validate_model_version(
            model.model_name, model.model_version, held_out_trips(trips, model.training_cutoff), RunMode.ENABLED
        )
    with step("deploy: fare_model.deployment to champion"):
        promote_to_champion(model.model_uri, MODEL_NAME)
    with step("batch inference: fare_model.batch_inference on the sample"):
        champion_uri = resolve_alias(MODEL_NAME)
        saved = save_predictions(score_pandas(champion_uri, trips))
    print_summary(
        {
            "Training run id": model.run_id,
            "Registered model": model.model_uri,
            "Training cutoff": f"{model.training_cutoff} ({model.training_rows} trips before, {model.held_out_rows} held out)",
            **alias_lines(MODEL_NAME, CHAMPION, outcome.baseline_version, champion_uri),
        },
        outcome,
        validated_on="the most recent trips, held out from training",
        predictions=saved,
    )


if __name__ == "__main__":
    run_as_command(run)
