"""A local AWS emulator: moto in server mode on 127.0.0.1, in a process of its own.

moto's server answers S3, STS and IAM on one port. By default it checks no signature and no
permission; ``enforce_iam`` turns on its IAM emulation (the ``/moto-api/reset-auth`` endpoint
sets what the INITIAL_NO_AUTH_ACTION_COUNT setting would: from then on every request must be
signed by a known access key whose policies allow the action on the resource):
https://docs.getmoto.org/en/latest/docs/iam.html. The server logs one line per request, which
``requests`` reads back, so a test can see exactly what a client asked for.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

_REQUEST_LINE = re.compile(r'"(?:\x1b\[[\d;]*m)*(?P<method>[A-Z]+) (?P<target>\S+) HTTP/[\d.]+(?:\x1b\[[\d;]*m)*" (?P<status>\d{3})')


@dataclass(frozen=True)
class MotoServer:
    endpoint: str
    log: Path

    def enforce_iam(self) -> None:
        """From now on, refuse unsigned requests and whatever the caller's IAM policies do not allow."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset-auth", data=b"0", method="POST",
                                         headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(request, timeout=10).read()

    def requests(self) -> list[tuple[str, str, dict[str, str], int]]:
        """(method, path, query parameters, HTTP status) of every request served so far, oldest first."""
        found = []
        for match in _REQUEST_LINE.finditer(self.log.read_text(errors="replace")):
            target = urllib.parse.urlsplit(match.group("target"))
            found.append((match.group("method"), urllib.parse.unquote(target.path),
                          dict(urllib.parse.parse_qsl(target.query, keep_blank_values=True)), int(match.group("status"))))
        return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def moto_server(log: Path, start_timeout: float = 30.0) -> Iterator[MotoServer]:
    """Run ``python -m moto.server`` on a free local port while the block runs; its log goes to ``log``."""
    port = _free_port()
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log_file, stderr=subprocess.STDOUT,
        )
    server = MotoServer(f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                break
            except OSError as refused:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server did not start on port {port}: {log.read_text()[-2000:]}") from refused
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
