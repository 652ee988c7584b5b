"""Run one bootstrap Terraform module and save its outputs where the setup guide says.

Both ``terraform/bootstrap.py`` and ``cicd/bootstrap.py`` use this module: they only
say which folder to apply and which file receives the secrets. Extra command-line
arguments go to ``terraform apply`` unchanged, e.g. ``-replace=...``; secrets come
through the environment (``TF_VAR_<name>``), never the command line.

The outputs are credentials, so the secrets file is created readable and writable by
its owner only (mode 0600), also when it already existed with a looser mode.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional, Sequence, Union


def flatten_terraform_output(json_text: Union[str, bytes]) -> dict:
    """``{name: value}`` from ``terraform output -json`` (``{name: {"value", "type", "sensitive"}}``)."""
    return {name: output["value"] for name, output in json.loads(json_text).items()}


def write_formatted_terraform_output(json_text: Union[str, bytes], out_path: Union[str, Path]) -> None:
    """Write the flattened outputs as sorted, indented JSON to ``out_path``, private to its owner."""
    content = json.dumps(flatten_terraform_output(json_text), indent=2, sort_keys=True) + "\n"
    descriptor = os.open(os.fspath(out_path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out_file:
        os.fchmod(out_file.fileno(), 0o600)
        out_file.write(content)


def run_terraform(module_dir: Path, *args: str, capture_output: bool = False) -> subprocess.CompletedProcess:
    """Run ``terraform <args>`` inside ``module_dir``, whatever the caller's working directory."""
    return subprocess.run(["terraform", *args], cwd=module_dir, check=True, capture_output=capture_output)


def bootstrap(module_dir: Path, secrets_file: Optional[Path], what: str, apply_args: Sequence[str]) -> None:
    """``terraform init`` and ``apply`` (asking for approval) in ``module_dir``, then save the outputs
    as ``what`` to ``secrets_file``; with ``secrets_file`` None (a module without outputs), nothing is saved."""
    if shutil.which("terraform") is None:
        sys.exit("terraform is not on PATH: install Terraform 1.11 or newer first (see docs/mlops-setup.md).")
    run_terraform(module_dir, "init")
    run_terraform(module_dir, "apply", *apply_args)
    if secrets_file is None:
        return
    outputs = run_terraform(module_dir, "output", "-json", capture_output=True)
    write_formatted_terraform_output(outputs.stdout, secrets_file)
    print(f"Wrote {what} to {secrets_file} (readable only by you).")
