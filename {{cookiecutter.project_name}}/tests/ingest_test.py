from pathlib import Path

import pandas as pd
import pytest

from steps.ingest import load_file_as_dataframe


@pytest.mark.parametrize("file_format", ["csv", "json", "parquet"])
def test_loads_each_format_with_timestamps_parsed(trips: pd.DataFrame, tmp_path: Path, file_format: str) -> None:
    path = tmp_path / f"trips.{file_format}"
    if file_format == "csv":
        trips.to_csv(path, index=False)
    elif file_format == "json":
        trips.to_json(path, orient="records", lines=True, date_format="iso")
    else:
        trips.to_parquet(path)
    loaded = load_file_as_dataframe(str(path), file_format)
    assert list(loaded.columns) == list(trips.columns)
    assert len(loaded) == len(trips)
    assert pd.api.types.is_datetime64_any_dtype(loaded["tpep_pickup_datetime"])
    assert loaded["fare_amount"].sum() == pytest.approx(trips["fare_amount"].sum())


def test_unknown_format_lists_the_supported_ones(tmp_path: Path) -> None:
    with pytest.raises(NotImplementedError, match="csv, json, parquet"):
        load_file_as_dataframe(str(tmp_path / "trips.xlsx"), "xlsx")


def test_the_recipe_ingests_a_csv_file_through_this_loader(trips: pd.DataFrame, tmp_path: Path) -> None:
    from mlflow.recipes.steps.ingest.datasets import CustomDataset
    from mlflow.recipes.utils import get_recipe_config

    project_root = Path(__file__).resolve().parents[1]
    ingest = get_recipe_config(str(project_root), "local")["steps"]["ingest"]
    trips.to_csv(tmp_path / "trips.csv", index=False)
    # The local profile with `using: csv`, resolved the way the recipe's ingest step does.
    dataset = CustomDataset._from_config(
        {**ingest, "using": "csv", "location": str(tmp_path / "trips.csv")}, str(project_root)
    )
    dataset.resolve_to_parquet(str(tmp_path / "dataset.parquet"))
    ingested = pd.read_parquet(tmp_path / "dataset.parquet")
    assert len(ingested) == len(trips)
    assert pd.api.types.is_datetime64_any_dtype(ingested["tpep_pickup_datetime"])
