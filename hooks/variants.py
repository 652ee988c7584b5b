"""Which combinations of cloud, CI/CD platform, feature store and Unity Catalog the template supports.

This is the one place that says so: the pre-generation hook refuses what is listed in
``UNSUPPORTED`` and the template's own tests generate every other combination. A
combination goes into the table while it does not work end to end, with the reason
shown to the user.
"""

from __future__ import annotations

from typing import Optional

# (cloud, cicd_platform, include_feature_store, include_models_in_unity_catalog) -> why it is
# refused; None is a wildcard, and a shorter pattern leaves the answers after it open. Add a row
# here while a combination does not work end to end.
UNSUPPORTED: dict[tuple[Optional[str], ...], str] = {}


# The answers that the patterns of ``UNSUPPORTED`` read, in their order.
PARAMETERS = ("cloud", "cicd_platform", "include_feature_store", "include_models_in_unity_catalog")


def unsupported_match(
    cloud: str, cicd_platform: str, include_feature_store: str, include_models_in_unity_catalog: str = "no"
) -> Optional[tuple[dict[str, str], str]]:
    """The refused combination's fixed answers (parameter -> value; wildcards left out) and its
    reason, or None when the combination is supported. See ``unsupported_reason`` for the defaults."""
    chosen = (cloud, cicd_platform, include_feature_store, include_models_in_unity_catalog)
    for pattern, reason in UNSUPPORTED.items():
        if all(p is None or p == c for p, c in zip(pattern, chosen)):
            return {name: value for name, value in zip(PARAMETERS, pattern) if value is not None}, reason
    return None


def unsupported_reason(
    cloud: str, cicd_platform: str, include_feature_store: str, include_models_in_unity_catalog: str = "no"
) -> Optional[str]:
    """The reason a combination is refused, or None when it is supported.

    ``include_models_in_unity_catalog`` defaults to ``no``: the answer of every project
    generated before the prompt existed.
    """
    match = unsupported_match(cloud, cicd_platform, include_feature_store, include_models_in_unity_catalog)
    return match[1] if match else None
