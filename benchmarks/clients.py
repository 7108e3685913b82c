"""The two clients under test, built the same way, and the calls each benchmark makes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from payloads import ENDPOINT_REQUEST

APP, ENDPOINT = "bench-app", "device-1"
REGION = "us-east-1"
ACCESS_KEY, SECRET_KEY = "AKIDBENCHEXAMPLE", "bench/secret/EXAMPLEKEY"
OPERATIONS = ("GetEndpoint", "UpdateEndpoint", "DeleteEndpoint")

Call = Callable[[], Any]


def ours(url: str, access: str = ACCESS_KEY, secret: str = SECRET_KEY, **kwargs: Any) -> Any:
    """A `pinpoint_endpoints.Client` with its defaults (3 attempts, retry quota)."""
    from botocore.credentials import Credentials

    import pinpoint_endpoints as pe

    return pe.Client(REGION, endpoint_url=url, credentials=Credentials(access, secret), **kwargs)


def boto3_client(url: str, access: str = ACCESS_KEY, secret: str = SECRET_KEY,
                 **kwargs: Any) -> Any:
    """A boto3 ``pinpoint`` client in standard retry mode (3 attempts, retry quota)."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard"}, **kwargs)
    return boto3.session.Session().client(
        "pinpoint", endpoint_url=url, region_name=REGION, aws_access_key_id=access,
        aws_secret_access_key=secret, config=config,
    )


def calls(client: Any, library: str) -> dict[str, Call]:
    """One call per operation; UpdateEndpoint sets every field of the EndpointRequest."""
    if library == "ours":
        import pinpoint_endpoints as pe

        request = pe.EndpointRequest.from_dict(ENDPOINT_REQUEST)
        return {
            "GetEndpoint": lambda: client.get_endpoint(APP, ENDPOINT),
            "UpdateEndpoint": lambda: client.update_endpoint(APP, ENDPOINT, request),
            "DeleteEndpoint": lambda: client.delete_endpoint(APP, ENDPOINT),
        }
    return {
        "GetEndpoint": lambda: client.get_endpoint(ApplicationId=APP, EndpointId=ENDPOINT),
        "UpdateEndpoint": lambda: client.update_endpoint(
            ApplicationId=APP, EndpointId=ENDPOINT, EndpointRequest=ENDPOINT_REQUEST),
        "DeleteEndpoint": lambda: client.delete_endpoint(ApplicationId=APP, EndpointId=ENDPOINT),
    }


COLD_START = {
    "ours": (
        "import pinpoint_endpoints as pe\n"
        "pe.Client(endpoint_url={url!r}).get_endpoint('bench-app', 'device-1')\n"
    ),
    "boto3": (
        "import boto3\n"
        "boto3.client('pinpoint', endpoint_url={url!r})"
        ".get_endpoint(ApplicationId='bench-app', EndpointId='device-1')\n"
    ),
    "deps": "import attrs, cattrs, requests, botocore.auth, botocore.credentials\n",
}
"""What a fresh process runs: import, build a client from the environment, make one call.
``deps`` only imports the libraries ours cannot start without (and `Credentials`, which a
caller passing keys imports): the cold-start floor."""
