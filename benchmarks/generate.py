"""Time project generation for every supported variant.

Runs the ``cookiecutter`` command line (start-up included, as a user experiences it)
N times per variant and prints the median wall time per variant and the total.

    .venv/bin/python benchmarks/generate.py --repeat 5
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.generation import answers_for  # noqa: E402
from tests.support.variants import SUPPORTED_VARIANTS, TEMPLATE_DIR, Variant  # noqa: E402

COOKIECUTTER = Path(sys.executable).parent / "cookiecutter"


def time_once(variant: Variant) -> float:
    output = Path(tempfile.mkdtemp(prefix="mlops-stack-bench-"))
    answers = answers_for(variant)
    command = [str(COOKIECUTTER), str(TEMPLATE_DIR), "--no-input", "-o", str(output)]
    command += [f"{key}={value}" for key, value in answers.items()]
    try:
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start
    finally:
        shutil.rmtree(output, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="generations per variant (default 5)")
    args = parser.parse_args()

    total = 0.0
    print(f"{'variant':<24} median of {args.repeat} (s)")
    for variant in SUPPORTED_VARIANTS:
        times = [time_once(variant) for _ in range(args.repeat)]
        total += sum(times)
        print(f"{variant.id:<24} {statistics.median(times):.3f}")
    print(f"{'total wall time':<24} {total:.1f} s for {args.repeat * len(SUPPORTED_VARIANTS)} generations")


if __name__ == "__main__":
    main()
