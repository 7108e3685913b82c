"""Where requests go and who signs them: region, endpoint URL, TLS bundle and credentials.

Resolved once per client from the arguments, the environment and the AWS config files, the
way boto3 resolves them. botocore's session is imported only here and only when needed.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import threading
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import attrs

from pinpoint_endpoints._errors import CredentialsError, ValidationError

if TYPE_CHECKING:
    from botocore.credentials import Credentials
    from botocore.session import Session

__all__ = [
    "CleartextWarning",
    "Config",
    "CredentialSource",
    "host_header",
    "resolve_config",
    "warn_if_cleartext",
]

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

    def may_block(self) -> bool:
        """Whether `current` may do I/O now: the chain is not searched yet (files, metadata
        service), or refreshable credentials are due for a refresh. An event loop runs
        `current` in a thread then, and inline otherwise."""
        found = self._found
        if found is None:
            return True
        refresh_needed = getattr(found, "refresh_needed", None)
        return bool(refresh_needed()) if refresh_needed is not None else False

    def _resolve(self) -> Credentials:
        if self._session is None:
            # No explicit profile, so botocore's chain would try the environment first: ask
            # that provider alone, and load the whole session only when it finds nothing.
            found = _static_env_keys(os.environ)
            if found is not None:
                return found
            from botocore.credentials import EnvProvider

            try:
                found = EnvProvider().load()
            except Exception as exc:  # partial keys, a bad expiry time
                raise CredentialsError(f"could not load AWS credentials: {exc}") from exc
            if found is not None:
                return found
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


@attrs.frozen
class _EnvKeys:
    """Keys from the environment that never expire: what botocore's `EnvProvider` returns for
    them, without importing `botocore.credentials` (and its parsers) to build it."""

    access_key: str
    secret_key: str = attrs.field(repr=False)
    token: str | None = attrs.field(repr=False)

    def get_frozen_credentials(self) -> _EnvKeys:
        return self


def _static_env_keys(env: Mapping[str, str]) -> _EnvKeys | None:
    """`EnvProvider`'s answer when both keys are set and no expiry is; else ``None``."""
    access_key = env.get("AWS_ACCESS_KEY_ID", "")
    secret_key = env.get("AWS_SECRET_ACCESS_KEY", "")
    if not access_key or not secret_key or env.get("AWS_CREDENTIAL_EXPIRATION"):
        return None
    token = env.get("AWS_SECURITY_TOKEN", "") or env.get("AWS_SESSION_TOKEN", "") or None
    return _EnvKeys(access_key, secret_key, token)


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


def _config_files_may_matter(env: Mapping[str, str]) -> bool:
    """Whether a botocore session could see more than the environment: a profile is named or a
    config or credentials file exists. When not, every setting it would give comes from the
    environment (read here directly) or is unset, so importing it would change nothing."""
    if env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE"):
        return True
    for name, default in (("AWS_CONFIG_FILE", "~/.aws/config"),
                          ("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")):
        if os.path.exists(os.path.expanduser(env.get(name) or default)):
            return True
    return False


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
    resolved_region = region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    # the config files are read only when they can add something: a profile was named, or
    # the region or CA bundle is not in the environment and a config file exists
    session: Session | None = None
    if profile is not None or (
        (not resolved_region or "AWS_CA_BUNDLE" not in env) and _config_files_may_matter(env)
    ):
        session = _session(profile)
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
            "no AWS region: pass one (Client(region='us-east-1'), or --region on the command "
            "line), set AWS_REGION or "
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


class CleartextWarning(UserWarning):
    """Signed requests would travel unencrypted to a host that is not this machine."""


_warned_cleartext: set[str] = set()
_LOOPBACK_NAMES: Final = frozenset({"localhost", "ip6-localhost"})


def warn_if_cleartext(url: str) -> None:
    """Warn once per host when signed requests would travel unencrypted off this machine."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "http" or host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return
    if _stays_on_this_machine(host):
        return
    if host in _warned_cleartext:
        return
    _warned_cleartext.add(host)
    warnings.warn(
        f"endpoint_url {url!r} is plain http:// to a non-loopback host: signed requests and "
        "personal data (addresses) would travel unencrypted; use https://",
        CleartextWarning,
        stacklevel=3,
    )


def _stays_on_this_machine(host: str) -> bool:
    """Loopback, IPv4-mapped loopback, or the unspecified address (0.0.0.0 and :: reach this
    machine; an emulator bound to every interface is addressed so)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def host_header(url: str) -> str:
    """The ``Host`` header for ``url`` as botocore signs it (default port left out)."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return host if parts.port in (None, default) else f"{host}:{parts.port}"
