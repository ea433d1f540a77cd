"""Fixtures of the scale-out tests: an S3 endpoint on loopback (moto's server in standalone mode,
a real HTTP S3 API that validates requests and enforces Object Lock), and settings that use it."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from haven.core.settings import Settings, get_settings


@dataclass
class S3Endpoint:
    url: str

    def client(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1")

    def bucket(self, *, lock: bool) -> str:
        name = f"haven-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name, ObjectLockEnabledForBucket=lock)
        return name


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Endpoint]:
    pytest.importorskip("moto.server", reason="moto[server] is a dev dependency (pip install -e .[dev])")
    from moto.server import ThreadedMotoServer

    # moto accepts any credentials; boto3 needs some to sign with.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield S3Endpoint(f"http://{host}:{port}")
    server.stop()


@pytest.fixture
def s3_settings(settings: Settings, s3: S3Endpoint) -> Settings:
    """The test settings with sealed files in a fresh Object-Lock bucket on the moto server."""
    bucket = s3.bucket(lock=True)
    return settings.model_copy(update={"storage_url": f"s3://{bucket}/haven", "s3_endpoint_url": s3.url})


@pytest.fixture(autouse=True)
def _fresh_process_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
