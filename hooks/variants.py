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


def unsupported_reason(
    cloud: str, cicd_platform: str, include_feature_store: str, include_models_in_unity_catalog: str = "no"
) -> Optional[str]:
    """The reason a combination is refused, or None when it is supported.

    ``include_models_in_unity_catalog`` defaults to ``no``: the answer of every project
    generated before the prompt existed.
    """
    chosen = (cloud, cicd_platform, include_feature_store, include_models_in_unity_catalog)
    for pattern, reason in UNSUPPORTED.items():
        if all(p is None or p == c for p, c in zip(pattern, chosen)):
            return reason
    return None
