"""The permissions table: complete, admin may do everything, and the only place role sets live
(pages and callbacks name its actions)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from data.models import Role
from maintenance.people.permissions import PERMISSIONS, Action, allowed, roles_for

ROOT = Path(__file__).resolve().parents[2]
_CODE = ("web", "callbacks", "pages", "maintenance", "ml", "data", "ingest", "worker", "app.py")


def _modules(*where: str) -> Iterator[tuple[Path, ast.Module]]:
    for name in where:
        path = ROOT / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            yield file.relative_to(ROOT), ast.parse(file.read_text(encoding="utf-8"))


def _calls(tree: ast.AST, name: str) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called == name:
                yield node


def _actions(node: ast.expr) -> list[str] | None:
    """The actions an argument names (``Action.X``, or either branch of ``a if c else b``);
    None for anything else (a set of roles, a variable)."""
    if isinstance(node, ast.IfExp):
        body, orelse = _actions(node.body), _actions(node.orelse)
        return None if body is None or orelse is None else body + orelse
    if isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "Action":
        return [node.attr]
    return None


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


def test_every_page_names_an_action_of_the_table():
    pages = 0
    for path, tree in _modules("pages"):
        for call in _calls(tree, "register_page"):
            given = {k.arg: k.value for k in call.keywords}
            assert "action" in given, f"{path}: register_page without action="
            named = _actions(given["action"])
            assert named and all(n in Action.__members__ for n in named), path
            pages += 1
    assert pages >= 16


def test_every_role_check_names_an_action_of_the_table():
    checks = 0
    for path, tree in _modules("web", "callbacks"):
        for call in _calls(tree, "require"):
            assert len(call.args) == 1 and not call.keywords, f"{path}:{call.lineno}"
            named = _actions(call.args[0])
            assert named, f"{path}:{call.lineno}: require() of something not an Action"
            assert all(n in Action.__members__ for n in named), f"{path}:{call.lineno}"
            checks += 1
    assert checks >= 80


def _role_members(node: ast.AST) -> int:
    return sum(
        isinstance(e, ast.Attribute) and getattr(e.value, "id", None) == "Role"
        for e in getattr(node, "elts", [])
    )


def _demo_accounts(tree: ast.AST) -> set[int]:
    """The demo accounts (one per role) are a list of roles, not a permission."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(getattr(t, "id", None) == "DEMO_ROLES" for t in node.targets)
    }


def test_no_set_of_roles_outside_the_table():
    found = []
    for path, tree in _modules(*_CODE):
        if path == Path("maintenance/people/permissions.py"):
            continue
        skip = _demo_accounts(tree)
        for node in ast.walk(tree):
            literal = isinstance(node, (ast.Set, ast.Tuple, ast.List)) and _role_members(node) > 0
            every = isinstance(node, ast.Call) and [getattr(a, "id", None) for a in node.args] == [
                "Role"
            ]  # tuple(Role), frozenset(Role)
            if (literal or every) and id(node) not in skip:
                found.append(f"{path}:{node.lineno}")
    assert found == []


def test_every_action_the_api_checks_has_a_scope_and_scopes_only_narrow():
    from maintenance.people.permissions import SCOPE_OF, Scope

    used = {
        found
        for _path, tree in _modules("web/server/api")
        for call in [*_calls(tree, "act"), *_calls(tree, "require_api")]
        for arg in call.args
        for found in _actions(arg) or []
    }
    assert {"FLEET_VIEW", "READINGS_INGEST", "TICKET_ATTACH", "ALARM_CLEAR"} <= used
    assert used <= {a.name for a in SCOPE_OF}, "an API action no scoped token could ever do"
    assert set(SCOPE_OF.values()) == set(Scope)  # every scope grants something
    for action in Action:
        for role in Role:
            for scope in Scope:
                assert not allowed(role, action, frozenset({scope})) or allowed(role, action)
    gateway = frozenset({Scope.READINGS_WRITE})
    assert allowed(Role.ENGINEER, Action.READINGS_INGEST, gateway)
    assert not allowed(Role.ENGINEER, Action.TICKET_VIEW, gateway)
    assert not allowed(Role.VIEWER, Action.READINGS_INGEST, gateway)  # the role still rules
    assert not allowed(Role.ADMIN, Action.USER_MANAGE, frozenset(Scope))  # pages' own actions
