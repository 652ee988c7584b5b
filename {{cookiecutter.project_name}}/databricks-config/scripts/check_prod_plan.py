"""Refuse a prod plan that deletes or replaces a resource holding data, unless named on purpose.

CI/CD runs this on the prod plan before anyone can approve it:

    terraform -chdir=prod show -json prod.tfplan | python3 scripts/check_prod_plan.py

Why: a change of a name in unity-catalog.json or a project rename makes Terraform *replace* the
schema, the registered model or the experiment, and a replacement deletes what they hold (the
predictions history, feature tables, every model version, every run). "must be replaced" in a long plan is easy to miss, so such a
plan fails here, listing the resources, and an approver never sees it as an ordinary plan.

Override, for one run, when the loss is intended: set ALLOW_PROD_DATA_LOSS to the addresses this
script lists (separated by spaces, commas or new lines; databricks-config/README.md, "Protect prod
data"). Only those addresses pass; any other deletion still fails the run. Python 3.9+, standard
library only, so it runs on every CI image without an install.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional, TextIO

# Resource types whose deletion deletes data that no apply brings back: catalogs and schemas
# (with every table, volume and model in them, the jobs' predictions and feature tables among
# them), volumes, tables (Unity Catalog feature tables are tables), registered models with
# every version, in Unity Catalog and in the workspace model registry, and MLflow experiments
# with every run (its metrics, parameters and the artifacts of the models trained in it).
GUARDED_TYPES = frozenset(
    {
        "databricks_catalog",
        "databricks_schema",
        "databricks_volume",
        "databricks_sql_table",
        "databricks_registered_model",
        "databricks_mlflow_model",
        "databricks_mlflow_experiment",
    }
)
OVERRIDE_VARIABLE = "ALLOW_PROD_DATA_LOSS"


@dataclass(frozen=True)
class Loss:
    """One guarded resource that the plan deletes: its address, type and Terraform's actions
    (["delete"], or ["delete", "create"] / ["create", "delete"] for a replacement)."""

    address: str
    type: str
    actions: tuple[str, ...]

    def describe(self) -> str:
        """One line for the log, e.g. ``module.x.databricks_schema.p["c"] (replace)``."""
        kind = "replace" if "create" in self.actions else "delete"
        return f"{self.address} ({kind}, {self.type})"


def data_losses(plan: Mapping[str, Any]) -> list[Loss]:
    """Guarded managed resources whose planned actions include "delete".

    In: a plan as ``terraform show -json <plan file>`` prints it (Terraform's "JSON Output
    Format", resource_changes[].change.actions: "no-op", "create", "read", "update", "delete",
    "forget", or the replacement pairs ["delete", "create"] and ["create", "delete"]). Drift
    (resource_drift) and data sources are not changes this plan makes, so they are left out.
    Out: the losses in plan order. Raises ValueError when ``plan`` is not such a plan.
    """
    if "format_version" not in plan or "terraform_version" not in plan:
        raise ValueError("not the output of `terraform show -json <plan file>` (no format_version)")
    losses = []
    for change in plan.get("resource_changes") or []:
        actions = tuple(change["change"]["actions"])
        if change.get("mode") == "managed" and change["type"] in GUARDED_TYPES and "delete" in actions:
            losses.append(Loss(change["address"], change["type"], actions))
    return losses


def allowed_addresses(value: Optional[str]) -> set[str]:
    """The addresses named in the override variable's ``value``: separated by white space or
    commas; empty or unset allows nothing."""
    return {address for address in re.split(r"[\s,]+", value or "") if address}


def check(plan: Mapping[str, Any], override: Optional[str], out: TextIO) -> int:
    """Write the verdict on ``plan`` to ``out``; return the exit code: 0 when it deletes no
    guarded resource but those named in ``override``, 1 otherwise."""
    losses = data_losses(plan)
    allowed = allowed_addresses(override)
    blocked = [loss for loss in losses if loss.address not in allowed]
    for loss in losses:
        if loss.address in allowed:
            print(f"Allowed by {OVERRIDE_VARIABLE}, deletes its data: {loss.describe()}", file=out)
    if not blocked:
        if not losses:
            print("The prod plan deletes or replaces no catalog, schema, volume, table or model.", file=out)
        return 0
    print("The prod plan deletes or replaces resources that hold prod data; no apply is allowed:", file=out)
    for loss in blocked:
        print(f"  - {loss.describe()}", file=out)
    print(
        "\nA renamed schema, catalog, model or project makes Terraform replace them, deleting every table and"
        "\nmodel version in them. Revert the name change, or move the resource in the state (a `moved` block or"
        "\n`terraform state mv`). To lose the data on purpose, run the pipeline once more with"
        f"\n{OVERRIDE_VARIABLE}={' '.join(loss.address for loss in losses)}"
        '\n(databricks-config/README.md, "Protect prod data").',
        file=out,
    )
    return 1


def main(arguments: Iterable[str], environ: Mapping[str, str], stdin: TextIO, out: TextIO) -> int:
    """Command line: the plan JSON's path as the only argument ("-" or none: standard input).
    Returns the exit code; 2 with the reason on ``out`` when the input is not a plan."""
    paths = list(arguments)
    if len(paths) > 1:
        print(
            "usage: check_prod_plan.py [PLAN_JSON], e.g. terraform show -json prod.tfplan | check_prod_plan.py",
            file=out,
        )
        return 2
    try:
        if not paths or paths[0] == "-":
            plan = json.load(stdin)
        else:
            with open(paths[0], encoding="utf-8") as handle:
                plan = json.load(handle)
        return check(plan, environ.get(OVERRIDE_VARIABLE), out)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(
            f"check_prod_plan.py: cannot read the plan: {error!r}; expected `terraform show -json <plan file>`",
            file=out,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ, sys.stdin, sys.stderr))
