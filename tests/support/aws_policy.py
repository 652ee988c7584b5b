"""IAM policy documents of the generated Terraform as JSON, and the parts of IAM's evaluation
that the AWS emulator (moto) leaves out.

``data "aws_iam_policy_document"`` blocks are rendered by the aws provider, which cannot be
downloaded here; ``policy_json`` renders the same JSON from the block as python-hcl2 parses it,
with every ``${...}`` reference replaced from a table the caller builds from the generated
values (an unknown reference raises ``ValueError``: nothing is guessed). Rules:
https://registry.terraform.io/providers/hashicorp/aws/latest/docs/data-sources/iam_policy_document

moto enforces a policy's actions and resources, but not its conditions (moto/iam/access_control.py:
"TODO add support for the Resource and Condition parts"), so ``allows`` evaluates a statement's
conditions as IAM does
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
every condition must hold; a condition holds when the request's value matches one of its values,
a negated one (``...Not...``) when it matches none of them or the request lacks the key.

Bucket policies: moto 5.2's S3 checks a bucket policy's Deny on object requests without the
request's principal or condition keys (``FakeBucket.get_permission`` calls
``IAMPolicy.is_action_permitted(action, resource)``, and ``moto/iam/policy_conditions.py`` skips
every operator but StringEquals), so any Deny with a condition denies everyone there.
``s3_request_allowed`` evaluates one request to a bucket of the caller's own account instead:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
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


def _arn_like(value: str, pattern: str) -> bool:
    """ArnLike: each of the six colon-separated parts matches on its own (``*`` and ``?`` stay
    within a part)."""
    values, patterns = value.split(":", 5), pattern.split(":", 5)
    return len(values) == len(patterns) == 6 and all(map(fnmatch.fnmatchcase, values, patterns))


def _number_less(value: str, wanted: str) -> bool:
    return float(value) < float(wanted)


_OPERATORS = {
    "StringEquals": lambda value, wanted: value == wanted,
    "StringLike": lambda value, wanted: fnmatch.fnmatchcase(value, wanted),
    "ArnLike": _arn_like,
    "ArnEquals": _arn_like,
    "Bool": lambda value, wanted: value.lower() == wanted.lower(),
    "NumericLessThan": _number_less,
}
_NEGATED = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike", "ArnNotLike": "ArnLike",
            "ArnNotEquals": "ArnEquals"}


def _condition_holds(operator: str, wanted: list[str], value: str | None) -> bool:
    """One condition operator and key: a positive one needs the key and a match, a negated one
    holds without the key or without any match. Raises ValueError for another operator."""
    if operator in _NEGATED:
        return value is None or not any(_OPERATORS[_NEGATED[operator]](value, w) for w in wanted)
    if operator not in _OPERATORS:
        raise ValueError(f"condition operator {operator} is not evaluated here")
    return value is not None and any(_OPERATORS[operator](value, w) for w in wanted)


def _principal_matches(statement: dict, principal_arn: str | None) -> bool:
    """A statement without Principal (an identity policy) applies to its holder; "*" and
    {"AWS": "*"} to everyone; otherwise the principal's ARN must be listed."""
    if "Principal" not in statement or principal_arn is None:
        return True
    principal = statement["Principal"]
    if principal == "*":
        return True
    listed = principal.get("AWS", [])
    listed = [listed] if isinstance(listed, str) else listed
    return "*" in listed or principal_arn in listed


def _matches(patterns: list[str] | str, value: str) -> bool:
    return any(fnmatch.fnmatchcase(value, p) for p in ([patterns] if isinstance(patterns, str) else patterns))


def _statements(policy: dict, action: str, resource: str | None, context: dict[str, str],
                principal_arn: str | None = None) -> list[dict]:
    """The statements of ``policy`` that apply to the request (Effect still to be read)."""
    def applies(statement: dict) -> bool:
        if not _matches(statement["Action"], action):
            return False
        if resource is not None and not _matches(statement.get("Resource", []), resource):
            return False
        if not _principal_matches(statement, principal_arn):
            return False
        return all(
            _condition_holds(operator, [wanted] if isinstance(wanted, str) else wanted, context.get(key))
            for operator, keys in statement.get("Condition", {}).items()
            for key, wanted in keys.items()
        )

    statements = policy["Statement"]
    return [s for s in ([statements] if isinstance(statements, dict) else statements) if applies(s)]


def allows(policy: dict, action: str, resource: str | None, context: dict[str, str]) -> bool:
    """Whether an Allow statement of ``policy`` grants ``action`` on ``resource`` (None: a trust
    policy, which names no resource) with the request's condition keys ``context``, and no Deny
    statement refuses it. A condition key absent from ``context`` fails a positive condition and
    satisfies a negated one.

    Raises ValueError for a condition operator this module does not evaluate (see _OPERATORS).
    """
    matching = _statements(policy, action, resource, context)
    return any(s["Effect"] == "Allow" for s in matching) and not any(s["Effect"] == "Deny" for s in matching)


def s3_request_allowed(identity_policies: list[dict], bucket_policy: dict, principal_arn: str, action: str,
                       resource: str, secure_transport: bool = True, tls_version: str = "1.3") -> bool:
    """Whether an S3 request succeeds on AWS: ``principal_arn`` (a role's or user's ARN, i.e.
    aws:PrincipalArn; for a role session its role) of the bucket's own account, holding
    ``identity_policies``, asks for ``action`` on ``resource`` (an object or bucket ARN).

    Same-account rule: an explicit Deny in any policy refuses; otherwise an Allow in the identity
    policies or in the bucket policy (for this principal) grants. The request context carries
    aws:PrincipalArn, aws:SecureTransport and s3:TlsVersion. The account's root user
    (``arn:aws:iam::<account>:root``) holds every permission without identity policies.
    """
    context = {"aws:PrincipalArn": principal_arn, "aws:SecureTransport": str(secure_transport).lower(),
               "s3:TlsVersion": tls_version}
    identity = [_statements(p, action, resource, context) for p in identity_policies]
    resource_side = _statements(bucket_policy, action, resource, context, principal_arn)
    every = [s for found in identity for s in found] + resource_side
    if any(s["Effect"] == "Deny" for s in every):
        return False
    return principal_arn.endswith(":root") or any(s["Effect"] == "Allow" for s in every)
