"""Where requests go and who signs them: region, endpoint URL, TLS bundle and credentials.

Resolved once per client from the arguments, the environment and the AWS config files, the
way boto3 resolves them. botocore's session is imported only here and only when needed.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import attrs

from pinpoint_endpoints._errors import CredentialsError, ValidationError

if TYPE_CHECKING:
    from botocore.credentials import Credentials
    from botocore.session import Session

__all__ = ["Config", "CredentialSource", "resolve_config"]

DEFAULT_SIGNING_REGION: Final = "us-east-1"
_TRUE: Final = frozenset({"true", "1", "yes", "on"})
_LOOKED: Final = (
    "the credentials= argument",
    "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN",
    "AWS_PROFILE and the shared files (~/.aws/credentials, ~/.aws/config: keys, SSO, "
    "assume-role, credential_process)",
    "web identity (AWS_WEB_IDENTITY_TOKEN_FILE)",
    "the container credentials endpoint (AWS_CONTAINER_CREDENTIALS_*)",
    "the EC2 instance metadata service (unless AWS_EC2_METADATA_DISABLED=true)",
)


@attrs.frozen(kw_only=True)
class Config:
    """What a client needs to know before its first request."""

    region: str
    endpoint_url: str
    verify: bool | str
    proxies: dict[str, str]


class CredentialSource:
    """Credentials from the argument or botocore's chain, found once, frozen per attempt."""

    def __init__(self, credentials: Credentials | None, session: Session | None) -> None:
        self._given = credentials
        self._session = session
        self._found: Credentials | None = credentials
        self._lock = threading.Lock()

    def current(self) -> Any:
        """Frozen credentials for one attempt; refreshable ones refresh here when due."""
        found = self._found
        if found is None:
            with self._lock:
                if self._found is None:
                    self._found = self._resolve()
                found = self._found
        frozen = found.get_frozen_credentials()
        if not frozen.access_key or not frozen.secret_key:
            raise CredentialsError("the credentials found have no access key or secret key")
        return frozen

    def _resolve(self) -> Credentials:
        session = self._session if self._session is not None else _session(None)
        try:
            creds = session.get_credentials()
        except Exception as exc:  # botocore raises many kinds here (profile, SSO, process)
            raise CredentialsError(f"could not load AWS credentials: {exc}") from exc
        if creds is None:
            raise CredentialsError(
                "no AWS credentials found; looked in: " + "; ".join(_LOOKED)
                + ". Pass credentials=botocore.credentials.Credentials(...) or set a profile."
            )
        return creds


def _session(profile: str | None) -> Session:
    from botocore.exceptions import ProfileNotFound
    from botocore.session import Session

    session = Session(profile=profile)
    if profile is not None:
        try:
            session.get_scoped_config()
        except ProfileNotFound as exc:
            raise ValidationError(f"AWS profile {profile!r} not found in the config files") from exc
    return session


def _flag(session: Session | None, name: str, env: str) -> bool:
    value = os.environ.get(env)
    if value is not None:
        return value.strip().lower() in _TRUE
    if session is None:
        return False
    got = session.get_config_variable(name)
    return str(got).strip().lower() in _TRUE if got is not None else False


def _partition(region: str) -> dict[str, Any]:
    import botocore

    data = json.loads((Path(botocore.__file__).parent / "data" / "partitions.json").read_text())
    partitions: list[dict[str, Any]] = data["partitions"]
    for part in partitions:
        if region in part.get("regions", {}):
            return dict(part["outputs"])
    for part in partitions:
        if re.match(part["regionRegex"], region):
            return dict(part["outputs"])
    return dict(partitions[0]["outputs"])


def service_url(region: str, *, fips: bool = False, dualstack: bool = False) -> str:
    """The service's URL for a region, as botocore's endpoint rule set builds it.

    Examples:
        >>> service_url("cn-north-1")
        'https://pinpoint.cn-north-1.amazonaws.com.cn'
    """
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*[a-z0-9]", region):
        raise ValidationError(f"region {region!r} is not a valid AWS region name")
    part = _partition(region)
    suffix = part["dualStackDnsSuffix"] if dualstack else part["dnsSuffix"]
    host = "pinpoint-fips" if fips else "pinpoint"
    return f"https://{host}.{region}.{suffix}"


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            f"endpoint_url {url!r} must be an absolute http:// or https:// URL"
        )
    return url.rstrip("/")


def resolve_config(
    region: str | None, profile: str | None, endpoint_url: str | None
) -> tuple[Config, Session | None]:
    """Resolve region, endpoint URL, TLS verification and proxies; raise `ValidationError`
    saying how to fix what is missing."""
    env = os.environ
    session: Session | None = None
    needs_session = profile is not None or (
        region is None and not env.get("AWS_REGION") and not env.get("AWS_DEFAULT_REGION")
    ) or "AWS_CA_BUNDLE" not in env
    if needs_session:
        session = _session(profile)

    resolved_region = region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not resolved_region and session is not None:
        resolved_region = session.get_config_variable("region")

    ignore_configured = _flag(session, "ignore_configured_endpoint_urls",
                              "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
    url = endpoint_url
    if url is None and not ignore_configured:
        url = env.get("AWS_ENDPOINT_URL_PINPOINT") or env.get("AWS_ENDPOINT_URL") or None
    if url is not None:
        url = _check_url(url)
    elif not resolved_region:
        raise ValidationError(
            "no AWS region: pass Client(region='us-east-1'), set AWS_REGION or "
            "AWS_DEFAULT_REGION, set region in the profile, or pass endpoint_url= "
            "(for example an emulator's URL)"
        )
    else:
        url = service_url(
            resolved_region,
            fips=_flag(session, "use_fips_endpoint", "AWS_USE_FIPS_ENDPOINT"),
            dualstack=_flag(session, "use_dualstack_endpoint", "AWS_USE_DUALSTACK_ENDPOINT"),
        )

    verify: bool | str = True
    bundle = env.get("AWS_CA_BUNDLE") or (
        session.get_config_variable("ca_bundle") if session is not None else None
    )
    if bundle:
        verify = str(bundle)

    import requests.utils

    proxies = dict(requests.utils.get_environ_proxies(url))
    config = Config(
        region=resolved_region or DEFAULT_SIGNING_REGION,
        endpoint_url=url,
        verify=verify,
        proxies=proxies,
    )
    return config, session
