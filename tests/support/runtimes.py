"""The one table of what each ML track's jobs run on, and the Python the project's tests use.

Track -> compute -> Python, Spark and key packages. ``tests/test_runtime.py`` fails when the
generated requirements, the Terraform compute, the CI integration test's compute or the
project's test Python disagree with it; ``project_python`` builds the project venvs with
this Python, so what passes locally runs on the jobs' Python and Spark.

Sources (stored documentation, checked 2026-12-06):
- Databricks Runtime release notes, "Supported Databricks Runtime versions" and
  "MLflow-Databricks Runtime compatibility matrix" (docs.databricks.com/release-notes/runtime,
  learn.microsoft.com/azure/databricks/release-notes/runtime): 16.4 LTS runs Apache Spark 3.5.2
  with MLflow 2.21.3 in its ML variant (the last LTS on Spark 3; support until May 9, 2028);
  17.3 LTS runs Spark 4.0.0 with MLflow 3.0.1 (support until Oct 22, 2028).
- Serverless environment versions (docs.databricks.com/release-notes/serverless/environment-version):
  version 4 = Python 3.12.3 and Databricks Connect 17.3 (Spark 4.0 client; support until
  Aug 13, 2028); version 3 = Python 3.12.3 with Databricks Connect 16.4. Databricks Connect
  versions follow the runtime they match, so 16.4 LTS and 17.3 LTS run Python 3.12 as well.
- The packages themselves: MLflow 2.22 is the last release with MLflow Recipes (MLflow 3
  removed them), so the Recipes track needs a Spark 3 runtime; pyspark 3.5 and 4.0 install
  on Python 3.12 (the project venvs prove it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Runtime:
    """The compute of one ML track's jobs and what the project's tests must match."""

    classic_spark_version: str  # Databricks Runtime ML of classic job clusters
    serverless_environment_version: str | None  # None: the track never runs serverless
    python: str  # major.minor of the jobs' Python, and of the tests'
    spark: str  # major.minor of the jobs' Spark, and of the tests' pyspark
    mlflow_major: str  # of the runtime's MLflow and of the project's pin


RECIPES_RUNTIME = Runtime("16.4.x-cpu-ml-scala2.12", None, python="3.12", spark="3.5", mlflow_major="2")
MLFLOW3_RUNTIME = Runtime("17.3.x-cpu-ml-scala2.13", "4", python="3.12", spark="4.0", mlflow_major="3")

# ML code (hooks.derived.ml_code) -> its runtime. Serverless is used with Unity Catalog only.
RUNTIMES = {"mlflow_recipes": RECIPES_RUNTIME, "mlflow3": MLFLOW3_RUNTIME, "feature_store": MLFLOW3_RUNTIME}
# Every track runs the same Python, so one interpreter builds every project venv.
(PROJECT_TEST_PYTHON,) = {runtime.python for runtime in RUNTIMES.values()}
