"""A template as CloudFormation would see it: parsed with cfn-lint's decoder, conditions evaluated for given
parameters, and intrinsic functions resolved against what a deployment actually created.

The policy test reads templates through it, and the moto test uses the resolver to apply, through the service APIs,
the resources and properties that moto's CloudFormation skips (see moto_gaps.py)."""
from __future__ import annotations

import pathlib
import re
from typing import Any, Callable

from cfnlint.decode import decode  # cfn-lint's own reader: short-form tags become Fn:: dicts

NO_VALUE = object()  # AWS::NoValue: the key or list item disappears


def load(path: pathlib.Path) -> dict:
    template, matches = decode(str(path))
    if matches:
        raise ValueError(f"{path}: {[str(m) for m in matches]}")
    return template


def parameter_values(template: dict, given: dict[str, str]) -> dict[str, Any]:
    """Defaults overridden by the given values, for the parameters the template declares."""
    values = {}
    for name, spec in (template.get("Parameters") or {}).items():
        if name in given:
            values[name] = str(given[name])
        elif "Default" in spec:
            values[name] = str(spec["Default"])
    return values


class Resolver:
    """Evaluates conditions and intrinsic functions.

    physical: logical id -> physical id (Ref of a resource); attribute: (logical id, attribute) -> value;
    exports: export name -> value. Anything the resolver cannot answer raises, so a gap is never silent."""

    def __init__(self, template: dict, parameters: dict[str, Any], *, region: str = "us-east-1",
                 account: str = "123456789012", stack_name: str = "stack",
                 physical: dict[str, str] | None = None,
                 attribute: Callable[[str, str], Any] | None = None,
                 exports: dict[str, str] | None = None):
        self.template = template
        self.parameters = parameters
        self.pseudo = {"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": "aws",
                       "AWS::StackName": stack_name, "AWS::URLSuffix": "amazonaws.com"}
        self.physical = physical if physical is not None else {}
        self.attribute = attribute
        self.exports = exports if exports is not None else {}
        self._conditions: dict[str, bool] = {}

    # -------------------------------------------------------------- conditions
    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = bool(self._evaluate_condition(self.template["Conditions"][name]))
        return self._conditions[name]

    def _evaluate_condition(self, node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            (key, value), = node.items()
            if key == "Fn::Equals":
                left, right = (self.resolve(v) for v in value)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self._evaluate_condition(value[0])
            if key == "Fn::And":
                return all(self._evaluate_condition(v) for v in value)
            if key == "Fn::Or":
                return any(self._evaluate_condition(v) for v in value)
            if key == "Condition":
                return self.condition(value)
        return self.resolve(node)

    def active_resources(self) -> dict[str, dict]:
        """The resources whose Condition holds for these parameters."""
        return {name: spec for name, spec in self.template["Resources"].items()
                if "Condition" not in spec or self.condition(spec["Condition"])}

    # -------------------------------------------------------------- intrinsics
    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, value), = node.items()
            handler = {
                "Ref": self._ref, "Fn::GetAtt": self._get_att, "Fn::Sub": self._sub,
                "Fn::ImportValue": lambda v: self._import(self.resolve(v)), "Fn::Join": self._join,
                "Fn::Select": self._select, "Fn::Split": self._split, "Fn::If": self._if,
                "Fn::GetAZs": lambda v: [f"{self.pseudo['AWS::Region']}{z}" for z in "abc"],
                "Fn::Base64": lambda v: self.resolve(v), "Condition": self.condition,
            }.get(key)
            if handler is not None:
                return handler(value)
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical:
            return self.physical[name]
        raise LookupError(f"Ref {name}: not a parameter and no physical id known")

    def _get_att(self, value: Any) -> Any:
        logical, attribute = value.split(".", 1) if isinstance(value, str) else value
        if self.attribute is None:
            raise LookupError(f"GetAtt {logical}.{attribute}: no deployment to ask")
        return self.attribute(logical, self.resolve(attribute))

    def _import(self, name: str) -> str:
        if name not in self.exports:
            raise LookupError(f"ImportValue {name}: no such export")
        return self.exports[name]

    def _sub(self, value: Any) -> str:
        text, variables = (value, {}) if isinstance(value, str) else (value[0], value[1])

        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.resolve(variables[name]))
            if name in self.pseudo or name in self.parameters or "." not in name:
                return str(self._ref(name))
            return str(self._get_att(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def _join(self, value: list) -> str:
        delimiter, items = value
        return delimiter.join(str(item) for item in self.resolve(items))

    def _select(self, value: list) -> Any:
        index, items = value
        return self.resolve(items)[int(self.resolve(index))]

    def _split(self, value: list) -> list[str]:
        delimiter, text = value
        return str(self.resolve(text)).split(delimiter)

    def _if(self, value: list) -> Any:
        name, when_true, when_false = value
        return self.resolve(when_true if self.condition(name) else when_false)
