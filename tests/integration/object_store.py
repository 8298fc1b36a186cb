"""A real S3-compatible server for tests: moto's server mode on a loopback port, through s3fs.

The ``s3`` fixture (``tests/integration/conftest.py``) starts one per test with a fresh bucket,
points fsspec's ``s3`` defaults and the AWS variables at it, and stops it after the test.
"""

from __future__ import annotations

import uuid
from typing import Any

from trainyard.server.running import free_port


class ObjectStore:
    """moto's S3 server on a loopback port that can be stopped and started again (same port, same
    buckets: moto keeps its state in this process)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.bucket = f"trainyard-{uuid.uuid4().hex[:12]}"  # moto's buckets outlive a test
        self.server: Any = None

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    def stop(self) -> None:
        assert self.server is not None
        self.server.stop()
        self.server = None
