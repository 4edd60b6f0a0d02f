"""An example pyinfra deploy, unchanged: run it with `oxinfra @local examples/deploy.py -y`
(or `pyinfra`). It writes only under `/tmp/oxinfra-example` (or `$OXINFRA_EXAMPLE_DIR`)."""

import os

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, python, server

ROOT = os.environ.get("OXINFRA_EXAMPLE_DIR", "/tmp/oxinfra-example")


@deploy("Layout")
def layout():
    files.directory(name="App folder", path=f"{ROOT}/app/conf", mode="755")
    files.directory(name="Log folder", path=f"{ROOT}/app/log", mode="750")


layout()

files.put(name="Upload motd", src="files/motd", dest=f"{ROOT}/app/motd", mode="644")
files.template(
    name="Render config",
    src="templates/app.conf.j2",
    dest=f"{ROOT}/app/conf/app.conf",
    app_name=host.data.get("app_name", "demo"),
    port=8080,
)
files.link(name="Current link", path=f"{ROOT}/current", target=f"{ROOT}/app")
flag = files.file(name="Ready flag", path=f"{ROOT}/app/ready", mode="600")
files.line(name="Debug switch", path=f"{ROOT}/app/conf/local.conf", line="debug=true")
files.block(name="Managed block", path=f"{ROOT}/app/conf/extra.conf", content="workers=4\ntimeout=30")
server.shell(name="Note first install", commands=[f"date > {ROOT}/app/installed-at"], _if=flag.did_change)


def announce():
    print(f"    [{host.name}] first install done")


python.call(name="Announce", function=announce, _if=flag.did_change)
