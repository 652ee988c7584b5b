"""IAM policy documents of the generated Terraform as JSON, and the parts of IAM's evaluation
that the AWS emulator (moto) leaves out.

``data "aws_iam_policy_document"`` blocks are rendered by the aws provider, which cannot be
downloaded here; ``policy_json`` renders the same JSON from the block as python-hcl2 parses it,
with every ``${...}`` reference replaced from a table the caller builds from the generated
values (an unknown reference raises ``ValueError``: nothing is guessed). Rules:
https://registry.terraform.io/providers/hashicorp/aws/latest/docs/data-sources/iam_policy_document

moto enforces a policy's actions and resources, but not its conditions (moto/iam/access_control.py:
"TODO add support for the Resource and Condition parts"), so ``allows`` evaluates a statement's
``StringEquals`` / ``StringLike`` conditions as IAM does
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
every condition must hold, and a condition holds when the request's value matches one of its values.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from tests.support.terraform_refs import unquote

_REFERENCE = re.compile(r"\$\{([^{}]+)\}")


def resolve(text: str, references: dict[str, str]) -> str:
    """``text`` (an HCL string as python-hcl2 writes it) with each ``${expression}`` replaced.

    Raises ValueError naming an expression that ``references`` does not hold.
    """
    def replace(match: re.Match) -> str:
        expression = match.group(1).strip()
        if expression not in references:
            raise ValueError(f"no value for ${{{expression}}} in {text!r}; known: {sorted(references)}")
        return references[expression]

    return _REFERENCE.sub(replace, unquote(str(text)))


def _values(values: Any, references: dict[str, str]) -> list[str]:
    return [resolve(value, references) for value in (values if isinstance(values, list) else [values])]


def policy_json(document: dict, references: dict[str, str]) -> dict:
    """The JSON policy of one ``aws_iam_policy_document`` body (its ``statement`` blocks)."""
    statements = []
    for block in document.get("statement", []):
        statement: dict[str, Any] = {"Effect": unquote(str(block.get("effect", '"Allow"')))}
        if "sid" in block:
            statement["Sid"] = unquote(str(block["sid"]))
        for principal in block.get("principals", []):
            statement.setdefault("Principal", {})[resolve(principal["type"], references)] = _values(
                principal["identifiers"], references
            )
        statement["Action"] = _values(block["actions"], references)
        if "resources" in block:
            statement["Resource"] = _values(block["resources"], references)
        for condition in block.get("condition", []):
            test = resolve(condition["test"], references)
            statement.setdefault("Condition", {}).setdefault(test, {})[resolve(condition["variable"], references)] = (
                _values(condition["values"], references)
            )
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


_OPERATORS = {
    "StringEquals": lambda value, wanted: value == wanted,
    "StringLike": lambda value, wanted: fnmatch.fnmatchcase(value, wanted),
}


def _matches(patterns: list[str] | str, value: str) -> bool:
    return any(fnmatch.fnmatchcase(value, p) for p in ([patterns] if isinstance(patterns, str) else patterns))


def allows(policy: dict, action: str, resource: str | None, context: dict[str, str]) -> bool:
    """Whether an Allow statement of ``policy`` grants ``action`` on ``resource`` (None: a trust
    policy, which names no resource) with the request's condition keys ``context``, and no Deny
    statement refuses it. A condition key absent from ``context`` fails its condition.

    Raises ValueError for a condition operator outside StringEquals / StringLike.
    """
    def applies(statement: dict) -> bool:
        if not _matches(statement["Action"], action):
            return False
        if resource is not None and not _matches(statement.get("Resource", []), resource):
            return False
        for operator, keys in statement.get("Condition", {}).items():
            if operator not in _OPERATORS:
                raise ValueError(f"condition operator {operator} is not evaluated here")
            for key, wanted in keys.items():
                if key not in context or not any(_OPERATORS[operator](context[key], w) for w in wanted):
                    return False
        return True

    matching = [s for s in policy["Statement"] if applies(s)]
    return any(s["Effect"] == "Allow" for s in matching) and not any(s["Effect"] == "Deny" for s in matching)
