"""User code written against pyinfra's API works: `@operation` generators (also
`yield from` a built-in operation's `_inner`), `FactBase` subclasses, `host.when`,
`host.loop` and `local.include`."""

from __future__ import annotations

from pathlib import Path

DEPLOY = """
from pyinfra import host, local
from pyinfra.api import FactBase, operation
from pyinfra.operations import files

class Greeting(FactBase):
    def command(self, who):
        return f"echo hello-{{who}}"

    def process(self, output):
        return output[0].upper()

@operation()
def marker(path, text):
    if host.get_fact(Greeting, who="x") != "HELLO-X":
        raise ValueError("fact did not run")
    yield from files.file._inner(path=path)
    yield f"echo {{text}} > {{path}}"

marker(path="{root}/marker", text="made-by-user-op")

with host.when(lambda: True):
    files.file(path="{root}/when")

for item in host.loop(["a", "b"]):
    files.file(path="{root}/loop-" + item)

local.include("tasks/more.py", data={{"suffix": "x"}})
"""


def test_user_operations_and_facts(oxinfra, tmp_path: Path) -> None:
    root = tmp_path / "out"
    root.mkdir()
    (tmp_path / "deploy.py").write_text(DEPLOY.format(root=root))
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "more.py").write_text(
        f"from pyinfra import host\nfrom pyinfra.operations import files\nfiles.file(path='{root}/included-' + host.data.suffix)\n"
    )
    result = oxinfra("@local", "deploy.py", "-y")
    assert result.code == 0, result
    assert (root / "marker").read_text() == "made-by-user-op\n"
    assert (root / "when").exists()
    assert (root / "loop-a").exists() and (root / "loop-b").exists()
    assert (root / "included-x").exists()
    assert "tasks/more.py | files.file" in result.stderr
