"""`--diff` for the edits made with `sed` and `awk`: `files.replace`, `files.block` and
`crontab.crontab` show the whole file before and after, a `--dry` run changes nothing,
and a real run leaves each file exactly as its diff said."""

from __future__ import annotations

import os
import re
from pathlib import Path

HUNK_LINE = re.compile(r"      [-+] |        |      @@")


def _diffs(stderr: str) -> dict[str, tuple[list[str], list[str]]]:
    """The diffs printed for each path: the lines before and after (context included),
    from the first diff of each path."""
    found: dict[str, tuple[list[str], list[str]]] = {}
    lines = stderr.splitlines()
    for index, line in enumerate(lines):
        match = re.fullmatch(r"    \[@local\] Will (?:modify|create) (.+)", line)
        if not match or match.group(1) in found:
            continue
        before: list[str] = []
        after: list[str] = []
        for body in lines[index + 1 :]:
            if not HUNK_LINE.match(body + " "):
                break
            text = body[8:]
            if body.startswith("      - "):
                before.append(text)
            elif body.startswith("      + "):
                after.append(text)
            elif not body.startswith("      @@"):
                before.append(text)
                after.append(text)
        found[match.group(1)] = (before, after)
    return found


def _deploy(tmp_path: Path) -> dict[str, str]:
    """Files edited by `files.replace` and `files.block`, each small enough that its
    diff shows all of it; returns their contents before the run."""
    contents = {
        "ports.conf": "name=web\nport=8080\nhost=db\n",
        "paths.conf": "root=/srv/old/www\nlog=/srv/old/log\nname=old\n",
        "line.txt": "a\nmiddle\nz\n",
        "replace.txt": "a\n# BEGIN PYINFRA BLOCK\nold\n# END PYINFRA BLOCK\nz\n",
        "remove.txt": "a\n## BEGIN app\nold\n## END app\nz\n",
    }
    for name, text in contents.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "deploy.py").write_text(
        "from pyinfra.operations import files\n"
        f"files.replace(name='Port', path='{tmp_path}/ports.conf', text='^port=[0-9]*$', replace='port=9090')\n"
        f"files.replace(name='Paths', path='{tmp_path}/paths.conf', text='(/srv)/old', replace='\\\\1/new&co', extended_regex=True)\n"
        f"files.block(name='After line', path='{tmp_path}/line.txt', content='one\\ntwo', line='middle', after=True)\n"
        f"files.block(name='Replace', path='{tmp_path}/replace.txt', content=['new'])\n"
        f"files.block(name='Remove', path='{tmp_path}/remove.txt', marker='## {{mark}} app', present=False)\n"
        f"files.block(name='Create', path='{tmp_path}/new.txt', content='fresh')\n"
    )
    return contents


EXPECTED_AFTER = {
    "ports.conf": "name=web\nport=9090\nhost=db\n",
    "paths.conf": "root=/srv/new&co/www\nlog=/srv/new&co/log\nname=old\n",
    "line.txt": "a\nmiddle\n# BEGIN PYINFRA BLOCK\none\ntwo\n# END PYINFRA BLOCK\nz\n",
    "replace.txt": "a\n# BEGIN PYINFRA BLOCK\nnew\n# END PYINFRA BLOCK\nz\n",
    "remove.txt": "a\nz\n",
    "new.txt": "# BEGIN PYINFRA BLOCK\nfresh\n# END PYINFRA BLOCK\n",
}


def _check_diffs(stderr: str, tmp_path: Path, before: dict[str, str]) -> None:
    diffs = _diffs(stderr)
    assert set(diffs) == {str(tmp_path / name) for name in EXPECTED_AFTER}, stderr
    for name, after in EXPECTED_AFTER.items():
        shown_before, shown_after = diffs[str(tmp_path / name)]
        assert shown_before == before.get(name, "").splitlines(), (name, stderr)
        assert shown_after == after.splitlines(), (name, stderr)
    assert f"[@local] Will create {tmp_path}/new.txt" in stderr
    assert "      - port=8080" in stderr and "      + port=9090" in stderr
    assert "      + root=/srv/new&co/www" in stderr


def test_dry_run_diffs_replace_and_block_edits(oxinfra, tmp_path: Path) -> None:
    before = _deploy(tmp_path)
    result = oxinfra("@local", "deploy.py", "--diff", "--dry")
    assert result.code == 0, result
    _check_diffs(result.stderr, tmp_path, before)
    for name, text in before.items():
        assert (tmp_path / name).read_text() == text, name
    assert not (tmp_path / "new.txt").exists()


def test_run_leaves_each_file_as_its_diff_said(oxinfra, tmp_path: Path) -> None:
    before = _deploy(tmp_path)
    result = oxinfra("@local", "deploy.py", "--diff", "-y")
    assert result.code == 0, result
    _check_diffs(result.stderr, tmp_path, before)
    for name, text in EXPECTED_AFTER.items():
        assert (tmp_path / name).read_text() == text, name
    again = oxinfra("@local", "deploy.py", "--diff", "-y")
    assert again.code == 0, again
    assert "Will modify" not in again.stderr and "Will create" not in again.stderr, again


FAKE_CRONTAB = """#!/bin/sh
# A stand-in for crontab(1) that keeps the crontab in a file beside this script, so the
# test needs no cron and leaves the real crontabs alone.
store="$(dirname "$0")/crontab.txt"
if [ "$1" = "-l" ]; then
    if [ -f "$store" ]; then cat "$store"; else echo "no crontab for $(id -un)" >&2; exit 1; fi
else
    cp "$1" "$store"
fi
"""


def test_crontab_diff_shows_the_entries_it_changes(oxinfra, tmp_path: Path, monkeypatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "crontab").write_text(FAKE_CRONTAB)
    (bin_dir / "crontab").chmod(0o755)
    store = bin_dir / "crontab.txt"
    store.write_text("MAILTO=ops\n0 3 * * * /usr/bin/backup\n# old job\n15 * * * * /usr/bin/old\n")
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    (tmp_path / "deploy.py").write_text(
        "from pyinfra.operations import crontab\n"
        "crontab.crontab(name='Backup', command='/usr/bin/backup', minute=30, hour=3)\n"
        "crontab.crontab(name='Old', command='/usr/bin/old', present=False)\n"
    )
    dry = oxinfra("@local", "deploy.py", "--diff", "--dry")
    assert dry.code == 0, dry
    assert "[@local] Will modify crontab" in dry.stderr, dry
    assert "      - 0 3 * * * /usr/bin/backup" in dry.stderr and "      + 30 3 * * * /usr/bin/backup" in dry.stderr
    assert "      - 15 * * * * /usr/bin/old" in dry.stderr
    assert store.read_text().startswith("MAILTO=ops\n0 3 * * *")

    run = oxinfra("@local", "deploy.py", "--diff", "-y")
    assert run.code == 0, run
    assert "      + 30 3 * * * /usr/bin/backup" in run.stderr and "      - 15 * * * * /usr/bin/old" in run.stderr
    assert store.read_text() == "MAILTO=ops\n30 3 * * * /usr/bin/backup\n# old job\n"
