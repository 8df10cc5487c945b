"""Print template.yaml as CloudFormation receives it after the SAM transform, as JSON.

Runs in the SAM CLI's tool virtualenv (.tools/sam/bin/python), whose aws-sam-translator is the
one `sam deploy` uses: `python tools/sam_transform.py template.yaml`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from samtranslator.parser.parser import Parser
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

# Local paths as `sam package` rewrites them: the translator accepts only S3 locations.
LOCAL_PATHS = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
}


class NoManagedPolicies:
    """The template names no AWS managed policy by name: none needs looking up."""

    def load(self) -> dict[str, str]:
        return {}


def main(path: str) -> None:
    with open(path, encoding="utf-8") as handle:
        template: dict[str, Any] = yaml_parse(handle.read())
    for resource in template.get("Resources", {}).values():
        key = LOCAL_PATHS.get(resource.get("Type", ""))
        properties = resource.get("Properties", {})
        if key and isinstance(properties.get(key), str):
            properties[key] = f"s3://packaged-artifacts/{properties[key]}"
    Parser()  # the translator's parser registers the intrinsic resolvers it needs
    transformed = transform(template, {}, NoManagedPolicies())
    json.dump(transformed, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
