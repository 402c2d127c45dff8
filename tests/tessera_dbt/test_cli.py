"""``tessera-dbt`` as a command line: bad input exits 2 with a message that says what to fix.

The commands themselves run real dbt in test_publish, test_check, test_runner and test_artifacts.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tessera_dbt.cli import main


def test_commands_are_listed() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("sync", "check", "run", "build"):
        assert f"  {command} " in result.stdout


def test_a_folder_without_dbt_project_exits_2_naming_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--project-dir", str(tmp_path), "check"])
    assert result.exit_code == 2
    expected = tmp_path.resolve() / "dbt_project.yml"
    assert result.stderr == f"error: {expected} not found: point --project-dir at a dbt project\n"


def test_an_unknown_report_format_exits_2(tmp_path: Path) -> None:
    (tmp_path / "dbt_project.yml").write_text("name: shop\n")
    result = CliRunner().invoke(main, ["--project-dir", str(tmp_path), "check", "--format", "xml"])
    assert result.exit_code == 2
    assert "'xml' is not one of 'text', 'markdown', 'json', 'github', 'junit'" in result.stderr
