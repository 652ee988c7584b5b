import numpy as np
import pandas as pd
import pytest

import steps.split
import steps.trips
from model_spec.contract import TRAINING_CONTRACT
from model_spec.data import LABEL
from steps.split import SPLITS, clean_trips, held_out_cutoff, process_splits, split_by_pickup_time
from tests.contract_counting import counting
from tests.train_test import fitted_model, synthetic_trips


def split_step(ingested: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """What MLflow's split step does with the recipe's methods: drop the rows without a label,
    label the others (``split_method``), take each label's rows in order and clean them
    (``post_split_method``); returns the training, validation and test splits."""
    labelled = ingested.dropna(subset=[LABEL])
    labels = split_by_pickup_time(labelled)
    return process_splits(*(labelled[labels == name].reset_index(drop=True) for name in SPLITS))


def dirty(trips: pd.DataFrame) -> pd.DataFrame:
    """The first five trips damaged the ways meter data is damaged, then the rest unchanged."""
    damaged = trips.copy()
    damaged.loc[0, "fare_amount"] = -5.0
    damaged.loc[1, "fare_amount"] = 0.0
    damaged.loc[2, "trip_distance"] = 0.0
    damaged.loc[3, "trip_distance"] = 5000.0
    damaged.loc[4, "fare_amount"] = np.nan
    return damaged


def test_clean_trips_drops_implausible_and_incomplete_rows(trips: pd.DataFrame) -> None:
    plausible = trips[(trips.fare_amount > 0) & (trips.trip_distance > 0) & (trips.trip_distance < 400)]
    cleaned = clean_trips(dirty(plausible.reset_index(drop=True)))
    assert len(cleaned) == len(plausible) - 5
    assert (cleaned.fare_amount > 0).all() and cleaned.trip_distance.between(0, 400, inclusive="neither").all()


def test_process_splits_cleans_each_split_and_keeps_columns(trips: pd.DataFrame) -> None:
    train, validation, test = (dirty(trips.iloc[start::3].reset_index(drop=True)) for start in range(3))
    processed = process_splits(train, validation, test)
    assert len(processed) == 3
    for before, after in zip((train, validation, test), processed):
        assert list(after.columns) == list(before.columns)
        assert 0 < len(after) <= len(before) - 5


def test_split_method_holds_out_the_most_recent_trips(trips: pd.DataFrame) -> None:
    labels = split_by_pickup_time(trips)
    pickup = trips["tpep_pickup_datetime"]
    assert set(labels) == {"TRAINING", "VALIDATION", "TEST"}
    assert pickup[labels == "TRAINING"].max() <= pickup[labels == "TEST"].min()
    assert (labels == "TEST").sum() == pytest.approx(0.1 * len(trips), abs=2)


def test_held_out_cutoff_starts_the_test_split_of_the_rows_with_a_label(trips: pd.DataFrame) -> None:
    ingested = trips.copy()
    newest = ingested["tpep_pickup_datetime"].nlargest(len(ingested) // 5).index
    ingested.loc[newest, "fare_amount"] = np.nan  # MLflow's split step drops these before splitting
    labelled = ingested.dropna(subset=["fare_amount"])
    test_pickups = labelled.loc[split_by_pickup_time(labelled) == "TEST", "tpep_pickup_datetime"]
    cutoff = pd.Timestamp(held_out_cutoff(*split_step(ingested)))
    before_test = labelled.loc[~labelled.index.isin(test_pickups.index), "tpep_pickup_datetime"]
    assert test_pickups.min() >= cutoff > before_test.max()


def test_a_trip_dated_in_the_future_does_not_move_the_test_split(trips: pd.DataFrame) -> None:
    # A meter clock glitch (a pick-up in 2088) breaks the contract: the split and the cutoff
    # must come from the trips training keeps, or the test period would start in 2087.
    glitch = trips.iloc[[0]].assign(
        tpep_pickup_datetime=pd.Timestamp("2088-01-01 08:00"), tpep_dropoff_datetime=pd.Timestamp("2088-01-01 08:20")
    )
    ingested = pd.concat([trips, glitch], ignore_index=True)
    assert held_out_cutoff(*split_step(ingested)) == held_out_cutoff(*split_step(trips))
    labels = split_by_pickup_time(ingested)
    pd.testing.assert_series_equal(labels.iloc[: len(trips)], split_by_pickup_time(trips))
    test_split = process_splits(*(ingested[labels == name] for name in ("TRAINING", "VALIDATION", "TEST")))[2]
    assert len(test_split) == len(clean_trips(trips[split_by_pickup_time(trips) == "TEST"]))


def test_the_same_trips_in_another_order_give_the_same_model() -> None:
    """The ingest query returns rows in any order; the seeded SGD fit after the split must not depend on it."""
    trips = synthetic_trips(2_000, seed=5)
    trips["tpep_pickup_datetime"] = trips["tpep_pickup_datetime"].dt.floor("D")  # many trips per pickup time
    coefficients = [
        fitted_model(process_splits(ordered, ordered, ordered)[0]).named_steps["estimator"].coef_
        for ordered in (trips, trips.sample(frac=1.0, random_state=1))
    ]
    np.testing.assert_array_equal(*coefficients)


class _Rows:
    """Counts what the contract checks (``tests.contract_counting.counting``'s ``rows``, in this process)."""

    value = 0

    def add(self, rows: int) -> None:
        self.value += rows


def test_the_split_step_and_the_cutoff_check_each_ingested_trip_once(trips: pd.DataFrame, monkeypatch) -> None:
    ingested = dirty(trips)
    expected = [split.reset_index(drop=True) for split in split_step(ingested)]
    checked = _Rows()
    contract = counting(TRAINING_CONTRACT, checked)
    monkeypatch.setattr(steps.split, "TRAINING_CONTRACT", contract)
    monkeypatch.setattr(steps.trips, "TRAINING_CONTRACT", contract)
    splits = split_step(ingested)
    cutoff = held_out_cutoff(*splits)
    assert checked.value == len(ingested.dropna(subset=[LABEL]))
    # The same splits and cutoff as when every split is checked again.
    for split, again in zip(splits, expected):
        pd.testing.assert_frame_equal(split.reset_index(drop=True), again)
    assert sum(len(split) for split in splits) == len(ingested) - 5  # the five damaged trips are dropped
    assert cutoff == held_out_cutoff(*expected)
