"""Who may reach the UI: a bind beyond loopback needs a login, unless the operator says ``--no-auth``."""

from __future__ import annotations

import ipaddress
import os
import sys

from qa.errors import QAError

USER_VAR, PASSWORD_VAR = "QA_UI_USER", "QA_UI_PASSWORD"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``: only this machine can connect."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def ui_login(host: str, share: bool = False, no_auth: bool = False,
             env: dict[str, str] | None = None) -> tuple[str, str] | None:
    """The (user, password) Gradio should ask for, or None; a QAError when serving would be unsafe.

    Loopback needs nothing. Any other host (or a share link) needs ``QA_UI_USER`` and ``QA_UI_PASSWORD``,
    unless ``no_auth`` is set, which serves without a login and prints a warning.
    """
    env = os.environ if env is None else env
    user, password = env.get(USER_VAR, ""), env.get(PASSWORD_VAR, "")
    if bool(user) != bool(password):
        raise QAError(f"set both {USER_VAR} and {PASSWORD_VAR} (only one of them is set)")
    if user:
        return user, password
    if is_loopback(host) and not share:
        return None
    where = "a share link" if share else f"--host {host}"
    if not no_auth:
        raise QAError(
            f"refusing to serve on {where} without a login: set {USER_VAR} and {PASSWORD_VAR} "
            f"(e.g. {USER_VAR}=me {PASSWORD_VAR}=secret qa ui --host {host}), or pass --no-auth to serve without one"
        )
    print(f"qa: warning: serving on {where} without a login (--no-auth): anyone who can reach it can read "
          "every indexed document", file=sys.stderr)
    return None
