"""An embedded local AWS: moto's server on 127.0.0.1, started and stopped by the pack."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@dataclass(frozen=True)
class LocalAws:
    endpoint_url: str
    region: str

    def env(self) -> dict[str, str]:
        """Environment for a process (rdk, the AWS CLI, a rule) that should talk to this AWS."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(FAKE_CREDENTIALS)
        env.update(
            {"AWS_ENDPOINT_URL": self.endpoint_url, "AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region}
        )
        return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server(region: str = "us-east-1", log: Path | None = None, timeout: float = 30.0) -> Iterator[LocalAws]:
    """Run ``moto_server`` on a free loopback port for the duration of the block.

    ``MOTO_IAM_LOAD_MANAGED_POLICIES`` is on because ``rdk init`` attaches AWS managed policies."""
    port = _free_port()
    env: Mapping[str, str] = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    executable = Path(sys.executable).with_name("moto_server")
    out = open(log, "w") if log else subprocess.DEVNULL  # closed in the finally below
    process = subprocess.Popen(
        [str(executable), "-H", "127.0.0.1", "-p", str(port)], env=dict(env), stdout=out, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not start on {url}") from None
                time.sleep(0.2)
        yield LocalAws(url, region)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        if log:
            out.close()  # type: ignore[union-attr]
