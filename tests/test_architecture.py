"""The tests drive the public surface (the store's API, the pages through a browser or through their public objects)
and assert behaviour: no test reaches into a private attribute of our objects or imports a private helper."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent

#: The private names a test may still touch, by (file, name), each with its reason. Only other libraries' internals
#: that have no public way to do what a browser does; never our own objects' attributes.
ALLOWED = {
    ("test_ui_card.py", "_process_event"): "Panel's ReactiveHTML entry for a DOM event: the one way, without a "
                                            "browser, to send the card its 'ccmsg' events as the browser does",
    ("test_vcard.py", "_clicks"): "Panel's FileDownload counts a browser's clicks in this private parameter; "
                                  "the download runs when it changes",
}


def private(name: str) -> bool:
    """A name kept to its module or object: one leading underscore (not a dunder, not gettext's ``_``)."""
    return name.startswith("_") and not name.startswith("__") and name != "_"


class PrivateUses(ast.NodeVisitor):
    """Where a source reaches into private names: ``obj._name`` and ``from module import _name``. A class's use of
    its own private names (``self._x`` where the class defines ``_x``: a test's own helper) is not counted."""

    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []
        self._own: list[set[str]] = []

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._own.append(defined_in(node))
        self.generic_visit(node)
        self._own.pop()

    def visit_Attribute(self, node: ast.Attribute) -> None:
        own = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls") and self._own \
            and node.attr in self._own[-1]
        if private(node.attr) and not own:
            self.found.append((node.lineno, node.attr))
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.found += [(node.lineno, alias.name) for alias in node.names if private(alias.name)]


def defined_in(node: ast.ClassDef) -> set[str]:
    """The names a class defines itself: its methods and class attributes, and what it assigns to ``self.<name>``."""
    names = {child.name for child in node.body if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)}
    names |= {target.id for child in node.body if isinstance(child, ast.Assign | ast.AnnAssign)
              for target in (child.targets if isinstance(child, ast.Assign) else [child.target])
              if isinstance(target, ast.Name)}
    for child in ast.walk(node):
        targets = child.targets if isinstance(child, ast.Assign) else \
            [child.target] if isinstance(child, ast.AnnAssign | ast.AugAssign) else []
        for target in targets:
            for part in ast.walk(target):
                if isinstance(part, ast.Attribute) and isinstance(part.value, ast.Name) and part.value.id == "self":
                    names.add(part.attr)
    return names


def private_uses(source: str) -> list[tuple[int, str]]:
    """(line, name) of each private name a test source reaches into."""
    finder = PrivateUses()
    finder.visit(ast.parse(source))
    return finder.found


def test_the_finder_sees_attributes_and_imports_but_not_a_helpers_own_state():
    source = ("from customercard.demo import _pools\n"
              "def test(section):\n"
              "    section._form.widgets['x'].value = 1\n"
              "    assert cc.i18n._('Save') and section.__class__\n"
              "class Machine:\n"
              "    def __init__(self):\n"
              "        self._seen, self.store = set(), None\n"
              "    def _check(self):\n"
              "        return self._seen, self._check, self.store._require\n")
    assert private_uses(source) == [(1, "_pools"), (3, "_form"), (9, "_require")]


def test_tests_reach_no_private_attribute_of_our_objects():
    found, used = [], set()
    for path in sorted(TESTS.glob("*.py")):
        for line, name in private_uses(path.read_text(encoding="utf-8")):
            if (path.name, name) in ALLOWED:
                used.add((path.name, name))
            else:
                found.append(f"{path.name}:{line}: {name}")
    assert not found, "Tests reach into private names (use the object's public surface, or what a user sees):\n" + \
        "\n".join(found)
    assert used == set(ALLOWED), f"allowed but no longer used: {sorted(set(ALLOWED) - used)}"
