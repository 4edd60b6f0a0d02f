"""Every operation of the foundation, over SSH on 10 lab hosts, as `root`, as `deploy`
with `_sudo` and as `deploy2` with a sudo password: the first run makes the hosts as
asked (checked from outside each host), the second run changes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

HOSTS = 10

DEPLOY = """
from pyinfra import host
from pyinfra.operations import files, python, server

ROOT = "/opt/oxtest-{user}"
SUDO = {sudo}

files.directory(name="Dir", path=ROOT + "/conf", mode="750", _sudo=SUDO)
files.put(name="Put", src="motd", dest=ROOT + "/motd", mode="640", _sudo=SUDO)
files.template(name="Template", src="app.conf.j2", dest=ROOT + "/conf/app.conf", port=8080, _sudo=SUDO)
files.link(name="Link", path=ROOT + "/current", target=ROOT + "/conf", _sudo=SUDO)
flag = files.file(name="Flag", path=ROOT + "/ready", mode="600", user="nobody", _sudo=SUDO)
files.line(name="Line", path=ROOT + "/settings", line="debug=true", _sudo=SUDO)
files.block(name="Block", path=ROOT + "/extra.conf", content="workers=4", _sudo=SUDO)
server.shell(
    name="Shell",
    commands=["hostname > " + ROOT + "/hostname", "echo bind=127.0.0.1 > " + ROOT + "/bind.conf"],
    _if=flag.did_change,
    _sudo=SUDO,
)
files.replace(name="Replace", path=ROOT + "/bind.conf", text="^bind=127.*$", replace="bind=0.0.0.0", _sudo=SUDO)
server.script(name="Script", src="script.sh", _if=flag.did_change, _sudo=SUDO)
server.script_template(name="Script template", src="script.sh.j2", _if=flag.did_change, _sudo=SUDO, marker="templated")
files.get(name="Get", src=ROOT + "/motd", dest="fetched/" + host.name + ".motd", _sudo=SUDO)

def note():
    with open("called-" + host.name, "w") as file:
        file.write("yes")

python.call(name="Call", function=note, _if=flag.did_change)
"""


def write_project(folder: Path, user: str) -> None:
    (folder / "deploy.py").write_text(DEPLOY.format(user=user, sudo=user != "root"))
    (folder / "motd").write_text("hello over ssh\n")
    (folder / "app.conf.j2").write_text("name={{ host.name }}\nport={{ port }}\nbind=127.0.0.1\n")
    (folder / "script.sh").write_text("#!/bin/sh\necho script > /opt/oxtest-" + user + "/script-ran\n")
    (folder / "script.sh.j2").write_text("#!/bin/sh\necho {{ marker }} > /opt/oxtest-" + user + "/template-ran\n")
    (folder / "fetched").mkdir()


@pytest.mark.parametrize("user", ["root", "deploy", "deploy2"])
def test_foundation_operations_over_ssh(oxinfra, lab_hosts, lab_inventory, tmp_path: Path, user: str) -> None:
    hosts = lab_hosts(HOSTS)
    lab_inventory(tmp_path, HOSTS, user)
    write_project(tmp_path, user)
    root = f"/opt/oxtest-{user}"
    for host in hosts:
        # Earlier runs of this test leave their files: start from none.
        target = host.path(root)
        if target.exists():
            import shutil

            shutil.rmtree(target)

    first = oxinfra("inventory.py", "deploy.py", "-y")
    assert first.code == 0, first
    for host in hosts:
        assert host.read_text(f"{root}/motd") == "hello over ssh\n"
        assert host.read_text(f"{root}/conf/app.conf") == f"name={host.name}\nport=8080\nbind=127.0.0.1\n"
        assert host.read_text(f"{root}/bind.conf") == "bind=0.0.0.0\n"
        assert host.read_text(f"{root}/settings") == "debug=true\n"
        assert "workers=4" in host.read_text(f"{root}/extra.conf")
        # Other tests may rename the hosts: only check the command ran there.
        assert host.read_text(f"{root}/hostname").strip()
        assert host.read_text(f"{root}/script-ran") == "script\n"
        assert host.read_text(f"{root}/template-ran") == "templated\n"
        assert (tmp_path / "fetched" / f"{host.name}.motd").read_text() == "hello over ssh\n"
        assert (tmp_path / f"called-{host.name}").read_text() == "yes"
        assert oct(host.path(f"{root}/motd").stat().st_mode & 0o777) == "0o640"
        assert oct(host.path(f"{root}/conf").stat().st_mode & 0o777) == "0o750"

    second = oxinfra("inventory.py", "deploy.py", "-y")
    assert second.code == 0, second
    changed = re.findall(r"\[(host\d+)\]\s+Success", second.stderr)
    assert changed == [], second
