"""Which combinations of cloud, CI/CD platform and feature store the template supports.

This is the one place that says so: the pre-generation hook refuses what is listed in
``UNSUPPORTED`` and the template's own tests generate every other combination. A
combination goes into the table while it does not work end to end, with the reason
shown to the user.
"""

from __future__ import annotations

from typing import Optional

# (cloud, cicd_platform, include_feature_store) -> why it is refused; None is a wildcard.
# Every combination works end to end today; add a row here while a new one does not.
UNSUPPORTED: dict[tuple[Optional[str], Optional[str], Optional[str]], str] = {}


def unsupported_reason(cloud: str, cicd_platform: str, include_feature_store: str) -> Optional[str]:
    """The reason a combination is refused, or None when it is supported."""
    chosen = (cloud, cicd_platform, include_feature_store)
    for pattern, reason in UNSUPPORTED.items():
        if all(p is None or p == c for p, c in zip(pattern, chosen)):
            return reason
    return None
