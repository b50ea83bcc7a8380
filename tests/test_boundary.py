"""One guarded boundary: what gzsim reads and what it replaces.

Reading: every file goes through :func:`gzsim.io.readers.read_bytes` (a regular file, not a
FIFO, a device, a folder or a symlink loop; capped in size), every ``--set`` value through the
YAML guard, ``extends`` chains are capped and cycles named; each refusal is exit 2 naming the
file or option, fast. Writing: gzsim replaces only what it wrote itself.
"""

from __future__ import annotations

import os
import time

import pytest
from click.testing import CliRunner

from gzsim.cli import main
from gzsim.errors import InputError
from gzsim.io.outdir import OutputError
from gzsim.io.readers import read_bytes, read_json
from gzsim.io.yamlio import parse_yaml
from tests.conftest import BASE

SHORT = ["--set", "time.end=2013-12"]


def gz(*args) -> tuple[int, str]:
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in r.output, r.output
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.output


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    code, out = gz("check", fifo)
    assert code == 2 and str(fifo) in out and "named pipe" in out
    with pytest.raises(InputError, match="named pipe"):
        read_json(fifo, "results manifest")
    assert time.monotonic() - t0 < 5


def test_a_device_and_a_symlink_loop_are_refused(tmp_path):
    with pytest.raises(InputError, match="character device"):
        read_bytes("/dev/zero", "scenario file")
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(tmp_path / "loop.yaml")
    code, out = gz("check", loop)
    assert code == 2 and str(loop) in out and "symbolic link loop" in out


def test_a_long_extends_chain_and_a_cycle_are_refused_fast(tmp_path):
    for i in range(1200):
        (tmp_path / f"s{i}.yaml").write_text(f"extends: s{i + 1}.yaml\n")
    (tmp_path / "s1200.yaml").write_text(f"extends: {BASE}\n")
    t0 = time.monotonic()
    code, out = gz("check", tmp_path / "s0.yaml")
    assert code == 2 and "chain longer than 32" in out and "extends" in out
    assert time.monotonic() - t0 < 10
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    code, out = gz("check", tmp_path / "a.yaml")
    assert code == 2 and "'extends' cycle" in out


def test_an_alias_bomb_through_set_fails_fast():
    doc = "{a0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9]" + "".join(
        f", a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)) + "}"
    t0 = time.monotonic()
    code, out = gz("check", BASE, "--set", f"policies={doc}")
    assert code == 2 and "--set policies" in out and "200,000 values" in out, out
    assert time.monotonic() - t0 < 10


@pytest.mark.parametrize(("text", "value"), [
    ("02023", 2023), ("0o17", 15), ("0x1F", 31), ("1e6", 1e6), ("+12", 12),
    ("1:30", "1:30"), ("1_000", "1_000"), ("yes", "yes"), ("off", "off"), ("True", True)])
def test_scalars_are_read_as_yaml_1_2_core_schema(text, value):
    got = parse_yaml(f"x: {text}", "f.yaml")[0]["x"]
    assert got == value and type(got) is type(value)


def test_base_60_and_underscores_are_refused_with_the_field_named():
    code, out = gz("check", BASE, "--set", "run.replications=1:30")
    assert code == 2 and "run.replications" in out and "'1:30'" in out


def test_fitted_never_replaces_a_users_file(tmp_path):
    from gzsim.calibration.run import check_fitted_target

    mine = tmp_path / "my_scenario.yaml"
    mine.write_text(BASE.read_text())
    before = mine.read_bytes()
    code, out = gz("calibrate", "--quick", "--out", tmp_path / "cal", "--fitted", mine)
    assert code == 2 and "not a fitted-values file written by gzsim calibrate" in out
    assert mine.read_bytes() == before
    ours = tmp_path / "fitted.yaml"
    ours.write_text("generated_by: gzsim calibrate --quick\nvalues: {}\n")
    check_fitted_target(ours)  # a file gzsim wrote may be replaced
    with pytest.raises(OutputError):
        check_fitted_target(tmp_path)  # a folder


def test_rerun_never_deletes_results_saved_inside_its_folder(tmp_path):
    out = tmp_path / "run"
    assert gz("run", BASE, "-n", "2", "-w", "1", "-q", "--out", out, *SHORT)[0] == 0
    inner = out / "nested"
    assert gz("run", BASE, "-n", "2", "-w", "1", "-q", "--out", inner, *SHORT)[0] == 0
    code, msg = gz("run", BASE, "-n", "2", "-w", "1", "-q", "--out", out, *SHORT)
    assert code == 2 and "nested" in msg and "would delete them" in msg
    assert (inner / "series.parquet").exists()
    (out / "notes.txt").write_text("mine")
    (inner / "series.parquet").unlink()
    for p in sorted(inner.iterdir(), reverse=True):
        p.unlink()
    inner.rmdir()
    code, msg = gz("run", BASE, "-n", "2", "-w", "1", "-q", "--out", out, *SHORT)
    assert code == 2 and "notes.txt" in msg
    (out / "notes.txt").unlink()
    assert gz("run", BASE, "-n", "2", "-w", "1", "-q", "--out", out, *SHORT)[0] == 0
