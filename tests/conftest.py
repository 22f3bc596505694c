"""Fixtures shared by the whole test suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def moto_s3_endpoint() -> Iterator[str]:
    """URL of moto's server over HTTP, for S3 (and KMS) tests, for the whole session.

    The server listens on a free port the OS picks; ``AWS_ENDPOINT_URL_S3`` points
    boto3 at it and dummy credentials and region come from the environment, with
    the user's AWS config files and profile hidden. Tests create their own
    uniquely named buckets, so they do not need a reset between them.
    """
    from moto.server import ThreadedMotoServer  # heavy import: only when a test asks

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        with pytest.MonkeyPatch.context() as env:
            env.delenv("AWS_PROFILE", raising=False)
            env.delenv("AWS_SESSION_TOKEN", raising=False)
            env.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
            env.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
            env.setenv("AWS_ACCESS_KEY_ID", "testing")
            env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
            env.setenv("AWS_DEFAULT_REGION", "us-east-1")
            env.setenv("AWS_ENDPOINT_URL_S3", endpoint)
            yield endpoint
    finally:
        server.stop()
