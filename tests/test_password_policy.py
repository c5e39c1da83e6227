"""The password policy (customercard.passwords.policy_problem): the product's and the roles' names and the login
are refused however they are written — spaced, hyphenated, repeated — as the README promises."""

from __future__ import annotations

import pytest

from customercard.passwords import policy_problem

COMMON = "This is one of the most common passwords: choose one that is harder to guess."


@pytest.mark.parametrize("password", ["customercard", "Customer Card", "customer-card", "CUSTOMER_CARD",
                                      "managermanager", "viewerviewer", "Manager-Manager", "administrator",
                                      "sunshinesunshine"])
def test_the_product_s_and_roles_names_are_refused_however_they_are_written(password):
    """"managermanager", "viewerviewer", "Customer Card" and "customer-card" were taken."""
    assert policy_problem(password) == COMMON


@pytest.mark.parametrize("password, login", [("Erik Nilsson", "erik.nilsson"), ("erik-nilsson", "erik.nilsson"),
                                             ("eriknilssoneriknilsson", "erik.nilsson")])
def test_the_login_is_refused_however_it_is_written(password, login):
    assert policy_problem(password, login) == "The password may not be the login."


@pytest.mark.parametrize("password", ["Manager of the year 2026", "correct horse battery staple", "Customer Card 9x!"])
def test_longer_passwords_with_those_words_in_them_are_taken(password):
    assert policy_problem(password, "erik.nilsson") == ""
