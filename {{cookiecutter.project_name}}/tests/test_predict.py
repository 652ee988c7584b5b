import pandas as pd
from pyspark.sql.types import DoubleType

from steps.predict import score_trips
from tests.conftest import TEST_SAMPLE


def test_scores_every_trip_with_a_double_prediction(spark, trips: pd.DataFrame, registered_model: str) -> None:
    rows = spark.read.parquet(str(TEST_SAMPLE))  # typed like the Delta tables on Databricks
    scored = score_trips(spark, registered_model, rows)
    assert scored.schema["prediction"].dataType == DoubleType()
    assert scored.columns == [*rows.columns, "prediction"]
    predictions = scored.toPandas()
    assert len(predictions) == len(trips)
    assert predictions["prediction"].notna().all()
    correlation = predictions["prediction"].corr(predictions["fare_amount"])
    assert correlation > 0.8
