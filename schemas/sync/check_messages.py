#!/usr/bin/python3
"""Validates sync messages against schemas/sync/{up,down}.schema.json.

Usage: check_messages.py MESSAGES_FILE

Each line of MESSAGES_FILE is `up <json>` or `down <json>`: a message as the codec
(daemon/sync/protocol.cpp) encoded it for that direction. sync_protocol_unit_tests writes the file
from every kind of message and runs this script, so the committed schemas and the codec describe
the same messages. Exits non-zero naming each line that does not validate and why.
"""

import json
import pathlib
import sys

import jsonschema

HERE = pathlib.Path(__file__).resolve().parent


def validator_for(name):
    path = HERE / f"{name}.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    # Relative $refs ("event.schema.json") resolve beside the schema file.
    resolver = jsonschema.RefResolver(base_uri=path.as_uri(), referrer=schema)
    return jsonschema.Draft202012Validator(schema, resolver=resolver)


def describe(error):
    where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
    causes = "; ".join(sorted({c.message[:200] for c in error.context or []}))
    return f"{where}: {error.message[:300]}" + (f" [{causes}]" if causes else "")


def main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} MESSAGES_FILE", file=sys.stderr)
        return 2
    for path in sorted(HERE.glob("*.schema.json")):
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text(encoding="utf-8")))
    validators = {"up": validator_for("up"), "down": validator_for("down")}
    lines = pathlib.Path(argv[1]).read_text(encoding="utf-8").splitlines()
    failures = 0
    checked = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        direction, _, text = line.partition(" ")
        if direction not in validators:
            print(f"line {number}: direction '{direction}' is neither up nor down", file=sys.stderr)
            failures += 1
            continue
        message = json.loads(text)
        errors = list(validators[direction].iter_errors(message))
        checked += 1
        for error in errors:
            print(f"line {number} ({direction} {message.get('type')}): {describe(error)}",
                  file=sys.stderr)
        failures += bool(errors)
    if failures:
        print(f"{failures} of {checked} messages do not match schemas/sync", file=sys.stderr)
        return 1
    print(f"{checked} messages match schemas/sync")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
