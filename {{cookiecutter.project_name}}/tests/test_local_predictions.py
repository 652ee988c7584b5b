"""The local pipeline keeps its predictions as batch inference keeps its table: per record and model version."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

{%- if cookiecutter | derived("ml_code") != "mlflow3" %}
from pyspark.sql.types import LongType, StructField, StructType
{%- endif %}

from local_pipeline import SavedPredictions, local_record_ids, save_predictions{% if cookiecutter | derived("ml_code") != "mlflow3" %}, spark_to_pandas{% endif %}


def _scored(version: str, *distances: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tpep_pickup_datetime": pd.to_datetime(["2024-03-01 08:00:00"] * len(distances)),
            "trip_distance": list(distances),
            "fare_amount": [9.5] * len(distances),  # the label: not part of a record's id
            "prediction": [3.0 * d for d in distances],
            "model_version": version,
        }
    )


def test_rerunning_the_local_pipeline_keeps_the_history_without_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "predictions.parquet"
    assert save_predictions(_scored("1", 2.0, 5.5), path) == SavedPredictions(added=2, total=2)
    assert save_predictions(_scored("1", 2.0, 5.5), path) == SavedPredictions(added=0, total=2)  # the same run again
    assert save_predictions(_scored("2", 2.0, 5.5, 1.5), path) == SavedPredictions(added=3, total=5)  # a new version
    assert save_predictions(_scored("2", 2.0, 1.5, 4.0), path) == SavedPredictions(added=1, total=6)  # a new trip
    stored = pd.read_parquet(path)
    assert not stored.duplicated(["record_id", "model_version"]).any()
    assert sorted(stored.groupby("model_version").size().to_dict().items()) == [("1", 2), ("2", 4)]
    assert stored["scored_at"].notna().all()


def test_a_records_local_id_is_over_the_models_inputs_only() -> None:
    scored = _scored("1", 2.0, 5.5)
    ids = local_record_ids(scored)
    assert ids.nunique() == 2 and ids.str.fullmatch("[0-9a-f]{64}").all()
    relabelled = scored.assign(fare_amount=20.0, prediction=0.0, payment_type=1)
    pd.testing.assert_series_equal(local_record_ids(relabelled), ids)


def test_a_file_written_before_the_key_and_a_spark_folder_are_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "predictions.parquet"
    _scored("1", 2.0).to_parquet(path, index=False)  # an earlier release's file: no record_id yet
    assert save_predictions(_scored("1", 2.0, 5.5), path) == SavedPredictions(added=1, total=2)
    assert not pd.read_parquet(path)["record_id"].isna().any()
    path.unlink()
    path.mkdir()  # a folder that a Spark write left
    (path / "part-0.parquet").write_bytes(b"")
    assert save_predictions(_scored("1", 2.0), path) == SavedPredictions(added=1, total=1)
{%- if cookiecutter | derived("ml_code") != "mlflow3" %}


def test_a_classifiers_class_stays_an_integer_beside_a_quarantined_rows_null(spark, tmp_path: Path) -> None:
    """Spark gives pandas an integer column with a null as float64: the file held DOUBLE classes."""
    schema = StructType([StructField("prediction", LongType()), StructField("model_version", LongType())])
    scored = spark.createDataFrame([(1, 3), (None, 3), (0, 3)], schema)
    rows = spark_to_pandas(scored)
    assert str(rows["prediction"].dtype) == "Int64" and rows["prediction"].isna().tolist() == [False, True, False]
    assert str(rows["model_version"].dtype) == "int64"  # no null: left as Spark gave it
    save_predictions(rows.assign(tpep_pickup_datetime=pd.Timestamp("2024-03-01")), tmp_path / "predictions.parquet")
    assert str(pd.read_parquet(tmp_path / "predictions.parquet")["prediction"].dtype) == "Int64"
{%- endif %}
