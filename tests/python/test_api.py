"""The embedding API: a program written against `pyinfra.api` runs with `oxinfra.api`
(through the alias, or with its imports changed) on @local and @fake hosts, with the
results and callbacks pyinfra gives, called as things happen; failing operations,
facts (built-in ones on @fake hosts, unreadable ones), several hosts, the strategies;
quiet unless asked; secrets masked in what the engine hands back; `await
oxinfra.api.run(...)` leaves the event loop free; and the embedding example runs
against two lab hosts."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import oxinfra
from oxinfra import _core
from oxinfra.api import BaseStateCallback, Config, FactBase, Inventory, State, deploy, operation, run
from oxinfra.api.connect import connect_all, disconnect_all
from oxinfra.api.deploy import add_deploy
from oxinfra.api.exceptions import ConnectError, PyinfraError
from oxinfra.api.facts import get_fact, get_facts
from oxinfra.api.operation import add_op
from oxinfra.api.operations import run_ops
from oxinfra.facts.files import File
from oxinfra.facts.server import Command, Hostname, Os
from oxinfra.operations import files, python, server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "embed.py"
REFERENCE_PYTHON = Path(os.environ.get("OXINFRA_REFERENCE_PYTHON", "/work/refvenv/bin/python"))

# A program written for pyinfra 3.10's API. It prints what it observed as JSON, with
# operation hashes replaced by their position in the run order.
PROGRAM = """
import json
import sys

from pyinfra.api import BaseStateCallback, Config, Inventory, State
from pyinfra.api.connect import connect_all, disconnect_all
from pyinfra.api.facts import get_fact
from pyinfra.api.operation import add_op
from pyinfra.api.operations import run_ops
from pyinfra.facts.server import Os
from pyinfra.operations import files, server


class Recorder(BaseStateCallback):
    def __init__(self):
        self.events = []

    def host_connect(self, state, host):
        self.events.append(["host_connect", host.name])

    def operation_start(self, state, op_hash):
        self.events.append(["operation_start", op_hash])

    def operation_host_start(self, state, host, op_hash):
        self.events.append(["operation_host_start", host.name, op_hash])

    def operation_host_success(self, state, host, op_hash, retry_count=0):
        self.events.append(["operation_host_success", host.name, op_hash, retry_count])

    def operation_host_error(self, state, host, op_hash, retry_count=0, max_retries=0):
        self.events.append(["operation_host_error", host.name, op_hash, retry_count, max_retries])

    def operation_end(self, state, op_hash):
        self.events.append(["operation_end", op_hash])

    def host_disconnect(self, state, host):
        self.events.append(["host_disconnect", host.name])


names, target = json.loads(sys.argv[1])
inventory = Inventory((names, {"fake_delay": 0}))
state = State(inventory, Config())
recorder = Recorder()
state.add_callback_handler(recorder)
connect_all(state)
local = [host for host in inventory if host.name == "@local"]
echo = add_op(state, server.shell, name="Echo", commands=["echo hello"])
fails = add_op(state, server.shell, name="Fails", commands=["echo out; echo oops >&2; exit 3"], _ignore_errors=True)
made = add_op(state, files.file, path=target, host=local)
will_change = {host: made[host].will_change for host in made}
run_ops(state)
systems = {host: get_fact(state, host, Os) for host in local}
disconnect_all(state)

order = state.get_op_order()
report = {
    "events": [[order.index(part) if part in order else part for part in event] for event in recorder.events],
    "names": [sorted(state.get_op_meta(op_hash).names) for op_hash in order],
    "hosts": {},
}
for host in inventory:
    results = state.get_results_for_host(host)
    report["hosts"][host.name] = {
        "made": [will_change[host], made[host].did_change(), made[host].changed] if host in made else None,
        "echo": [echo[host].did_succeed(), echo[host].stdout],
        "fails": [fails[host].did_succeed(), fails[host].did_error(), fails[host].stdout, fails[host].stderr],
        "results": [results.ops, results.success_ops, results.error_ops, results.ignored_error_ops, results.partial_ops],
        "os": systems.get(host),
    }
print(json.dumps(report))
"""

ALIAS = "import oxinfra.api\noxinfra.api.install_pyinfra_alias()\n"
LOCAL = ["@local"]
FAKES = ["@fake/a", "@fake/b"]


def run_program(python: str, source: str, hosts: list[str], target: Path) -> dict[str, Any]:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [python, "-c", source, json.dumps([hosts, str(target)])], capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def per_host(events: list[list[Any]], hosts: list[str]) -> dict[str, list[list[Any]]]:
    """Each host's view of the callbacks: its own and the operations' starts and ends.
    Hosts run at the same time, so only each host's own sequence is fixed (in pyinfra too)."""
    return {host: [event for event in events if host in event or (len(event) == 2 and event[0].startswith("operation_"))] for host in hosts}


def expected_events(hosts: list[str]) -> list[list[Any]]:
    """The callbacks of PROGRAM: an echo, a command that fails (ignored) on @local and
    succeeds on fake hosts, and `files.file` on @local only (the others skip it)."""
    events: list[list[Any]] = [["host_connect", host] for host in hosts]
    for index in range(3):
        events.append(["operation_start", index])
        for host in hosts:
            events.append(["operation_host_start", host, index])
            if index == 2 and host != "@local":
                continue
            if index == 1 and host == "@local":
                events.append(["operation_host_error", host, index, 0, 0])
            else:
                events.append(["operation_host_success", host, index, 0])
        events.append(["operation_end", index])
    return events + [["host_disconnect", host] for host in hosts]


@pytest.mark.parametrize("package", ["pyinfra", "oxinfra"])
def test_a_pyinfra_api_program_runs_on_local(package: str, tmp_path: Path) -> None:
    source = ALIAS + PROGRAM if package == "pyinfra" else PROGRAM.replace("pyinfra", "oxinfra")
    report = run_program(sys.executable, source, LOCAL, tmp_path / "made")

    assert (tmp_path / "made").is_file()
    assert report["names"] == [["Echo"], ["Fails"], ["files.file"]]
    assert report["events"] == expected_events(LOCAL)
    assert report["hosts"]["@local"] == {
        "made": [True, True, True],
        "echo": [True, "hello"],
        "fails": [False, True, "out", "oops"],
        "results": [3, 2, 0, 1, 0],
        "os": "Linux",
    }


@pytest.mark.parametrize("package", ["pyinfra", "oxinfra"])
def test_a_pyinfra_api_program_runs_on_local_and_fake_hosts(package: str, tmp_path: Path) -> None:
    source = ALIAS + PROGRAM if package == "pyinfra" else PROGRAM.replace("pyinfra", "oxinfra")
    report = run_program(sys.executable, source, [*LOCAL, *FAKES], tmp_path / "made")

    assert (tmp_path / "made").is_file()
    assert per_host(report["events"], [*LOCAL, *FAKES]) == per_host(expected_events([*LOCAL, *FAKES]), [*LOCAL, *FAKES])
    assert report["hosts"]["@local"]["results"] == [3, 2, 0, 1, 0]
    for host in FAKES:  # a fake host runs nothing and says nothing
        assert report["hosts"][host] == {"made": None, "echo": [True, ""], "fails": [True, False, "", ""], "results": [2, 2, 0, 0, 0], "os": None}


@pytest.mark.skipif(not REFERENCE_PYTHON.is_file(), reason="no pyinfra 3.10 to compare with (OXINFRA_REFERENCE_PYTHON)")
@pytest.mark.parametrize("hosts", [LOCAL, [*LOCAL, *FAKES]], ids=["local", "local-and-fake"])
def test_the_program_observes_what_pyinfra_observes(hosts: list[str], tmp_path: Path) -> None:
    ours = run_program(sys.executable, ALIAS + PROGRAM, hosts, tmp_path / "ours")
    theirs = run_program(str(REFERENCE_PYTHON), PROGRAM, hosts, tmp_path / "theirs")

    assert per_host(ours["events"], hosts) == per_host(theirs["events"], hosts)
    assert ours["names"] == theirs["names"]
    assert ours["hosts"] == theirs["hosts"]


CALLBACKS = [name for name in vars(BaseStateCallback) if name.startswith(("host_", "operation_"))]


class Recorder(BaseStateCallback):
    """Records every callback as `(name, arguments...)`, hosts by their names."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def record(self, name: str, *arguments: Any) -> None:
        self.events.append((name, *(getattr(argument, "name", argument) for argument in arguments)))


for _name in CALLBACKS:
    setattr(Recorder, _name, lambda self, state, *arguments, _name=_name: self.record(_name, *arguments))


def connected(names: list[Any], **groups: Any) -> tuple[State, Recorder]:
    state = State(Inventory((names, {}), **groups), Config())
    recorder = Recorder()
    state.add_callback_handler(recorder)
    connect_all(state)
    return state, recorder


def test_a_failing_operation_fails_the_host_and_stops_the_run_without_hosts() -> None:
    state, recorder = connected(["@local"])
    host = state.inventory.get_host("@local")
    failing = add_op(state, server.shell, name="Fails", commands=["echo gone >&2; exit 1"])[host]
    never = add_op(state, server.shell, name="Never", commands=["echo never"])[host]

    with pytest.raises(PyinfraError, match="No hosts remaining"):
        run_ops(state)
    disconnect_all(state)

    assert failing.did_error() and not failing.did_succeed() and not failing.changed
    assert failing.stderr == "gone"
    assert not never.is_complete()
    first = state.get_op_order()[0]
    # pyinfra raises before the operation's end when no host is left
    assert [event for event in recorder.events if event[0].startswith("operation")] == [
        ("operation_start", first),
        ("operation_host_start", "@local", first),
        ("operation_host_error", "@local", first, 0, 0),
    ]
    assert vars(state.get_results_for_host(host)) == {"ops": 0, "success_ops": 0, "error_ops": 1, "ignored_error_ops": 0, "partial_ops": 0}
    assert state.failed_hosts == {host} and not state.active_hosts


def boom_on_a() -> None:
    if oxinfra.host.name == "@fake/a":
        raise RuntimeError("boom")


def test_two_hosts_one_failing_the_other_carries_on() -> None:
    state, recorder = connected(["@fake/a", "@fake/b"])
    a, b = state.inventory.get_host("@fake/a"), state.inventory.get_host("@fake/b")
    failing = add_op(state, python.call, name="Boom", function=boom_on_a)
    echo = add_op(state, server.shell, name="Echo", commands=["echo hi"])
    # In API mode an operation's identity is its call position on the host: a second
    # call on `b` alone lines up with the others' second call.
    only_b = add_op(state, server.shell, name="Only b", commands=["echo b"], host=b)
    run_ops(state)
    disconnect_all(state)

    assert failing[a].did_error() and failing[b].did_succeed()
    assert not echo[a].is_complete() and echo[b].did_change() and only_b[b].did_change()
    assert state.failed_hosts == {a} and state.active_hosts == {b}
    assert state.inventory.get_active_hosts() == [b]
    assert vars(state.get_results_for_host(a)) == {"ops": 0, "success_ops": 0, "error_ops": 1, "ignored_error_ops": 0, "partial_ops": 0}
    assert vars(state.get_results_for_host(b)) == {"ops": 3, "success_ops": 3, "error_ops": 0, "ignored_error_ops": 0, "partial_ops": 0}
    boom_hash, echo_hash, only_b_hash = state.get_op_order()
    operations = [list(event) for event in recorder.events if event[0].startswith("operation")]
    assert per_host(operations, ["@fake/a", "@fake/b"]) == per_host(
        [
            list(event)
            for event in [
                ("operation_start", boom_hash),
                ("operation_host_start", "@fake/a", boom_hash),
                ("operation_host_error", "@fake/a", boom_hash, 0, 0),
                ("operation_host_start", "@fake/b", boom_hash),
                ("operation_host_success", "@fake/b", boom_hash, 0),
                ("operation_end", boom_hash),
                ("operation_start", echo_hash),  # `a` failed: it is out of the run
                ("operation_host_start", "@fake/b", echo_hash),
                ("operation_host_success", "@fake/b", echo_hash, 0),
                ("operation_end", echo_hash),
                ("operation_start", only_b_hash),
                ("operation_host_start", "@fake/b", only_b_hash),
                ("operation_host_success", "@fake/b", only_b_hash, 0),
                ("operation_end", only_b_hash),
            ]
        ],
        ["@fake/a", "@fake/b"],
    )


def test_serial_runs_host_by_host_without_operation_start_and_end() -> None:
    state, recorder = connected(["@fake/a", "@fake/b"])
    add_op(state, server.shell, commands=["echo one"])
    add_op(state, server.shell, commands=["echo two"])
    run_ops(state, serial=True)
    one, two = state.get_op_order()
    operations = [event for event in recorder.events if event[0].startswith("operation")]
    assert [(event[0], event[1], event[2]) for event in operations] == [
        ("operation_host_start", "@fake/a", one),
        ("operation_host_success", "@fake/a", one),
        ("operation_host_start", "@fake/a", two),
        ("operation_host_success", "@fake/a", two),
        ("operation_host_start", "@fake/b", one),
        ("operation_host_success", "@fake/b", one),
        ("operation_host_start", "@fake/b", two),
        ("operation_host_success", "@fake/b", two),
    ]


class Greeting(FactBase[str]):
    """A fact written in Python, read through the engine's command runner."""

    def command(self, who: str) -> str:
        return f"echo hello-{who}"

    def process(self, output: list[str]) -> str:
        return output[0].upper()


def test_facts_on_every_host_and_on_one() -> None:
    state, _ = connected(["@local", "@fake/a"])
    local, fake = state.inventory.get_host("@local"), state.inventory.get_host("@fake/a")

    assert get_facts(state, Greeting, kwargs={"who": "you"}) == {local: "HELLO-YOU", fake: None}  # a fake host prints nothing
    assert get_fact(state, local, Os) == "Linux"
    assert get_fact(state, local, Hostname) == socket.gethostname()
    assert local.get_fact(Os) == "Linux"  # outside any operation, the host knows its run
    disconnect_all(state)


def test_callbacks_are_called_as_the_run_goes(tmp_path: Path) -> None:
    marker = tmp_path / "second-ran"
    seen: dict[str, tuple[bool, bool]] = {}

    class Watch(BaseStateCallback):
        def operation_host_success(self, state: State, host: Any, op_hash: str, retry_count: int = 0) -> None:
            meta = state.get_op_data_for_host(host, op_hash).operation_meta
            seen[op_hash] = (marker.exists(), meta.is_complete())

    state = State(Inventory((["@local"], {})), Config())
    state.add_callback_handler(Watch())
    connect_all(state)
    add_op(state, server.shell, name="First", commands=["true"])
    add_op(state, server.shell, name="Second", commands=[f"touch {marker}"])
    run_ops(state)
    disconnect_all(state)

    first, second = state.get_op_order()
    # The first operation's callback came before the second ran; as in pyinfra, an
    # operation is complete only once its callback has returned.
    assert seen == {first: (False, False), second: (True, False)}


def test_host_connect_error_gets_the_reason() -> None:
    errors: list[tuple[str, Any]] = []

    class Watch(BaseStateCallback):
        def host_connect_error(self, state: State, host: Any, error: Any) -> None:
            errors.append((host.name, error))

    state = State(Inventory((["@local", "@ssh/127.0.0.1"], {"ssh_port": 1})), Config())
    state.add_callback_handler(Watch())
    connect_all(state)
    disconnect_all(state)

    [(name, error)] = errors
    assert name == "@ssh/127.0.0.1" and isinstance(error, ConnectError)
    assert "`127.0.0.1:1` refused" in str(error), error
    assert state.failed_hosts == {state.inventory.get_host("@ssh/127.0.0.1")}


def test_an_exception_in_a_callback_is_raised_by_the_api_call() -> None:
    class Broken(BaseStateCallback):
        def operation_host_success(self, state: State, host: Any, op_hash: str, retry_count: int = 0) -> None:
            raise ValueError("the handler broke")

    state = State(Inventory((["@fake/a"], {})), Config())
    state.add_callback_handler(Broken())
    connect_all(state)
    add_op(state, server.shell, commands=["true"])
    with pytest.raises(ValueError, match="the handler broke"):
        run_ops(state)


def test_the_api_prints_only_warnings_and_errors_unless_asked(capfd: pytest.CaptureFixture[str]) -> None:
    def run_on_local(**options: Any) -> str:
        state = State(Inventory((["@local"], {})), Config(), **options)
        connect_all(state)
        add_op(state, server.shell, name="Fine", commands=["true"])
        add_op(state, server.shell, name="Fails", commands=["exit 2"], _ignore_errors=True)
        run_ops(state)
        disconnect_all(state)
        return capfd.readouterr().err

    quiet = run_on_local()
    assert "Connected" not in quiet and "Starting operation" not in quiet and "Success" not in quiet, quiet
    assert "[@local] Error (ignored): executed 0 commands" in quiet
    loud = run_on_local(human_output=True)
    assert "[@local] Connected" in loud and "--> Starting operation: Fine" in loud and "[@local] Success" in loud, loud


def test_built_in_facts_and_the_operations_that_read_them_work_on_fake_hosts() -> None:
    state, _ = connected(["@fake/a"])
    host = state.inventory.get_host("@fake/a")
    made = add_op(state, files.file, path="/etc/motd", mode="644")[host]

    assert made.will_change  # a fake host has nothing: every fact has its default
    run_ops(state)
    assert made.did_change() and state.active_hosts == {host}
    assert get_fact(state, host, File, kwargs={"path": "/etc/motd"}) is None
    disconnect_all(state)


def test_an_unreadable_fact_fails_the_host_and_gives_the_default(capfd: pytest.CaptureFixture[str]) -> None:
    state, _ = connected(["@local", "@fake/a"])
    local, fake = state.inventory.get_host("@local"), state.inventory.get_host("@fake/a")

    assert get_fact(state, local, Command, kwargs={"command": "exit 4"}, apply_failed_hosts=False) is None
    assert local.get_fact(Command, command="exit 5", _ignore_errors=True) is None
    assert state.active_hosts == {local, fake}
    assert get_fact(state, local, Command, kwargs={"command": "exit 6"}) is None
    assert state.failed_hosts == {local} and state.active_hosts == {fake}
    assert "Error: could not load fact `server.Command (command=exit 6)`: exit status 6" in capfd.readouterr().err

    alone, _ = connected(["@local"])
    with pytest.raises(PyinfraError, match="No hosts remaining"):
        get_fact(alone, alone.inventory.get_host("@local"), Command, kwargs={"command": "exit 7"})


class Said(FactBase[str]):
    """A fact written in Python whose output holds a secret."""

    command = "echo said api-test-s3cr3t-value"


@operation()
def write_secret(path: str) -> Any:
    """A Python operation running a built-in one whose command holds a secret."""
    yield from server.shell._inner(commands=[f"echo api-test-s3cr3t-value > {path}"])


def test_results_and_command_output_mask_the_runs_secrets(tmp_path: Path) -> None:
    _core.register_secret("api-test-s3cr3t-value")
    state, _ = connected(["@local"])
    host = state.inventory.get_host("@local")
    said = add_op(state, server.shell, commands=["echo the api-test-s3cr3t-value is here"])[host]
    add_op(state, write_secret, path=str(tmp_path / "secret"))
    run_ops(state)

    assert said.stdout == "the *MASKED* is here"
    assert get_fact(state, host, Said) == "said *MASKED*"
    assert (tmp_path / "secret").read_text() == "api-test-s3cr3t-value\n"  # the host got the secret itself
    disconnect_all(state)


def test_nested_operations_report_between_their_parents_start_and_end() -> None:
    state, recorder = connected(["@fake/a"])
    host = state.inventory.get_host("@fake/a")
    add_op(state, python.call, name="Outer", function=lambda: server.shell(name="Inner", commands=["echo in"]))
    run_ops(state)
    outer = state.get_op_order()[0]
    inner = next(op_hash for op_hash in state.ops[host] if op_hash != outer)
    assert [event[:3] for event in recorder.events if event[0].startswith("operation")] == [
        ("operation_start", outer),
        ("operation_host_start", "@fake/a", outer),
        ("operation_host_start", "@fake/a", inner),
        ("operation_host_success", "@fake/a", inner),
        ("operation_host_success", "@fake/a", outer),
        ("operation_end", outer),
    ]
    assert state.get_op_meta(inner).names == {"Inner"}
    assert state.get_results_for_host(host).success_ops == 2


def test_add_deploy_prepares_a_deploy_on_the_hosts_asked(tmp_path: Path) -> None:
    @deploy("Layout", data_defaults={"leaf": "default"})
    def layout(root: Path) -> None:
        files.directory(path=str(root))
        files.file(path=str(root / oxinfra.host.data.leaf))

    state, _ = connected(["@local", "@fake/a"], web=(["@local"], {"leaf": "from-group"}))
    local = state.inventory.get_host("@local")
    add_deploy(state, layout, tmp_path / "app", host=local)
    run_ops(state)
    disconnect_all(state)

    assert (tmp_path / "app" / "from-group").is_file()
    assert [sorted(state.get_op_meta(op_hash).names) for op_hash in state.get_op_order()] == [
        ["Layout | files.directory"],
        ["Layout | files.file"],
    ]
    assert state.get_meta_for_host(local).ops == 2 and state.get_meta_for_host(state.inventory.get_host("@fake/a")).ops == 0


def test_will_change_is_known_before_the_run(tmp_path: Path) -> None:
    (tmp_path / "there").write_text("")
    state, _ = connected(["@local"])
    host = state.inventory.get_host("@local")
    missing = add_op(state, files.file, path=str(tmp_path / "missing"))[host]
    there = add_op(state, files.file, path=str(tmp_path / "there"), mode=None)[host]

    assert (missing.will_change, there.will_change) == (True, False)
    with pytest.raises(RuntimeError):
        missing.did_change()
    meta = state.get_meta_for_host(host)
    assert (meta.ops, meta.ops_change, meta.ops_no_change) == (2, 1, 1)
    run_ops(state)
    assert (missing.did_change(), there.did_change()) == (True, False)


def test_api_calls_are_refused_in_cli_mode_and_handlers_are_checked() -> None:
    state, _ = connected(["@fake/a"])
    oxinfra.is_cli = True
    try:
        with pytest.raises(PyinfraError, match="CLI mode"):
            add_op(state, server.shell, commands=["true"])
        with pytest.raises(PyinfraError, match="CLI mode"):
            add_deploy(state, lambda: None)
    finally:
        oxinfra.is_cli = False
    with pytest.raises(TypeError, match="BaseStateCallback"):
        state.add_callback_handler(object())  # type: ignore[arg-type]


def test_run_leaves_the_event_loop_free(tmp_path: Path) -> None:
    def sleepy() -> None:
        server.shell(name="Sleep", commands=["sleep 1"])
        server.shell(name="Touch", commands=[f"touch {tmp_path / 'done'}"])

    recorder = Recorder()

    async def main() -> tuple[State, list[float]]:
        ticks: list[float] = []

        async def ticker() -> None:
            while True:
                ticks.append(time.monotonic())
                await asyncio.sleep(0.01)

        ticking = asyncio.create_task(ticker())
        state = await run(["@local", "@fake/a"], [sleepy, functools.partial(server.shell, name="After", commands=["echo after"])], callbacks=[recorder])
        ticking.cancel()
        return state, ticks

    started = time.monotonic()
    state, ticks = asyncio.run(main())
    elapsed = time.monotonic() - started

    assert elapsed >= 1
    gaps = [later - earlier for earlier, later in zip(ticks, ticks[1:])]
    assert len(ticks) > 30 and max(gaps) < 0.5, f"{len(ticks)} ticks, longest gap {max(gaps):.2f} s"
    assert (tmp_path / "done").is_file()
    local = state.inventory.get_host("@local")
    assert vars(state.get_results_for_host(local)) == {"ops": 3, "success_ops": 3, "error_ops": 0, "ignored_error_ops": 0, "partial_ops": 0}
    events = recorder.events
    assert events[0] == ("host_before_connect", "@local") and events[-1] == ("host_disconnect", "@fake/a")
    assert sum(event[0] == "operation_host_success" for event in events) == 6


def test_run_raises_when_no_host_is_left_and_still_disconnects() -> None:
    recorder = Recorder()
    with pytest.raises(PyinfraError, match="No hosts remaining"):
        asyncio.run(run("@local", functools.partial(server.shell, commands=["exit 1"]), callbacks=[recorder]))
    assert recorder.events[-1] == ("host_disconnect", "@local")


def test_the_example_runs_on_local(tmp_path: Path) -> None:
    root = tmp_path / "managed"
    first = subprocess.run([sys.executable, str(EXAMPLE), "--root", str(root)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    second = subprocess.run([sys.executable, str(EXAMPLE), "--root", str(root)], capture_output=True, text=True, timeout=120, cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert f"@local: hostname={socket.gethostname()} os=Linux changed=3 unchanged=0 failed=0" in first.stdout
    assert "@local: hostname" in second.stdout and "changed=1 unchanged=2 failed=0" in second.stdout  # only the uptime command
    assert "@local: operations=2 succeeded=2 failed=0" in second.stdout
    assert (root / "README").read_text() == "managed by examples/embed.py\n"


def test_the_example_runs_on_two_lab_hosts(lab_inventory, lab_hosts, tmp_path: Path) -> None:
    inventory = lab_inventory(tmp_path, 2)
    root = f"/tmp/oxinfra-embed-{os.getpid()}"
    runs = [
        subprocess.run([sys.executable, str(EXAMPLE), str(inventory), "--root", root], capture_output=True, text=True, timeout=300, cwd=tmp_path)
        for _ in range(2)
    ]

    for result in runs:
        assert result.returncode == 0, result.stdout + result.stderr
    first, second = (result.stdout for result in runs)
    for host in lab_hosts(2):
        # the lab sets each host's name to one ending in its inventory name
        assert re.search(rf"  {host.name}: hostname=\S*{host.name} os=Linux changed=3 unchanged=0 failed=0 uptime='.*up", first), first
        assert re.search(rf"  {host.name}: hostname=\S*{host.name} os=Linux changed=1 unchanged=2 failed=0", second), second
        assert f"{host.name}: operations=2 succeeded=2 failed=0" in second
        assert host.read_text(f"{root}/README") == "managed by examples/embed.py\n"
        assert host.path(f"{root}/stamp").is_file()
