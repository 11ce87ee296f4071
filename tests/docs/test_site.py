"""The documentation site (``make docs``): complete, linked, math typeset, and clean in Chromium.

The tests read ``site/`` when ``make docs`` built it from the current tree (its ``.inputs-sha256``
matches, see ``docs/_hooks/build_stamp.py``); otherwise they build the site themselves, once per
run (under a lock, for the xdist workers), into ``.cache/docs-test-site``. The static checks parse
every page with ``html.parser``; the browser check loads every page, from disk as a reader would,
in one headless Chromium (each page in an iframe of a harness page) and reads the console.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from browser import CHROMIUM, console_lines, headless
from docs_hooks import load_hook

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0[1-5]_*.py"))
# elements whose text is code or markup, where TeX delimiters are meant literally
LITERAL_TAGS = {"code", "pre", "script", "style", "math", "textarea", "kbd", "samp"}
RESOURCE_ATTRS = {("script", "src"), ("img", "src"), ("iframe", "src"), ("source", "src")}
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # http:, https:, mailto:, data:, ...


def _fresh(site: Path, digest: str) -> bool:
    stamp = site / ".inputs-sha256"
    return stamp.is_file() and stamp.read_text().strip() == digest


@pytest.fixture(scope="session")
def site() -> Path:
    """The built site of the current tree."""
    digest = load_hook("build_stamp").inputs_digest(ROOT)
    if _fresh(ROOT / "site", digest):
        return ROOT / "site"
    own = ROOT / ".cache" / "docs-test-site"
    own.parent.mkdir(parents=True, exist_ok=True)
    with open(own.parent / "docs-test-site.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other xdist worker waits, then reuses the build
        if not _fresh(own, digest):
            env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
            cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(own)]
            res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
            assert res.returncode == 0, res.stderr[-4000:]
    return own


@dataclass
class Page:
    """What one HTML page holds, as ``html.parser`` reads it."""

    path: Path
    ids: set[str] = field(default_factory=set)
    links: list[str] = field(default_factory=list)  # <a href>
    resources: list[str] = field(default_factory=list)  # src of scripts, images, frames; css
    text: list[str] = field(default_factory=list)  # text outside code, pre, math, scripts
    classes: list[str] = field(default_factory=list)
    tags: dict[str, int] = field(default_factory=dict)
    images: list[str] = field(default_factory=list)

    @property
    def prose(self) -> str:
        return " ".join(self.text)


class _Reader(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.literal = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        p = self.page
        p.tags[tag] = p.tags.get(tag, 0) + 1
        if "id" in a:
            p.ids.add(a["id"])
        if tag == "a" and "name" in a:
            p.ids.add(a["name"])
        if tag == "a" and "href" in a:
            p.links.append(a["href"])
        if tag == "link" and "stylesheet" in a.get("rel", "") and "href" in a:
            p.resources.append(a["href"])
        for t, attr in RESOURCE_ATTRS:
            if tag == t and a.get(attr):
                p.resources.append(a[attr])
        if tag == "img" and a.get("src"):
            p.images.append(a["src"])
        p.classes += a.get("class", "").split()
        if tag in LITERAL_TAGS:
            self.literal += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in LITERAL_TAGS and self.literal:
            self.literal -= 1

    def handle_data(self, data: str) -> None:
        if not self.literal:
            self.page.text.append(data)


def read_page(path: Path) -> Page:
    page = Page(path)
    reader = _Reader(page)
    reader.feed(path.read_text(encoding="utf-8"))
    reader.close()
    return page


@pytest.fixture(scope="session")
def pages(site: Path) -> dict[Path, Page]:
    return {p: read_page(p) for p in sorted(site.rglob("*.html")) if p.name != "404.html"}


def _target(page: Path, href: str) -> tuple[Path, str]:
    """The file and the fragment a local ``href`` of ``page`` points to."""
    parts = urlsplit(href)
    path = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
    if path.is_dir():
        path = path / "index.html"
    return path, unquote(parts.fragment)


def _local(href: str) -> bool:
    return bool(href) and not EXTERNAL.match(href)


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name), sub
                yield from commands(sub, (*path, name))


def _has_math_source(md: Path) -> bool:
    """Whether a Markdown page has ``$...$`` math outside code (so its page must show MathML)."""
    text = re.sub(r"^```.*?^```", "", md.read_text(encoding="utf-8"), flags=re.S | re.M)
    text = re.sub(r"`[^`\n]*`", "", text)
    return re.search(r"\$[^\s$][^$\n]*\$", text) is not None


# --- completeness and links -----------------------------------------------------------------


def test_every_page_is_reachable_from_the_home_page(site: Path, pages: dict[Path, Page]) -> None:
    home = (site / "index.html").resolve()
    seen, todo = {home}, [home]
    while todo:
        path = todo.pop()
        page = pages.get(path) or read_page(path)
        for href in page.links:
            if not _local(href):
                continue
            target, _ = _target(page.path, href)
            if target.suffix == ".html" and target not in seen and target.is_file():
                seen.add(target)
                todo.append(target)
    all_pages = {p.resolve() for p in pages}
    assert all_pages - seen == set(), sorted(str(p.relative_to(site)) for p in all_pages - seen)
    assert len(all_pages) >= 30  # home, guides, 7 theory pages, references, notebooks, API


def test_every_local_link_and_anchor_resolves(site: Path, pages: dict[Path, Page]) -> None:
    by_path = {p.resolve(): page for p, page in pages.items()}
    bad = []
    checked = 0
    for path, page in pages.items():
        for href in page.links + page.resources:
            if not _local(href):
                continue
            target, fragment = _target(path, href)
            checked += 1
            where = f"{path.relative_to(site)}: {href}"
            if not target.is_file():
                bad.append(f"{where} (no file)")
            elif fragment and target.suffix == ".html":
                ids = (by_path.get(target) or read_page(target)).ids
                if fragment not in ids:
                    bad.append(f"{where} (no #{fragment})")
    assert bad == [] and checked > 1000, bad[:50]


def test_nothing_is_loaded_from_the_network(pages: dict[Path, Page]) -> None:
    external = {
        f"{p.name}: {src}"
        for p, page in pages.items()
        for src in page.resources
        if EXTERNAL.match(src) and not src.startswith("data:")
    }
    assert external == set()
    for path in pages:
        html = path.read_text(encoding="utf-8")
        assert "fonts.googleapis" not in html and "fonts.gstatic" not in html, path
        assert "@import url(http" not in html, path


# --- math ------------------------------------------------------------------------------------


def test_math_is_typeset_to_mathml(site: Path, pages: dict[Path, Page]) -> None:
    leftovers = {}
    for path, page in pages.items():
        found = [d for d in ("\\(", "\\)", "\\[", "\\]", "$$", "$\\") if d in page.prose]
        if found or "arithmatex" in page.classes:
            leftovers[str(path.relative_to(site))] = found or ["arithmatex"]
    assert leftovers == {}
    sources = [p for p in (ROOT / "docs").rglob("*.md") if "_hooks" not in p.parts]
    expected = [p for p in sources if _has_math_source(p)]
    assert len(expected) >= 8  # the theory pages, conventions, the CLI guide, verification
    for md in expected:
        html = site / md.relative_to(ROOT / "docs").with_suffix(".html")
        assert pages[html].tags.get("math", 0) > 0, f"{html.relative_to(site)} shows no MathML"
    assert pages[site / "theory" / "gaussian.html"].tags["math"] > 100


# --- generated pages -------------------------------------------------------------------------


def test_notebook_pages_hold_their_outputs(site: Path, pages: dict[Path, Page]) -> None:
    assert len(NOTEBOOKS) == 5
    for nb in NOTEBOOKS:
        page = pages[site / "notebooks" / f"{nb.stem}.html"]
        assert page.classes.count("nb-output") >= 3, nb.name
        source = nb.read_text(encoding="utf-8")
        if "plt." in source:  # the notebook draws figures: they are on its page
            assert page.images, nb.name
        for src in page.images:
            png, _ = _target(page.path, src)
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", src
        # a code cell's last expression and its output: SymPy's LaTeX is MathML, text is text
        assert page.tags.get("pre", 0) >= 4, nb.name
    assert sum(len(pages[site / "notebooks" / f"{nb.stem}.html"].images) for nb in NOTEBOOKS) >= 5


def test_cli_reference_lists_every_subcommand(site: Path, pages: dict[Path, Page]) -> None:
    from symsched.cli import build_parser

    page = pages[site / "reference" / "cli.html"]
    text = (site / "reference" / "cli.html").read_text(encoding="utf-8")
    found = list(commands(build_parser()))
    assert len(found) >= 25  # 14 commands, schedule's methods and builtin
    for path, sub in found:
        assert "-".join(path) in page.ids, f"no section for symsched {' '.join(path)}"
        assert f"symsched {' '.join(path)}" in text
        for action in sub._actions:
            for flag in action.option_strings:
                assert flag in text, f"symsched {' '.join(path)} {flag}"


def test_api_pages_have_content(site: Path, pages: dict[Path, Page]) -> None:
    api = [p for p in pages if p.parent == site / "api"]
    assert len(api) >= 12
    for path in api:
        page = pages[path]
        assert page.classes.count("doc-object") >= 3, path.name
        assert page.classes.count("doc-signature") + page.classes.count("doc-heading") >= 3
        for rest in (":func:`", ":class:`", ":math:`", ":mod:`", ".. math::"):
            assert rest not in page.prose, f"{path.name}: reST {rest} left in the text"
    import symsched

    documented = set().union(*(pages[p].ids for p in api))
    for name in symsched.__all__:  # the top-level API, each name on a page under its full path
        if not name.startswith("_"):
            assert any(i == f"symsched.{name}" or i.endswith(f".{name}") for i in documented), name


def test_pages_list_the_claims_that_check_them(site: Path, pages: dict[Path, Page]) -> None:
    from symsched_verify.registry import load_claims

    claims = load_claims()
    for c in claims.values():
        md, _, anchor = c.docs.removeprefix("docs/").partition("#")
        page = pages[site / Path(md).with_suffix(".html")]
        assert f"claim-{c.id}" in page.ids and "checked-by" in page.ids, c.id
        assert anchor in page.ids, c.docs


# --- in the browser --------------------------------------------------------------------------


@pytest.mark.integration  # every page of the site in headless Chromium (~15 s)
@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"
)
def test_every_page_loads_without_console_errors(
    site: Path, pages: dict[Path, Page], tmp_path: Path
) -> None:
    """All pages in one Chromium: a harness page frames each of them, from file:// as a reader
    opens them, and records each frame's load event; a page with a script error is framed too, as
    the negative control that proves errors inside frames reach the log."""
    control = tmp_path / "control.html"
    control.write_text("<!DOCTYPE html><html><body><script>undefinedFunction();</script></body>")
    urls = [p.resolve().as_uri() for p in pages] + [control.as_uri()]
    frames = "\n".join(
        f'<iframe src="{u}" width="1000" height="700" onload="loaded(this)"></iframe>' for u in urls
    )
    harness = tmp_path / "harness.html"
    harness.write_text(
        "<!DOCTYPE html><html><body><script>const done = [];"
        "function loaded(f) { done.push(f.src); document.body.dataset.loaded = done.length; }"
        f"</script>{frames}</body></html>"
    )
    dom, err = headless(harness.as_uri(), tmp_path / "profile", "--virtual-time-budget=15000")
    lines = console_lines(err)
    assert any("Uncaught ReferenceError" in ln and "control.html" in ln for ln in lines), (
        "the control's error did not reach the log"
    )
    assert [ln for ln in lines if "control.html" not in ln] == []
    loaded = re.search(r'<body[^>]*data-loaded="(\d+)"', dom)
    assert loaded is not None and int(loaded.group(1)) == len(urls)


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"
)
def test_a_theory_page_renders_its_math_in_the_browser(site: Path, tmp_path: Path) -> None:
    page = site / "theory" / "gaussian.html"
    dom, err = headless(page.as_uri(), tmp_path / "profile", "--virtual-time-budget=5000")
    assert console_lines(err) == []
    html = re.search(r"<html[^>]*>", dom)
    assert html is not None and re.search(r'class="[^"]*\bjs\b', html.group(0))  # Material ran
    static = page.read_text(encoding="utf-8").count("<math")
    assert dom.count("<math") == static > 100
    search = site / "search" / "search_index.js"  # search from disk: the index as a script
    assert (
        search.is_file()
        and json.loads(search.read_text(encoding="utf-8").removeprefix("var __index = "))["docs"]
    )
