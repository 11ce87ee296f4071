"""The method registry: complete on import, one options class per method, errors list the names."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest

import symsched
from symsched._options import option_fields
from symsched.cli import main
from symsched.export import EXPORTERS
from symsched.schedules import METHODS, build, get_method, method_names, methods


def test_methods_are_complete_on_import() -> None:
    # a fresh interpreter: importing symsched alone registers every method module
    code = "import symsched, json; print(json.dumps(sorted(symsched.METHODS)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    modules = {m.name.replace("_", "-") for m in pkgutil.iter_modules(methods.__path__)}
    assert set(json.loads(out.stdout)) == modules == set(symsched.METHODS)


def test_every_method_declares_typed_options_and_an_example() -> None:
    for name, m in METHODS.items():
        assert m.name == name and m.summary and m.example.startswith(f"symsched schedule {name} ")
        fields = option_fields(m.options)
        assert all(f.info.help for f in fields), name
        assert m.make_options() is not None  # every option has a default


def test_method_help_shows_its_options_and_example(capsys: pytest.CaptureFixture[str]) -> None:
    for name, m in METHODS.items():
        with pytest.raises(SystemExit):
            main(["schedule", name, "--help"])
        text = capsys.readouterr().out
        assert m.example in " ".join(text.split())
        for f in option_fields(m.options):
            assert f.flag in text or (f.kind == "spectrum" and "--eigenvalues" in text), (name, f)
        others = {f.flag for k, o in METHODS.items() if k != name for f in option_fields(o.options)}
        own = {f.flag for f in option_fields(m.options)}
        formats = {f.flag for e in EXPORTERS.values() for f in option_fields(e.options)}
        shown = others - own - formats - {"--eigenvalues"}
        assert not any(f"  {flag} " in text for flag in shown), name
        # a format flag the method owns (flow's --shift) is listed once, as the method's
        for flag in own & formats:
            assert text.count(f"  {flag} ") == 1, (name, flag)


def test_unknown_method_and_option_are_errors_listing_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown method 'nope'; choose one of ays, cosine"):
        build("nope", 4)
    with pytest.raises(ValueError, match="method karras does not take c; it takes rho"):
        build("karras", 4, c=1.0)
    assert get_method("karras").build(3).steps == 3


def test_method_filters() -> None:
    assert set(method_names(family=True)) == {
        "tangent",
        "karras",
        "loglinear",
        "vp-linear",
        "cosine",
    }
    assert set(method_names(model=True)) == {"ays", "stein"}  # a table's model, a score model
    assert {"tangent", "variational", "kl-optimal", "stein", "flow"} == set(
        method_names(spectrum=True)
    )
