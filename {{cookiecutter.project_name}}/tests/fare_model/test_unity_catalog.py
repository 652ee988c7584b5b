"""What the Unity Catalog seam hands to Databricks: the registry URI, three-level names, the table write."""

from __future__ import annotations

from unittest import mock

import mlflow
import pytest

from fare_model import unity_catalog
from steps import predictions as predictions_module
from steps.utils import FIXED_NAME_ENVS, TERRAFORM_ENVS, get_model_name, get_predictions_table


def test_jobs_register_in_unity_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mlflow, "get_tracking_uri", lambda: "databricks")
    set_registry_uri = mock.Mock()
    monkeypatch.setattr(mlflow, "set_registry_uri", set_registry_uri)
    unity_catalog.use_unity_catalog_registry()
    set_registry_uri.assert_called_once_with("databricks-uc")


def test_a_local_store_keeps_its_own_registry(mlflow_store: str) -> None:
    unity_catalog.use_unity_catalog_registry()
    assert mlflow.get_registry_uri() == mlflow_store


def test_settings_name_a_catalog_per_environment_and_valid_names() -> None:
    names = unity_catalog.settings()
    assert set(names["catalogs"]) == {*FIXED_NAME_ENVS, *TERRAFORM_ENVS}
    for env in names["catalogs"]:
        assert unity_catalog.name_in(env, names["model"]).count(".") == 2


def test_every_environment_has_a_catalog_of_its_own() -> None:
    # Dev runs (BatchInference's default env) must not overwrite staging's predictions or model.
    catalogs = unity_catalog.settings()["catalogs"]
    assert len(set(catalogs.values())) == len(catalogs), catalogs
    assert get_predictions_table("dev").split(".")[0] == catalogs["dev"]


def test_fixed_environments_use_their_catalog_and_the_project_schema() -> None:
    names = unity_catalog.settings()
    assert get_model_name("test") == f"{names['catalogs']['test']}.{names['schema']}.{names['model']}"
    assert get_model_name("dev") == f"{names['catalogs']['dev']}.{names['schema']}.{names['model']}"
    assert (
        get_predictions_table("test") == f"{names['catalogs']['test']}.{names['schema']}.{names['predictions_table']}"
    )


@pytest.mark.parametrize(
    ("parts", "bad"),
    [(("Staging", "s", "m"), "catalog"), (("c", "my-schema", "m"), "schema"), (("c", "s", "a.b"), "name")],
)
def test_three_level_names_refuse_parts_that_need_quoting(parts: tuple[str, str, str], bad: str) -> None:
    with pytest.raises(ValueError, match=f"Unity Catalog {bad}"):
        unity_catalog.three_level_name(*parts)


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown environment 'production'"):
        unity_catalog.name_in("production", "model")


def test_predictions_are_appended_to_the_table_under_its_three_level_name(monkeypatch: pytest.MonkeyPatch) -> None:
    appended = []
    monkeypatch.setattr(
        predictions_module,
        "append_predictions",
        lambda frame, name, window=None: appended.append((frame, name, window)) or "r1",
    )
    assert unity_catalog.write_table("PREDICTIONS", "prod.team_a.predictions", "WINDOW") == "r1"
    assert appended == [("PREDICTIONS", "prod.team_a.predictions", "WINDOW")]  # the run's scoring window


@pytest.mark.parametrize("table", ["predictions", "team_a.predictions", "delta.`/tmp/x`", "a.b.c.d"])
def test_predictions_need_a_three_level_table_name(table: str) -> None:
    predictions = mock.MagicMock()
    with pytest.raises(ValueError):
        unity_catalog.write_table(predictions, table)
    predictions.write.format.assert_not_called()
