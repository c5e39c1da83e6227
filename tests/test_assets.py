"""The style sheets and browser scripts are files in customercard/ui/assets, read where they are used; the package
data in pyproject.toml names files that exist; a wheel built from this tree carries the assets, the migrations and
the compiled catalogs, and reads its assets from inside itself; the served pages carry them as before (inline,
scripts with the page's nonce)."""

from __future__ import annotations

import ast
import html
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from customercard.ui import assets
from customercard.ui.components import CARD_VIEW_JS, CardView, DataTable, light_scripts
from customercard.ui.pipeline_board import BoardColumns

from .http_client import Client

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "customercard"
ASSETS = PACKAGE / "ui" / "assets"
KINDS = (".css", ".js")


def asset_calls() -> list[tuple[str, int, ast.expr]]:
    """Every ``assets.text(…)`` call in the package: (file, line, its argument)."""
    calls = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "text"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "assets"):
                calls.append((str(path.relative_to(ROOT)), node.lineno, node.args[0] if node.args else None))
    return calls


def loaded_names() -> set[str]:
    names = set()
    for where, line, argument in asset_calls():
        assert isinstance(argument, ast.Constant) and isinstance(argument.value, str), (
            f"{where}:{line}: an asset is named by a plain string (so that this test can find it)")
        names.add(argument.value)
    return names


def asset_files() -> set[str]:
    return {path.name for path in ASSETS.iterdir() if path.suffix in KINDS}


# -- (a) the assets the code reads ------------------------------------------------------------------------------
def test_every_asset_the_code_reads_is_a_file_with_content_and_is_read_as_it_is():
    names = loaded_names()
    assert len(names) >= 20  # the scan finds the calls (the components, the page, the login page, …)
    for name in sorted(names):
        path = ASSETS / name
        assert path.is_file(), f"customercard/ui/assets/{name} is read by the code but missing"
        content = path.read_text(encoding="utf-8")
        assert content.strip(), f"customercard/ui/assets/{name} is empty"
        assert assets.text(name) == content
        if name.endswith(".css"):  # a rule cut in two when it was moved would leave a brace alone
            assert content.count("{") == content.count("}"), name


def test_every_asset_file_is_read_by_the_code():
    assert asset_files() == loaded_names()


def test_an_asset_is_read_once():
    assert assets.text("board.css") is assets.text("board.css")


def scripts_and_sheets(component) -> tuple[dict[str, str], list[str]]:
    """What a component's Bokeh model takes to the browser: its scripts (Panel escapes them as HTML; the browser
    reads them back) and the style sheets given as text (Panel's files left out)."""
    model = component.get_root()
    scripts = {name: html.unescape("".join(texts)) for name, texts in model.scripts.items()}
    return scripts, [sheet for sheet in model.stylesheets if isinstance(sheet, str)]


def test_each_light_component_runs_its_own_script_in_the_render_frame_and_has_its_style_sheets():
    for component, script, sheets in ((DataTable(), assets.text("table.js"), ["table.css"]),
                                      (CardView(), CARD_VIEW_JS, ["section.css", "card_view.css"]),
                                      (BoardColumns(can_move=True), assets.text("board.js"), ["board.css"])):
        scripts, own_sheets = scripts_and_sheets(component)
        render = scripts["render"]
        assert "const cc_render = " + script in render, component
        assert "__CC_" not in render and "state.handlers = {};" in render and "const kids = " in render
        wanted = [assets.text(name) for name in sheets]
        assert [sheet for sheet in own_sheets if sheet in wanted] == wanted, component  # (Panel adds its own)
    assert "const kids = [...ccpool.children];" in scripts_and_sheets(CardView())[0]["render"]  # it has children
    # the card view's script holds the bar chart's drawing, in its render function's scope
    assert CARD_VIEW_JS.startswith(assets.text("card_view.js").split("// __CC_BAR_CHART__")[0])
    assert assets.text("bar_chart.js") in CARD_VIEW_JS and "__CC_BAR_CHART__" not in CARD_VIEW_JS
    assert "const kids = [];" in scripts_and_sheets(DataTable())[0]["render"]


def test_a_render_script_is_put_into_the_frame_verbatim_even_with_the_frames_own_marks_in_it():
    script = 'function render({ model, el }) { el.textContent = "__CC_KIDS__ __CC_RENDER__ {x} {{y}}"; }'
    scripts = light_scripts(script, ["rows"])
    assert "const cc_render = " + script + ";" in scripts["render"]
    assert scripts["render"].count("const kids = [];") == 1
    assert set(scripts) == {"render", "rows"}


# -- (b) the package data -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def package_tree(tmp_path_factory) -> Path:
    """This tree's project files in a folder of their own, with the catalogs compiled as ``make`` compiles them
    (the .mo files are not in git), ready to build."""
    tree = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(PACKAGE, tree / "customercard",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo", "*.egg-info"))
    for po in (tree / "customercard" / "locale").glob("*/LC_MESSAGES/*.po"):
        with po.open("rb") as source:
            catalog = read_po(source)
        with po.with_suffix(".mo").open("wb") as target:
            write_mo(target, catalog, use_fuzzy=False)
    return tree


def package_data() -> dict[str, list[str]]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)["tool"]["setuptools"]["package-data"]


def test_the_package_data_names_the_assets_and_every_pattern_matches_files(package_tree):
    patterns = package_data()
    assert set(patterns) == {"customercard"}
    for pattern in patterns["customercard"]:
        matched = [p for p in (package_tree / "customercard").glob(pattern) if p.is_file()]
        assert matched, f"package data {pattern!r} matches no file"
        if not pattern.endswith(".mo"):  # the rest is in the tree as it is, not made by a build step
            assert list(PACKAGE.glob(pattern)), f"package data {pattern!r} matches no file in {PACKAGE}"
    covered = {p.name for pattern in patterns["customercard"] for p in ASSETS.parent.parent.glob(pattern)
               if p.parent == ASSETS}
    assert covered == asset_files()


# -- (c) a wheel ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def wheel(package_tree, tmp_path_factory) -> Path:
    """A wheel built from the tree by pip with the setuptools installed here (no network, no build isolation)."""
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "-q", "-w", str(out), str(package_tree)], capture_output=True, check=False, text=True,
                          timeout=180)
    assert done.returncode == 0, ("the wheel was not built (pip, setuptools>=70.1 from the test extras: "
                                  f"`make` installs them):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    built = list(out.glob("customercard-*.whl"))
    assert len(built) == 1, built
    return built[0]


def test_the_wheel_has_the_assets_the_migrations_and_the_compiled_catalogs(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in asset_files():
        assert f"customercard/ui/assets/{name}" in names
    assert "customercard/ui/assets/__init__.py" in names
    migrations = sorted(p.name for p in (PACKAGE / "store" / "migrations").glob("*.sql"))
    assert migrations and all(f"customercard/store/migrations/{m}" in names for m in migrations)
    assert "customercard/locale/customercard.pot" in names
    languages = sorted(p.parent.parent.name for p in (PACKAGE / "locale").glob("*/LC_MESSAGES/customercard.po"))
    assert languages == ["da", "sv"]
    for language in languages:
        for suffix in ("po", "mo"):
            assert f"customercard/locale/{language}/LC_MESSAGES/customercard.{suffix}" in names


def test_the_installed_wheel_reads_its_assets_from_itself(wheel, tmp_path):
    """Unpacked (as pip installs it) and imported in a fresh interpreter from there: every asset reads, and is the
    same text as here."""
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    names = sorted(loaded_names())
    check = ("import sys\nfrom customercard.ui import assets\n"
             "print(assets.__file__)\n"
             f"for name in {names!r}:\n    sys.stdout.write(name + ' ' + str(len(assets.text(name))) + chr(10))\n")
    done = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r})\n" + check],
                          capture_output=True, check=False, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith(str(target)), lines[0]  # not this tree's copy
    assert lines[1:] == [f"{name} {len(assets.text(name))}" for name in names]


# -- the served pages -----------------------------------------------------------------------------------------
def nonce_of(reply) -> str:
    found = re.search(r"'nonce-([^']+)'", reply.headers["Content-Security-Policy"])
    assert found, reply.headers["Content-Security-Policy"]
    return found.group(1)


def test_the_login_page_has_its_style_sheet_inline(live_server):
    reply = Client(live_server.url).get("/login")
    assert reply.status == 200 and "style-src 'self' 'unsafe-inline'" in reply.headers["Content-Security-Policy"]
    style = re.search(r"<style>(.*?)</style>", reply.body, re.S)
    assert style and style.group(1).strip() == assets.text("login.css").strip()
    assert "<link" not in reply.body and "<script" not in reply.body


def test_a_page_has_its_style_sheets_inline_and_the_accessibility_script_with_the_pages_nonce(live_server):
    client = Client(live_server.url)
    assert client.log_in("anna", "demo").status == 302
    reply = client.get("/search")
    assert reply.status == 200, reply.status
    nonce = nonce_of(reply)
    styles = "".join(re.findall(r"<style>(.*?)</style>", reply.body, re.S))
    assert assets.text("app.css") in styles and assets.text("sr_only.css") in styles
    scripts = re.findall(r'<script nonce="([^"]*)"[^>]*>(.*?)</script>', reply.body, re.S)
    ours = [(n, text) for n, text in scripts if assets.text("accessibility.js") in text]
    assert len(ours) == 1 and ours[0][0] == nonce
    assert "document.documentElement.lang = " in ours[0][1]
    assert not re.search(r"<script(?![^>]*nonce=)[\s>]", reply.body)  # every script element carries the nonce


def test_the_api_documentation_page_has_its_style_sheet_inline(live_server):
    reply = Client(live_server.url).get("/api/v1/docs")
    assert reply.status == 200
    assert f"<style>{assets.text('api_docs.css')}</style>" in reply.body


def test_every_kind_of_button_carries_a_visible_focus_ring_and_readable_colours():
    """However a button is made (with or without the page's stylesheets given), it is drawn with a 2 px focus ring and
    the readable danger colour, not Bokeh's 1 px dotted light grey line and its 3.96:1 red."""
    import panel as pn
    from bokeh.document import Document

    import customercard.ui.accessibility  # noqa: F401 - the buttons' stylesheet is given on import

    for widget in (pn.widgets.Button(label="Revoke", color="danger"), pn.widgets.Toggle(label="Many"),
                   pn.widgets.MenuButton(label="More", items=["a"]),
                   pn.widgets.FileDownload(callback=lambda: None, filename="customers.csv")):
        sheets = " ".join(str(getattr(sheet, "css", sheet)) for sheet in widget.get_root(Document()).stylesheets)
        assert ".bk-btn:focus-visible { outline: 2px solid" in sheets, type(widget).__name__
        assert ".bk-btn-danger { background-color: #b42318" in sheets, type(widget).__name__
