"""A real S3 endpoint on loopback for the store tests: moto's server (the one s3fs's own test
suite runs), speaking S3 over HTTP; s3fs reaches it through the standard AWS variables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def s3_endpoint() -> Iterator[dict[str, str]]:
    """Start the server on a free 127.0.0.1 port; yields the environment a client needs."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield {"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "lstmflow-test",
               "AWS_SECRET_ACCESS_KEY": "lstmflow-test-secret", "AWS_DEFAULT_REGION": "us-east-1"}
    finally:
        server.stop()


def make_bucket(env: dict[str, str], bucket: str) -> None:
    import boto3

    boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_DEFAULT_REGION"],
                 aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                 aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"]).create_bucket(Bucket=bucket)
