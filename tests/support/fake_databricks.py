"""A local HTTP stand-in for a Databricks workspace and the CI platforms' OIDC token services.

The generated CI/CD jobs sign in with workload identity federation: the Databricks SDK asks
the CI platform for an OIDC token (GitHub: ``ACTIONS_ID_TOKEN_REQUEST_URL``; Azure DevOps:
``<collection>/<project>/_apis/distributedtask/hubs/.../oidctoken``) and exchanges it at the
workspace's ``/oidc/v1/token`` endpoint. This server answers all of those, plus the two
Jobs API calls of the integration test, on 127.0.0.1, and records every request, so tests
can run the SDK's real login code offline and check what it sent.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

# What the fake identity providers hand out; tests look for them in the token exchange.
GITHUB_ID_TOKEN = "github-oidc-id-token"
AZURE_DEVOPS_ID_TOKEN = "azure-devops-oidc-id-token"
# GitLab puts the ID token of a job's `id_tokens:` straight into its environment.
GITLAB_ID_TOKEN = "gitlab-oidc-id-token"
DATABRICKS_ACCESS_TOKEN = "databricks-access-token"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: str

    def form(self) -> dict[str, str]:
        """The body as ``application/x-www-form-urlencoded`` fields (one value each)."""
        return {key: values[0] for key, values in parse_qs(self.body).items()}


@dataclass
class FakeDatabricks:
    """Records requests; ``task_results`` (task key -> result state) shapes the Jobs API answers."""

    url: str = ""
    task_results: dict[str, str] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    schemas: set[str] = field(default_factory=set)  # catalog.schema of the Unity Catalog schemas that exist

    def answer(self, request: Request) -> tuple[int, Any]:
        self.requests.append(request)
        path = request.path
        if path == "/.well-known/databricks-config":
            return 200, {"oidc_endpoint": f"{self.url}/oidc", "workspace_id": "1234567890", "account_id": "account-id"}
        if path == "/oidc/.well-known/oauth-authorization-server":
            return 200, {
                "authorization_endpoint": f"{self.url}/oidc/v1/authorize",
                "token_endpoint": f"{self.url}/oidc/v1/token",
            }
        if path == "/oidc/v1/token" and request.method == "POST":
            return 200, {"access_token": DATABRICKS_ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 3600}
        if path == "/github/id-token":
            return 200, {"value": GITHUB_ID_TOKEN}
        if path.endswith("/oidctoken") and request.method == "POST":
            return 200, {"oidcToken": AZURE_DEVOPS_ID_TOKEN}
        if path.endswith("/scim/v2/Me"):
            return 200, {"userName": "cicd-client-id"}
        if path.startswith("/api/2.1/unity-catalog/schemas/") and request.method == "GET":
            name = path.rsplit("/", 1)[1]
            if name in self.schemas:
                return 200, {"full_name": name}
            return 404, {"error_code": "SCHEMA_DOES_NOT_EXIST", "message": f"Schema '{name}' does not exist."}
        if path == "/api/2.1/unity-catalog/schemas" and request.method == "POST":
            body = json.loads(request.body or "{}")
            full_name = f"{body['catalog_name']}.{body['name']}"
            if full_name in self.schemas:
                return 409, {"error_code": "SCHEMA_ALREADY_EXISTS", "message": f"Schema '{full_name}' already exists."}
            self.schemas.add(full_name)
            return 200, {"full_name": full_name}
        if path.endswith("/jobs/runs/submit"):
            return 200, {"run_id": 42}
        if path.endswith("/jobs/runs/get"):
            overall = "SUCCESS" if set(self.task_results.values()) <= {"SUCCESS"} else "FAILED"
            return 200, {
                "run_id": 42,
                "run_page_url": f"{self.url}/#job/1/run/42",
                "state": {"life_cycle_state": "TERMINATED", "result_state": overall},
                "tasks": [
                    {"task_key": key, "state": {"life_cycle_state": "TERMINATED", "result_state": result}}
                    for key, result in self.task_results.items()
                ],
            }
        return 404, {"error_code": "NOT_FOUND", "message": f"{request.method} {path} is not faked"}

    def token_exchanges(self) -> list[dict[str, str]]:
        """Form fields of every request to the workspace's OAuth token endpoint."""
        return [r.form() for r in self.requests if r.path == "/oidc/v1/token"]

    def api_calls(self) -> list[Request]:
        return [r for r in self.requests if r.path.startswith("/api/")]


def serve() -> Iterator[FakeDatabricks]:
    """Run a FakeDatabricks on a free local port for the duration of a ``with``/fixture."""
    fake = FakeDatabricks()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            status, payload = fake.answer(
                Request(self.command, parts.path, parse_qs(parts.query), dict(self.headers), body)
            )
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _handle

        def log_message(self, *_: Any) -> None:  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
