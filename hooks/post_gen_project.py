"""Drop the files of unchosen options (see the table in hooks/pruning.py)."""

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, {{ "." | template_path | tojson }})

from hooks.pruning import paths_to_remove  # noqa: E402

answers = json.loads({{ cookiecutter | jsonify | tojson }})
project = Path.cwd()
for relative in paths_to_remove(answers):
    path = project / relative
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()

print(f"Project generated. Start with {project / 'README.md'}")
