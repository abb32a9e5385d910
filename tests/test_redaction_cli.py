"""The `helpdesk redact` command."""

from __future__ import annotations

import json

from click.testing import CliRunner

from helpdesk.cli import main


def test_redact_json_offsets_index_input():
    text = "Groeten,\nAnneleen Goossens\n0478 12 34 56\n"

    result = CliRunner().invoke(main, ["redact", "--json"], input=text)

    assert result.exit_code == 0, result.output
    output = json.loads(result.output)
    assert output["text"] == "Groeten,\n[naam]\n[telefoonnummer]\n"
    spans = [(text[entity["start"]:entity["end"]], entity["type"]) for entity in output["entities"]]
    assert spans == [("Anneleen Goossens", "PERSON"), ("0478 12 34 56", "PHONE")]


def test_redact_jsonl_prints_one_result_per_line():
    lines = [
        json.dumps({"id": "a", "text": "Mail naar kris.vg@example.be"}),
        json.dumps({"text": "Hoe lang duurt een hiv-test?"}),
    ]

    result = CliRunner().invoke(main, ["redact", "--jsonl"], input="\n".join(lines) + "\n")

    assert result.exit_code == 0, result.output
    outputs = [json.loads(line) for line in result.output.splitlines()]
    assert len(outputs) == 2
    assert outputs[0]["id"] == "a"
    assert outputs[0]["text"] == "Mail naar [e-mailadres]"
    assert outputs[0]["entities"] == [{"start": 10, "end": 28, "type": "EMAIL"}]
    assert outputs[1] == {"text": "Hoe lang duurt een hiv-test?", "entities": []}


def test_redact_jsonl_rejects_invalid_line():
    result = CliRunner().invoke(main, ["redact", "--jsonl"], input='{"text": "ok"}\nnot json\n')

    assert result.exit_code == 1
    assert "line 2 is not valid JSON" in result.output


def test_redact_plain_prints_redacted_text():
    result = CliRunner().invoke(main, ["redact"], input="Bel Katrien op 0478 12 34 56.")

    assert result.exit_code == 0
    assert result.output == "Bel [naam] op [telefoonnummer]."
