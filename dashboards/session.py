"""What every page of a script run shares: the language, the publication shown, and who
is logged in. `app.py` builds it once per run (`start`); pages read it (`current`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dashboards.auth import AuthConfig, User, UsersFileError, load_auth_config, roles_for
from dashboards.data import MissingData, NoPublication, Publication, latest_publication
from dashboards.i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator
from wmsight.config import Settings, load_settings

CONTEXT_KEY = "wmsight_context"
FLASH_KEY = "wmsight_flash"


@dataclass(frozen=True)
class Context:
    t: Translator
    settings: Settings
    publication: Publication | None
    user: User | None

    @property
    def db_path(self) -> Path:
        return self.settings.db_path

    def may(self, permission: str) -> bool:
        return self.user is not None and self.user.may(permission)


def _language() -> Translator:
    choice = st.sidebar.radio(
        "语言 / Language",
        list(LANGUAGES),
        format_func=LANGUAGES.get,
        index=list(LANGUAGES).index(DEFAULT_LANGUAGE),
        horizontal=True,
        key="language",
    )
    return Translator(choice)


def _authenticator(config: AuthConfig):
    import streamlit_authenticator as stauth

    return stauth.Authenticate(
        config.credentials,
        config.cookie_name,
        config.cookie_key,
        config.cookie_expiry_days,
        auto_hash=False,  # passwords must already be hashed (load_auth_config checks)
        login_sleep_time=0,  # the cookie is read on the server: no need to wait for it
    )


def _login(t: Translator, settings: Settings) -> User | None:
    try:
        config = load_auth_config(settings)
    except UsersFileError as error:  # reading still works; nobody can log in until fixed
        st.sidebar.error(str(error))
        return None
    authenticator = _authenticator(config)
    if st.session_state.get("authentication_status"):
        user = User(
            st.session_state["username"],
            st.session_state.get("name") or st.session_state["username"],
            tuple(st.session_state.get("roles") or ()),
        )
        st.sidebar.caption(
            t("logged_in_as", name=user.name, roles=", ".join(t.value(r) for r in user.roles))
        )
        authenticator.logout(t("logout"), location="sidebar", key="logout")
        return user
    with st.sidebar.expander(t("login"), expanded=False):
        authenticator.login(
            location="main",
            key="login",
            fields={
                "Form name": t("login"),
                "Username": t("username"),
                "Password": t("password"),
                "Login": t("login"),
            },
        )
        if st.session_state.get("authentication_status") is False:
            st.error(t("login_failed"))
        if config.is_demo:
            st.caption("demo: planner / planner-demo · manager / manager-demo")
    if st.session_state.get("authentication_status"):
        st.rerun()  # show the logged-in sidebar at once
    return None


def start() -> Context:
    """Build this run's context (sidebar: language, run shown, login) and keep it."""
    t = _language()
    settings = load_settings()
    try:
        publication = latest_publication(settings.feeds_dir)
    except NoPublication:
        publication = None
    if publication is not None:
        st.sidebar.caption(
            f"{t('as_of')} **{t.day(publication.as_of)}** · {publication.manifest['run_id']}"
        )
    user = _login(t, settings)
    if user is None:
        st.sidebar.caption(t("read_only"))
    context = Context(t, settings, publication, user)
    st.session_state[CONTEXT_KEY] = context
    return context


def current() -> Context:
    """The context `app.py` built for this run; stops the page when nothing is published."""
    context: Context = st.session_state[CONTEXT_KEY]
    if context.publication is None:
        st.info(context.t("no_publication", root=context.settings.feeds_dir))
        st.stop()
    show_flash()
    return context


@contextmanager
def shown(context: Context) -> Iterator[None]:
    """A part of a page whose data this publication may not carry: says why instead."""
    try:
        yield
    except MissingData as missing:
        st.info(context.t("missing_data", name=missing.name, reason=missing.reason))


def require_permission(context: Context, permission: str) -> bool:
    """True when the user may; otherwise say what is needed (read-only)."""
    if context.may(permission):
        return True
    if context.user is None:
        st.caption(context.t("read_only"))
    else:
        st.warning(context.t("not_allowed", needed=", ".join(roles_for(permission))))
    return False


def flash(message: str) -> None:
    """Say `message` at the top of the next run (after st.rerun shows the new state)."""
    st.session_state[FLASH_KEY] = message


def show_flash() -> None:
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message)
