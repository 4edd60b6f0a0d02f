"""Inventories as pyinfra builds them: `@local` and other connector names, comma lists,
and `inventory.py` files of groups with host data, plus `group_data/` folders and
`--data` overrides; and the `Inventory` object deploy code reads."""

from __future__ import annotations

import fnmatch
import os
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from oxinfra.api.exceptions import InventoryError, NoGroupError, NoHostError
from oxinfra.api.host import Host, HostData
from oxinfra.connectors import make_names_data


class Inventory:
    """Hosts, groups and data. `Inventory((hosts, data), group=(hosts, data), ...)`."""

    def __init__(self, names_data: tuple[list[Any], dict[str, Any]] | list[Any], override_data: dict[str, Any] | None = None, **groups: Any) -> None:
        if isinstance(names_data, tuple):
            names, global_data = names_data
        else:
            names, global_data = names_data, {}
        self.global_data: dict[str, Any] = dict(global_data or {})
        self.override_data: dict[str, Any] = dict(override_data or {})
        self.group_data: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, list[Host]] = {}
        self.state: Any = None
        self._hosts: dict[str, Host] = {}
        self._host_data: dict[str, dict[str, Any]] = {}
        self._host_groups: dict[str, list[str]] = {}

        group_entries: list[tuple[str, list[Any], dict[str, Any]]] = []
        for group_name, group_value in groups.items():
            hosts, data = group_value if isinstance(group_value, tuple) else (group_value, {})
            group_entries.append((group_name, list(hosts), dict(data or {})))
            self.group_data.setdefault(group_name, {}).update(data or {})

        for group_name, hosts, _ in group_entries:
            for entry in hosts:
                self._add_name(entry, group_name)
        for entry in names:
            self._add_name(entry, None)

        for index, name in enumerate(self._hosts):
            self._hosts[name].index = index
        for group_name, _, _ in group_entries:
            self.groups.setdefault(group_name, [])
        for host in self._hosts.values():
            for group in host.groups:
                members = self.groups.setdefault(group, [])
                if host not in members:
                    members.append(host)
        self._build_data()

    def _add_name(self, entry: Any, group: str | None) -> None:
        if isinstance(entry, tuple):
            name, data = entry
        elif isinstance(entry, str):
            name, data = entry, {}
        else:
            raise InventoryError(f"Invalid host entry {entry!r}: use a name or (name, data)")
        # A connector name may stand for several hosts (`@terraform`, `@vagrant`).
        for host_name, connector_data, connector_groups in make_names_data(name):
            if host_name not in self._hosts:
                self._hosts[host_name] = Host(host_name, len(self._hosts), [])
                self._host_data[host_name] = dict(connector_data)
                self._host_groups[host_name] = []
            groups = self._host_groups[host_name]
            if group is not None and group not in groups:
                groups.append(group)
            for connector_group in connector_groups:
                if connector_group not in groups:
                    groups.append(connector_group)
            self._host_data[host_name].update(data or {})
            self._hosts[host_name].groups = groups

    def _build_data(self) -> None:
        for name, host in self._hosts.items():
            layers = [self.group_data.get(group, {}) for group in host.groups]
            host.data = HostData(host, self.override_data, self._host_data[name], layers, self.global_data)

    def add_group_data(self, group: str, data: dict[str, Any]) -> None:
        """Adds data to a group (later sources win per key) and rebuilds host data."""
        if group == "all":
            self.global_data.update(data)
        else:
            self.group_data.setdefault(group, {}).update(data)
            self.groups.setdefault(group, [])
        self._build_data()

    def __iter__(self) -> Iterator[Host]:
        return iter(self._hosts.values())

    def __len__(self) -> int:
        return len(self._hosts)

    @property
    def hosts_by_index(self) -> list[Host]:
        return list(self._hosts.values())

    def get_host(self, name: str, default: Any = NoHostError) -> Host:
        if name in self._hosts:
            return self._hosts[name]
        if default is NoHostError:
            raise NoHostError(f"No such host: {name}")
        return default  # type: ignore[no-any-return]

    def get_group(self, name: str, default: Any = NoGroupError) -> list[Host]:
        if name in self.groups:
            return self.groups[name]
        if default is NoGroupError:
            raise NoGroupError(f"No such group: {name}")
        return default  # type: ignore[no-any-return]

    @staticmethod
    def empty() -> Inventory:
        return Inventory(([], {}))

    def get_active_hosts(self) -> list[Host]:
        """Hosts of the run that connected and have not failed, in inventory order."""
        if self.state is None:
            return []
        return [self.hosts_by_index[index] for index in self.state.engine.active_hosts()]

    def len_active_hosts(self) -> int:
        return len(self.get_active_hosts())

    def iter_activated_hosts(self) -> Iterator[Host]:
        return iter([] if self.state is None else sorted(self.state.activated_hosts, key=lambda host: host.index))

    def len_activated_hosts(self) -> int:
        return 0 if self.state is None else len(self.state.activated_hosts)

    def get_host_data(self, hostname: str) -> dict[str, Any]:
        return self._host_data.get(hostname, {})

    def get_group_data(self, group: str) -> dict[str, Any]:
        return self.group_data.get(group, {})

    def get_groups_data(self, groups: list[str]) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for group in groups:
            merged.update(self.group_data.get(group, {}))
        return merged

    def get_data(self) -> dict[str, Any]:
        return dict(self.global_data)

    def get_override_data(self) -> dict[str, Any]:
        return dict(self.override_data)

    def limit(self, patterns: list[str], exclude: list[str]) -> list[str]:
        """Keeps hosts matching `--limit` (groups or globs) and not `--exclude`; returns
        the patterns that matched nothing."""
        unmatched = []

        def matches(pattern: str) -> set[str]:
            if pattern in self.groups:
                return {host.name for host in self.groups[pattern]}
            return {name for name in self._hosts if fnmatch.fnmatch(name, pattern)}

        keep = set(self._hosts)
        if patterns:
            keep = set()
            for pattern in patterns:
                found = matches(pattern)
                if not found:
                    unmatched.append(pattern)
                keep |= found
        for pattern in exclude:
            keep -= matches(pattern)
        self._hosts = {name: host for name, host in self._hosts.items() if name in keep}
        for index, host in enumerate(self._hosts.values()):
            host.index = index
        self.groups = {group: [host for host in hosts if host.name in keep] for group, hosts in self.groups.items()}
        return unmatched


def load_python_file(path: str, namespace_extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Executes a Python file and returns its module-level names."""
    source = Path(path).read_text()
    namespace: dict[str, Any] = {"__file__": path, "__name__": Path(path).stem}
    namespace.update(namespace_extra or {})
    exec(compile(source, path, "exec"), namespace)
    return namespace


def _groups_from_module(namespace: dict[str, Any]) -> dict[str, Any]:
    groups: dict[str, Any] = {}
    for key, value in namespace.items():
        if key.startswith("_") or isinstance(value, types.ModuleType):
            continue
        if isinstance(value, list):
            groups[key] = (value, {})
        elif isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], list) and isinstance(value[1], dict):
            groups[key] = value
    return groups


def _group_data_of(path: str) -> dict[str, Any]:
    namespace = load_python_file(path)
    names = namespace.get("__all__")
    data = {}
    for key, value in namespace.items():
        if key.startswith("__") or isinstance(value, types.ModuleType) or (names is not None and key not in names):
            continue
        if callable(value) and getattr(value, "__module__", None) not in (None, Path(path).stem):
            continue
        data[key] = value
    return data


def make_inventory(spec: str, override_data: dict[str, Any], group_data_paths: list[str], cwd: str) -> Inventory:
    """Builds the inventory from the CLI's INVENTORY argument."""
    inventory_dir = None
    if os.path.isfile(spec):
        namespace = load_python_file(spec)
        groups = _groups_from_module(namespace)
        stem = Path(spec).stem
        all_hosts, all_data = groups.pop("all", ([], {}))
        if not all_hosts:
            seen: list[Any] = []
            for hosts, _ in groups.values():
                for entry in hosts:
                    if entry not in seen:
                        seen.append(entry)
            all_hosts = seen
        if stem not in groups:
            groups[stem] = ([entry if isinstance(entry, str) else entry[0] for entry in all_hosts], {})
        inventory = Inventory(([entry for entry in all_hosts if isinstance(entry, str)], all_data), override_data, **groups)
        inventory_dir = os.path.dirname(os.path.abspath(spec))
    elif "," in spec or spec.startswith("@") or spec:
        names = [name.strip() for name in spec.split(",") if name.strip()]
        inventory = Inventory((names, {}), override_data)
    folders = [os.path.join(cwd, "group_data")]
    if inventory_dir and os.path.join(inventory_dir, "group_data") not in folders:
        folders.append(os.path.join(inventory_dir, "group_data"))
    folders.extend(group_data_paths)
    for folder in folders:
        files = [folder] if os.path.isfile(folder) else sorted(str(path) for path in Path(folder).glob("*.py")) if os.path.isdir(folder) else []
        for path in files:
            inventory.add_group_data(Path(path).stem, _group_data_of(path))
    return inventory
