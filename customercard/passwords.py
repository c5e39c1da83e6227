"""Passwords: the policy a person's new password must pass, and hashing with scrypt (standard library); only
hashes are ever stored.

The policy: at least :data:`MIN_LENGTH` characters, not one of the 30,000 most common passwords (the list the
``zxcvbn`` package ships, compared without regard to case), and not the login itself.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets

from .i18n import _

_N, _R, _P = 2**14, 8, 1
MIN_LENGTH = 10
MAX_LENGTH = 1024
#: The fewest different characters a password has (ten spaces, "aaaaaaaaaa" or "1212121212" are not passwords).
MIN_DISTINCT = 4
#: Words of this product and its roles: the first a stranger tries here.
OWN_WORDS = frozenset({"customercard", "administrator", "administrators", "manager", "viewer"})


@functools.cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    """Whether ``password`` is one of the most common passwords (whatever its case)."""
    return password.lower() in _common_passwords()


def _repeated_unit(password: str) -> str:
    """The shortest text that ``password`` repeats ("passwordpassword" → "password"), else the password itself."""
    for size in range(1, len(password) // 2 + 1):
        if len(password) % size == 0 and password[:size] * (len(password) // size) == password:
            return password[:size]
    return password


def policy_problem(password: str, login: str = "") -> str:
    """Why ``password`` may not be a person's new password ('' when it may)."""
    if len(password) < MIN_LENGTH:
        return _("A password needs at least {n} characters.").format(n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("A password has at most {n} characters.").format(n=MAX_LENGTH)
    if len(set(password.strip())) < MIN_DISTINCT:
        return _("A password needs at least {n} different characters (not only spaces, or a few repeated).").format(
            n=MIN_DISTINCT)
    # the product's and the roles' names, and the login, however they are written: "Customer Card", "customer-card",
    # "managermanager", "Anna.Anna"
    bare = _repeated_unit(re.sub(r"[\s\-_.]+", "", password.lower()))
    if is_common(password) or is_common(_repeated_unit(password)) or bare in OWN_WORDS:
        return _("This is one of the most common passwords: choose one that is harder to guess.")
    if login and bare == re.sub(r"[\s\-_.]+", "", login.strip().lower()):
        return _("The password may not be the login.")
    return ""


def hash_password(password: str) -> str:
    """A salted scrypt hash in the form ``scrypt$N$r$p$salt$hash`` (the policy is checked by the store, which
    takes people's passwords; see :func:`policy_problem`)."""
    if not password:
        raise ValueError(_("A password may not be empty."))
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "$".join(["scrypt", str(_N), str(_R), str(_P), _b64(salt), _b64(digest)])


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches the stored hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
