"""Fuzz and property tests: hostile scenario documents never crash gzsim (issue 15).

Every document, valid or mutated, gets exit status 0 or 2 with a located message: never 1 and
never a traceback. The mutation table (see :mod:`tests.fuzzing`) covers every schema field x
{missing, wrong type, negative, zero, inf, NaN, huge, bool, string}. Bounded: derandomised
hypothesis runs, in-process through click's CliRunner, well under two minutes.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gzsim.cli import main
from tests.fuzzing import fields, fuzz_base, mutation_table, summary

BASE_DOC = fuzz_base()
FIELDS = [f for f in fields(BASE_DOC) if f.present]
FUZZ = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))

values = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.lists(st.integers(-5, 5), max_size=3), st.dictionaries(st.text(max_size=4),
                                                              st.integers(), max_size=2),
    st.sampled_from(["2012-01", "2013-06", "2099-13", "", "1e6", "-0", "yes", "~"]),
    st.sampled_from([0, -1, 1e-300, 1e300, 0.5, 1, 2, 12, 1000]),
)


@st.composite
def documents(draw, extreme_only: bool = False) -> dict:
    """The fuzz base with 1-3 fields replaced by arbitrary values or removed.

    ``extreme_only``: numbers scaled (x0 ... x1000), mostly still valid: these reach the model.
    """
    import copy

    doc = copy.deepcopy(BASE_DOC)
    for _ in range(draw(st.integers(1, 3))):
        f = draw(st.sampled_from(FIELDS))
        node = doc
        try:
            for p in f.path[:-1]:
                node = node[p]
            current = node[f.path[-1]]
            how = "scale" if extreme_only else \
                draw(st.sampled_from(["remove", "replace", "scale", "scale"]))
            if how == "remove":
                node.pop(f.path[-1])
            elif how == "scale" and isinstance(current, (int, float)) and \
                    not isinstance(current, bool):  # valid-looking but extreme
                factor = draw(st.sampled_from([0, 0.01, 0.5, 2, 10, 1000]))
                node[f.path[-1]] = type(current)(current * factor)
            else:
                node[f.path[-1]] = draw(values)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation removed or replaced the parent
    return doc


def invoke(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, list(args))
    out = r.output + (r.stderr if hasattr(r, "stderr") else "")
    assert r.exception is None or isinstance(r.exception, SystemExit), \
        f"uncaught {type(r.exception).__name__}: {r.exception}\n{out}"
    assert "Traceback" not in out, out
    return r.exit_code, out


def assert_clean(code: int, out: str, file: Path) -> None:
    assert code in (0, 2), f"exit {code}:\n{out}"
    if code == 2:
        assert "gzsim: error:" in out
        assert str(file) in out or "--set" in out or "field '" in out, out


def write(doc: dict, folder: str) -> Path:
    f = Path(folder) / "fuzzed.yaml"
    f.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return f


@FUZZ
@given(doc=documents())
def test_check_of_mutated_documents_is_0_or_a_located_2(doc):
    with tempfile.TemporaryDirectory() as d:
        f = write(doc, d)
        assert_clean(*invoke("check", str(f)), f)


@settings(FUZZ, max_examples=150)
@given(text=st.text(max_size=40), where=st.floats(0, 1), cut=st.booleans())
def test_check_of_corrupted_yaml_text_is_0_or_a_located_2(text, where, cut):
    base = yaml.safe_dump(BASE_DOC, sort_keys=False)
    i = int(where * len(base))
    bad = base[:i] + text + ("" if cut else base[i:])
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "fuzzed.yaml"
        f.write_text(bad, encoding="utf-8", errors="surrogatepass") if "\ud800" not in bad \
            else f.write_bytes(bad.encode("utf-8", "replace"))
        assert_clean(*invoke("check", str(f)), f)


@settings(FUZZ, max_examples=40)
@given(doc=documents(extreme_only=True))
def test_short_run_of_mutated_documents_never_exits_1(doc):
    with tempfile.TemporaryDirectory() as d:
        f = write(doc, d)
        code, out = invoke("check", str(f))
        if code != 0:
            assert_clean(code, out, f)
            return
        code, out = invoke("run", str(f), "-n", "1", "-q", "-w", "1", "--out",
                           str(Path(d) / "out"))
        event(f"run exit {code}")
        assert_clean(code, out, f)
        if code == 0:
            assert (Path(d) / "out" / "series.parquet").exists()


def test_mutation_table_every_field_every_mutation(tmp_path):
    rows = mutation_table(tmp_path)
    text = summary(rows)
    print(text)  # shown with -s; the counts go in the note
    paths = {r.path for r in rows}
    assert len(paths) >= 100  # the schema walk reached every section
    assert not [r for r in rows if r.outcome == "unlocated error"], text
    no_reason = [f"{r.path} [{r.mutation}]" for r in rows
                 if r.outcome == "accepted" and r.detail == "NO REASON"]
    assert not no_reason, f"accepted without a reason: {no_reason}"
    for r in rows:  # non-finite values and booleans are never numbers (a yes/no field aside)
        yes_no = r.mutation == "bool" and r.detail.startswith("a yes/no field")
        if r.mutation in ("inf", "NaN", "bool", "huge") and r.outcome == "accepted" \
                and not yes_no:
            raise AssertionError(f"{r.path}: {r.mutation} accepted ({r.detail})")
    assert math.isfinite(len(rows))


arguments = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                      st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5),
                      st.sampled_from([1, 2, 3, 0, -1, 2**63 - 1, 2**63, 1.0, 2.5]))


@settings(FUZZ, max_examples=40)
@given(replications=arguments, seed=arguments)
def test_simulate_arguments_raise_user_errors_or_run(replications, seed):
    """The API checks its arguments: a UserError with the CLI's message, or a result."""
    import gzsim
    from gzsim.scenario.loader import validate_scenario

    sc = validate_scenario(BASE_DOC)
    if isinstance(replications, (int, float)) and not isinstance(replications, bool) and \
            math.isfinite(replications) and replications == int(replications) and \
            1 <= replications <= 10**5:
        replications = type(replications)(1 + int(replications) % 3)  # valid but small
    try:
        res = gzsim.simulate(sc, replications=replications, seed=seed)
    except gzsim.UserError as e:
        assert str(e)  # a message, e.g. "replications must be between 1 and 100,000, got 0"
        return
    assert res.series["replication"].nunique() >= 1


def _leaves(x, path=()):
    if isinstance(x, dict):
        for k, v in x.items():
            yield path + (k,)
            yield from _leaves(v, path + (k,))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield path + (i,)
            yield from _leaves(v, path + (i,))


EXPERIMENTS = sorted((Path(__file__).resolve().parents[1] / "scenarios" / "experiments")
                     .glob("*.yaml"))


@settings(FUZZ, max_examples=80)
@given(which=st.sampled_from(EXPERIMENTS), data=st.data())
def test_mutated_experiment_files_load_or_give_a_located_error(which, data):
    """Experiment files (sweeps, sensitivity) go through the same located errors."""
    from gzsim.errors import UserError
    from gzsim.experiments import load_experiment

    doc = yaml.safe_load(which.read_text())
    doc["base"] = str(which.parent / doc["base"])
    path = data.draw(st.sampled_from(list(_leaves(doc))))
    node = doc
    for p in path[:-1]:
        node = node[p]
    if data.draw(st.booleans()):
        node.pop(path[-1])
    else:
        node[path[-1]] = data.draw(values)
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "exp.yaml"
        f.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
        try:
            load_experiment(f)
        except UserError as e:
            assert str(f) in str(e) or "exp.yaml" in str(e) or "base.yaml" in str(e) or \
                "field '" in str(e), str(e)


@settings(FUZZ, max_examples=25)
@given(target=st.sampled_from(["series.parquet", "manifest.json", "failures.csv"]),
       where=st.floats(0, 1), junk=st.binary(max_size=64), truncate=st.booleans())
def test_plot_of_a_corrupted_results_folder_is_0_or_a_located_2(target, where, junk, truncate):
    """A damaged results file (bytes replaced or cut) is named in a message, never a crash."""
    import pandas as pd

    from gzsim.results import Result

    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "r"
        Result(series=pd.DataFrame({"replication": [0, 0], "date": pd.to_datetime(
            ["2012-01-01", "2012-02-01"]), "employment": [1.0, 2.0]}),
            manifest={"scenario": {"name": "x"}, "replications": 1},
            failures=pd.DataFrame({"replication": [1], "error": ["e"]})).save(out)
        f = out / target
        raw = f.read_bytes()
        i = int(where * len(raw))
        f.write_bytes(raw[:i] + junk + (b"" if truncate else raw[i + len(junk):]))
        code, msg = invoke("plot", str(out), "-i", "employment", "-o", str(Path(d) / "p"))
        assert code in (0, 2), msg
        if code == 2:
            assert target in msg or str(out) in msg, msg
