"""The coverage table in the docs is what `python -m oxinfra.coverage` writes now: an
operation or fact added to a registry without regenerating it fails here."""

from __future__ import annotations

from pathlib import Path

from oxinfra import coverage

TABLE = Path(__file__).resolve().parents[2] / "docs" / "coverage.md"


def test_catalogue_lists_all_of_pyinfra():
    catalogue = coverage.load_catalogue()
    assert sum(len(names) for names in catalogue["operations"].values()) == 182
    assert sum(len(names) for names in catalogue["facts"].values()) == 194


def test_coverage_table_is_current(capsys):
    status = coverage.main(["--check", str(TABLE)])
    assert status == 0, capsys.readouterr().err


def test_check_fails_on_a_stale_table(tmp_path, capsys):
    stale = tmp_path / "coverage.md"
    stale.write_text("# an old table\n")
    assert coverage.main(["--check", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err


def test_table_counts_what_oxinfra_has():
    catalogue = {"pyinfra": "3.10.0", "operations": {"apt": ["update", "packages"]}, "facts": {"deb": ["DebPackages"]}}
    text = coverage.render(catalogue, operations={"apt.update"}, facts={"deb.DebPackages", "deb.Other"})
    assert "**1 of 2 operations, 1 of 1 facts.**" in text
    assert "| operation | `apt.packages` | no |" in text
    assert "`deb.Other`" in text
