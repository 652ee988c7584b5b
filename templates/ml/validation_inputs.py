{% include "ml/utc_clock.py" %}
env = dbutils.widgets.get("env")
dev_namespace.enter(spark, env)  # dev: your own experiment (steps/dev_namespace.py)
run_mode = RunMode.parse(dbutils.widgets.get("run_mode"))
validation_input = dbutils.widgets.get("validation_input")
model_name = dbutils.jobs.taskValues.get("Train", "model_name", debugValue="")
model_version = dbutils.jobs.taskValues.get("Train", "model_version", debugValue="")
assert model_name and model_version, "Run this notebook as a task after the Train task"
