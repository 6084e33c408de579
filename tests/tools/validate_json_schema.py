#!/usr/bin/env python3
"""Validates a JSON document against a JSON schema with the `jsonschema`
package (an independent validator, not pare's code).

    validate_json_schema.py SCHEMA DOCUMENT

Every *.json beside SCHEMA is registered under its $id, so relative
references (CycloneDX's spdx.schema.json, jsf-0.82.schema.json) resolve
offline. Prints each error and exits 1 when the document is invalid."""
import json
import pathlib
import sys

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7


def main(schema_path, document_path):
    schema_path = pathlib.Path(schema_path)
    resources = []
    for path in schema_path.parent.glob("*.json"):
        contents = json.loads(path.read_text())
        resource = Resource.from_contents(contents, default_specification=DRAFT7)
        if "$id" in contents:
            resources.append((contents["$id"], resource))
    registry = Registry().with_resources(resources)
    schema = json.loads(schema_path.read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, registry=registry)
    document = json.loads(pathlib.Path(document_path).read_text())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    for error in errors[:20]:
        print(f"{'/'.join(map(str, error.absolute_path))}: {error.message}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
