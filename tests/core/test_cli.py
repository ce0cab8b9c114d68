"""The one registry of command-line commands: every command and option the README documents exists, and every
option that takes a time reads one without an offset as Asia/Shanghai."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import click
import pytest

from backend.cli import CLI_MODULES, SHANGHAI_TIME
from workers.infra.cli import commands as worker_commands

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = re.compile(r"`((?:flask|python -m workers) [^`]+)`")
SHANGHAI = timezone(timedelta(hours=8))


def _documented() -> list[str]:
    text = " ".join((ROOT / name).read_text(encoding="utf-8") for name in ("README.md", "docs/live.md"))
    return sorted({" ".join(match.split()) for match in DOCUMENTED.findall(text)})


def _resolve(group: click.Group, ctx: click.Context, words: list[str]) -> tuple[click.Command, list[str]]:
    command: click.Command = group
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        found = command.get_command(ctx, words[0])
        if found is None:
            break
        command, words = found, words[1:]
    return command, words


def test_every_documented_command_and_option_exists(app):
    flask_cli = app.cli
    documented = _documented()
    assert len(documented) >= 20  # the pattern still finds the README's commands
    with click.Context(flask_cli) as ctx:
        for line in documented:
            program, words = ("flask", line.split()[1:]) if line.startswith("flask") else ("workers", line.split()[3:])
            if program == "flask" and words[0] == "db":
                continue  # Flask-Migrate's own group
            group = flask_cli if program == "flask" else worker_commands
            command, rest = _resolve(group, ctx, words)
            if isinstance(command, click.Group):  # a namespace (``flask live …``), or no such command
                assert command is not group and rest == ["…"], f"{line}: no such command"
                continue
            options = {opt for param in command.params for opt in param.opts + param.secondary_opts}
            for word in rest:
                option = word.strip("[]").split("=")[0]
                if option.startswith("--"):
                    assert option in options, f"{line}: {option} is not an option of {command.name}"


def test_each_cli_module_defines_its_commands_once(app):
    import importlib

    names = [name for module in CLI_MODULES for name in importlib.import_module(module).commands.commands]
    assert len(names) == len(set(names))
    assert set(names) <= set(app.cli.commands)
    assert {"live", "escalate-violations", "dispatch-notices", "verify-records", "detect-video"} <= set(names)
    assert "escalate-violations" in importlib.import_module("backend.violations.cli").commands.commands


def test_a_time_without_offset_is_shanghai_time():
    assert SHANGHAI_TIME.convert("2027-01-06T12:32", None, None) == datetime(2027, 1, 6, 12, 32, tzinfo=SHANGHAI)
    assert SHANGHAI_TIME.convert("2027-01-06T12:32", None, None) == datetime(2027, 1, 6, 4, 32, tzinfo=UTC)
    assert SHANGHAI_TIME.convert("2027-01-06T12:32:00+00:00", None, None) == datetime(2027, 1, 6, 12, 32, tzinfo=UTC)
    assert SHANGHAI_TIME.convert("2027-01-06", None, None) == datetime(2027, 1, 6, tzinfo=SHANGHAI)
    with pytest.raises(click.BadParameter, match="Asia/Shanghai"):
        SHANGHAI_TIME.convert("yesterday noon", None, None)


def test_every_time_option_uses_the_one_type(app):
    import importlib

    time_options = []
    for module in CLI_MODULES:
        stack = list(importlib.import_module(module).commands.commands.values())
        while stack:
            command = stack.pop()
            if isinstance(command, click.Group):
                stack.extend(command.commands.values())
            time_options += [(command.name, p.name) for p in command.params
                             if isinstance(p, click.Option) and p.name in ("now", "start", "at", "since", "until")]
            for param in command.params:
                if (command.name, param.name) in time_options:
                    assert param.type is SHANGHAI_TIME, f"{command.name} --{param.name}"
    assert {("escalate-violations", "now"), ("detect-video", "start")} <= set(time_options)
