import pandas as pd
from pyspark.sql.types import DoubleType

from steps.predict import score_trips
from tests.conftest import TEST_SAMPLE


def test_scores_every_trip_with_a_double_prediction(spark, trips: pd.DataFrame, registered_model: str) -> None:
    rows = spark.read.parquet(str(TEST_SAMPLE))  # typed like the Delta tables on Databricks
    scored = score_trips(spark, registered_model, rows)
    assert scored.schema["prediction"].dataType == DoubleType()
    assert scored.columns == [*rows.columns, "prediction", "quarantine_reason"]
    predictions = scored.toPandas()
    assert len(predictions) == len(trips)
    assert predictions["prediction"].notna().all()
    correlation = predictions["prediction"].corr(predictions["fare_amount"])
    assert correlation > 0.8


def test_bad_rows_are_quarantined_and_the_rest_scored(spark, trips: pd.DataFrame, registered_model: str) -> None:
    bad = trips.astype({"trip_distance": "float64"})
    bad.loc[bad.index[0], "trip_distance"] = float("nan")
    bad.loc[bad.index[1], "tpep_dropoff_datetime"] = pd.NaT
    rows = score_trips(spark, registered_model, spark.createDataFrame(bad)).toPandas()
    assert len(rows) == len(trips)
    held = rows[rows["quarantine_reason"].notna()]
    assert sorted(held["quarantine_reason"]) == ["missing tpep_dropoff_datetime", "missing trip_distance"]
    assert held["prediction"].isna().all() and rows["prediction"].notna().sum() == len(trips) - 2
