"""The floor: the workload's changes as one shell script per host, sent over one SSH
connection as one command (`ssh host sh -s < script`), every host in parallel.

No tool can do the first run with fewer round trips or remote processes. Its no-change
run is one connection and one command that reads everything the workload checks (the
"one batched fact round trip" of issue 5), without deciding anything.
Keep `changes` in step with `workload/deploy.py`.
"""

from __future__ import annotations

import base64
import shlex
from pathlib import Path

import jinja2

WORKLOAD = Path(__file__).resolve().parent / "workload"
APP = "/srv/benchapp"


def put(content: bytes, dest: str, mode: str, owner: str | None = None) -> list[str]:
    encoded = base64.b64encode(content).decode()
    lines = [f"printf %s {encoded} | base64 -d > {dest}"]
    if owner:
        lines.append(f"chown {owner} {dest}")
    lines.append(f"chmod {mode} {dest}")
    return lines


def line(path: str, text: str) -> str:
    # files.line's match: the line anywhere in a line of the file.
    return f"grep -q -e {shlex.quote('^.*' + text + '.*$')} {path} 2>/dev/null || echo {shlex.quote(text)} >> {path}"


def render_template(hostname: str, data: dict[str, int]) -> bytes:
    # As pyinfra's get_template: keep_trailing_newline, default delimiters.
    environment = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    template = environment.from_string((WORKLOAD / "templates" / "host.conf.j2").read_text())
    return template.render(hostname=hostname, **data).encode()


def changes(hostname: str, data: dict[str, int]) -> str:
    """The first run of the workload on one host, as one script."""
    read = lambda name: (WORKLOAD / "files" / name).read_bytes()  # noqa: E731
    script = [
        "set -e",
        "export DEBIAN_FRONTEND=noninteractive",
        "apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold install tree jq > /dev/null",
        "getent group benchapp > /dev/null || groupadd benchapp",
        "id -u benchapp > /dev/null 2>&1 || useradd -d /home/benchapp -g benchapp -s /bin/sh -m benchapp",
        f"if [ -d {APP} ]; then fresh=0; else fresh=1; fi",
        f"install -d -o benchapp -g benchapp -m 755 {APP}",
        f"install -d -o root -g benchapp -m 750 {APP}/conf",
        "install -d -o benchapp -g benchapp -m 750 /var/log/benchapp",
        *put(read("app.ini"), f"{APP}/conf/app.ini", "640", "root:benchapp"),
        *put(read("run.sh"), f"{APP}/run.sh", "755", "benchapp:benchapp"),
        *put(read("benchapp.default"), "/etc/default/benchapp", "644"),
        *put(read("motd"), "/etc/motd", "644"),
        *put(render_template(hostname, data), f"{APP}/conf/host.conf", "640", "root:benchapp"),
        f"ln -sfn {APP}/conf {APP}/current",
        "touch /var/log/benchapp/app.log && chown benchapp:benchapp /var/log/benchapp/app.log && chmod 640 /var/log/benchapp/app.log",
        f"if [ $fresh = 1 ]; then printf 'bind=127.0.0.1\\nport=8080\\n' > {APP}/conf/server.conf; fi",
        f"sed -i 's/^bind=127.0.0.1$/bind=0.0.0.0/' {APP}/conf/server.conf",
        line("/etc/hosts", "127.0.0.1 benchapp.internal"),
        line(f"{APP}/conf/limits.conf", "nofile=4096"),
    ]
    return "\n".join(script) + "\n"


def check() -> str:
    """The no-change run: read, in one command, every fact the workload's operations need."""
    files = " ".join(
        [
            f"{APP}",
            f"{APP}/conf",
            f"{APP}/current",
            "/var/log/benchapp",
            "/var/log/benchapp/app.log",
            "/home/benchapp",
        ]
    )
    contents = " ".join([f"{APP}/conf/app.ini", f"{APP}/run.sh", "/etc/default/benchapp", "/etc/motd", f"{APP}/conf/host.conf", f"{APP}/conf/server.conf"])
    script = [
        "dpkg-query -W -f '${Package} ${Version} ${Status}\\n' tree jq",
        "getent group benchapp; getent passwd benchapp",
        f"stat -c '%n %F %a %U %G %N' {files} {contents}",
        f"sha256sum {contents}",
        f"grep -c -e '^bind=127.0.0.1$' {APP}/conf/server.conf || true",
        "grep -n -e '^.*127.0.0.1 benchapp.internal.*$' /etc/hosts",
        f"grep -n -e '^.*nofile=4096.*$' {APP}/conf/limits.conf",
    ]
    return "\n".join(script) + "\n"
