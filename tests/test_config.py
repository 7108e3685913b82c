"""Region, endpoint URL, TLS bundle and credentials resolve as boto3 resolves them."""

from __future__ import annotations

from pathlib import Path

import pytest
import responses
from botocore.credentials import Credentials

import pinpoint_endpoints as pe
from pinpoint_endpoints._config import service_url


def write_profile(tmp_path: Path, text: str) -> None:
    (tmp_path / "aws-config").write_text(text)


@pytest.mark.parametrize(
    ("region", "fips", "dualstack", "url"),
    [
        ("us-east-1", False, False, "https://pinpoint.us-east-1.amazonaws.com"),
        ("eu-west-1", True, False, "https://pinpoint-fips.eu-west-1.amazonaws.com"),
        ("eu-west-1", False, True, "https://pinpoint.eu-west-1.api.aws"),
        ("us-west-2", True, True, "https://pinpoint-fips.us-west-2.api.aws"),
        ("cn-north-1", False, False, "https://pinpoint.cn-north-1.amazonaws.com.cn"),
        ("us-gov-west-1", False, False, "https://pinpoint.us-gov-west-1.amazonaws.com"),
    ],
)
def test_service_url_follows_the_endpoint_rules(
    region: str, fips: bool, dualstack: bool, url: str
) -> None:
    assert service_url(region, fips=fips, dualstack=dualstack) == url


def test_region_argument_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert pe.Client("ap-south-1").region == "ap-south-1"


@pytest.mark.parametrize("var", ["AWS_REGION", "AWS_DEFAULT_REGION"])
def test_region_from_the_environment(monkeypatch: pytest.MonkeyPatch, var: str) -> None:
    monkeypatch.setenv(var, "eu-central-1")
    client = pe.Client()
    assert client.region == "eu-central-1"
    assert client.endpoint_url == "https://pinpoint.eu-central-1.amazonaws.com"


def test_aws_region_wins_over_aws_default_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    assert pe.Client().region == "eu-west-3"


def test_region_fips_and_dualstack_from_the_profile(tmp_path: Path) -> None:
    write_profile(tmp_path, "[profile work]\nregion = ca-central-1\nuse_fips_endpoint = true\n"
                            "use_dualstack_endpoint = true\n")
    client = pe.Client(profile="work")
    assert client.region == "ca-central-1"
    assert client.endpoint_url == "https://pinpoint-fips.ca-central-1.api.aws"


def test_fips_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", "true")
    assert pe.Client("us-east-2").endpoint_url == "https://pinpoint-fips.us-east-2.amazonaws.com"


def test_endpoint_url_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9/")
    assert pe.Client("us-east-1").endpoint_url == "http://127.0.0.1:9"
    monkeypatch.setenv("AWS_ENDPOINT_URL_PINPOINT", "http://127.0.0.1:10")
    assert pe.Client("us-east-1").endpoint_url == "http://127.0.0.1:10"
    assert pe.Client("us-east-1", endpoint_url="http://localhost:11").endpoint_url == (
        "http://localhost:11"
    )


def test_endpoint_url_without_region_signs_for_us_east_1() -> None:
    client = pe.Client(endpoint_url="http://127.0.0.1:8080")
    assert client.region == "us-east-1"


def test_no_region_and_no_endpoint_url_says_how_to_set_one() -> None:
    with pytest.raises(pe.ValidationError) as info:
        pe.Client()
    message = str(info.value)
    assert "AWS_REGION" in message and "region=" in message and "endpoint_url" in message


def test_bad_endpoint_url_is_refused() -> None:
    with pytest.raises(pe.ValidationError, match="endpoint_url"):
        pe.Client("us-east-1", endpoint_url="localhost:8080")


def test_unknown_profile_is_a_validation_error() -> None:
    with pytest.raises(pe.ValidationError, match="nope"):
        pe.Client("us-east-1", profile="nope")


def test_ca_bundle_is_used_for_tls_verification(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, creds: Credentials
) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not really a bundle")
    monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))
    client = pe.Client("us-east-1", credentials=creds)
    with responses.RequestsMock() as mock:
        mock.add("GET", "https://pinpoint.us-east-1.amazonaws.com/v1/apps/a/endpoints/e",
                 json={"Id": "e"})
        client.get_endpoint("a", "e")
        assert mock.calls[0].request.req_kwargs["verify"] == str(bundle)  # type: ignore[attr-defined]


def test_tls_verification_is_on_by_default(creds: Credentials) -> None:
    client = pe.Client("us-east-1", credentials=creds)
    with responses.RequestsMock() as mock:
        mock.add("GET", "https://pinpoint.us-east-1.amazonaws.com/v1/apps/a/endpoints/e",
                 json={"Id": "e"})
        client.get_endpoint("a", "e")
        assert mock.calls[0].request.req_kwargs["verify"] is True  # type: ignore[attr-defined]


def test_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-from-env")
    client = pe.Client("us-east-1")
    with responses.RequestsMock() as mock:
        mock.add("GET", "https://pinpoint.us-east-1.amazonaws.com/v1/apps/a/endpoints/e",
                 json={"Id": "e"})
        client.get_endpoint("a", "e")
        assert "Credential=AKIDFROMENV/" in mock.calls[0].request.headers["Authorization"]


def test_credentials_from_a_named_profile(tmp_path: Path) -> None:
    (tmp_path / "aws-credentials").write_text(
        "[work]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s3cr3t\n"
    )
    client = pe.Client("us-east-1", profile="work")
    with responses.RequestsMock() as mock:
        mock.add("GET", "https://pinpoint.us-east-1.amazonaws.com/v1/apps/a/endpoints/e",
                 json={"Id": "e"})
        client.get_endpoint("a", "e")
        assert "Credential=AKIDPROFILE/" in mock.calls[0].request.headers["Authorization"]


def test_no_credentials_names_where_it_looked_and_sends_nothing() -> None:
    client = pe.Client("us-east-1")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        with pytest.raises(pe.CredentialsError) as info:
            client.get_endpoint("a", "e")
        assert len(mock.calls) == 0
    message = str(info.value)
    for place in ("AWS_ACCESS_KEY_ID", "~/.aws/credentials", "instance metadata", "credentials="):
        assert place in message
