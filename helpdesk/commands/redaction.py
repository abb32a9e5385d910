"""The `helpdesk redact` command: redact text from standard input."""

from __future__ import annotations

import json
import sys

import click

from helpdesk.cli import main
from helpdesk.redaction import Redacted, redact


def _as_record(result: Redacted) -> dict:
    return {
        "text": result.text,
        "entities": [{"start": entity.start, "end": entity.end, "type": entity.type} for entity in result.entities],
    }


def _redact_lines(lines) -> None:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise click.ClickException(
                f"line {number} is not valid JSON ({error.msg}); write one JSON object with a \"text\" field per line"
            ) from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise click.ClickException(f"line {number} has no \"text\" string; write objects like {{\"text\": \"...\"}}")
        output = _as_record(redact(record["text"]))
        if "id" in record:
            output = {"id": record["id"], **output}
        click.echo(json.dumps(output, ensure_ascii=False))


@main.command("redact")
@click.option("--json", "as_json", is_flag=True, help="Print the redacted text and the entities as one JSON object.")
@click.option(
    "--jsonl", "as_jsonl", is_flag=True, help="Read one JSON object with a \"text\" field per line; print one result per line."
)
def redact_command(as_json: bool, as_jsonl: bool) -> None:
    """Redact identifying details in text read from standard input.

    Entity offsets index the input text (Python string indices, end exclusive).
    """
    if as_json and as_jsonl:
        raise click.UsageError("use --json or --jsonl, not both")
    stdin = sys.stdin
    if as_jsonl:
        _redact_lines(stdin)
        return

    result = redact(stdin.read())
    if as_json:
        click.echo(json.dumps(_as_record(result), ensure_ascii=False))
    else:
        click.echo(result.text, nl=False)
