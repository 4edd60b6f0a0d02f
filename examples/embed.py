"""Embedding oxinfra in a Python program: first pyinfra's API step by step (`State`,
`connect_all`, `add_op`, `run_ops`, `get_facts`, a callback handler), then a deploy
through `await oxinfra.api.run(...)` while another asyncio task keeps running.

    python examples/embed.py                        # on this machine (@local)
    python examples/embed.py inventory.py           # on the hosts of an inventory
    python examples/embed.py web1,web2 --root /srv/x
    python examples/embed.py --human-output         # also the oxinfra command's lines

A program written against `pyinfra.api` runs with oxinfra once `pyinfra` becomes
`oxinfra` in its imports (or unchanged, after `oxinfra.api.install_pyinfra_alias()`).
As pyinfra's API, the engine prints only warnings and errors (on stderr) unless asked
for more; this program prints its summary on stdout and exits 1 when a host failed."""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
import time
from collections import Counter
from typing import Any

from oxinfra.api import BaseStateCallback, Config, State, deploy, load_inventory, run
from oxinfra.api.connect import connect_all, disconnect_all
from oxinfra.api.facts import get_facts
from oxinfra.api.operation import add_op
from oxinfra.api.operations import run_ops
from oxinfra.facts.server import Hostname, Os
from oxinfra.operations import files, server


class Tally(BaseStateCallback):
    """Notes, per host, the operations that succeeded or failed, as each finishes.
    Whether one changed something can be asked once it is complete, after its callback."""

    def __init__(self) -> None:
        self.succeeded: dict[str, list[str]] = {}
        self.failed: Counter[str] = Counter()

    def operation_host_success(self, state: State, host: Any, op_hash: str, retry_count: int = 0) -> None:
        self.succeeded.setdefault(host.name, []).append(op_hash)

    def operation_host_error(self, state: State, host: Any, op_hash: str, retry_count: int = 0, max_retries: int = 0) -> None:
        self.failed[host.name] += 1

    def counts(self, state: State, host: Any) -> Counter[str]:
        counts = Counter(failed=self.failed[host.name])
        for op_hash in self.succeeded.get(host.name, []):
            changed = state.get_op_data_for_host(host, op_hash).operation_meta.did_change()
            counts["changed" if changed else "unchanged"] += 1
        return counts


def with_pyinfra_api(inventory: str, root: str, human_output: bool) -> bool:
    """The pyinfra.api way: build the state, connect, add operations, run, read results."""
    state = State(load_inventory(inventory), Config(), human_output=human_output)
    tally = Tally()
    state.add_callback_handler(tally)
    connect_all(state)
    try:
        names = get_facts(state, Hostname)
        systems = get_facts(state, Os)
        add_op(state, files.directory, name="Make the example folder", path=root, mode="755")
        add_op(state, files.line, name="Note who manages it", path=f"{root}/README", line="managed by examples/embed.py")
        uptime = add_op(state, server.shell, name="Read the uptime", commands=["uptime"])
        run_ops(state)
    finally:
        disconnect_all(state)
    print("pyinfra API:")
    for host in state.inventory:
        counts = tally.counts(state, host)
        result = uptime.get(host)
        said = result.stdout.strip() if result is not None and result.is_complete() else "-"
        print(
            f"  {host.name}: hostname={names.get(host)} os={systems.get(host)} "
            f"changed={counts['changed']} unchanged={counts['unchanged']} failed={counts['failed']} uptime={said!r}"
        )
    return not state.failed_hosts


@deploy("Stamp")
def stamp(root: str) -> None:
    files.file(name="Touch the stamp", path=f"{root}/stamp", mode="644")
    server.shell(name="Take a second", commands=["sleep 1"])


async def with_asyncio(inventory: str, root: str, human_output: bool) -> bool:
    """One awaitable call for the whole run; the heartbeat shows the loop stays free."""
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    beating = asyncio.create_task(heartbeat())
    started = time.monotonic()
    state = await run(inventory, functools.partial(stamp, root), human_output=human_output)
    elapsed = time.monotonic() - started
    beating.cancel()
    print(f"asyncio: the run took {elapsed:.1f} s; the event loop ticked {ticks} times meanwhile")
    for host, results in state.results.items():
        print(f"  {host.name}: operations={results.ops} succeeded={results.success_ops} failed={results.error_ops}")
    return not state.failed_hosts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inventory", nargs="?", default="@local", help="@local (default), host1,host2 or an inventory.py")
    parser.add_argument("--root", default="/tmp/oxinfra-embed", help="the folder the example manages on each host")
    parser.add_argument("--human-output", action="store_true", help="print the oxinfra command's lines on stderr too")
    arguments = parser.parse_args()
    fine = with_pyinfra_api(arguments.inventory, arguments.root, arguments.human_output)
    fine = asyncio.run(with_asyncio(arguments.inventory, arguments.root, arguments.human_output)) and fine
    return 0 if fine else 1


if __name__ == "__main__":
    sys.exit(main())
