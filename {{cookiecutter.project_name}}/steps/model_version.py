"""A model version that a training run registered, as the tasks after training see it.

Both the training code and the local pipeline hand one on; validation, deployment and batch
inference find the version and its run from it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RegisteredVersion:
    """A registered model version and the run that logged it."""

    run_id: str
    experiment_id: str
    model_name: str
    model_version: str

    @property
    def model_uri(self) -> str:
        """``models:/<name>/<version>``: this version, whatever aliases or stages it gets later."""
        return f"models:/{self.model_name}/{self.model_version}"
