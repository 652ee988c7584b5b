"""Drop the files of unchosen options that this run created (see the table in hooks/pruning.py),
write the Terraform folder of each deploy environment (hooks/environment_folders.py), record the answers for cruft (hooks/cruft_record.py), and warn once about doubtful answers."""

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, {{ "." | template_path | tojson }})

from hooks.cruft_record import in_temporary_clone, made_by_cruft, write_cruft_file  # noqa: E402
from hooks.environment_folders import write_environment_folders  # noqa: E402
from hooks.pruning import backup_folder, format_kept, paths_to_remove, prune, snapshot_file  # noqa: E402
from hooks.validation import find_warnings, format_warnings  # noqa: E402

answers = json.loads({{ cookiecutter | jsonify | tojson }})
project = Path.cwd()
before_file = snapshot_file(project)
backup = backup_folder(project)
existed = json.loads(before_file.read_text()) if before_file.exists() else []
kept = prune(project, paths_to_remove(answers), existed, backup)
before_file.unlink(missing_ok=True)
shutil.rmtree(backup, ignore_errors=True)
write_environment_folders(project, Path({{ "." | template_path | tojson }}), answers)

if not made_by_cruft(answers):
    # cookiecutter's _repo_dir is relative when it was given a relative path ('cookiecutter .'),
    # and these hooks run in the project folder: then this template's own absolute path serves.
    repo_dir = Path(answers.get("_repo_dir") or ".")
    write_cruft_file(project, answers, repo_dir if repo_dir.is_absolute() else Path({{ "." | template_path | tojson }}))

# cruft check/diff/update render into temporary folders they delete: nothing there to tell the user.
if not in_temporary_clone(project):
    notes = [format_kept(kept)] if kept else []
    warnings = find_warnings(answers)
    if warnings:
        notes.append(format_warnings(warnings))
    if notes:
        print("\n".join(notes), file=sys.stderr)
    print(f"Project generated. Start with {project / 'README.md'}")
