"""Connector names in inventories: what `@docker/...`, `@chroot/...`, `@kubernetes/...`
and friends give a host, and the inventory connectors `@terraform` and `@vagrant`.

`terraform` and `vagrant` are replaced by fake executables on PATH that print recorded
output and record their arguments: `terraform output -json` as terraform 1.11.4 printed
it for the configuration in `TERRAFORM_CONFIG`, and `vagrant status --machine-readable`
and `vagrant ssh-config NAME` in the layout Vagrant documents (vagrant is not installed
here). Where terraform is installed, one test runs the real one on that configuration.
Two lab tests reach a lab host through each inventory connector.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

import lab

TERRAFORM_CONFIG = """
output "pyinfra_inventory" {
  value = ["10.0.0.1", "10.0.0.2"]
}
output "servers" {
  value = {
    web = [{ ssh_hostname = "10.0.1.1", ssh_user = "admin" }]
    db  = ["10.0.2.1"]
  }
}
output "count" {
  value = 3
}
"""

# `terraform output -json` for TERRAFORM_CONFIG, from terraform 1.11.4.
TERRAFORM_OUTPUT = {
    "count": {"sensitive": False, "type": "number", "value": 3},
    "pyinfra_inventory": {"sensitive": False, "type": ["tuple", ["string", "string"]], "value": ["10.0.0.1", "10.0.0.2"]},
    "servers": {
        "sensitive": False,
        "type": ["object", {"db": ["tuple", ["string"]], "web": ["tuple", [["object", {"ssh_hostname": "string", "ssh_user": "string"}]]]}],
        "value": {"db": ["10.0.2.1"], "web": [{"ssh_hostname": "10.0.1.1", "ssh_user": "admin"}]},
    },
}

# `vagrant status --machine-readable`: timestamp,target,type,data; commas in data are
# written %!(VAGRANT_COMMA) and newlines \\n, so each record is one line.
VAGRANT_STATUS = r"""1700000000,web,metadata,provider,virtualbox
1700000000,db,metadata,provider,virtualbox
1700000000,cache,metadata,provider,virtualbox
1700000000,web,provider-name,virtualbox
1700000000,web,state,running
1700000000,web,state-human-short,running
1700000000,web,state-human-long,The VM is running. To stop this VM%!(VAGRANT_COMMA) you can run `vagrant halt` to\nshut it down forcefully.
1700000000,db,provider-name,virtualbox
1700000000,db,state,running
1700000000,db,state-human-short,running
1700000000,cache,provider-name,virtualbox
1700000000,cache,state,poweroff
1700000000,cache,state-human-short,poweroff
1700000000,,ui,info,Current machine states:\n\nweb                       running (virtualbox)
"""

VAGRANT_SSH_CONFIG = """Host {name}
  HostName {hostname}
  User {user}
  Port {port}
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  PasswordAuthentication no
  IdentityFile {key}
  IdentitiesOnly yes
  LogLevel FATAL
  PubkeyAcceptedKeyTypes +ssh-rsa
  HostKeyAlgorithms +ssh-rsa

"""


def fake_tool(folder: Path, name: str, responses: dict[str, str]) -> Path:
    """A fake `name` on `folder/bin`: prints the response for its arguments (joined by
    spaces), else fails; appends its arguments to `folder/NAME.calls`."""
    bin_folder = folder / "bin"
    bin_folder.mkdir(exist_ok=True)
    data = folder / f"{name}.responses.json"
    data.write_text(json.dumps(responses))
    script = bin_folder / name
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"open({str(folder / (name + '.calls'))!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        f"responses = json.load(open({str(data)!r}))\n"
        "key = ' '.join(sys.argv[1:])\n"
        "if key not in responses:\n"
        f"    sys.stderr.write('{name}: unknown command: ' + key + '\\n')\n"
        "    sys.exit(1)\n"
        "sys.stdout.write(responses[key])\n"
    )
    script.chmod(0o755)
    return bin_folder


def oxinfra(folder: Path, *args: str, path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    if path is not None:
        env["PATH"] = f"{path}:{env['PATH']}"
    return subprocess.run([sys.executable, "-m", "oxinfra", *args], cwd=folder, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120)


def inventory(folder: Path, spec: str, path: Path | None = None) -> list[dict[str, object]]:
    result = oxinfra(folder, spec, "debug-inventory", "--json", path=path)
    assert result.returncode == 0, result.stderr
    hosts: list[dict[str, object]] = json.loads(result.stdout)
    return hosts


def test_execution_connector_names_give_their_data_and_group(tmp_path: Path) -> None:
    spec = "@docker/alpine:3.8,@podman/web,@dockerssh/build1:alpine:3.8,@podmanssh/build2:img,@chroot/srv/root,@kubernetes/shop/web-0/nginx,@kubernetes/web-1"
    assert inventory(tmp_path, spec) == [
        {"name": "@docker/alpine:3.8", "groups": ["@docker"], "data": {"docker_identifier": "alpine:3.8"}},
        {"name": "@podman/web", "groups": ["@podman"], "data": {"docker_identifier": "web"}},
        {"name": "@dockerssh/build1:alpine:3.8", "groups": ["@dockerssh"], "data": {"ssh_hostname": "build1", "docker_image": "alpine:3.8"}},
        {"name": "@podmanssh/build2:img", "groups": ["@podmanssh"], "data": {"ssh_hostname": "build2", "docker_image": "img"}},
        {"name": "@chroot/srv/root", "groups": ["@chroot"], "data": {"chroot_directory": "/srv/root"}},
        {
            "name": "@kubernetes/shop/web-0/nginx",
            "groups": ["@kubernetes"],
            "data": {"kubernetes_namespace": "shop", "kubernetes_pod": "web-0", "kubernetes_container": "nginx"},
        },
        {"name": "@kubernetes/web-1", "groups": ["@kubernetes"], "data": {"kubernetes_pod": "web-1"}},
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("@docker", "No docker base ID provided!"),
        ("@podman/", "No podman base ID provided!"),
        ("@dockerssh/build1", "No ssh host or docker base image provided!"),
        ("@podmanssh/build1:", "No podman base image provided!"),
        ("@chroot", "No directory provided!"),
        ("@kubernetes", "Invalid @kubernetes target ``: use @kubernetes/[NAMESPACE/]POD[/CONTAINER]"),
        ("@nope/x", "Invalid connector: nope"),
    ],
)
def test_connector_names_without_their_argument_fail(tmp_path: Path, spec: str, message: str) -> None:
    result = oxinfra(tmp_path, spec, "debug-inventory")
    assert result.returncode == 1, result.stderr
    assert message in result.stderr, result.stderr


# terraform


def test_terraform_default_output_is_a_list_of_hosts(tmp_path: Path) -> None:
    path = fake_tool(tmp_path, "terraform", {"output -json": json.dumps(TERRAFORM_OUTPUT)})
    assert inventory(tmp_path, "@terraform", path) == [
        {"name": "@terraform/10.0.0.1", "groups": ["@terraform", "all"], "data": {"ssh_hostname": "10.0.0.1"}},
        {"name": "@terraform/10.0.0.2", "groups": ["@terraform", "all"], "data": {"ssh_hostname": "10.0.0.2"}},
    ]
    assert (tmp_path / "terraform.calls").read_text() == "output -json\n"


def test_terraform_output_key_with_groups_and_host_data(tmp_path: Path) -> None:
    path = fake_tool(tmp_path, "terraform", {"output -json": json.dumps(TERRAFORM_OUTPUT)})
    # Run from an inventory file: the hosts of one name join the file's group too.
    (tmp_path / "inventory.py").write_text("servers = [('@terraform/servers.value', {'ssh_port': 2222})]\n")
    assert inventory(tmp_path, "inventory.py", path) == [
        {"name": "@terraform/10.0.2.1", "groups": ["servers", "@terraform", "db", "inventory"], "data": {"ssh_hostname": "10.0.2.1", "ssh_port": 2222}},
        {
            "name": "@terraform/10.0.1.1",
            "groups": ["servers", "@terraform", "web", "inventory"],
            "data": {"ssh_hostname": "10.0.1.1", "ssh_user": "admin", "ssh_port": 2222},
        },
    ]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("nope", "No Terraform output with key: `nope`, valid keys:\n   - count\n   - count.sensitive"),
        ("count.value", "Invalid Terraform output type, should be `list`, got `int`"),
    ],
)
def test_terraform_bad_keys_say_what_there_is(tmp_path: Path, key: str, message: str) -> None:
    path = fake_tool(tmp_path, "terraform", {"output -json": json.dumps(TERRAFORM_OUTPUT)})
    result = oxinfra(tmp_path, f"@terraform/{key}", "debug-inventory", path=path)
    assert result.returncode == 1, result.stderr
    assert message in result.stderr, result.stderr


def test_terraform_failing_is_an_inventory_error_with_its_stderr(tmp_path: Path) -> None:
    path = fake_tool(tmp_path, "terraform", {})
    result = oxinfra(tmp_path, "@terraform", "debug-inventory", path=path)
    assert result.returncode == 1, result.stderr
    assert "`terraform output -json` failed with exit status 1: terraform: unknown command: output -json" in result.stderr, result.stderr


def test_real_terraform_output(tmp_path: Path) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not installed (the recorded-output tests cover @terraform)")
    (tmp_path / "main.tf").write_text(TERRAFORM_CONFIG)
    for command in (["terraform", "init", "-input=false"], ["terraform", "apply", "-auto-approve", "-input=false"]):
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
        if done.returncode != 0:
            pytest.skip(f"`{' '.join(command)}` failed here: {done.stderr.strip()[-300:]}")
    real = json.loads(subprocess.run(["terraform", "output", "-json"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout)
    assert {key: value["value"] for key, value in real.items()} == {key: value["value"] for key, value in TERRAFORM_OUTPUT.items()}
    names = [host["name"] for host in inventory(tmp_path, "@terraform/servers.value")]
    assert names == ["@terraform/10.0.2.1", "@terraform/10.0.1.1"]


# vagrant


def vagrant_responses(machines: dict[str, dict[str, object]], status: str = VAGRANT_STATUS) -> dict[str, str]:
    responses = {"status --machine-readable": status}
    for name, config in machines.items():
        responses[f"ssh-config {name}"] = VAGRANT_SSH_CONFIG.format(name=name, **config)
    return responses


MACHINES: dict[str, dict[str, object]] = {
    "web": {"hostname": "127.0.0.1", "user": "vagrant", "port": 2222, "key": "/home/u/project/.vagrant/machines/web/virtualbox/private_key"},
    "db": {"hostname": "127.0.0.1", "user": "vagrant", "port": 2200, "key": "/home/u/project/.vagrant/machines/db/virtualbox/private_key"},
}


def test_vagrant_running_machines_become_ssh_hosts(tmp_path: Path) -> None:
    path = fake_tool(tmp_path, "vagrant", vagrant_responses(MACHINES))
    hosts = inventory(tmp_path, "@vagrant", path)
    assert sorted(hosts, key=lambda host: str(host["name"])) == [
        {
            "name": "@vagrant/db",
            "groups": ["@vagrant"],
            "data": {"ssh_hostname": "127.0.0.1", "ssh_port": 2200, "ssh_user": "vagrant", "ssh_key": MACHINES["db"]["key"]},
        },
        {
            "name": "@vagrant/web",
            "groups": ["@vagrant"],
            "data": {"ssh_hostname": "127.0.0.1", "ssh_port": 2222, "ssh_user": "vagrant", "ssh_key": MACHINES["web"]["key"]},
        },
    ]
    calls = sorted((tmp_path / "vagrant.calls").read_text().splitlines())
    # The stopped `cache` machine is not asked for its ssh config.
    assert calls == ["ssh-config db", "ssh-config web", "status --machine-readable"]


def test_vagrant_one_machine_with_json_data_and_groups(tmp_path: Path) -> None:
    path = fake_tool(tmp_path, "vagrant", vagrant_responses(MACHINES))
    (tmp_path / "@vagrant.json").write_text(json.dumps({"data": {"web": {"app_port": 8080}}, "groups": {"web": ["webservers"]}}))
    assert inventory(tmp_path, "@vagrant/web", path) == [
        {
            "name": "@vagrant/web",
            "groups": ["webservers", "@vagrant"],
            "data": {"ssh_hostname": "127.0.0.1", "ssh_port": 2222, "ssh_user": "vagrant", "ssh_key": MACHINES["web"]["key"], "app_port": 8080},
        }
    ]


def test_vagrant_without_running_machines_fails(tmp_path: Path) -> None:
    path = fake_tool(tmp_path, "vagrant", vagrant_responses(MACHINES))
    result = oxinfra(tmp_path, "@vagrant/cache", "debug-inventory", path=path)
    assert result.returncode == 1, result.stderr
    assert "No running Vagrant instances matching `cache` found!" in result.stderr, result.stderr


# End to end: a lab host reached through each inventory connector.


DEPLOY = "from pyinfra import host\nfrom pyinfra.operations import files\nfiles.put(src='marker', dest='/tmp/oxinfra-{tool}-marker')\n"


@pytest.mark.parametrize("tool", ["terraform", "vagrant"])
def test_inventory_connector_hosts_are_deployed_over_ssh(lab_hosts, tmp_path: Path, tool: str) -> None:
    host = lab_hosts(1)[0]
    key = str(lab.state_dir() / "keys" / "id_ed25519")
    known_hosts = str(lab.state_dir() / "known_hosts")
    if tool == "terraform":
        value = [{"name": "lab1", "ssh_hostname": host.address, "ssh_user": "root", "ssh_key": key, "ssh_known_hosts_file": known_hosts}]
        output = {"pyinfra_inventory": {"sensitive": False, "type": ["tuple", [["object", {}]]], "value": value}}
        path = fake_tool(tmp_path, "terraform", {"output -json": json.dumps(output)})
        name = "@terraform/lab1"
    else:
        machines = {"lab1": {"hostname": host.address, "user": "root", "port": host.port, "key": key}}
        status = "1700000000,lab1,metadata,provider,docker\n1700000000,lab1,state,running\n"
        path = fake_tool(tmp_path, "vagrant", vagrant_responses(machines, status))
        (tmp_path / "@vagrant.json").write_text(json.dumps({"data": {"lab1": {"ssh_known_hosts_file": known_hosts}}}))
        name = "@vagrant/lab1"
    (tmp_path / "deploy.py").write_text(DEPLOY.format(tool=tool))
    # Lab hosts keep their files between runs: a new content each time.
    marker = f"reached through {tool} {uuid.uuid4().hex}\n"
    (tmp_path / "marker").write_text(marker)
    result = oxinfra(tmp_path, f"@{tool}", "deploy.py", "-y", path=path)
    assert result.returncode == 0, result.stderr
    assert f"[{name}] Success" in result.stderr, result.stderr
    assert host.read_text(f"/tmp/oxinfra-{tool}-marker") == marker
