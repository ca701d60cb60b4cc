"""What each process role may do on OrderFlow's data, read two ways that must agree: from the security stack's role
policies and from the IAM table in README's "On AWS" section (the table users read to grant permissions by hand).

A permission is (service, action, resource name), e.g. ("dynamodb", "BatchGetItem", "Orders"): the resource is named
as the data stack names it by default, so both sides compare without a deployment. Only statements on the data
stack's resources count; what the machine itself needs (release artifact, agent, logs, Session Manager) is not in the
table."""
from __future__ import annotations

import re

from policy import Templates, _as_list, with_defaults

# README row label -> logical id of the role in security.yaml.
ROLES = {"API (`serve`)": "ApiInstanceRole", "worker": "WorkerRole", "Lambda processor": "ProcessorFunctionRole"}

# README column -> IAM service prefix.
COLUMNS = {"DynamoDB": "dynamodb", "SNS": "sns", "SQS": "sqs", "Kinesis": "kinesis", "S3": "s3"}

# Data stack export (after "<env>-data-") -> the resource's default name.
EXPORTED_NAMES = {
    "OrdersTableArn": "Orders", "OutboxTableArn": "OrdersOutbox", "AnalyticsTableArn": "OrdersAnalytics",
    "ApiKeysTableArn": "OrderFlowApiKeys", "DocumentsTableArn": "OrderFlowDocuments",
    "AuditTableArn": "OrderFlowAudit",
    "HighValueTopicArn": "HighValueOrderTopic", "OrdersStreamArn": "OrdersStream",
    "HighValueQueueArn": "HighValueQueue", "HighValueDeadLetterQueueArn": "HighValueQueue-dlq",
    "UploadsQueueArn": "order-uploads", "UploadsDeadLetterQueueArn": "order-uploads-dlq",
}

Permission = tuple[str, str, str]


def _export(node) -> str | None:
    """The data export a template value imports, e.g. "OrdersTableArn"."""
    if isinstance(node, dict) and "Fn::ImportValue" in node:
        inner = node["Fn::ImportValue"]
        text = inner.get("Fn::Sub", "") if isinstance(inner, dict) else str(inner)
        match = re.search(r"-data-(\w+)$", str(text))
        return match.group(1) if match else None
    return None


def _resource_name(node, prefix: str, condition: dict | None = None) -> str | None:
    """The default name of a data-stack resource a statement's Resource entry points at, or None for anything else.
    Objects of the uploads bucket are named by their key pattern (`orders/*`, `logs/*`); the bucket itself (ListBucket)
    by the `s3:prefix` its statement's condition allows, as README names it."""
    export = _export(node)
    if export:
        return EXPORTED_NAMES.get(export, export)
    if isinstance(node, dict) and isinstance(node.get("Fn::Sub"), list):
        text, variables = node["Fn::Sub"]
        imported = {name: _export(value) for name, value in variables.items()}
        if imported.get("Bucket") != "UploadsBucketName":
            return None
        if imported.get("Prefix") == "UploadsPrefix" and text.endswith("${Bucket}/${Prefix}*"):
            return f"{prefix}*"
        if match := re.search(r"\$\{Bucket\}/([\w-]+/)\*$", text):
            return f"{match.group(1)}*"
        if text.endswith("${Bucket}"):
            allowed = (condition or {}).get("StringLike", {}).get("s3:prefix")
            return allowed if isinstance(allowed, str) else None
    return None


def from_template(templates: Templates, role: str) -> set[Permission]:
    """The role's permissions on the data stack's resources, as its inline policies grant them."""
    resolved = with_defaults(templates)
    prefix = resolved["data"]["Parameters"]["UploadsPrefix"]["Default"]
    found: set[Permission] = set()
    for policy in resolved["security"]["Resources"][role]["Properties"].get("Policies", []):
        for statement in _as_list(policy["PolicyDocument"].get("Statement", [])):
            if statement.get("Effect") != "Allow":
                continue
            names = [n for n in (_resource_name(r, prefix, statement.get("Condition"))
                                 for r in _as_list(statement.get("Resource", []))) if n]
            for action in _as_list(statement.get("Action", [])):
                service, _, name = action.partition(":")
                if service in COLUMNS.values():
                    found |= {(service, name, resource) for resource in names}
    return found


def from_readme(text: str) -> dict[str, set[Permission]]:
    """README's IAM table: role label -> permissions. Cells are `; `-separated groups "`res`, `res`: Action, Action"."""
    lines = text.splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.startswith("| role |") and "DynamoDB" in line)
    columns = [cell.strip() for cell in lines[header_at].strip("|").split("|")]
    table: dict[str, set[Permission]] = {}
    for line in lines[header_at + 2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        permissions: set[Permission] = set()
        for column, cell in zip(columns[1:], cells[1:]):
            service = COLUMNS[column]
            for group in filter(None, (g.strip() for g in cell.split(";"))):
                resources, _, actions = group.partition(":")
                names = re.findall(r"`([^`]+)`", resources)
                permissions |= {(service, action.strip(), name) for name in names
                                for action in actions.split(",") if action.strip()}
        table[cells[0]] = permissions
    return table


def readme_matches_templates(templates: Templates, readme: str) -> list[str]:
    """Differences between README's table and the security stack, per role (empty = they agree exactly)."""
    problems = []
    table = from_readme(readme)
    if set(table) != set(ROLES):
        problems.append(f"README rows {sorted(table)} are not the roles {sorted(ROLES)}")
    for label, role in ROLES.items():
        granted, documented = from_template(templates, role), table.get(label, set())
        if granted - documented:
            problems.append(f"{role} grants, README does not list: {sorted(granted - documented)}")
        if documented - granted:
            problems.append(f"README lists, {role} does not grant: {sorted(documented - granted)}")
    return problems
