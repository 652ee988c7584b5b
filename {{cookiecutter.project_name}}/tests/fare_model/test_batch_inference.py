import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from sklearn.dummy import DummyRegressor

from fare_model.batch_inference import resolve_alias, score_pandas, score_trips, score_with_champion
from fare_model.registry import CHAMPION
from fare_model.training import TrainedModel


def test_without_a_champion_nothing_is_scored(trained: TrainedModel) -> None:
    with pytest.raises(MlflowException):
        resolve_alias("fares")


def test_predictions_are_doubles_and_carry_the_champion_version(spark, trained: TrainedModel, trips) -> None:
    MlflowClient().set_registered_model_alias("fares", CHAMPION, "1")
    scored = score_with_champion(spark, "fares", spark.createDataFrame(trips))
    assert dict(scored.dtypes)["prediction"] == "double" and dict(scored.dtypes)["model_version"] == "string"
    rows = scored.toPandas()
    assert len(rows) == len(trips) and rows["prediction"].notna().all()
    assert set(rows["model_version"]) == {"1"}
    assert "fare_amount" in rows.columns  # extra columns pass through


def test_the_alias_is_resolved_once(spark, trained: TrainedModel, trips, register_model) -> None:
    client = MlflowClient()
    client.set_registered_model_alias("fares", CHAMPION, "1")
    model_uri = resolve_alias("fares")
    # A deployment while the job runs: the scoring keeps the version resolved at the start.
    client.set_registered_model_alias("fares", CHAMPION, register_model(DummyRegressor().fit([[0.0]], [10.0])))
    rows = score_trips(spark, model_uri, spark.createDataFrame(trips)).toPandas()
    assert model_uri == "models:/fares/1" and set(rows["model_version"]) == {"1"}


def test_an_alias_uri_is_recorded_as_the_version_it_names(spark, trained: TrainedModel, trips) -> None:
    MlflowClient().set_registered_model_alias("fares", CHAMPION, "1")
    rows = score_trips(spark, f"models:/fares@{CHAMPION}", spark.createDataFrame(trips)).toPandas()
    assert set(rows["model_version"]) == {"1"}
    assert set(score_pandas(f"models:/fares@{CHAMPION}", trips)["model_version"]) == {"1"}
    with pytest.raises(ValueError, match="such as models:/my-model/3, got 'models:/fares/Production'"):
        score_pandas("models:/fares/Production", trips)


def test_missing_input_columns_are_named(spark, trained: TrainedModel, trips: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="trip_distance"):
        score_trips(spark, "models:/fares/1", spark.createDataFrame(trips.drop(columns=["trip_distance"])))


def test_pandas_scoring_gives_what_spark_scoring_gives(spark, trained: TrainedModel, trips: pd.DataFrame) -> None:
    with_spark = score_trips(spark, "models:/fares/1", spark.createDataFrame(trips)).toPandas()
    with_pandas = score_pandas("models:/fares/1", trips)
    assert list(with_pandas.columns) == list(with_spark.columns)
    assert with_pandas["prediction"].dtype == "float64" and set(with_pandas["model_version"]) == {"1"}
    pd.testing.assert_series_equal(with_pandas["prediction"].reset_index(drop=True), with_spark["prediction"])
    with pytest.raises(ValueError, match="trip_distance"):
        score_pandas("models:/fares/1", trips.drop(columns=["trip_distance"]))


def _with_bad_rows(trips: pd.DataFrame) -> pd.DataFrame:
    """``trips`` with a missing distance, a missing drop-off time and a negative distance in its first rows."""
    bad = trips.copy()
    bad["trip_distance"] = bad["trip_distance"].astype("float64")
    bad.loc[bad.index[0], "trip_distance"] = float("nan")
    bad.loc[bad.index[1], "tpep_dropoff_datetime"] = pd.NaT
    bad.loc[bad.index[2], "trip_distance"] = -1.0
    return bad


def test_bad_rows_are_quarantined_not_scored_and_never_fail_the_run(spark, trained: TrainedModel, trips) -> None:
    bad = _with_bad_rows(trips)
    for rows in (
        score_trips(spark, "models:/fares/1", spark.createDataFrame(bad)).toPandas(),
        score_pandas("models:/fares/1", bad),
    ):
        assert len(rows) == len(trips)  # nothing disappears
        held = rows[rows["quarantine_reason"].notna()]
        assert sorted(held["quarantine_reason"]) == sorted(
            ["missing trip_distance", "missing tpep_dropoff_datetime", "trip_distance outside (0.0, 400.0)"]
        )
        assert (
            held["prediction"].isna().all() and rows.loc[rows["quarantine_reason"].isna(), "prediction"].notna().all()
        )
