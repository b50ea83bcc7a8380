"""Infrastructure fails fast: a Dask scheduler that does not answer, a scheduler file that is
not there, a batch system whose submit command is missing. Each is an exit-2 message naming
the address, file or command, within seconds (not the minute or more of a hang)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time

import pytest

from gzsim.execution import ExecutionOptions
from gzsim.execution.loop import ExecutionError, dask_client

pytest.importorskip("distributed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_scheduler_that_does_not_answer_fails_fast_with_its_address(monkeypatch):
    monkeypatch.setenv("GZSIM_CONNECT_TIMEOUT_S", "2")
    address = f"tcp://127.0.0.1:{free_port()}"
    t0 = time.monotonic()
    with pytest.raises(ExecutionError) as e, dask_client(ExecutionOptions(scheduler=address)):
        pass
    assert address in str(e.value) and "within 2 s" in str(e.value)
    assert time.monotonic() - t0 < 15


def test_a_missing_scheduler_file_is_named_at_once(tmp_path):
    t0 = time.monotonic()
    with pytest.raises(ExecutionError, match="scheduler.json"), \
            dask_client(ExecutionOptions(scheduler=str(tmp_path / "scheduler.json"))):
        pass
    assert time.monotonic() - t0 < 2


@pytest.mark.skipif(shutil.which("qsub") is not None, reason="PBS is installed here")
def test_a_batch_system_that_cannot_submit_names_its_command():
    pytest.importorskip("dask_jobqueue")
    with pytest.raises(ExecutionError, match="'qsub' is not installed"), \
            dask_client(ExecutionOptions(cluster="pbs", workers=1)):
        pass


def test_loading_dask_jobqueue_keeps_ctrl_c_an_interruption():
    """dask-jobqueue's runner module, on import, makes SIGINT call ``sys.exit()``: a Ctrl-C
    during a ``--cluster`` sweep would end gzsim silently with exit status 0, and every
    SIGINT test run after it in the same process would see that handler. gzsim puts the
    handler back after loading it (a fresh process, so the import really runs here)."""
    pytest.importorskip("dask_jobqueue")
    code = ("import signal\n"
            "from gzsim.execution.loop import ExecutionError, _jobqueue\n"
            "try:\n    _jobqueue('pbs', 1)\nexcept ExecutionError:\n    pass\n"
            "import sys; assert 'dask_jobqueue.runner' in sys.modules\n"
            "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "True"
