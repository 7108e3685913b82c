"""The AWS shared config files, read as a botocore session reads them, without building one.

Building a botocore session costs 30-45 ms (mostly imports); the few settings a client needs
(region, CA bundle, FIPS and dual-stack, configured endpoint URLs) come from botocore's own
file parser here, so a session is built only when credentials must come from its chain.
Errors are botocore's (``ProfileNotFound``, ``ConfigParseError``, ``InvalidConfigError``), as a
session would raise them; `_config` turns them into this library's.

Examples:
    >>> read_profile("work", {"AWS_CONFIG_FILE": "/nonexistent"})
    Traceback (most recent call last):
    botocore.exceptions.ProfileNotFound: The config profile (work) could not be found
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["Profile", "read_profile"]

_SERVICE: Final = "pinpoint"  # the service id as botocore spells it in section and env names


class Profile:
    """One profile's settings: the environment's value first, then the profile's.

    A plain class: an attrs one costs a millisecond of every cold start to define.
    """

    __slots__ = ("env", "services", "settings")

    def __init__(self, settings: Mapping[str, Any], services: Mapping[str, Any],
                 env: Mapping[str, str]) -> None:
        self.settings, self.services, self.env = settings, services, env

    def get(self, name: str, env_var: str) -> str | None:
        """A setting as botocore's config store gives it (the variable, even if empty, wins).

        Examples:
            >>> Profile({"region": "eu-west-1"}, {}, {}).get("region", "AWS_DEFAULT_REGION")
            'eu-west-1'
        """
        if env_var in self.env:
            return self.env[env_var]
        value = self.settings.get(name)
        return value if isinstance(value, str) else None

    def flag(self, name: str, env_var: str) -> bool:
        """A boolean setting: true only when spelt ``true`` (botocore's ``ensure_boolean``)."""
        value = self.get(name, env_var)
        return value is not None and value.lower() == "true"

    def endpoint_url(self) -> str | None:
        """The configured endpoint URL, in botocore's order: ``AWS_ENDPOINT_URL_PINPOINT``,
        ``AWS_ENDPOINT_URL``, the profile's services section, the profile's ``endpoint_url``;
        none when ``ignore_configured_endpoint_urls`` is set."""
        if self.flag("ignore_configured_endpoint_urls", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
            return None
        found = self.env.get(f"AWS_ENDPOINT_URL_{_SERVICE.upper()}") or self.env.get(
            "AWS_ENDPOINT_URL"
        )
        if not found and "services" in self.settings:
            found = self._services_section().get(_SERVICE, {}).get("endpoint_url")
        if not found:
            found = self.settings.get("endpoint_url")
        return found if isinstance(found, str) and found else None

    def _services_section(self) -> Mapping[str, Any]:
        name = self.settings["services"]
        section = self.services.get(name) if isinstance(name, str) else None
        if not section:
            from botocore.exceptions import InvalidConfigError

            raise InvalidConfigError(
                error_msg=f'The profile is configured to use the services section but the '
                          f'"{name}" services configuration does not exist.'
            )
        return dict(section)


def profile_name(profile: str | None, env: Mapping[str, str]) -> str | None:
    """The profile botocore would use: the argument, else ``AWS_DEFAULT_PROFILE``, else
    ``AWS_PROFILE`` (set but empty counts, as in botocore), else none (``default`` if it exists).
    """
    if profile is not None:
        return profile
    for var in ("AWS_DEFAULT_PROFILE", "AWS_PROFILE"):
        if var in env:
            return env[var]
    return None


def read_profile(profile: str | None, env: Mapping[str, str]) -> Profile:
    """The named (or default) profile of the config and credentials files, merged as botocore
    merges them (the credentials file's values win). Files that do not exist are empty.
    """
    name = profile_name(profile, env)
    config_path = _path(env.get("AWS_CONFIG_FILE", "~/.aws/config"))
    credentials_path = _path(env.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"))
    full: dict[str, Any] = {"profiles": {}}
    credentials: dict[str, Any] = {}
    if config_path or credentials_path:
        from botocore import configloader

        if config_path:
            full = configloader.load_config(config_path)
        if credentials_path:
            credentials = configloader.raw_config_parse(credentials_path)
    profiles: dict[str, Any] = full["profiles"]
    for section, values in credentials.items():
        profiles.setdefault(section, {}).update(values)
    if name is None:
        settings = profiles.get("default", {})
    elif name in profiles:
        settings = profiles[name]
    else:
        from botocore.exceptions import ProfileNotFound

        raise ProfileNotFound(profile=name)
    return Profile(settings, full.get("services", {}), env)


def _path(path: str) -> str | None:
    """The file botocore would read at ``path`` (``~`` and variables expanded), if it exists."""
    expanded = os.path.expanduser(os.path.expandvars(path))
    return expanded if os.path.isfile(expanded) else None
