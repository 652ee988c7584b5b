import json
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from fare_model.data import TARGET, TIME_COLUMN, clean_trips, split_by_time
from fare_model.model_code import FEATURE_SOURCE, bundled_feature_code
from fare_model.registry import TRAINING_CUTOFF_TAG
from fare_model.training import TrainedModel


def test_registers_a_version_tagged_with_its_training_cutoff(trained: TrainedModel, trips: pd.DataFrame) -> None:
    assert (trained.model_name, trained.model_version) == ("fares", "1")
    version = MlflowClient().get_model_version("fares", "1")
    assert version.tags[TRAINING_CUTOFF_TAG] == split_by_time(clean_trips(trips)).cutoff.isoformat()
    assert trained.training_rows + trained.held_out_rows == len(clean_trips(trips))


def test_training_never_sees_a_held_out_trip(trained: TrainedModel) -> None:
    run = mlflow.get_run(trained.run_id)
    (dataset_input,) = run.inputs.dataset_inputs
    assert [tag.value for tag in dataset_input.tags] == ["training"]
    assert int(run.data.params["training_rows"]) == trained.training_rows
    assert pd.Timestamp(run.data.params["training_cutoff"]) == trained.training_cutoff


def test_model_takes_raw_trips_and_beats_the_mean_fare(trained: TrainedModel, trips: pd.DataFrame) -> None:
    model = mlflow.pyfunc.load_model(trained.model_uri)
    assert set(model.metadata.get_input_schema().input_names()) == set(trips.columns) - {TARGET}
    held_out = trips[trips[TIME_COLUMN] >= trained.training_cutoff]
    predictions = model.predict(held_out.drop(columns=[TARGET]))
    errors = np.asarray(predictions) - held_out[TARGET].to_numpy()
    mean_errors = trips.loc[trips[TIME_COLUMN] < trained.training_cutoff, TARGET].mean() - held_out[TARGET]
    assert np.sqrt(np.mean(errors**2)) < 0.5 * np.sqrt(np.mean(mean_errors**2))


@pytest.mark.parametrize("zip_type", ["int64", "int32"])
def test_model_accepts_zip_codes_as_spark_and_the_feature_store_give_them(
    trained: TrainedModel, trips: pd.DataFrame, zip_type: str
) -> None:
    rows = trips.drop(columns=[TARGET]).head(3).astype({"pickup_zip": zip_type, "dropoff_zip": zip_type})
    assert len(mlflow.pyfunc.load_model(trained.model_uri).predict(rows)) == 3


def test_permuted_trips_train_the_same_model(mlflow_store: str, trips: pd.DataFrame) -> None:
    from fare_model.training import train_and_register

    first = train_and_register(trips, "fares", source="sample")
    permuted = train_and_register(trips.sample(frac=1.0, random_state=11), "fares", source="permuted sample")
    rows = trips.drop(columns=[TARGET])
    np.testing.assert_array_equal(
        mlflow.pyfunc.load_model(first.model_uri).predict(rows),
        mlflow.pyfunc.load_model(permuted.model_uri).predict(rows),
    )


def test_training_window_is_logged(mlflow_store: str, trips: pd.DataFrame) -> None:
    from fare_model.training import train_and_register

    params = mlflow.get_run(train_and_register(trips, "fares", source="sample", window_max_rows=500).run_id).data.params
    assert params["training_window_max_rows"] == "500"
    assert pd.Timestamp(params["training_window_start"]) == trips[TIME_COLUMN].min()


_SCORE_VERSION_AFTER_IMPORTING_THE_REPOSITORY = """
import json, sys
sys.path.insert(0, sys.argv[1])
import model_spec.features  # the repository's (changed) feature code, imported first as notebooks do
import mlflow, pandas as pd
mlflow.set_tracking_uri(sys.argv[2])
rows = pd.read_parquet(sys.argv[3])
print(json.dumps([float(p) for p in mlflow.pyfunc.load_model(sys.argv[4]).predict(rows)]))
"""


def test_a_version_scores_with_its_own_feature_code_after_the_repository_changes(
    trained: TrainedModel, trips: pd.DataFrame, changed_repository: Path, tmp_path: Path
) -> None:
    """Version 1 keeps its predictions after ``model_spec/features.py`` changes, even in a process
    that imported the repository's ``model_spec`` first (every notebook, validation): the model
    carries its feature code under a name of its own (``fare_model.model_code``)."""
    rows = trips.drop(columns=[TARGET]).head(20)
    expected = mlflow.pyfunc.load_model(trained.model_uri).predict(rows)
    rows.to_parquet(tmp_path / "rows.parquet")

    scored = subprocess.run(
        [sys.executable, "-c", _SCORE_VERSION_AFTER_IMPORTING_THE_REPOSITORY, str(changed_repository),
         mlflow.get_tracking_uri(), str(tmp_path / "rows.parquet"), trained.model_uri],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip

    np.testing.assert_allclose(json.loads(scored.stdout.strip().splitlines()[-1]), expected, rtol=1e-9)


def test_the_bundled_feature_code_leaves_no_folder_behind() -> None:
    with bundled_feature_code() as code:
        folder = code.path.parent
        assert code.path.read_bytes() == FEATURE_SOURCE.read_bytes()
    assert not folder.exists()
    assert callable(code.module.transformer_fn)  # still imported, for the fitted pipeline to refer to
