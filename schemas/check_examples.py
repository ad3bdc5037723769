#!/usr/bin/python3
"""Validates every floorwatch config in the repo against schemas/floorwatch.schema.json.

Usage: check_examples.py REPO_ROOT

The loader (daemon/config) runs on the same files in config_unit_tests, so the committed schema and
the loader are kept accepting the same configs. Exits non-zero naming each file and error.
"""

import json
import pathlib
import sys

import jsonschema
import yaml

CONFIG_GLOBS = [
    "examples/**/floorwatch*.yaml",
    "drivers/*/sample-config.yaml",
    "systemd/floorwatch.yaml",
    "daemon/config/testcases/valid/*.yaml",
]


def find_configs(root):
    found = set()
    for pattern in CONFIG_GLOBS:
        found.update(path for path in root.glob(pattern) if path.is_file())
    return sorted(found)


def describe(error):
    where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
    return f"{where}: {error.message}"


def main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} REPO_ROOT", file=sys.stderr)
        return 2
    root = pathlib.Path(argv[1])
    schema_path = root / "schemas" / "floorwatch.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)

    configs = find_configs(root)
    if not configs:
        print(f"no floorwatch configs found under {root} (looked for {', '.join(CONFIG_GLOBS)})",
              file=sys.stderr)
        return 1

    failures = 0
    for path in configs:
        name = path.relative_to(root)
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            print(f"{name}: cannot read: {error}", file=sys.stderr)
            failures += 1
            continue
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
        for error in errors:
            print(f"{name}: {describe(error)}", file=sys.stderr)
        failures += bool(errors)
        if not errors:
            print(f"{name}: ok")
    if failures:
        print(f"{failures} of {len(configs)} configs do not match {schema_path.relative_to(root)}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
