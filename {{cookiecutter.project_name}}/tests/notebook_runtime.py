"""Stand-ins for what the Databricks runtime gives a notebook, so tests run notebooks as plain Python.

Every notebook test of the project uses these: ``FakeDbutils`` (widgets, job task values,
secrets, ``notebook.exit``, ``library.restartPython``), ``RuntimeSpark`` (the runtime's
``spark``, whose Delta tables and paths are local DataFrames and parquet files) and
``run_notebook``, which executes a notebook's source from its own folder, as Databricks does.
"""

from __future__ import annotations

import os
import runpy
import shutil
import types
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from steps.dev_namespace import CURRENT_USER_QUERY

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
_CREATE_SCHEMA = "CREATE SCHEMA IF NOT EXISTS "
_DROP_TABLE = "DROP TABLE IF EXISTS "


class NotebookExit(Exception):
    """``dbutils.notebook.exit(value)``: the notebook ended early with ``value``."""


class MissingTaskValue(LookupError):
    """A task value that no upstream task set, read without a ``debugValue``."""


class FakeDbutils:
    """The parts of Databricks' ``dbutils`` that the notebooks use, fed from dictionaries.

    ``widgets`` are the job's parameters (a widget not given keeps its declared default);
    ``upstream`` holds the task values earlier tasks set, by task key; ``secrets`` maps
    ``(scope, key)`` to a value. What this notebook sets with ``jobs.taskValues.set`` lands in
    ``task_values``. Reading a widget before declaring it, or declaring a dropdown whose
    default is not one of its choices, fails as it does on Databricks.
    """

    def __init__(
        self,
        widgets: Optional[Mapping[str, str]] = None,
        upstream: Optional[Mapping[str, Mapping[str, Any]]] = None,
        secrets: Optional[Mapping[tuple[str, str], str]] = None,
    ) -> None:
        self.widget_values = dict(widgets or {})
        self.declared: dict[str, str] = {}
        self.upstream = {task: dict(values) for task, values in (upstream or {}).items()}
        self.secret_values = dict(secrets or {})
        self.task_values: dict[str, Any] = {}
        self.widgets = types.SimpleNamespace(text=self._text, dropdown=self._dropdown, get=self._get_widget)
        self.jobs = types.SimpleNamespace(
            taskValues=types.SimpleNamespace(set=self.task_values.__setitem__, get=self._get_task_value)
        )
        self.secrets = types.SimpleNamespace(get=lambda scope, key: self.secret_values[(scope, key)])
        self.notebook = types.SimpleNamespace(exit=self._exit)
        self.library = types.SimpleNamespace(restartPython=lambda: None)

    def _text(self, name: str, default: str, label: str) -> None:
        self.declared[name] = default

    def _dropdown(self, name: str, default: str, choices: list[str], label: str) -> None:
        assert default in choices, f"default of {name} is not one of its choices"
        self.declared[name] = default

    def _get_widget(self, name: str) -> str:
        assert name in self.declared, f"widget {name} read before it is declared"
        return self.widget_values.get(name, self.declared[name])

    # The parameter names are dbutils' own (jobs.taskValues.get(taskKey, key, default, debugValue)).
    def _get_task_value(self, taskKey: str, key: str, default: Any = None, debugValue: Any = None) -> Any:
        values = self.upstream.get(taskKey, {})
        if key in values:
            return values[key]
        if default is not None:
            return default
        if debugValue is not None:  # as in a notebook run outside a job
            return debugValue
        raise MissingTaskValue(f"task {taskKey} set no value {key!r}")

    @staticmethod
    def _exit(value: Any) -> None:
        raise NotebookExit(value)


class _Catalog:
    """A session's catalog whose ``tableExists`` is ``table_exists``."""

    def __init__(self, catalog: Any, table_exists: Callable[[str], bool]) -> None:
        self._catalog = catalog
        self.tableExists = table_exists

    def __getattr__(self, name: str) -> Any:
        return getattr(self._catalog, name)


class RuntimeSpark:
    """The runtime's ``spark``: a local session in which given Delta tables exist.

    ``tables`` maps a table name (such as ``delta.`dbfs:/...` ``) to the DataFrame
    ``spark.table`` returns for it; ``spark.read.format("delta").load(path)`` reads
    ``path`` as parquet, as ``spark.read.parquet`` does (with a given ``schema`` too). A table that a test's ``saveAsTable``
    stand-in wrote as parquet to ``saved_tables / name`` is read back from there, so a notebook
    can read the table it has just written (a local session has no three-level names).
    ``user`` is who runs the notebook (``current_user()``); ``CREATE SCHEMA`` statements are
    recorded in ``created_schemas`` rather than run; ``DROP TABLE IF EXISTS`` of a saved table
    deletes its files and is recorded in ``dropped_tables``. Everything else is the local session's own.
    """

    def __init__(
        self,
        session,
        tables: Optional[Mapping[str, Any]] = None,
        saved_tables: Optional[Path] = None,
        user: str = "data.scientist@example.com",
    ) -> None:
        self.session = session
        self.tables = dict(tables or {})
        self.saved_tables = saved_tables
        self.user = user
        self.created_schemas: list[str] = []
        self.dropped_tables: list[str] = []
        self.read = types.SimpleNamespace(
            format=lambda _: types.SimpleNamespace(load=session.read.parquet),
            parquet=session.read.parquet,
            schema=lambda schema: session.read.schema(schema),
        )

    def table(self, name: str):
        if name in self.tables:
            return self.tables[name]
        if self.saved_tables is not None and (self.saved_tables / name).exists():
            return self.session.read.parquet(str(self.saved_tables / name))
        return self.session.table(name)

    @property
    def catalog(self) -> Any:
        """The session's catalog, except that ``tableExists`` knows the tables above: a local
        session cannot look up three-level names, which Unity Catalog answers on Databricks."""
        session_catalog = self.session.catalog

        def table_exists(name: str) -> bool:
            if name in self.tables or (self.saved_tables is not None and (self.saved_tables / name).exists()):
                return True
            return name.count(".") < 2 and session_catalog.tableExists(name)

        return _Catalog(session_catalog, table_exists)

    def sql(self, query: str, *args: Any, **kwargs: Any) -> Any:
        if query == CURRENT_USER_QUERY:
            return self.session.createDataFrame([(self.user,)], "user string")
        if query.startswith(_CREATE_SCHEMA):
            self.created_schemas.append(query.removeprefix(_CREATE_SCHEMA))
            return self.session.createDataFrame([], "result string")
        if query.startswith(_DROP_TABLE) and self.saved_tables is not None:
            name = query.removeprefix(_DROP_TABLE)
            shutil.rmtree(self.saved_tables / name, ignore_errors=True)
            self.dropped_tables.append(name)
            return self.session.createDataFrame([], "result string")
        return self.session.sql(query, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)


def run_notebook(name: str, dbutils: FakeDbutils, **runtime_globals: Any) -> Any:
    """Execute ``notebooks/<name>.py`` from the notebooks folder with ``dbutils`` and ``runtime_globals``.

    Returns the value the notebook passed to ``dbutils.notebook.exit``, or None when it ran
    to its end without exiting. The working directory is restored afterwards.
    """
    cwd = Path.cwd()
    os.chdir(NOTEBOOKS)  # as on Databricks
    try:
        runpy.run_path(str(NOTEBOOKS / f"{name}.py"), init_globals={"dbutils": dbutils, **runtime_globals})
    except NotebookExit as exited:
        return exited.args[0]
    finally:
        os.chdir(cwd)
    return None
