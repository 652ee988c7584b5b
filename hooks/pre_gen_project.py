"""Refuse invalid answers before any file is written (see hooks/validation.py), then note (and back
up) which paths of prunable folders exist already, so that pruning never deletes them and undoes
``-f`` rewriting them (hooks/pruning.py)."""

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, {{ "." | template_path | tojson }})

from cookiecutter import __version__ as cookiecutter_version  # noqa: E402

from hooks.pruning import backup_folder, paths_to_remove, snapshot, snapshot_file  # noqa: E402
from hooks.validation import find_problems, format_problems  # noqa: E402

# In prompt order (jsonify sorts the keys), so that messages and the retry command follow the prompts.
prompts = json.loads(Path({{ "cookiecutter.json" | template_path | tojson }}).read_text())
context = json.loads({{ cookiecutter | jsonify | tojson }})
answers = {k: context[k] for k in dict.fromkeys([*prompts, *context]) if k in context}
problems = find_problems(answers, cookiecutter_version)
if problems:
    print(format_problems(problems, answers, answers.get("_template"), prompts), file=sys.stderr)
    sys.exit(1)

project = Path.cwd()
before_file = snapshot_file(project)
backup = backup_folder(project)
shutil.rmtree(backup, ignore_errors=True)  # a run that failed before its post-generation hook
before_file.write_text(json.dumps(snapshot(project, paths_to_remove(answers), backup)))
