{#- Rendered once per deploy environment by the post-generation hook (hooks/environment_folders.py),
    with `environment` (hooks/derived.py, environments) and `tf_env` (its name). -#}
# Values of the {{ tf_env }} environment. Everything else about the ML resources is shared
# with the other environment in ../modules/ml-resources.
locals {
  env = "{{ tf_env }}"

  # Jobs check out and run the code of this branch.
  git_branch = "{{ environment.branch }}"

  # Workspace URL, used for links in the registered model's description.
  workspace_host = "{{ environment.host }}"

  # Workspace folder of the MLflow experiment; the CI/CD service principal must be
  # able to manage it (the CI/CD bootstrap grants that).
  mlflow_experiment_parent_dir = "{{ cookiecutter | derived("mlflow_experiment_parent_dir") }}"

  # Group that gets read access to the jobs, the experiment and the model.
  read_user_group = "{{ cookiecutter.read_user_group }}"
}
