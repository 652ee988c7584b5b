"""The recipe's transformer (``steps.transform``) keeps its feature code inside the pickled model."""

import subprocess
import sys
from pathlib import Path

import cloudpickle
import pandas as pd

import steps.transform
from tests.transform_test import two_trips

_UNPICKLE_AFTER_IMPORTING_THE_REPOSITORY = """
import sys
sys.path.insert(0, sys.argv[1])
import model_spec.features  # the repository's (changed) feature code, imported first as notebooks do
import cloudpickle, pandas as pd
transformer = cloudpickle.loads(open(sys.argv[2], "rb").read())
transformer.transform(pd.read_parquet(sys.argv[3])).to_parquet(sys.argv[4])
"""


def test_a_pickled_transformer_keeps_its_feature_code_after_the_repository_changes(
    changed_repository: Path, tmp_path: Path
) -> None:
    """The recipe cloudpickles the fitted transformer into the model: unpickled in a process that
    imported a changed ``model_spec.features`` first, it must still compute the features it was fitted with.
    ``steps.transform`` (the recipe's transformer_method) registers the feature code to be pickled by value."""
    trips = two_trips()
    transformer = steps.transform.transformer_fn().fit(trips)
    (tmp_path / "transformer.pkl").write_bytes(cloudpickle.dumps(transformer))
    trips.to_parquet(tmp_path / "trips.parquet")

    subprocess.run(
        [sys.executable, "-c", _UNPICKLE_AFTER_IMPORTING_THE_REPOSITORY, str(changed_repository),
         str(tmp_path / "transformer.pkl"), str(tmp_path / "trips.parquet"), str(tmp_path / "features.parquet")],
        cwd=tmp_path, check=True, capture_output=True, text=True,
    )  # fmt: skip

    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "features.parquet"), transformer.transform(trips))
