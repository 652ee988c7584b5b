"""What a generated project's local pipeline left behind, read in the project venv.

Every local pipeline (MLflow Recipes, MLflow 3, feature store) writes the same things: a SQLite
MLflow store with the registered model and ``data/predictions.parquet`` beside the
sample. Their end-to-end tests read them here, with one script, and check that
``make clean`` removes them again.
"""

from __future__ import annotations

import json
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


def outputs_left_after_make_clean(project: Path, outputs: tuple[str, ...] = LOCAL_PIPELINE_OUTPUTS) -> list[str]:
    """Run the project's ``make clean``; the given outputs that still exist afterwards."""
    subprocess.run(["make", "clean"], cwd=project, check=True, capture_output=True)
    return [name for name in outputs if (project / name).exists()]
