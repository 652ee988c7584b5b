"""Generate the NYC-taxi-like sample trips that generated projects train and score on.

The template ships ``data/sample.parquet`` (10,000 trips) and a small slice of it for the
projects' unit tests. Both are produced by this script with a fixed seed, so they can be
regenerated and reviewed rather than being opaque binaries:

    # regenerate the two committed files (needs numpy, pandas and pyarrow,
    # e.g. a generated project's .venv/bin/python)
    python scripts/generate_sample_data.py

    # a bigger sample somewhere else, e.g. for benchmarks
    python scripts/generate_sample_data.py --rows 100000 --output /tmp/sample-100k.parquet

The trips follow the shape of real yellow-cab data: six columns (pickup and dropoff
timestamps without time zone in microseconds, distance in miles, fare in dollars, pickup
and dropoff zip codes as int32), four weeks of pickups with the daily demand curve,
mostly Manhattan zip codes plus the boroughs, the airports and New Jersey, slower traffic
at rush hour, metered fares that grow with distance and time plus the flat JFK fare.
About one trip in 250 is dirty the way meter data is (zero or absurd distances, refunds
with negative fares, meters left running for hours), so the split step's cleaning matters.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

TEMPLATE_PROJECT = Path(__file__).resolve().parents[1] / "{{cookiecutter.project_name}}"
COMMITTED_SAMPLE = TEMPLATE_PROJECT / "data" / "sample.parquet"
COMMITTED_TEST_SLICE = TEMPLATE_PROJECT / "tests" / "test_sample.parquet"
SAMPLE_ROWS = 10_000
TEST_SLICE_ROWS = 200
SEED = 20240304

SCHEMA = pa.schema(
    [
        ("tpep_pickup_datetime", pa.timestamp("us")),
        ("tpep_dropoff_datetime", pa.timestamp("us")),
        ("trip_distance", pa.float64()),
        ("fare_amount", pa.float64()),
        ("pickup_zip", pa.int32()),
        ("dropoff_zip", pa.int32()),
    ]
)

FIRST_DAY = np.datetime64("2024-03-04T00:00:00", "us")  # a Monday
DAYS = 28

# Relative taxi demand per hour of the day (quiet before dawn, evening peak).
HOURLY_DEMAND = np.array(
    [5, 3.5, 2.5, 1.8, 1.5, 1.6, 2.8, 4.5, 5.5, 5.6, 5.4, 5.5,
     5.8, 5.8, 6.0, 6.0, 5.7, 6.3, 7.2, 7.4, 6.9, 6.6, 6.4, 5.8]
)  # fmt: skip

MANHATTAN_ZIPS = np.array(
    [10001, 10002, 10003, 10007, 10009, 10010, 10011, 10012, 10013, 10014, 10016, 10017,
     10018, 10019, 10021, 10022, 10023, 10024, 10025, 10028, 10036, 10038, 10065, 10075,
     10103, 10110, 10119, 10128, 10154, 10165, 10170, 10199, 10280, 10282]
)  # fmt: skip
OUTER_BOROUGH_ZIPS = np.array([11101, 11106, 11201, 11211, 11215, 11217, 11222, 11238, 11375, 10451, 10463])
AIRPORT_ZIPS = np.array([11371, 11430])  # LaGuardia, JFK
NEW_JERSEY_ZIPS = np.array([7030, 7302, 7102])  # Hoboken, Jersey City, Newark
JFK_ZIP = 11430
JFK_FLAT_FARE = 70.0


def _zip_codes(rng: np.random.Generator, rows: int, manhattan_share: float) -> np.ndarray:
    """Zip codes drawn mostly from Manhattan, then the boroughs, airports and New Jersey."""
    airport_share, new_jersey_share = 0.025, 0.01
    outer_share = 1.0 - manhattan_share - airport_share - new_jersey_share
    area = rng.choice(4, size=rows, p=[manhattan_share, outer_share, airport_share, new_jersey_share])
    pools = (MANHATTAN_ZIPS, OUTER_BOROUGH_ZIPS, AIRPORT_ZIPS, NEW_JERSEY_ZIPS)
    zips = np.empty(rows, dtype=np.int32)
    for index, pool in enumerate(pools):
        chosen = area == index
        zips[chosen] = rng.choice(pool, size=int(chosen.sum()))
    return zips


def _pickup_times(rng: np.random.Generator, rows: int) -> np.ndarray:
    """Pickup instants over four weeks, following the hourly demand curve."""
    day = rng.integers(0, DAYS, size=rows)
    hour = rng.choice(24, size=rows, p=HOURLY_DEMAND / HOURLY_DEMAND.sum())
    second_in_hour = rng.integers(0, 3600, size=rows)
    seconds = day * 86_400 + hour * 3600 + second_in_hour
    return FIRST_DAY + seconds.astype("timedelta64[s]")


def _distances(rng: np.random.Generator, pickup_zip: np.ndarray, dropoff_zip: np.ndarray) -> np.ndarray:
    """Miles: short hops within Manhattan, longer rides to the boroughs, airports and New Jersey."""
    miles = rng.lognormal(mean=np.log(1.6), sigma=0.65, size=len(pickup_zip))
    leaves_manhattan = ~np.isin(pickup_zip, MANHATTAN_ZIPS) | ~np.isin(dropoff_zip, MANHATTAN_ZIPS)
    miles[leaves_manhattan] += rng.gamma(shape=3.0, scale=1.3, size=int(leaves_manhattan.sum()))
    airport = np.isin(pickup_zip, AIRPORT_ZIPS) | np.isin(dropoff_zip, AIRPORT_ZIPS)
    miles[airport] = rng.normal(13.0, 3.0, size=int(airport.sum()))
    return np.round(np.clip(miles, 0.1, 45.0), 2)


def _durations_minutes(rng: np.random.Generator, miles: np.ndarray, pickup: np.ndarray) -> np.ndarray:
    """Minutes in the cab: speed drops in the morning and evening rush hours."""
    hour = (pickup - pickup.astype("datetime64[D]")).astype("timedelta64[h]").astype(int)
    rush = ((hour >= 7) & (hour <= 9)) | ((hour >= 16) & (hour <= 19))
    night = (hour <= 5) | (hour >= 22)
    mph = np.where(rush, 8.5, np.where(night, 17.0, 12.0)) * rng.lognormal(0.0, 0.2, size=len(miles))
    return miles / mph * 60.0 + rng.uniform(0.5, 3.0, size=len(miles))


def _fares(
    rng: np.random.Generator, miles: np.ndarray, minutes: np.ndarray, pickup_zip: np.ndarray, dropoff_zip: np.ndarray
) -> np.ndarray:
    """Metered fare (flag drop + per mile + per minute) rounded to 50 cents; JFK-Manhattan is flat."""
    metered = 3.0 + 1.75 * miles + 0.35 * minutes + rng.normal(0.0, 0.6, size=len(miles))
    other_end = np.where(pickup_zip == JFK_ZIP, dropoff_zip, pickup_zip)
    jfk_manhattan = ((pickup_zip == JFK_ZIP) | (dropoff_zip == JFK_ZIP)) & np.isin(other_end, MANHATTAN_ZIPS)
    fares = np.where(jfk_manhattan, JFK_FLAT_FARE, metered)
    return np.round(np.maximum(fares, 3.0) * 2.0) / 2.0


def _dirty(rng: np.random.Generator, miles: np.ndarray, fares: np.ndarray, minutes: np.ndarray) -> None:
    """Damage about 0.4% of the trips in place, the ways real meter data is damaged."""
    rows = len(miles)
    count = max(4, rows // 250)
    picked = rng.choice(rows, size=count, replace=False)
    zero_distance, refund, odometer_glitch, meter_left_on = np.array_split(picked, 4)
    miles[zero_distance] = 0.0
    fares[refund] = -fares[refund]
    miles[odometer_glitch] = rng.uniform(500.0, 9000.0, size=len(odometer_glitch)).round(2)
    minutes[meter_left_on] = rng.uniform(600.0, 1440.0, size=len(meter_left_on))


def generate_trips(rows: int, seed: int = SEED) -> pa.Table:
    """``rows`` synthetic taxi trips, identical for identical ``rows`` and ``seed``."""
    rng = np.random.default_rng(seed)
    pickup = _pickup_times(rng, rows)
    pickup_zip = _zip_codes(rng, rows, manhattan_share=0.9)
    dropoff_zip = _zip_codes(rng, rows, manhattan_share=0.85)
    miles = _distances(rng, pickup_zip, dropoff_zip)
    minutes = _durations_minutes(rng, miles, pickup)
    fares = _fares(rng, miles, minutes, pickup_zip, dropoff_zip)
    _dirty(rng, miles, fares, minutes)
    dropoff = pickup + np.round(minutes * 60).astype("timedelta64[s]")
    frame = pd.DataFrame(
        {
            "tpep_pickup_datetime": pickup.astype("datetime64[us]"),
            "tpep_dropoff_datetime": dropoff,
            "trip_distance": miles,
            "fare_amount": fares,
            "pickup_zip": pickup_zip,
            "dropoff_zip": dropoff_zip,
        }
    )
    return pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False)


def write(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="snappy")
    print(f"wrote {table.num_rows} trips to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=SAMPLE_ROWS, help=f"number of trips (default {SAMPLE_ROWS})")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    parser.add_argument(
        "--output",
        type=Path,
        help="write only this file; without it the committed sample and its test slice are rewritten",
    )
    args = parser.parse_args()

    trips = generate_trips(args.rows, args.seed)
    if args.output is not None:
        write(trips, args.output)
        return
    write(trips, COMMITTED_SAMPLE)
    write(trips.slice(0, TEST_SLICE_ROWS), COMMITTED_TEST_SLICE)


if __name__ == "__main__":
    main()
