"""The permissions table: complete, and admin may do everything."""

from __future__ import annotations

import pytest

from data.models import Role
from maintenance.permissions import PERMISSIONS, Action, allowed, roles_for


def test_every_action_has_a_row_with_at_least_one_role():
    assert set(PERMISSIONS) == set(Action)
    assert all(PERMISSIONS[a] for a in Action)


def test_admin_may_do_whatever_any_other_role_may():
    for action in Action:
        if roles_for(action):
            assert Role.ADMIN in roles_for(action), action


@pytest.mark.parametrize("role", list(Role))
def test_allowed_reads_the_table(role: Role):
    assert {a for a in Action if allowed(role, a)} == {a for a in Action if role in PERMISSIONS[a]}
    assert not allowed(None, Action.APP_USE)
