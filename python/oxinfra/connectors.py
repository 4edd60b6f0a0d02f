"""Connector names in inventories, as pyinfra's `make_names_data`: what hosts an
`@connector/argument` name stands for, with the data and groups each gets.

Execution connectors (`@docker/...`, `@chroot/...`, ...) name one host, whose commands
the Rust connector of the same name runs. The inventory connectors `@terraform` and
`@vagrant` run their tool here, while the inventory is built, and stand for the SSH
hosts it lists (named `@terraform/NAME` and `@vagrant/NAME`).
"""

from __future__ import annotations

import functools
import json
import os
import shlex
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from oxinfra.api.exceptions import InventoryError, NoConnectorError

NameData = tuple[str, dict[str, Any], list[str]]

EXECUTION_CONNECTORS = ("local", "fake", "ssh", "docker", "podman", "dockerssh", "podmanssh", "chroot", "kubernetes")
INVENTORY_CONNECTORS = ("terraform", "vagrant")
CONNECTORS = EXECUTION_CONNECTORS + INVENTORY_CONNECTORS


def make_names_data(name: str) -> list[NameData]:
    """The hosts `name` stands for, each as (name, data, groups). A plain host name is
    itself, with no data; an unknown connector raises `NoConnectorError`."""
    if not name.startswith("@"):
        return [(name, {}, [])]
    connector, _, argument = name[1:].partition("/")
    if connector not in CONNECTORS:
        raise NoConnectorError(f"Invalid connector: {connector}")
    if connector == "local":
        if argument:
            raise InventoryError("The @local connector takes no argument")
        return [("@local", {}, ["@local"])]
    if connector in ("fake", "ssh"):
        data = {"ssh_hostname": argument} if connector == "ssh" and argument else {}
        return [(name, data, [f"@{connector}"])]
    if connector in ("docker", "podman"):
        if not argument:
            raise InventoryError(f"No {connector} base ID provided!")
        return [(name, {"docker_identifier": argument}, [f"@{connector}"])]
    if connector in ("dockerssh", "podmanssh"):
        tool = connector.removesuffix("ssh")
        hostname, colon, image = argument.partition(":")
        if not colon:
            raise InventoryError(f"No ssh host or {tool} base image provided!")
        if not image:
            raise InventoryError(f"No {tool} base image provided!")
        return [(name, {"ssh_hostname": hostname, "docker_image": image}, [f"@{connector}"])]
    if connector == "chroot":
        if not argument:
            raise InventoryError("No directory provided!")
        return [(name, {"chroot_directory": "/" + argument.lstrip("/")}, ["@chroot"])]
    if connector == "kubernetes":
        return [(name, _kubernetes_data(argument), ["@kubernetes"])]
    if connector == "terraform":
        return list(_terraform_hosts(argument or None))
    return list(_vagrant_hosts(argument or None))


def _kubernetes_data(argument: str) -> dict[str, Any]:
    parts = argument.split("/")
    if not argument or len(parts) > 3 or not all(parts):
        raise InventoryError(f"Invalid @kubernetes target `{argument}`: use @kubernetes/[NAMESPACE/]POD[/CONTAINER]")
    if len(parts) == 1:
        return {"kubernetes_pod": parts[0]}
    data = {"kubernetes_namespace": parts[0], "kubernetes_pod": parts[1]}
    if len(parts) == 3:
        data["kubernetes_container"] = parts[2]
    return data


def _run_tool(command: str) -> str:
    """Runs an inventory connector's tool here and returns its stdout."""
    tool = shlex.split(command)[0]
    try:
        result = subprocess.run(command, shell=True, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
    except OSError as error:
        raise InventoryError(f"`{command}` could not run: {error}") from error
    if result.returncode == 127:
        raise InventoryError(f"`{command}` failed: `{tool}` is not installed (not found on PATH)")
    if result.returncode != 0:
        tail = " ".join(result.stderr.strip().splitlines()[-5:])
        raise InventoryError(f"`{command}` failed with exit status {result.returncode}" + (f": {tail}" if tail else ""))
    return result.stdout


# terraform


@functools.cache
def _terraform_output(cwd: str) -> str:
    return _run_tool("terraform output -json")


def _flatten(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"a": {"b": 1}}` -> `{"a": {...}, "a.b": 1}`: every level keeps its own key."""
    flat: dict[str, Any] = {}
    for key, item in value.items():
        path = f"{prefix}.{key}" if prefix else key
        flat[path] = item
        if isinstance(item, dict):
            flat.update(_flatten(item, path))
    return flat


def _terraform_hosts(key: str | None) -> Iterator[NameData]:
    """The hosts of a `terraform output -json` value: a list of host names or of dicts
    with `ssh_hostname` (or `name`) and other data, or a dict of such lists by group."""
    key = key or "pyinfra_inventory.value"
    raw = _terraform_output(os.getcwd())
    try:
        outputs = json.loads(raw)
    except ValueError as error:
        raise InventoryError(f"`terraform output -json` printed no JSON: {error}") from error
    flat = _flatten(outputs) if isinstance(outputs, dict) else {}
    value = flat.get(key)
    if value is None:
        keys = "\n".join(f"   - {known}" for known in flat)
        raise InventoryError(f"No Terraform output with key: `{key}`, valid keys:\n{keys}")
    if not isinstance(value, (list, dict)):
        raise InventoryError(f"Invalid Terraform output type, should be `list`, got `{type(value).__name__}`")
    groups = {"all": value} if isinstance(value, list) else value
    for group, hosts in groups.items():
        if not isinstance(hosts, list):
            raise InventoryError(f"Invalid Terraform map value type, all values should be `list`, got `{type(hosts).__name__}`")
        for host in hosts:
            if isinstance(host, dict):
                data = dict(host)
                name = data.pop("name", data.get("ssh_hostname"))
                if name is None:
                    raise InventoryError("Invalid Terraform list item, missing `name` or `ssh_hostname` keys")
                yield f"@terraform/{name}", data, ["@terraform", group]
            elif isinstance(host, str):
                yield f"@terraform/{host}", {"ssh_hostname": host}, ["@terraform", group]
            else:
                raise InventoryError(f"Invalid Terraform list item, should be `dict` or `str` got `{type(host).__name__}`")


# vagrant


@functools.cache
def _vagrant_ssh_config(limit: str | None, cwd: str) -> tuple[str, ...]:
    """The `vagrant ssh-config` lines of every running machine (of `limit` only when given)."""
    targets = []
    for line in _run_tool("vagrant status --machine-readable").splitlines():
        fields = line.strip().split(",", 3)
        if len(fields) < 4:
            continue
        _, target, kind, data = fields
        if limit is not None and target != limit:
            continue
        if kind == "state" and data == "running":
            targets.append(target)
    # vagrant is slow to start: ask for every machine at once.
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(targets)))) as pool:
        outputs = list(pool.map(lambda target: _run_tool(f"vagrant ssh-config {shlex.quote(target)}"), targets))
    lines: list[str] = []
    for output in outputs:
        lines.extend(line.strip() for line in output.splitlines())
        lines.append("")
    return tuple(lines)


def _vagrant_options() -> dict[str, Any]:
    """`@vagrant.json` in the current folder: extra `data` and `groups` per machine."""
    path = Path("@vagrant.json")
    if not path.exists():
        return {}
    options = json.loads(path.read_text(encoding="utf-8"))
    return options if isinstance(options, dict) else {}


def _vagrant_host(config: dict[str, str], options: dict[str, Any]) -> NameData:
    machine = config["Host"]
    data: dict[str, Any] = {"ssh_hostname": config.get("HostName", machine)}
    for config_key, data_key in (("Port", "ssh_port"), ("User", "ssh_user"), ("IdentityFile", "ssh_key")):
        if config_key in config:
            value = config[config_key].strip('"')
            data[data_key] = int(value) if data_key == "ssh_port" else value
    data.update(options.get("data", {}).get(machine, {}))
    groups = list(options.get("groups", {}).get(machine, []))
    if "@vagrant" not in groups:
        groups.append("@vagrant")
    return f"@vagrant/{machine}", data, groups


def _vagrant_hosts(limit: str | None) -> Iterator[NameData]:
    """The running Vagrant machines as SSH hosts, from `vagrant ssh-config`."""
    options = _vagrant_options()
    hosts: list[NameData] = []
    current: dict[str, str] | None = None
    for line in _vagrant_ssh_config(limit, os.getcwd()):
        if not line:
            # vagrant prints an empty line after each machine.
            if current:
                hosts.append(_vagrant_host(current, options))
            current = None
            continue
        key, _, value = line.partition(" ")
        if key == "Host":
            if current:
                hosts.append(_vagrant_host(current, options))
            current = {key: value.strip()}
        elif current is not None:
            current[key] = value.strip()
    if current:
        hosts.append(_vagrant_host(current, options))
    if not hosts:
        if limit:
            raise InventoryError(f"No running Vagrant instances matching `{limit}` found!")
        raise InventoryError("No running Vagrant instances found!")
    yield from hosts
