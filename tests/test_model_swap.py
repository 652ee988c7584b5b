"""Task C of stack-customization.md, tried: a generated project's model swapped for a churn classifier.

The guide's step 3 (generate, then run the contract test) on the example passes; with the
package replaced by a classifier on synthetic data, the contract test passes the package and
lists the jobs that still read the taxi data; a package whose prediction is the positive class's
probability (the mistake the issue-23 trial only found by running the pipeline) fails it, naming
the predicted class.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.generation import TEMPLATE_DIR
from tests.support.project_venv import ensure_project_venv

pytestmark = pytest.mark.large

CHURN_PACKAGE = {
    "data.py": '''
        """Churn of subscribers: synthetic data."""

        from __future__ import annotations

        from pathlib import Path
        from typing import Literal

        SAMPLE_PATH = Path("data") / "sample.parquet"
        DATABRICKS_INPUT_PATH = "/databricks-datasets/churn/subscribers"
        LABEL = "churned"
        TIME_COLUMN = "signed_up_at"
        TASK: Literal["regression", "classification"] = "classification"
    ''',
    "contract.py": '''
        """Rows to score and to learn from."""

        import pandera.pandas as pa

        from model_spec.data import LABEL, TIME_COLUMN

        INPUT_CONTRACT = pa.DataFrameSchema(
            {
                TIME_COLUMN: pa.Column(nullable=False),
                "tenure_months": pa.Column(nullable=False, checks=pa.Check.ge(0, name="tenure", error="tenure")),
                "monthly_charges": pa.Column(nullable=False),
            }
        )
        TRAINING_CONTRACT = INPUT_CONTRACT.add_columns({LABEL: pa.Column(nullable=False, checks=pa.Check.isin([0, 1]))})
    ''',
    "features.py": '''
        """Features: tenure and charges, scaled."""

        from sklearn.compose import ColumnTransformer
        from sklearn.preprocessing import StandardScaler


        def transformer_fn() -> ColumnTransformer:
            return ColumnTransformer([("scaled", StandardScaler(), ["tenure_months", "monthly_charges"])]).set_output(
                transform="pandas"
            )
    ''',
    "estimator.py": '''
        """A logistic regression."""

        from sklearn.linear_model import LogisticRegression


        def estimator_fn() -> LogisticRegression:
            return LogisticRegression()
    ''',
    "metrics.py": '''
        """Share of wrongly predicted subscribers."""

        import numpy as np

        THRESHOLDS = {"error_rate": 0.3}


        def compute_metrics(predictions, targets) -> dict[str, float]:
            return {"error_rate": float(np.mean(np.asarray(predictions) != np.asarray(targets)))}
    ''',
}
# The mistake: the positive class's probability taken for the prediction.
PROBABILITY_AS_PREDICTION = """
    import pandas as pd

    PREDICTION_COLUMN = "prediction"


    def prediction_column(model, rows: pd.DataFrame) -> pd.Series:
        return pd.Series(model.predict_proba(rows)[:, 1], index=rows.index, name=PREDICTION_COLUMN)
"""


def _contract_test(project: Path, python: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *sorted(map(str, project.glob("tests/test_model_spec*.py")))],
        cwd=project, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


# Synthetic subscribers: churn rises with the charges and falls with tenure (run by the project's Python).
CHURN_SAMPLE = """
import sys
import numpy as np
import pandas as pd

rng = np.random.default_rng(7)
tenure = rng.integers(0, 72, 400)
charges = rng.uniform(20, 120, 400)
churned = ((charges / 120 - tenure / 72 + rng.normal(0, 0.2, 400)) > 0).astype("int64")
signed_up = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, 400), unit="D")
frame = pd.DataFrame({"signed_up_at": signed_up, "tenure_months": tenure, "monthly_charges": charges, "churned": churned})
frame.to_parquet(sys.argv[1])
"""


def test_a_churn_classifier_swapped_in_passes_the_contract_and_a_probability_prediction_fails(tmp_path: Path) -> None:
    # Step 3 of the guide, as it is written: generate, then run the contract test.
    subprocess.run([sys.executable, "-m", "cookiecutter", str(TEMPLATE_DIR), "--no-input", "-o", str(tmp_path)],
                   check=True, capture_output=True, text=True)  # fmt: skip
    project = tmp_path / "my-mlops-project"
    python = ensure_project_venv([project / "requirements.txt", project / "test-requirements.txt"])
    example = _contract_test(project, python)
    assert example.returncode == 0, example.stdout[-3000:]

    # Steps 1 and 2: the package and the sample replaced.
    package = project / "model_spec"
    for name, source in CHURN_PACKAGE.items():
        (package / name).write_text(textwrap.dedent(source).lstrip())
    subprocess.run([str(python), "-c", CHURN_SAMPLE, str(project / "data" / "sample.parquet")], check=True)
    swapped = _contract_test(project, python)
    failed = sorted(line.split("::")[1].split(" ")[0] for line in swapped.stdout.splitlines() if line.startswith("FAILED"))
    # The package itself passes; what is left is the track's settings (step 4), each named.
    track_settings = [
        "test_nothing_reads_another_sample_dataset",
        "test_the_jobs_and_notebooks_read_the_packages_input",
        "test_the_package_provides_every_name_the_tracks_import",
    ]
    assert failed == track_settings, swapped.stdout[-4000:]
    assert "databricks-config/modules/ml-resources/batch-inference-job.tf" in swapped.stdout

    # The issue-23 trial's mistake is caught before any pipeline runs.
    (package / "prediction.py").write_text(textwrap.dedent(PROBABILITY_AS_PREDICTION).lstrip())
    broken = _contract_test(project, python)
    assert "test_the_prediction_is_one_value_of_the_labels_kind_per_row" in broken.stdout, broken.stdout[-4000:]
    assert "a classifier's prediction must be the predicted class" in broken.stdout
