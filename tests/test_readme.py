"""The README says each thing once, and what it quotes from the code is true (issue 20)."""

from __future__ import annotations

import difflib
import re

import click
import pytest
from click.testing import CliRunner

import gzsim.execution.loop
import gzsim.experiments
from gzsim.cli import main
from gzsim.execution import cpu_count, resolve_workers
from tests.conftest import REPO

README = (REPO / "README.md").read_text()
SIMILAR = 0.6  # two paragraphs this alike say one thing twice


def paragraphs(text: str) -> list[str]:
    """Prose paragraphs (code blocks left out), whitespace normalised."""
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", prose) if len(p.split()) > 12]


def repeated(text: str) -> list[str]:
    """Pairs of paragraphs that are alike, and bold labels used to open two paragraphs."""
    paras = paragraphs(text)
    out = [f"{a[:60]!r} ~ {b[:60]!r}" for i, a in enumerate(paras) for b in paras[i + 1:]
           if difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() > SIMILAR]
    labels = [m for p in paras for m in re.findall(r"\*\*([^*]+)\*\*", p)]
    out += [f"**{x}** twice" for x in sorted({x for x in labels if labels.count(x) > 1})]
    return out


def test_no_paragraph_is_said_twice():
    assert not repeated(README), repeated(README)


def test_a_repeated_paragraph_is_caught():
    para = ("**Notebooks** in `notebooks/` use the same API; the tests execute them, and "
            "`make docs` saves them executed to `docs/notebooks/`.")
    assert repeated(f"{para}\n\nOther words entirely, about something else, long enough to "
                    f"count as prose here.\n\n{para.replace('execute', 'run')}")


QUOTED_DEFAULT = re.compile(r"`(-\w)/(--[\w-]+)`[^(`]*\(default: ([^)]+)\)")


def quoted_defaults(text: str) -> dict[str, str]:
    """``--option`` -> the default the README quotes for it (``-w/--workers ... (default: X)``)."""
    return {m.group(2): m.group(3).strip() for m in QUOTED_DEFAULT.finditer(text)}


def test_readme_quotes_the_worker_default():
    assert quoted_defaults(README).get("--workers") == "all CPUs"


@pytest.mark.parametrize("command", sorted(main.commands))
def test_quoted_defaults_are_the_codes(command):
    """Every command's option with a quoted default has it: "all CPUs" is ``None`` resolved by
    :func:`gzsim.execution.resolve_workers`, anything else is the click default itself."""
    quoted = quoted_defaults(README)
    for param in main.commands[command].params:
        if not isinstance(param, click.Option):
            continue
        for name in param.opts:
            if name not in quoted:
                continue
            if quoted[name] == "all CPUs":
                assert param.default is None, f"gzsim {command} {name}: default {param.default}"
                assert resolve_workers(param.default) == cpu_count()
            else:
                assert str(param.default) == quoted[name], f"gzsim {command} {name}"


def test_sensitivity_runs_its_sweep_on_all_cpus(monkeypatch, tmp_path):
    """The command that used to default to 2 workers while the README said all CPUs (a
    machine of 7 CPUs, so that 2 cannot pass by chance)."""
    seen = {}
    monkeypatch.setattr(gzsim.execution.loop, "cpu_count", lambda: 7)

    def fake_run_sweep(exp, store, workers=None, **kw):
        seen["workers"] = workers
        raise click.ClickException("stop here")

    monkeypatch.setattr(gzsim.experiments, "run_sweep", fake_run_sweep)
    res = CliRunner().invoke(main, ["sensitivity", str(REPO / "scenarios/experiments/sobol.yaml"),
                                    "-o", str(tmp_path / "s"), "-q"])
    assert "workers" in seen, res.output
    assert resolve_workers(seen["workers"]) == 7
