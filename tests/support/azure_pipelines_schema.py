"""The Azure Pipelines schema that the generated pipelines are checked against, offline.

check-jsonschema vendors Microsoft's published schema (``vendor.azure-pipelines``), which
knows only the tasks built into Azure DevOps: any other ``task:`` fails it. The pipelines use
one Marketplace task, the AWS Toolkit for Azure DevOps' ``AWSShellScript@1`` (Terraform state
login on aws). ``schema_file`` adds that task with the inputs its ``task.json`` declares
(github.com/aws/aws-toolkit-azure-devops, src/tasks/AWSShellScript/task.json), written as the
built-in entries are written, so misspelt inputs or a wrong ``scriptType`` still fail.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib import resources
from pathlib import Path

# Marketplace task -> (description, {input: JSON schema}, required inputs).
MARKETPLACE_TASKS: dict[str, tuple[str, dict[str, dict], list[str]]] = {
    "AWSShellScript@1": (
        "AWS Shell Script (AWS Toolkit for Azure DevOps)\n\nRun a shell script using Bash with AWS credentials as environment variables",
        {
            "awsCredentials": {"type": "string", "description": "AWS Credentials (an AWS service connection)"},
            "regionName": {"type": "string", "description": "AWS Region"},
            "arguments": {"type": "string", "description": "Arguments"},
            "scriptType": {"description": "Script Source", "ignoreCase": "all", "enum": ["filePath", "inline"]},
            "filePath": {"type": "string", "description": "Script Path"},
            "inlineScript": {"type": "string", "description": "Inline Script"},
            "disableAutoCwd": {"type": "boolean", "description": "Specify Working Directory"},
            "workingDirectory": {"type": "string", "description": "Working Directory"},
            "failOnStandardError": {"type": "boolean", "description": "Fail on Standard Error"},
        },
        ["scriptType"],
    ),
}


def extended_schema() -> dict:
    """The vendored Azure Pipelines schema with MARKETPLACE_TASKS added to its ``task`` definition."""
    source = resources.files("check_jsonschema.builtin_schemas.vendor") / "azure-pipelines.json"
    schema = json.loads(source.read_text(encoding="utf-8-sig"))
    task = schema["definitions"]["task"]
    for name, (description, inputs, required) in MARKETPLACE_TASKS.items():
        task["properties"]["task"]["anyOf"].append(
            {"description": description, "doNotSuggest": False, "ignoreCase": "value", "enum": [name]}
        )
        task["anyOf"].append({
            "properties": {
                "task": {"description": description, "ignoreCase": "value", "pattern": f"^{name}$"},
                "inputs": {
                    "description": f"{name} inputs",
                    "properties": {key: {**value, "ignoreCase": value.get("ignoreCase", "key")} for key, value in inputs.items()},
                    "additionalProperties": False,
                    "required": required,
                },
            },
            "doNotSuggest": False,
            "firstProperty": ["task"],
            "required": ["task", "inputs"],
        })
    return schema


def schema_file() -> Path:
    """Path of the extended schema as a file (written once per content, safe for parallel workers)."""
    text = json.dumps(extended_schema())
    path = Path(tempfile.gettempdir()) / f"azure-pipelines-{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"
    if not path.exists():
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(text)
        partial.replace(path)
    return path
