"""`@kubernetes/[NAMESPACE/]POD[/CONTAINER]` through `kubectl exec`.

No cluster can run here, so `kubectl` is a fake on PATH that records its arguments and
does what `kubectl exec [-i|-t] POD [--container C] -- COMMAND...` does with them: runs
COMMAND with the same standard input, output and exit status (here, on this machine,
in a folder standing for the pod). The deploy, its files and its wrapping are real;
only the transport is not.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

FAKE_KUBECTL = """#!{python}
import json, os, sys
arguments = sys.argv[1:]
with open({calls!r}, "a") as calls:
    calls.write(json.dumps(arguments) + "\\n")
if "exec" not in arguments or "--" not in arguments:
    sys.stderr.write("error: unknown command\\n")
    sys.exit(1)
pod = arguments[arguments.index("exec") + 2]
if pod != "web-0":
    sys.stderr.write('Error from server (NotFound): pods "' + pod + '" not found\\n')
    sys.exit(1)
command = arguments[arguments.index("--") + 1 :]
os.execvp(command[0], command)
"""


def setup(folder: Path) -> dict[str, str]:
    bin_folder = folder / "bin"
    bin_folder.mkdir()
    kubectl = bin_folder / "kubectl"
    kubectl.write_text(FAKE_KUBECTL.format(python=sys.executable, calls=str(folder / "kubectl.calls")))
    kubectl.chmod(0o755)
    return {**os.environ, "NO_COLOR": "1", "PATH": f"{bin_folder}:{os.environ['PATH']}"}


def oxinfra(folder: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "oxinfra", *args], cwd=folder, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120)


def calls(folder: Path) -> list[list[str]]:
    return [json.loads(line) for line in (folder / "kubectl.calls").read_text().splitlines()]


def test_deploy_through_kubectl_exec_twice(tmp_path: Path) -> None:
    env = setup(tmp_path)
    pod = tmp_path / "pod"
    (tmp_path / "motd").write_text("hello from a pod\n")
    (tmp_path / "deploy.py").write_text(
        "from pyinfra.operations import files, server\n"
        f"files.directory(name='Dir', path={str(pod / 'conf')!r}, mode='750')\n"
        f"files.put(name='Put', src='motd', dest={str(pod / 'motd')!r}, mode='640')\n"
        f"flag = files.file(name='Flag', path={str(pod / 'ready')!r})\n"
        f"server.shell(name='Shell', commands=['pwd > where; echo $GREETING >> where'], _chdir={str(pod)!r}, _env={{'GREETING': 'hi'}}, _if=flag.did_change)\n"
        f"files.get(name='Get', src={str(pod / 'motd')!r}, dest='fetched.motd')\n"
    )
    name = "@kubernetes/shop/web-0/app"

    first = oxinfra(tmp_path, env, name, "deploy.py", "-y")
    assert first.returncode == 0, first.stderr
    assert len(re.findall(r"\] Success", first.stderr)) == 5, first.stderr
    assert (pod / "motd").read_text() == "hello from a pod\n"
    assert oct((pod / "motd").stat().st_mode & 0o777) == "0o640"
    assert oct((pod / "conf").stat().st_mode & 0o777) == "0o750"
    assert (pod / "where").read_text() == f"{pod}\nhi\n"
    assert (tmp_path / "fetched.motd").read_text() == "hello from a pod\n"
    assert sorted(path.name for path in pod.iterdir()) == ["conf", "motd", "ready", "where"]

    second = oxinfra(tmp_path, env, name, "deploy.py", "-y")
    assert second.returncode == 0, second.stderr
    assert re.findall(r"\] Success", second.stderr) == [], second.stderr

    # Every call is `kubectl --namespace shop exec -i web-0 --container app -- sh -c SCRIPT`.
    recorded = calls(tmp_path)
    assert recorded, "kubectl was never called"
    for call in recorded:
        assert call[:8] == ["--namespace", "shop", "exec", "-i", "web-0", "--container", "app", "--"], call
        assert call[8:10] == ["sh", "-c"] and len(call) == 11, call


def test_missing_pod_fails_naming_host_and_pod(tmp_path: Path) -> None:
    env = setup(tmp_path)
    (tmp_path / "deploy.py").write_text("from pyinfra.operations import server\nserver.shell(commands=['true'])\n")
    result = oxinfra(tmp_path, env, "@kubernetes/web-9", "deploy.py", "-y")
    assert result.returncode != 0, result.stderr
    expected = 'could not connect: `@kubernetes/web-9`: kubectl exec into pod `web-9` failed: Error from server (NotFound): pods "web-9" not found'
    assert expected in result.stderr, result.stderr
