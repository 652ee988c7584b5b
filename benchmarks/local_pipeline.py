"""Time the generated project's local pipeline on the sample and on a 10x larger sample.

Generates the default project twice into a temporary folder, replaces the second one's
``data/sample.parquet`` with a generated sample ``--scale`` times larger, and times
``python -m local_pipeline.recipe`` in each (wall time, cold recipe cache, with the shared
project venv already built; building it the first time is not timed).

    .venv/bin/python benchmarks/local_pipeline.py [--scale 10]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.generation import generate  # noqa: E402
from tests.support.project_python import project_python_for  # noqa: E402
from tests.support.variants import TEMPLATE_DIR  # noqa: E402

SAMPLE_ROWS = 10_000  # rows of the committed data/sample.parquet


def time_pipeline(python: Path, project: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run([str(python), "-m", "local_pipeline.recipe"], cwd=project, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"local pipeline failed in {project}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=10, help="size of the larger sample, in samples (default 10)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="mlops-stack-pipeline-bench-"))
    try:
        python = project_python_for(sys.executable, workdir / "requirements")
        sample_project = generate(workdir / "sample")
        scaled_project = generate(workdir / "scaled")
        scaled_rows = SAMPLE_ROWS * args.scale
        subprocess.run(
            [str(python), "scripts/generate_sample_data.py", "--rows", str(scaled_rows),
             "--output", str(scaled_project / "data" / "sample.parquet")],
            cwd=TEMPLATE_DIR, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        sample_seconds = time_pipeline(python, sample_project)
        scaled_seconds = time_pipeline(python, scaled_project)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"{'sample':<10} {SAMPLE_ROWS:>9,} trips {sample_seconds:7.1f} s")
    print(f"{f'{args.scale}x':<10} {scaled_rows:>9,} trips {scaled_seconds:7.1f} s")
    print(f"ratio {scaled_seconds / sample_seconds:.2f}x for {args.scale}x the data")


if __name__ == "__main__":
    main()
