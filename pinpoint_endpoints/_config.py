"""Where requests go and who signs them: region, endpoint URL, TLS bundle and credentials.

Resolved once per client from the arguments, the environment and the AWS config files, the
way boto3 resolves them. The files are read with botocore's parser (`_profile`); a botocore
session is built only when credentials must come from its chain (a profile, SSO, a role...).
"""

from __future__ import annotations

import ipaddress
import os
import re
import threading
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from pinpoint_endpoints._errors import CredentialsError, ValidationError
from pinpoint_endpoints._profile import read_profile

if TYPE_CHECKING:
    from botocore.credentials import Credentials

__all__ = [
    "CleartextWarning",
    "Config",
    "CredentialSource",
    "NoCredentialsError",
    "NoRegionError",
    "ProfileNotFoundError",
    "host_header",
    "resolve_config",
    "warn_if_cleartext",
]

DEFAULT_SIGNING_REGION: Final = "us-east-1"
_LOOKED: Final = (
    "the credentials= argument",
    "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN",
    "AWS_PROFILE and the shared files (~/.aws/credentials, ~/.aws/config: keys, SSO, "
    "assume-role, credential_process)",
    "web identity (AWS_WEB_IDENTITY_TOKEN_FILE)",
    "the container credentials endpoint (AWS_CONTAINER_CREDENTIALS_*)",
    "the EC2 instance metadata service (unless AWS_EC2_METADATA_DISABLED=true)",
)


class NoRegionError(ValidationError):
    """No region could be resolved (and no endpoint URL was given)."""


class NoCredentialsError(CredentialsError):
    """The credential chain found no credentials anywhere it looked."""


class ProfileNotFoundError(CredentialsError):
    """A named profile (``profile=``, ``AWS_PROFILE``, ``AWS_DEFAULT_PROFILE``) does not exist,
    or an AWS config file cannot be parsed."""


class Config:
    """What a client needs to know before its first request. A plain class, as `_EnvKeys`."""

    __slots__ = ("endpoint_url", "proxies", "region", "verify")

    def __init__(self, *, region: str, endpoint_url: str, verify: bool | str,
                 proxies: dict[str, str]) -> None:
        self.region, self.endpoint_url, self.verify, self.proxies = (
            region, endpoint_url, verify, proxies)


class CredentialSource:
    """Credentials from the argument or botocore's chain, found once, frozen per attempt.

    Without ``credentials``, the environment's keys are used when no profile is passed (as
    botocore's chain would, first); else a botocore session for ``profile`` finds them.
    """

    def __init__(self, credentials: Credentials | None, profile: str | None) -> None:
        self._profile = profile
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
        if self._profile is None:
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
        from botocore.session import Session

        try:
            creds = Session(profile=self._profile).get_credentials()
        except _profile_errors() as exc:
            raise _profile_error(exc, self._profile) from exc
        except Exception as exc:  # botocore raises many kinds here (profile, SSO, process)
            raise CredentialsError(f"could not load AWS credentials: {exc}") from exc
        if creds is None:
            raise NoCredentialsError(
                "no AWS credentials found; looked in: " + "; ".join(_LOOKED)
                + ". Pass credentials=botocore.credentials.Credentials(...) or set a profile."
            )
        return creds


class _EnvKeys:
    """Keys from the environment that never expire: what botocore's `EnvProvider` returns for
    them, without importing `botocore.credentials` (and its parsers) to build it. A plain
    class: an attrs one costs about a millisecond of every cold start to define."""

    __slots__ = ("access_key", "secret_key", "token")

    def __init__(self, access_key: str, secret_key: str, token: str | None) -> None:
        self.access_key, self.secret_key, self.token = access_key, secret_key, token

    def __repr__(self) -> str:
        return f"_EnvKeys(access_key={self.access_key!r})"  # never the secret or the token

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


def _profile_error(exc: Exception, profile: str | None) -> ProfileNotFoundError:
    """Our error for botocore's: which profile, named where, looked for in which files."""
    from botocore.exceptions import ProfileNotFound

    if not isinstance(exc, ProfileNotFound):
        return ProfileNotFoundError(f"could not read the AWS config files: {exc}")
    env = os.environ
    files = (f"{env.get('AWS_CONFIG_FILE', '~/.aws/config')} or "
             f"{env.get('AWS_SHARED_CREDENTIALS_FILE', '~/.aws/credentials')}")
    if profile is not None:
        named, fix = "profile=", "pass profile= a profile that exists"
    else:
        named = "AWS_DEFAULT_PROFILE" if "AWS_DEFAULT_PROFILE" in env else "AWS_PROFILE"
        fix = f"set {named} to a profile that exists, or unset it"
    return ProfileNotFoundError(
        f"AWS profile {exc.kwargs.get('profile')!r} (named by {named}) not found in {files}: "
        + fix
    )


def _profile_errors() -> tuple[type[Exception], ...]:
    from botocore.exceptions import ConfigParseError, InvalidConfigError, ProfileNotFound

    return (ProfileNotFound, ConfigParseError, InvalidConfigError)


def _partition(region: str) -> dict[str, Any]:
    from botocore.loaders import create_loader

    data = create_loader().load_data("partitions")  # botocore's own, or ~/.aws/models' copy
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


def resolve_config(region: str | None, profile: str | None, endpoint_url: str | None) -> Config:
    """Resolve region, endpoint URL, TLS verification and proxies; raise `NoRegionError` saying
    how to fix a missing region, `ProfileNotFoundError` for a missing profile or broken file."""
    env = os.environ
    try:
        found = read_profile(profile, env)
        url = endpoint_url if endpoint_url is not None else found.endpoint_url()
    except _profile_errors() as exc:
        raise _profile_error(exc, profile) from exc
    resolved_region = (region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
                       or found.get("region", "AWS_DEFAULT_REGION"))
    if url is not None:
        url = _check_url(url)
    elif not resolved_region:
        raise NoRegionError(
            "no AWS region: pass one (Client(region='us-east-1')), set AWS_REGION or "
            "AWS_DEFAULT_REGION, set region in the profile, or pass endpoint_url= "
            "(for example an emulator's URL)"
        )
    else:
        url = service_url(
            resolved_region,
            fips=found.flag("use_fips_endpoint", "AWS_USE_FIPS_ENDPOINT"),
            dualstack=found.flag("use_dualstack_endpoint", "AWS_USE_DUALSTACK_ENDPOINT"),
        )
    # botocore's order: AWS_CA_BUNDLE, the profile's ca_bundle, then REQUESTS_CA_BUNDLE
    bundle = found.get("ca_bundle", "AWS_CA_BUNDLE") or env.get("REQUESTS_CA_BUNDLE")

    import requests.utils

    return Config(
        region=resolved_region or DEFAULT_SIGNING_REGION,
        endpoint_url=url,
        verify=bundle or True,
        proxies=dict(requests.utils.get_environ_proxies(url)),
    )


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
