"""The generated template-update job (``check-template-updates.sh``, the same script on every CI/CD
platform) against a private template: the template is served by ``git http-backend`` behind HTTP
basic authentication, as a private repository on a git host is, and the script runs as the job
runs it, with the credentials the job passes in its environment.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import cruft
import pytest

from tests.support.generation import TEST_ANSWERS
from tests.support.template_repo import template_repository
from tests.support.variants import TEMPLATE_DIR

# cruft create of a project per CI/CD platform and fifteen runs of the job's script: about a minute.
pytestmark = pytest.mark.large

TOKEN = "s3cret-template-token"
SCRIPTS = {
    "GitHub Actions": ".github/workflows/scripts/check-template-updates.sh",
    "Azure DevOps": ".azure/devops-pipelines/scripts/check-template-updates.sh",
    "GitLab": ".gitlab/ci/scripts/check-template-updates.sh",
}
VENV_BIN = TEMPLATE_DIR / ".venv" / "bin"


class _PrivateGitHandler(BaseHTTPRequestHandler):
    """Serves the repositories under ``server.root`` read-only over git's smart HTTP protocol, only
    to requests that carry the password ``TOKEN`` (any user name)."""

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            _, _, password = base64.b64decode(header[6:]).decode().partition(":")
            if password == TOKEN:
                return True
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="template"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def _backend(self) -> None:
        if not self._authorised():
            return
        path, _, query = self.path.partition("?")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        env = {
            "PATH": os.environ["PATH"], "GIT_PROJECT_ROOT": str(self.server.root), "GIT_HTTP_EXPORT_ALL": "1",  # type: ignore[attr-defined]
            "REQUEST_METHOD": self.command, "PATH_INFO": path, "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": "reader",
        }
        result = subprocess.run(["git", "http-backend"], input=body, capture_output=True, env=env, check=True)
        head, _, payload = result.stdout.partition(b"\r\n\r\n")
        headers = [line.split(": ", 1) for line in head.decode().split("\r\n") if line]
        status = next((int(v.split()[0]) for k, v in headers if k.lower() == "status"), 200)
        self.send_response(status)
        for key, value in headers:
            if key.lower() != "status":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _backend

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def private_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """(the template repository, its URL on a private git server)."""
    root = tmp_path_factory.mktemp("git-server")
    repository = template_repository(root / "template")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PrivateGitHandler)
    server.root = root  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield repository, f"http://127.0.0.1:{server.server_address[1]}/template"
    server.shutdown()


@pytest.fixture(scope="module", params=list(SCRIPTS))
def project(request: pytest.FixtureRequest, private_template: tuple[Path, str],
            tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A project of each CI/CD platform whose ``.cruft.json`` names the private template's URL."""
    repository, url = private_template
    answers = {**TEST_ANSWERS, "cicd_platform": request.param}
    folder = Path(cruft.create(str(repository), output_dir=tmp_path_factory.mktemp("out"), extra_context=answers,
                               no_input=True))
    state = json.loads((folder / ".cruft.json").read_text())
    state["template"] = url
    (folder / ".cruft.json").write_text(json.dumps(state))
    return folder, SCRIPTS[request.param]


def run_check(project: tuple[Path, str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the job's script in the project as the CI job does, with a fresh ``$HOME`` (git's global config)."""
    folder, script = project
    home.mkdir(exist_ok=True)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "TEMPLATE_", "CI_JOB_TOKEN"))}
    return subprocess.run(
        [str(folder / script)], cwd=folder, capture_output=True, text=True, timeout=120,
        env={**clean, "HOME": str(home), "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", **env},
    )


def assert_token_kept_secret(result: subprocess.CompletedProcess[str], home: Path) -> None:
    assert TOKEN not in result.stdout + result.stderr
    assert TOKEN not in (home / ".gitconfig").read_text() if (home / ".gitconfig").exists() else True


def test_a_private_template_is_read_with_the_token_from_the_ci_secret(project: tuple[Path, str], tmp_path: Path) -> None:
    result = run_check(project, tmp_path / "home", TEMPLATE_REPO_TOKEN=TOKEN)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert_token_kept_secret(result, tmp_path / "home")


def test_without_a_token_the_job_says_which_secret_to_set(project: tuple[Path, str], tmp_path: Path) -> None:
    result = run_check(project, tmp_path / "home")
    assert result.returncode == 1
    assert "Cannot read the template repository http://127.0.0.1" in result.stderr
    assert "store a read-only token for it in the CI secret TEMPLATE_REPO_TOKEN" in result.stderr
    assert 'README.md, section "Pull template updates"' in result.stderr


def test_a_refused_token_is_named_as_such(project: tuple[Path, str], tmp_path: Path) -> None:
    result = run_check(project, tmp_path / "home", TEMPLATE_REPO_TOKEN="expired-token")
    assert result.returncode == 1
    assert "The token given was refused" in result.stderr
    assert "expired-token" not in result.stdout + result.stderr


def run_check_with_template(project: tuple[Path, str], home: Path, template: str) -> subprocess.CompletedProcess[str]:
    """``run_check`` with a token while ``.cruft.json`` names ``template``; the project is restored after."""
    cruft_file = project[0] / ".cruft.json"
    original = cruft_file.read_text()
    cruft_file.write_text(json.dumps({**json.loads(original), "template": template}))
    try:
        return run_check(project, home, TEMPLATE_REPO_TOKEN=TOKEN)
    finally:
        cruft_file.write_text(original)


def test_an_unreachable_host_is_not_blamed_on_the_token(project: tuple[Path, str], tmp_path: Path) -> None:
    """A host that does not answer (here a port nothing listens on) says nothing about the token."""
    result = run_check_with_template(project, tmp_path / "home", "http://127.0.0.1:9/mlops-stack.git")
    assert result.returncode == 1
    assert "The host 127.0.0.1 could not be reached from this CI runner" in result.stderr
    assert "refused: check that it has not expired" not in result.stderr
    assert_token_kept_secret(result, tmp_path / "home")


def test_the_ci_job_token_serves_only_the_templates_own_host(project: tuple[Path, str], tmp_path: Path) -> None:
    """GitLab's CI_JOB_TOKEN and Azure DevOps' System.AccessToken, passed as CI_JOB_TOKEN_VALUE for their
    own host; an undefined Azure DevOps variable arrives as the literal "$(NAME)" and counts as none."""
    same_host = run_check(project, tmp_path / "a", TEMPLATE_REPO_TOKEN="$(TEMPLATE_REPO_TOKEN)",
                          CI_JOB_TOKEN_HOST="127.0.0.1", CI_JOB_TOKEN_VALUE=TOKEN)
    assert same_host.returncode == 0, same_host.stderr
    assert_token_kept_secret(same_host, tmp_path / "a")
    other_host = run_check(project, tmp_path / "b", CI_JOB_TOKEN_HOST="gitlab.example.com", CI_JOB_TOKEN_VALUE=TOKEN)
    assert other_host.returncode == 1
    assert "store a read-only token" in other_host.stderr


def test_a_template_path_ci_cannot_clone_is_named(project: tuple[Path, str], tmp_path: Path) -> None:
    result = run_check_with_template(project, tmp_path / "home", "/home/someone/mlops-stack")
    assert result.returncode == 1
    assert "'/home/someone/mlops-stack', which CI cannot clone: put the template's" in result.stderr
