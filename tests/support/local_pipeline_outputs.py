"""What a generated project's local pipeline left behind, read in the project venv.

Every local pipeline (MLflow Recipes, MLflow 3, feature store) writes the same things: a SQLite
MLflow store with the registered model and ``data/predictions.parquet`` beside the
sample. Their end-to-end tests read them here, with one script, and check that
``make clean`` removes them again. What to expect of them comes from the project's own
``model_spec`` (metric names, directions, task, label), so a fork that swaps the example model
(stack-customization.md, task C) keeps these checks as they are.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

# Everything `make clean` in every generated project must remove.
LOCAL_PIPELINE_OUTPUTS = ("mlruns", "mlruns.db", "data/predictions.parquet")

_READ_FACTS = """
import json, sys
# pyarrow opens the files itself: pandas.read_parquet would pass it a Python file object, which a
# pyarrow thread can release while the interpreter exits, aborting it (apache/arrow#34314).
import pyarrow.parquet as pq
from mlflow.tracking import MlflowClient
root = sys.argv[1]
sys.path.insert(0, root)
from model_spec.data import LABEL, TASK
from model_spec.metrics import GREATER_IS_BETTER, THRESHOLDS
store = f"sqlite:///{root}/mlruns.db"
client = MlflowClient(tracking_uri=store, registry_uri=store)
models = client.search_registered_models()
versions = [mv for m in models for mv in client.search_model_versions(f"name='{m.name}'")]
predictions = pq.read_table(f"{root}/data/predictions.parquet").to_pandas()
sample = pq.read_table(f"{root}/data/sample.parquet").to_pandas()
# Rows that break the model's input contract are kept, unscored, with the broken rules
# (steps/row_checks.py); every other row has a prediction.
quarantined = predictions["quarantine_reason"].notna() if "quarantine_reason" in predictions else False
print(json.dumps({
    "versions": [[v.name, str(v.version)] for v in versions],
    "descriptions": [v.description or "" for v in versions],
    "validation_statuses": [v.tags.get("model_validation_status") for v in versions],
    "mlflow3_validation_statuses": [v.tags.get("validation_status") for v in versions],
    "aliases": {m.name: {alias: str(version) for alias, version in m.aliases.items()} for m in models},
    "prediction_model_versions": sorted(set(predictions["model_version"].astype(str))),
    "prediction_dtype": str(predictions["prediction"].dtype),
    "prediction_rows": len(predictions),
    "null_predictions": int(predictions["prediction"][~quarantined].isna().sum()),
    "quarantined_rows": int(quarantined.sum()) if "quarantine_reason" in predictions else 0,
    "scored_quarantined_rows": int(predictions["prediction"][quarantined].notna().sum()),
    "columns": list(predictions.columns),
    "sample_rows": len(sample),
    "sample_columns": list(sample.columns),
    "thresholds": dict(THRESHOLDS),
    "greater_is_better": dict(GREATER_IS_BETTER),
    # A regressor predicts floats; a classifier its label's values (model_spec.prediction), as
    # pandas' nullable type when a quarantined row holds no prediction (Int64 for int64).
    "expected_prediction_dtype": "float64" if TASK == "regression" else (
        str(sample[LABEL].dtype) if not getattr(quarantined, "any", lambda: False)()
        else str(sample[LABEL].convert_dtypes(convert_floating=False).dtype)),
}))
"""


def read_local_pipeline_facts(python: Path, project: Path) -> dict:
    """Registered model versions (name, version, description) and the predictions' shape:
    ``null_predictions`` counts unscored rows that were not quarantined, ``quarantined_rows`` the
    rows kept unscored for a broken input rule, ``scored_quarantined_rows`` those that got a
    prediction all the same (always 0 when scoring is right)."""
    result = subprocess.run(
        [str(python), "-c", _READ_FACTS, str(project)], cwd=project.parent, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


# A validation metric's line of the local pipeline's summary: name, value, side, threshold, verdict.
# (steps/validation.py ValidationReport.report; the deployed model's value may follow the verdict.)
METRIC_LINE = re.compile(r"^\s+(\w+)\s+(-?[\d.]+) (<=|>=) (-?[\d.]+(?:e[-+]?\d+)?)\s+(ok|FAILED)\b", re.MULTILINE)


def metric_line_problems(output: str, facts: dict, *, extra_metrics: bool = False) -> list[str]:
    """What is wrong with the validation metrics that a local pipeline printed in ``output``,
    judged by the project's ``model_spec`` (``facts`` from ``read_local_pipeline_facts``): a
    metric of ``THRESHOLDS`` missing, one it does not name (allowed with ``extra_metrics``: the
    recipe's own), a line on the wrong side for ``GREATER_IS_BETTER`` (``<=`` for an error, ``>=``
    for a score), or a value that does not pass. Empty when every line passes as it should."""
    lines = {name: (float(value), side, float(limit), verdict) for name, value, side, limit, verdict in METRIC_LINE.findall(output)}
    expected = set(facts["thresholds"])
    problems = [f"{name}: no line in the summary" for name in sorted(expected - set(lines))]
    if not extra_metrics:
        problems += [f"{name}: not a metric of model_spec.metrics.THRESHOLDS" for name in sorted(set(lines) - expected)]
    for name, (value, side, limit, verdict) in lines.items():
        greater = facts["greater_is_better"].get(name, False)
        if side != (">=" if greater else "<="):
            problems.append(f"{name}: shown as {side}, but GREATER_IS_BETTER is {greater}")
        if verdict != "ok" or not (value >= limit if greater else value <= limit):
            problems.append(f"{name}: {value} {side} {limit} {verdict}")
    return problems


def outputs_left_after_make_clean(project: Path, outputs: tuple[str, ...] = LOCAL_PIPELINE_OUTPUTS) -> list[str]:
    """Run the project's ``make clean``; the given outputs that still exist afterwards."""
    subprocess.run(["make", "clean"], cwd=project, check=True, capture_output=True)
    return [name for name in outputs if (project / name).exists()]
