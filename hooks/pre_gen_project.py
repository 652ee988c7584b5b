"""Refuse invalid answers before any file is written (see hooks/validation.py)."""

import json
import sys

sys.path.insert(0, {{ "." | template_path | tojson }})

from cookiecutter import __version__ as cookiecutter_version  # noqa: E402

from hooks.validation import find_problems, format_problems  # noqa: E402

answers = json.loads({{ cookiecutter | jsonify | tojson }})
problems = find_problems(answers, cookiecutter_version)
if problems:
    print(format_problems(problems), file=sys.stderr)
    sys.exit(1)
