"""The input contract: one set of rules that training applies by dropping rows and scoring by quarantining them."""

import pandas as pd

from steps.row_checks import quarantine_report, row_problems
from steps.trips import clean_trips


def trips() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tpep_pickup_datetime": pd.to_datetime(["2024-03-08 17:50", "2024-03-08 18:00", "2024-03-08 18:10", None]),
            "tpep_dropoff_datetime": pd.to_datetime(["2024-03-08 18:05", "2024-03-08 17:55", "2024-03-08 18:20", None]),
            "trip_distance": [2.0, 1.0, 500.0, 3.0],
            "pickup_zip": [10001, 10001, 10001, 10001],
            "dropoff_zip": [10002, 10002, 10002, 10002],
            "fare_amount": [12.0, 9.0, 80.0, 14.0],
        }
    )


def test_each_broken_rule_is_named() -> None:
    assert row_problems(trips()).tolist() == [
        None,
        "drop-off before pick-up",
        "trip_distance outside (0.0, 400.0)",
        "missing tpep_pickup_datetime; missing tpep_dropoff_datetime",
    ]


def test_a_missing_column_flags_every_row() -> None:
    assert set(row_problems(trips().drop(columns=["pickup_zip"]))) == {
        "missing pickup_zip",
        "missing pickup_zip; drop-off before pick-up",
        "missing pickup_zip; trip_distance outside (0.0, 400.0)",
        "missing tpep_pickup_datetime; missing tpep_dropoff_datetime; missing pickup_zip",
    }


def test_training_keeps_exactly_the_rows_scoring_would_score() -> None:
    frame = trips()
    assert clean_trips(frame).index.tolist() == frame.index[row_problems(frame).isna()].tolist() == [0]


def test_the_report_counts_rows_per_rule() -> None:
    report = quarantine_report(row_problems(trips()))
    assert report.splitlines()[0].startswith("3 of 4 rows quarantined")
    assert "       1  drop-off before pick-up" in report
