"""The benchmark's workload: a small application host, 17 operations.

A plain pyinfra 3.x deploy file: `pyinfra INVENTORY deploy.py` and
`oxinfra INVENTORY deploy.py` run it unchanged. `playbook.yml` is the same deploy for
Ansible and `floor.py` the same changes as one shell script; keep the three in step.
Host data (`app_port`, `workers`) comes from the inventory the harness writes.
"""

from pyinfra import host
from pyinfra.operations import apt, files, server

APP = "/srv/benchapp"

apt.packages(name="Install tree and jq", packages=["tree", "jq"])

server.group(name="Group benchapp", group="benchapp")
server.user(
    name="User benchapp",
    user="benchapp",
    group="benchapp",
    home="/home/benchapp",
    shell="/bin/sh",
    create_home=True,
)

app_dir = files.directory(name="Application folder", path=APP, user="benchapp", group="benchapp", mode="755")
files.directory(name="Configuration folder", path=APP + "/conf", user="root", group="benchapp", mode="750")
files.directory(name="Log folder", path="/var/log/benchapp", user="benchapp", group="benchapp", mode="750")

files.put(name="Application settings", src="files/app.ini", dest=APP + "/conf/app.ini", user="root", group="benchapp", mode="640")
files.put(name="Start script", src="files/run.sh", dest=APP + "/run.sh", user="benchapp", group="benchapp", mode="755")
files.put(name="Defaults", src="files/benchapp.default", dest="/etc/default/benchapp", mode="644")
files.put(name="Message of the day", src="files/motd", dest="/etc/motd", mode="644")
files.template(
    name="Host configuration",
    src="templates/host.conf.j2",
    dest=APP + "/conf/host.conf",
    user="root",
    group="benchapp",
    mode="640",
    hostname=host.name,
    app_port=host.data.app_port,
    workers=host.data.workers,
)

files.link(name="Current release link", path=APP + "/current", target=APP + "/conf")
files.file(name="Log file", path="/var/log/benchapp/app.log", user="benchapp", group="benchapp", mode="640")

# Runs only when the application folder was just made: writes a file the next
# operation edits, so the edit has something to do on a first run only.
server.shell(
    name="Seed server settings",
    commands=["printf 'bind=127.0.0.1\\nport=8080\\n' > " + APP + "/conf/server.conf"],
    _if=app_dir.did_change,
)
files.replace(name="Listen on every address", path=APP + "/conf/server.conf", text="^bind=127.0.0.1$", replace="bind=0.0.0.0")

files.line(name="Name the application host", path="/etc/hosts", line="127.0.0.1 benchapp.internal")
files.line(name="Open-file limit", path=APP + "/conf/limits.conf", line="nofile=4096")
