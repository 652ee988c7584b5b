"""Time every ML track's local pipeline, on the sample and on a 10x larger sample.

For each track, MLflow Recipes (the default project), MLflow 3 (``include_mlflow_recipes=no``)
and the feature store (``include_feature_store=yes``), it generates the project twice into a temporary folder, replaces the second one's
``data/sample.parquet`` with a generated sample ``--scale`` times larger, and times
``python -m local_pipeline.<track>`` in each (wall time, fresh MLflow store, with the shared
project venvs already built; building them the first time is not timed). It prints each
time, the cost of the larger sample relative to the sample, MLflow 3's time relative to
Recipes', and the machine's load average before and after (on a shared machine the absolute
times follow the load; ratios measured in one run, much less).

    .venv/bin/python benchmarks/local_pipeline.py [--scale 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.generation import generate  # noqa: E402
from tests.support.project_python import mlflow3_python_for, project_python_for  # noqa: E402
from tests.support.variants import TEMPLATE_DIR  # noqa: E402

SAMPLE_ROWS = 10_000  # rows of the committed data/sample.parquet
# track -> (answers, entry point module, venv builder)
TRACKS = {
    "Recipes": ({}, "local_pipeline.recipe", project_python_for),
    "MLflow 3": ({"include_mlflow_recipes": "no"}, "local_pipeline.mlflow3", mlflow3_python_for),
    "Features": ({"include_feature_store": "yes"}, "local_pipeline.feature_store", mlflow3_python_for),
}
# The scaled run may take at most this many times the sample's (issue: 10x data < 3x time).
MAX_SCALED_RATIO = 3.0


def time_pipeline(python: Path, project: Path, module: str) -> float:
    start = time.perf_counter()
    result = subprocess.run([str(python), "-m", module], cwd=project, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"local pipeline failed in {project}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=10, help="size of the larger sample, in samples (default 10)")
    parser.add_argument("--track", action="append", choices=sorted(TRACKS), help="time only this track (repeatable)")
    args = parser.parse_args()
    tracks = {name: TRACKS[name] for name in (args.track or TRACKS)}
    scaled_rows = SAMPLE_ROWS * args.scale

    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="mlops-stack-pipeline-bench-"))
    seconds: dict[str, tuple[float, float]] = {}
    try:
        scaled_sample = workdir / "scaled.parquet"
        for name, (answers, module, venv_for) in tracks.items():
            folder = workdir / name.replace(" ", "")
            python = venv_for(sys.executable, folder / "requirements")
            if not scaled_sample.exists():
                subprocess.run(
                    [str(python), "scripts/generate_sample_data.py", "--rows", str(scaled_rows), "--output", str(scaled_sample)],
                    cwd=TEMPLATE_DIR, check=True, stdout=subprocess.DEVNULL,
                )  # fmt: skip
            sample_project = generate(folder / "sample", answers)
            scaled_project = generate(folder / "scaled", answers)
            shutil.copyfile(scaled_sample, scaled_project / "data" / "sample.parquet")
            seconds[name] = (time_pipeline(python, sample_project, module), time_pipeline(python, scaled_project, module))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    sample_heading = f"sample ({SAMPLE_ROWS:,})"
    scaled_heading = f"{args.scale}x ({scaled_rows:,})"
    print(f"{'track':<10} {sample_heading:>18} {scaled_heading:>18} {'ratio':>7}")
    for name, (sample, scaled) in seconds.items():
        verdict = "ok" if scaled / sample < MAX_SCALED_RATIO else f"over {MAX_SCALED_RATIO:g}x"
        print(f"{name:<10} {sample:>16.1f} s {scaled:>16.1f} s {scaled / sample:>6.2f}x  {verdict}")
    if {"Recipes", "MLflow 3"} <= seconds.keys():
        recipes, mlflow3 = seconds["Recipes"], seconds["MLflow 3"]
        print(f"MLflow 3 / Recipes: {mlflow3[0] / recipes[0]:.2f} on the sample, {mlflow3[1] / recipes[1]:.2f} on {args.scale}x")
    print(f"Load average (1 min) on {os.cpu_count()} CPUs: {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")


if __name__ == "__main__":
    main()
