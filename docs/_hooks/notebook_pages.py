"""MkDocs hook: one page per notebook, executed when the site is built, with its outputs.

The notebooks are jupytext percent scripts (``notebooks/0[1-5]_*.py``; ``.ipynb`` files are not
kept). ``on_files`` executes each with jupytext and nbclient, the way ``tests/test_notebooks.py``
does (two at a time, each in its own process and kernel), and adds to the site a Markdown page per
notebook: its Markdown cells as they are, each code cell as a Python block, and its outputs below
it (text as text blocks, figures as PNG files beside the page, SymPy's LaTeX as display math). The
pages go through the same Markdown, math and link checks as every other page, and a cell that
raises stops the build.

Why not mkdocs-jupyter: its current release needs Python 3.12 (the project supports 3.11), it
renders Markdown cells with nbconvert's own Markdown, outside the site's math (MathML at build
time) and link validation, and its template loads MathJax from a CDN.

An executed notebook is cached under ``.cache/docs-notebooks/``, keyed by the SHA-256 of the
notebook, of every file of ``symsched/`` and ``verify/`` and of the installed distributions'
versions: a later build re-executes exactly the notebooks whose inputs changed. Set
``SYMSCHED_DOCS_NO_CACHE=1`` to execute every notebook regardless.

Run as a script (``python notebook_pages.py SRC DST``) it executes one notebook into ``DST``
(the worker the hook starts).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import re
import subprocess
import sys
import sysconfig
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

PATTERN = "0[1-5]_*.py"
log = logging.getLogger("mkdocs.hooks.notebook_pages")
_DOCS_REF = re.compile(r"(?<![\w/(\[])docs/([a-z0-9_/-]+\.md)(#[a-z0-9_-]+)?")


def execute(src: Path, dst: Path) -> None:
    """Execute the notebook ``src`` (in its folder) and write it, outputs included, to ``dst``."""
    import jupytext
    import nbclient
    import nbformat

    nb = jupytext.read(src)
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(src.parent)}}
    ).execute()
    tmp = dst.with_suffix(".tmp")
    nbformat.write(nb, tmp)
    tmp.replace(dst)


def inputs_digest(root: Path) -> str:
    """SHA-256 of what a notebook's outputs depend on besides itself: the package sources and
    data, and the installed distributions."""
    h = hashlib.sha256()
    for folder in ("symsched", "verify"):
        for p in sorted((root / folder).rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes())
    # the interpreter's installed distributions only, not whatever sys.path finds: sys.path
    # differs between the docs build and pytest (the project's own egg-info at the root) and
    # changes in a process (importing pkg_resources, as k-diffusion's clip does, appends
    # setuptools' _vendor folder, whose vendored packaging and platformdirs carry other versions)
    site = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    dists = sorted(
        {f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions(path=site)}
    )
    h.update("\n".join(dists).encode())
    h.update(sys.version.encode())
    return h.hexdigest()


def _linkify(text: str) -> str:
    """``docs/PAGE.md#anchor`` mentions outside code spans as links (from a page in notebooks/)."""
    parts = re.split(r"(`+[^`]*`+)", text)
    for i in range(0, len(parts), 2):
        parts[i] = _DOCS_REF.sub(
            lambda m: f"[{m.group(0)}](../{m.group(1)}{m.group(2) or ''})", parts[i]
        )
    return "".join(parts)


def _fence(text: str, lang: str) -> list[str]:
    ticks = "`" * max(3, max((len(t) for t in re.findall(r"`+", text)), default=0) + 1)
    return [f"{ticks}{lang}", text.rstrip("\n"), ticks]


def to_markdown(nb: Any, stem: str, source_name: str) -> tuple[str, dict[str, bytes]]:
    """The page of an executed notebook, and its figures (``{file name: PNG bytes}``)."""
    import base64

    lines: list[str] = []
    images: dict[str, bytes] = {}
    for n, cell in enumerate(nb.cells):
        src = cell.source
        if cell.cell_type == "markdown":
            lines += ["", _linkify(src), ""]
            if n == 0:
                lines += [
                    f"*This page is the notebook `{source_name}` (a jupytext percent script), "
                    "executed when the site was built; every output below comes from that run. "
                    "Open it in Jupyter through jupytext, or run all the notebooks with "
                    "`pytest -m notebooks tests/test_notebooks.py`.*",
                    "",
                ]
            continue
        if cell.cell_type != "code" or not src.strip():
            continue
        lines += ["", *_fence(src, "python"), ""]
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            block: list[str] = []
            if kind == "stream":
                block = _fence("".join(out.get("text", "")), "text")
            elif kind in ("execute_result", "display_data"):
                data = out.get("data", {})
                if "image/png" in data:
                    name = f"output-{len(images) + 1}.png"
                    images[name] = base64.b64decode(data["image/png"])
                    block = [f"![Output {len(images)} of {source_name}]({stem}/{name})"]
                elif "text/latex" in data:
                    tex = "".join(data["text/latex"]).strip().strip("$").strip()
                    block = ["$$", tex, "$$"]
                elif "text/plain" in data:
                    block = _fence("".join(data["text/plain"]), "text")
            elif kind == "error":  # nbclient raises first; kept for a notebook run elsewhere
                raise RuntimeError(f"{source_name}: a cell raised {out.get('ename')}")
            if block:
                lines += ['<div class="nb-output" markdown>', "", *block, "", "</div>", ""]
    return "\n".join(lines).strip() + "\n", images


def cached_path(src: Path, cache: Path, digest: str) -> Path:
    """Where the executed notebook ``src`` is cached for the inputs ``digest``
    (:func:`inputs_digest`); it exists only once an execution of exactly these inputs succeeded
    (``tests/test_notebooks.py`` reuses it instead of executing the notebook a second time)."""
    key = hashlib.sha256(src.read_bytes() + digest.encode()).hexdigest()[:32]
    return cache / f"{src.stem}-{key}.ipynb"


def _executed(src: Path, cache: Path, digest: str) -> Path:
    dst = cached_path(src, cache, digest)
    if dst.is_file() and os.environ.get("SYMSCHED_DOCS_NO_CACHE", "") in ("", "0"):
        log.info("notebook %s: outputs of an earlier run of the same inputs", src.name)
        return dst
    start = time.perf_counter()
    for old in cache.glob(f"{src.stem}-*.ipynb"):
        old.unlink()
    res = subprocess.run(
        [sys.executable, __file__, str(src), str(dst)],
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode != 0:
        from mkdocs.exceptions import PluginError

        raise PluginError(f"notebook {src.name} failed:\n{res.stderr[-4000:]}")
    log.info("notebook %s: executed in %.1f s", src.name, time.perf_counter() - start)
    return dst


def on_files(files: Any, config: Any, **kwargs: Any) -> Any:
    import nbformat
    from mkdocs.structure.files import File

    root = Path(config.config_file_path).resolve().parent
    sources = sorted((root / "notebooks").glob(PATTERN))
    cache = root / ".cache" / "docs-notebooks"
    cache.mkdir(parents=True, exist_ok=True)
    digest = inputs_digest(root)
    with ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as pool:
        done = list(pool.map(lambda s: _executed(s, cache, digest), sources))
    for src, path in zip(sources, done, strict=True):
        nb = nbformat.read(path, as_version=4)
        page, images = to_markdown(nb, src.stem, f"notebooks/{src.name}")
        files.append(File.generated(config, f"notebooks/{src.stem}.md", content=page))
        for name, png in images.items():
            files.append(File.generated(config, f"notebooks/{src.stem}/{name}", content=png))
    return files


if __name__ == "__main__":
    execute(Path(sys.argv[1]), Path(sys.argv[2]))
