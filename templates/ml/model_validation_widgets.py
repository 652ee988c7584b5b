dbutils.widgets.dropdown("env", "staging", {{ cookiecutter | environment_names("dev", "ci", "deploy") | tojson }}, "Environment Name")
dbutils.widgets.dropdown("run_mode", "dry_run", ["disabled", "dry_run", "enabled"], "Run Mode")
dbutils.widgets.text(
    "validation_input",
    "SELECT * FROM delta.`dbfs:/databricks-datasets/nyctaxi-with-zipcodes/subsampled`",
    "Validation Input Query",
)