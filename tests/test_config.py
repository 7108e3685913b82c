"""Region, endpoint URL, TLS bundle and credentials resolve as boto3 resolves them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import responses
from botocore.credentials import Credentials

import pinpoint_endpoints as pe
from pinpoint_endpoints._config import (
    NoCredentialsError,
    NoRegionError,
    ProfileNotFoundError,
    service_url,
)


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


@pytest.mark.parametrize("region", [None, "us-east-1"])
@pytest.mark.parametrize("keys", ["none", "argument", "environment"])
@pytest.mark.parametrize("how", ["profile=", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"])
def test_a_missing_profile_is_one_typed_error_however_it_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, creds: Credentials,
    how: str, keys: str, region: str | None,
) -> None:
    write_profile(tmp_path, "[profile work]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CA_BUNDLE", str(tmp_path / "ca.pem"))  # nothing else to read
    if how != "profile=":
        monkeypatch.setenv(how, "nope")
    if region is not None:
        monkeypatch.setenv("AWS_REGION", region)
    if keys == "environment":
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-from-env")
    with pytest.raises(ProfileNotFoundError,
                       match=f"'nope' \\(named by {re.escape(how)}\\) not found") as info:
        pe.Client(profile="nope" if how == "profile=" else None,
                  credentials=creds if keys == "argument" else None)
    assert isinstance(info.value, pe.CredentialsError)
    assert "--region" not in str(info.value) and "--profile" not in str(info.value)


@pytest.mark.parametrize("name", ["aws-config", "aws-credentials"])
def test_a_broken_config_file_is_a_profile_error(
    tmp_path: Path, creds: Credentials, name: str
) -> None:
    (tmp_path / name).write_text("[default\nregion = eu-west-1\n")
    with pytest.raises(ProfileNotFoundError, match=name):
        pe.Client("us-east-1", credentials=creds)


def test_a_missing_services_section_is_a_profile_error(tmp_path: Path) -> None:
    write_profile(tmp_path, "[default]\nregion = eu-west-1\nservices = local\n")
    with pytest.raises(ProfileNotFoundError, match='"local" services'):
        pe.Client()


def test_a_profile_error_found_by_the_credential_chain_is_the_same_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    client = pe.Client("us-east-1")
    monkeypatch.setenv("AWS_PROFILE", "gone")  # the profile vanished after the client was built
    with pytest.raises(ProfileNotFoundError, match="'gone' \\(named by AWS_PROFILE\\) not found"):
        client._shared.credentials.current()


_SETUPS: dict[str, tuple[str, str, dict[str, str]]] = {
    # name: (config file, credentials file, environment)
    "profile region, fips, dual-stack": (
        "[profile work]\nregion = ca-central-1\nuse_fips_endpoint = true\n"
        "use_dualstack_endpoint = true\n", "", {"AWS_PROFILE": "work"}),
    "only true is true": (
        "[default]\nregion = eu-west-1\nuse_fips_endpoint = 1\n", "",
        {"AWS_USE_DUALSTACK_ENDPOINT": "yes"}),
    "AWS_DEFAULT_PROFILE wins over AWS_PROFILE": (
        "[profile a]\nregion = eu-west-1\n[profile b]\nregion = eu-west-2\n", "",
        {"AWS_PROFILE": "a", "AWS_DEFAULT_PROFILE": "b"}),
    "the credentials file's values win": (
        "[default]\nregion = eu-west-1\n", "[default]\nregion = eu-north-1\n", {}),
    "services section": (
        "[default]\nregion = eu-west-1\nservices = local\nendpoint_url = http://127.0.0.1:7\n"
        "[services local]\npinpoint =\n  endpoint_url = http://127.0.0.1:8\n", "", {}),
    "profile endpoint_url": (
        "[default]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:7\n", "", {}),
    "the environment's URL wins over the files'": (
        "[default]\nregion = eu-west-1\nservices = local\n"
        "[services local]\npinpoint =\n  endpoint_url = http://127.0.0.1:8\n", "",
        {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}),
    "configured URLs ignored": (
        "[default]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:7\n"
        "ignore_configured_endpoint_urls = true\n", "",
        {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}),
    "ca_bundle from the profile": ("[default]\nregion = eu-west-1\nca_bundle = {ca}\n", "", {}),
    "AWS_CA_BUNDLE wins": (
        "[default]\nregion = eu-west-1\nca_bundle = /nonexistent\n", "",
        {"AWS_CA_BUNDLE": "{ca}", "REQUESTS_CA_BUNDLE": "/nonexistent"}),
    "REQUESTS_CA_BUNDLE comes last": (
        "[default]\nregion = eu-west-1\n", "", {"REQUESTS_CA_BUNDLE": "{ca}"}),
    "no bundle: the default trust store": ("[default]\nregion = eu-west-1\n", "", {}),
}


@pytest.mark.parametrize("setup", list(_SETUPS))
def test_region_url_and_tls_bundle_are_boto3s(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, creds: Credentials, setup: str
) -> None:
    import boto3

    config, credentials, env = _SETUPS[setup]
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    ca = tmp_path / "ca.pem"
    ca.write_text("not really a bundle")
    write_profile(tmp_path, config.format(ca=ca))
    (tmp_path / "aws-credentials").write_text(credentials)
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(ca=ca))
    theirs = boto3.Session().client("pinpoint")
    ours = pe.Client(credentials=creds)._shared.config
    assert (ours.region, ours.endpoint_url, ours.verify) == (
        theirs.meta.region_name, theirs.meta.endpoint_url,
        theirs._endpoint.http_session._verify,
    )
    theirs.close()


def test_no_region_is_its_own_validation_error() -> None:
    with pytest.raises(NoRegionError) as info:
        pe.Client()
    assert isinstance(info.value, pe.ValidationError)
    assert "--region" not in str(info.value)


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


def test_tls_verification_is_on_by_default(
    monkeypatch: pytest.MonkeyPatch, creds: Credentials
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
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
        with pytest.raises(NoCredentialsError) as info:
            client.get_endpoint("a", "e")
        assert len(mock.calls) == 0
    message = str(info.value)
    for place in ("AWS_ACCESS_KEY_ID", "~/.aws/credentials", "instance metadata", "credentials="):
        assert place in message


@pytest.mark.parametrize(
    ("env", "token"),
    [
        ({}, None),
        ({"AWS_SESSION_TOKEN": "sess"}, "sess"),
        ({"AWS_SECURITY_TOKEN": "sec", "AWS_SESSION_TOKEN": "sess"}, "sec"),
    ],
)
def test_environment_keys_match_botocores_env_provider(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], token: str | None
) -> None:
    from botocore.credentials import EnvProvider

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-from-env")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    ours = pe.Client("us-east-1")._shared.credentials.current()
    theirs = EnvProvider().load().get_frozen_credentials()
    assert (ours.access_key, ours.secret_key, ours.token) == (
        theirs.access_key, theirs.secret_key, theirs.token,
    )
    assert ours.token == token
    assert "secret-from-env" not in repr(ours) and (token is None or token not in repr(ours))


def test_environment_keys_with_an_expiry_are_botocores_refreshable_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from botocore.credentials import RefreshableCredentials

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-from-env")
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", "2999-01-01T00:00:00Z")
    source = pe.Client("us-east-1")._shared.credentials
    assert source.current().access_key == "AKIDFROMENV"
    assert isinstance(source._found, RefreshableCredentials)


def test_a_partial_key_pair_in_the_environment_is_a_credentials_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
    with pytest.raises(pe.CredentialsError, match="AWS_SECRET_ACCESS_KEY"):
        pe.Client("us-east-1")._shared.credentials.current()


def _modules_after_a_first_signing(code: str, env: dict[str, str]) -> list[str]:
    """Which of botocore's session and credentials modules a fresh process imported after
    running ``code`` (which builds ``c``) and finding its credentials."""
    import ast
    import os
    import subprocess
    import sys

    code += (
        "c._shared.credentials.current()\n"
        "print(sorted(m for m in ('botocore.session', 'botocore.credentials') "
        "if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", "import sys, pinpoint_endpoints as pe\n" + code],
                         env={**os.environ, **env}, capture_output=True, text=True, check=True)
    listed: list[str] = ast.literal_eval(out.stdout.splitlines()[-1])
    return listed


def test_no_profile_and_no_config_files_skip_botocore_session() -> None:
    keys = {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s"}
    code = "c = pe.Client(endpoint_url='http://127.0.0.1:9')\n"
    assert _modules_after_a_first_signing(code, keys) == []


@pytest.mark.parametrize("profile_env", [{}, {"AWS_PROFILE": "work"}])
def test_a_config_file_with_keys_in_the_environment_builds_no_botocore_session(
    tmp_path: Path, profile_env: dict[str, str]
) -> None:
    write_profile(tmp_path, "[default]\nregion = eu-west-1\nca_bundle = /etc/ssl/x.pem\n"
                            "[profile work]\nregion = eu-west-2\n")
    env = {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s", **profile_env}
    assert _modules_after_a_first_signing("c = pe.Client()\n", env) == []


def test_a_config_file_with_explicit_credentials_builds_no_botocore_session(
    tmp_path: Path,
) -> None:
    write_profile(tmp_path, "[default]\nregion = eu-west-1\n")
    code = ("from botocore.credentials import Credentials\n"
            "c = pe.Client('us-east-1', credentials=Credentials('AKID', 's'))\n")
    assert _modules_after_a_first_signing(code, {}) == ["botocore.credentials"]


def test_keys_in_a_profile_come_from_botocores_chain(tmp_path: Path) -> None:
    write_profile(tmp_path, "[default]\nregion = eu-west-1\naws_access_key_id = AKIDPROFILE\n"
                            "aws_secret_access_key = s\n")
    code = "c = pe.Client()\nprint(c._shared.credentials.current().access_key)\n"
    assert _modules_after_a_first_signing(code, {}) == [
        "botocore.credentials", "botocore.session"]


def test_a_region_in_the_credentials_file_is_still_found(tmp_path: Path) -> None:
    (tmp_path / "aws-credentials").write_text("[default]\nregion = sa-east-1\n")
    assert pe.Client().region == "sa-east-1"
