"""Which role a command runs as: ``--role`` beats ``CUSTINFO_ROLE`` beats the policy's default_role.

The default role is the least privileged one, so forgetting to say who you are never shows more.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

from ..errors import ConfigError, CustinfoError
from .policy import Role, SecurityPolicy

ROLE_ENV = "CUSTINFO_ROLE"


class PermissionDeniedError(CustinfoError):
    """The role asked for something it may not do (e.g. --unmask as viewer)."""


def get_role(policy: SecurityPolicy, name: str) -> Role:
    """The role called ``name``; ConfigError naming every role that exists otherwise."""
    try:
        return policy.roles[name]
    except KeyError:
        known = ", ".join(policy.roles)
        raise ConfigError(f"unknown role '{name}'", key="role", file=policy.source,
                          hint=f"use one of: {known}") from None


def resolve_role(policy: SecurityPolicy, explicit: str | None = None,
                 env: Mapping[str, str] | None = None) -> Role:
    """Role for this command: explicit argument, else $CUSTINFO_ROLE, else policy.default_role."""
    environ = os.environ if env is None else env
    for candidate in (explicit, environ.get(ROLE_ENV)):
        if candidate is not None and str(candidate).strip():
            return get_role(policy, str(candidate).strip())
    return get_role(policy, policy.default_role)


def check_unmask(role: Role, policy: SecurityPolicy | None = None) -> None:
    """Raise PermissionDeniedError unless ``role`` may use --unmask; the hint names who may."""
    if role.may_unmask:
        return
    allowed = [r.name for r in policy.roles.values() if r.may_unmask] if policy else []
    who = f"a role that may ({', '.join(allowed)})" if allowed else "a role with `unmask: true`"
    raise PermissionDeniedError(f"role '{role.name}' may not use --unmask", key="unmask",
                                hint=f"run as {who} with --role or CUSTINFO_ROLE, or leave out --unmask")
