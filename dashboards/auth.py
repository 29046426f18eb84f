"""Who may change things in the dashboard.

Reading needs no login. Writing does: a planner's decision on a recommendation, an
account manager's note on a churn alert. Users, their bcrypt-hashed passwords and roles
live in a YAML file (streamlit-authenticator's format; WMSIGHT_DASHBOARD_USERS, default
the demo users in dashboards/demo_users.yaml); the cookie key comes from
WMSIGHT_DASHBOARD_COOKIE_KEY or that file. Neither is ever logged or shown.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import yaml

from wmsight.config import Settings

DEMO_USERS = Path(__file__).with_name("demo_users.yaml")
DECIDE_REPLENISHMENT = "decide_replenishment"
HANDLE_ALERTS = "handle_alerts"
# which roles may do what; analysts (and visitors) read only
PERMISSIONS: dict[str, frozenset[str]] = {
    DECIDE_REPLENISHMENT: frozenset({"planner", "admin"}),
    HANDLE_ALERTS: frozenset({"account_manager", "admin"}),
}


class UsersFileError(ValueError):
    """The users file cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class AuthConfig:
    credentials: dict
    cookie_name: str
    cookie_key: str
    cookie_expiry_days: float
    source: Path

    @property
    def is_demo(self) -> bool:
        return self.source.resolve() == DEMO_USERS.resolve()


def load_auth_config(settings: Settings) -> AuthConfig:
    path = settings.dashboard_users or DEMO_USERS
    try:
        config = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise UsersFileError(f"dashboard users file {path}: cannot be read ({error})") from error
    users = (config or {}).get("credentials", {}).get("usernames")
    if not isinstance(users, dict) or not users:
        raise UsersFileError(f"dashboard users file {path}: no credentials.usernames")
    for name, user in users.items():
        password = str((user or {}).get("password", ""))
        if not password.startswith(("$2a$", "$2b$", "$2y$")):
            raise UsersFileError(
                f"dashboard users file {path}: user {name}: password must be a bcrypt hash "
                "(plain-text passwords are refused)"
            )
    cookie = config.get("cookie", {})
    secret = settings.dashboard_cookie_key
    key = (secret.get_secret_value() if secret else None) or cookie.get("key")
    if not key:
        raise UsersFileError(
            f"dashboard users file {path}: no cookie.key (or set WMSIGHT_DASHBOARD_COOKIE_KEY)"
        )
    return AuthConfig(
        # the library marks users logged in inside this dict: give it a copy
        credentials=copy.deepcopy({"usernames": users}),
        cookie_name=cookie.get("name", "wmsight_dashboard"),
        cookie_key=key,
        cookie_expiry_days=float(cookie.get("expiry_days", 1)),
        source=Path(path),
    )


@dataclass(frozen=True)
class User:
    username: str
    name: str
    roles: tuple[str, ...]

    def may(self, permission: str) -> bool:
        return bool(PERMISSIONS[permission] & set(self.roles))


def roles_for(permission: str) -> list[str]:
    return sorted(PERMISSIONS[permission])
