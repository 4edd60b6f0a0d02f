"""The `files` operations that `test_ssh_deploy.py` leaves out, over SSH on 3 lab hosts
as `root`: `files.download` (from an HTTP server in this test, which the hosts reach on
127.0.0.1 because they share the machine's network), `files.sync` (with `delete` and
`exclude`), `files.copy`, `files.move`, and `files.unarchive` of a local `.tar.gz` and
of a `.zip` already on the host. The first run makes each host as asked (checked from
outside the host), the second run changes nothing.

`files.move` is not idempotent in pyinfra either (a second move finds no source), so
the deploy runs it only when the folder it moves into was just made. `files.flags` is
not tested: it runs `chflags`, which BSD and macOS have and Debian does not.
`files.rsync` has its own test (`test_rsync_lab.py`).
"""

from __future__ import annotations

import hashlib
import http.server
import io
import re
import shutil
import subprocess
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab import LabHost

HOSTS = 3

ROOT = "/opt/oxfiles"
PAYLOAD = b"downloaded by files.download\n"

DEPLOY = """
from pyinfra.operations import files

ROOT = "{root}"

files.directory(name="Root", path=ROOT)
files.download(
    name="Download",
    src="{url}",
    dest=ROOT + "/payload.txt",
    mode="640",
    sha256sum="{sha256}",
)
files.directory(name="Copies", path=ROOT + "/copies")
files.copy(name="Copy", src=ROOT + "/payload.txt", dest=ROOT + "/copies")
moved = files.directory(name="Moved", path=ROOT + "/moved")
files.move(name="Move", src=ROOT + "/stage.txt", dest=ROOT + "/moved", _if=moved.did_change)
files.sync(name="Sync", src="site", dest=ROOT + "/site", delete=True, exclude="*.pyc", mode="644", dir_mode="755")
files.directory(name="Unpacked", path=ROOT + "/unpacked")
files.unarchive(name="Unpack tar", src="app.tar.gz", dest=ROOT + "/unpacked", creates=ROOT + "/unpacked/app/VERSION")
files.unarchive(
    name="Unpack zip",
    src=ROOT + "/bundle.zip",
    dest=ROOT + "/unpacked",
    remote_src=True,
    creates=ROOT + "/unpacked/bundle/README",
)
"""


def ssh(host: LabHost, script: str) -> subprocess.CompletedProcess[str]:
    """Runs `script` as root on `host` with the system's ssh client (set-up, not under test)."""
    return subprocess.run(host.ssh_command("root", script), capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def apt_install(host: LabHost, *packages: str) -> None:
    """Installs `packages` from the lab's offline repository, waiting for another test's apt run to end."""
    result = ssh(host, f"DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=240 install -y -q {' '.join(packages)}")
    assert result.returncode == 0, result.stderr


@pytest.fixture
def payload_url() -> Iterator[str]:
    """An HTTP server on 127.0.0.1 serving `PAYLOAD` at `/payload.txt`."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/payload.txt":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/payload.txt"
    server.shutdown()
    server.server_close()


def write_project(folder: Path) -> None:
    """The local side: the folder to sync and the archive to unpack."""
    site = folder / "site"
    (site / "css").mkdir(parents=True)
    (site / "index.html").write_text("<h1>oxinfra</h1>\n")
    (site / "css" / "main.css").write_text("body { margin: 0 }\n")
    (site / "cache.pyc").write_bytes(b"\0skip me")
    with tarfile.open(folder / "app.tar.gz", "w:gz") as archive:
        for name, content in {"app/VERSION": b"2.4.0\n", "app/bin/run": b"#!/bin/sh\necho run\n"}.items():
            member = tarfile.TarInfo(name)
            member.size = len(content)
            member.mode = 0o755 if name.endswith("run") else 0o644
            archive.addfile(member, io.BytesIO(content))


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bundle/README", "zipped\n")
    return buffer.getvalue()


def prepare(host: LabHost) -> None:
    """curl and unzip installed; the root folder holding only what the deploy starts
    from: the file to move, the zip to unpack and a stale file in the synced folder."""
    if ssh(host, "command -v curl && command -v unzip").returncode != 0:
        apt_install(host, "curl", "unzip")
    root = host.path(ROOT)
    if root.exists():
        shutil.rmtree(root)
    (root / "site").mkdir(parents=True)
    (root / "site" / "stale.html").write_text("old\n")
    (root / "stage.txt").write_text("move me\n")
    (root / "bundle.zip").write_bytes(zip_bytes())


def test_files_operations_over_ssh(oxinfra, lab_hosts, lab_inventory, tmp_path: Path, payload_url: str) -> None:
    hosts = lab_hosts(HOSTS)
    for host in hosts:
        prepare(host)
    lab_inventory(tmp_path, HOSTS, "root")
    write_project(tmp_path)
    sha256 = hashlib.sha256(PAYLOAD).hexdigest()
    (tmp_path / "deploy.py").write_text(DEPLOY.format(root=ROOT, url=payload_url, sha256=sha256))

    first = oxinfra("inventory.py", "deploy.py", "-y")
    assert first.code == 0, first
    for host in hosts:
        payload = host.path(f"{ROOT}/payload.txt")
        assert payload.read_bytes() == PAYLOAD
        assert oct(payload.stat().st_mode & 0o777) == "0o640"
        assert host.read_file(f"{ROOT}/copies/payload.txt") == PAYLOAD

        assert host.read_text(f"{ROOT}/moved/stage.txt") == "move me\n"
        assert not host.path(f"{ROOT}/stage.txt").exists()

        assert host.read_text(f"{ROOT}/site/index.html") == "<h1>oxinfra</h1>\n"
        assert host.read_text(f"{ROOT}/site/css/main.css") == "body { margin: 0 }\n"
        assert not host.path(f"{ROOT}/site/cache.pyc").exists()
        assert not host.path(f"{ROOT}/site/stale.html").exists()
        assert oct(host.path(f"{ROOT}/site/css").stat().st_mode & 0o777) == "0o755"

        assert host.read_text(f"{ROOT}/unpacked/app/VERSION") == "2.4.0\n"
        assert host.path(f"{ROOT}/unpacked/app/bin/run").stat().st_mode & 0o111
        assert host.read_text(f"{ROOT}/unpacked/bundle/README") == "zipped\n"

    second = oxinfra("inventory.py", "deploy.py", "-y")
    assert second.code == 0, second
    assert re.findall(r"\[(host\d+)\]\s+Success", second.stderr) == [], second
    for host in hosts:
        assert re.search(rf"\[{host.name}\]\s+No changes", second.stderr), second
