"""Our own policy rules over the templates (and the files the user data installs).

Each rule returns a list of violations (empty = pass). `mutations()` breaks a copy of the templates once per rule so
the test can show that every rule is able to fail."""
from __future__ import annotations

import copy
import pathlib
import re
from typing import Callable

# Resource "*" is allowed only for actions that have no resource-level permissions, each with its reason.
RESOURCE_STAR_ALLOWED = {
    "cloudwatch:PutMetricData": "no resource types; narrowed by the cloudwatch:namespace condition",
    "ssmmessages:CreateControlChannel": "no resource types; Session Manager (seed 004: no SSH)",
    "ssmmessages:CreateDataChannel": "no resource types; Session Manager",
    "ssmmessages:OpenControlChannel": "no resource types; Session Manager",
    "ssmmessages:OpenDataChannel": "no resource types; Session Manager",
}
WORLD = {"0.0.0.0/0", "::/0"}
PUBLIC_PORTS = {80, 443}

Templates = dict[str, dict]  # layer -> decoded template


def with_defaults(templates: Templates) -> Templates:
    """The templates with every Ref to a parameter replaced by its default (ports, CIDRs, names)."""
    def walk(node, defaults):
        if isinstance(node, dict):
            if set(node) == {"Ref"} and node["Ref"] in defaults:
                return defaults[node["Ref"]]
            return {key: walk(value, defaults) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item, defaults) for item in node]
        return node

    resolved = {}
    for layer, template in templates.items():
        defaults = {name: spec["Default"] for name, spec in (template.get("Parameters") or {}).items() if "Default" in spec}
        resolved[layer] = walk(template, defaults)
    return resolved


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _resources(templates: Templates, *types: str):
    for layer, template in with_defaults(templates).items():
        for name, spec in template.get("Resources", {}).items():
            if spec.get("Type") in types:
                yield layer, name, spec, spec.get("Properties", {})


def _policy_documents(templates: Templates):
    for layer, name, spec, props in _resources(templates, "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        if spec["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                yield f"{layer}/{name}/{policy.get('PolicyName')}", policy["PolicyDocument"]
        else:
            yield f"{layer}/{name}", props["PolicyDocument"]


def iam_least_privilege(templates: Templates) -> list[str]:
    """No Action "*" or "service:*", no NotAction/NotResource, Resource "*" only for RESOURCE_STAR_ALLOWED, no managed
    policies (they would hide their statements from this rule), no "*" principal in trust policies."""
    problems = []
    for where, document in _policy_documents(templates):
        for index, statement in enumerate(_as_list(document.get("Statement", []))):
            if statement.get("Effect") != "Allow":
                continue
            if "NotAction" in statement or "NotResource" in statement:
                problems.append(f"{where} statement {index}: NotAction/NotResource")
            actions = [a for a in _as_list(statement.get("Action", [])) if isinstance(a, str)]
            for action in actions:
                if action == "*" or action.endswith(":*"):
                    problems.append(f"{where} statement {index}: Action {action!r}")
            if "*" in _as_list(statement.get("Resource", [])):
                outside = [a for a in actions if a not in RESOURCE_STAR_ALLOWED and not a.startswith("logs:")]
                if outside:
                    problems.append(f"{where} statement {index}: Resource '*' for {outside}")
    for layer, name, _, props in _resources(templates, "AWS::IAM::Role"):
        if props.get("ManagedPolicyArns"):
            problems.append(f"{layer}/{name}: ManagedPolicyArns {props['ManagedPolicyArns']}")
        for statement in _as_list(props.get("AssumeRolePolicyDocument", {}).get("Statement", [])):
            if statement.get("Principal") == "*" or statement.get("Principal", {}).get("AWS") == "*":
                problems.append(f"{layer}/{name}: trust policy allows any principal")
    return problems


def _is_world(rule: dict) -> bool:
    return any(isinstance(rule.get(key), str) and rule[key] in WORLD for key in ("CidrIp", "CidrIpv6"))


def _ingress_rules(templates: Templates):
    """(where, group logical id, rule) for inline and standalone ingress rules."""
    for layer, name, _, props in _resources(templates, "AWS::EC2::SecurityGroup"):
        for rule in props.get("SecurityGroupIngress", []):
            yield f"{layer}/{name}", name, rule
    for layer, name, _, props in _resources(templates, "AWS::EC2::SecurityGroupIngress"):
        group = props.get("GroupId", {})
        yield f"{layer}/{name}", group.get("Ref") if isinstance(group, dict) else group, props


def _ports(rule: dict) -> tuple[int, int]:
    if str(rule.get("IpProtocol")) in ("-1", "all"):
        return 0, 65535
    return int(rule.get("FromPort", 0)), int(rule.get("ToPort", 65535))


def _alb_group_exports(templates: Templates) -> set[str]:
    """Export names of the security groups the internet-facing ALB uses."""
    names = set()
    for _, _, _, props in _resources(templates, "AWS::ElasticLoadBalancingV2::LoadBalancer"):
        if props.get("Scheme") == "internet-facing" and props.get("Type", "application") == "application":
            for group in props.get("SecurityGroups", []):
                if isinstance(group, dict) and "Fn::ImportValue" in group:
                    names.add(str(group["Fn::ImportValue"].get("Fn::Sub", group["Fn::ImportValue"])))
    return names


def world_ingress_only_alb_http(templates: Templates) -> list[str]:
    """0.0.0.0/0 (or ::/0) ingress only on ports 80 and 443, and only on the group the internet-facing ALB uses."""
    alb_exports = _alb_group_exports(templates)
    exported = {}
    for template in templates.values():
        for output in template.get("Outputs", {}).values():
            value = output.get("Value")
            if isinstance(value, dict) and "Ref" in value and "Export" in output:
                exported[value["Ref"]] = str(output["Export"]["Name"].get("Fn::Sub", output["Export"]["Name"]))
    problems = []
    for where, group, rule in _ingress_rules(templates):
        if _is_world(rule):
            low, high = _ports(rule)
            if not (low == high and low in PUBLIC_PORTS):
                problems.append(f"{where}: world ingress on ports {low}-{high}")
            elif exported.get(group) not in alb_exports:
                problems.append(f"{where}: world ingress on a group the internet-facing ALB does not use")
    return problems


def no_ssh(templates: Templates) -> list[str]:
    """No security group rule (any source) opens 22 or 3389, and no NACL allow rule lets 22 in. (The public NACL must
    admit 1024-65535 for the NAT's and the ALB's replies, so RDP is left to the security groups there.)"""
    problems = []
    for where, _, rule in _ingress_rules(templates):
        low, high = _ports(rule)
        for port in (22, 3389):
            if low <= port <= high:
                problems.append(f"{where}: ingress covers port {port}")
    for layer, name, _, props in _resources(templates, "AWS::EC2::NetworkAclEntry"):
        if str(props.get("Egress", False)).lower() == "true" or props.get("RuleAction") != "allow":
            continue
        port_range = props.get("PortRange")
        low, high = (0, 65535) if not port_range else (int(port_range["From"]), int(port_range["To"]))
        if low <= 22 <= high and str(props.get("Protocol")) in ("6", "-1"):
            problems.append(f"{layer}/{name}: NACL allows port 22 in")
    return problems


def buckets_private_encrypted_tls(templates: Templates) -> list[str]:
    """Every bucket blocks public access (all four flags), has default encryption, and a bucket policy that denies
    requests without TLS."""
    problems = []
    for layer, name, _, props in _resources(templates, "AWS::S3::Bucket"):
        block = props.get("PublicAccessBlockConfiguration", {})
        for flag in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
            if str(block.get(flag)).lower() != "true":
                problems.append(f"{layer}/{name}: {flag} is not true")
        if not props.get("BucketEncryption"):
            problems.append(f"{layer}/{name}: no default encryption")
        policies = [p for _, _, _, p in _resources({layer: templates[layer]}, "AWS::S3::BucketPolicy")
                    if p.get("Bucket") == {"Ref": name}]
        tls = any(s.get("Effect") == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") in ("false", False)
                  for p in policies for s in _as_list(p["PolicyDocument"]["Statement"]))
        if not tls:
            problems.append(f"{layer}/{name}: no bucket policy denying non-TLS requests")
    return problems


def imdsv2_required(templates: Templates) -> list[str]:
    """Every launch template requires IMDSv2 tokens with hop limit 1; no launch configurations or bare instances."""
    problems = []
    for layer, name, _, props in _resources(templates, "AWS::EC2::LaunchTemplate"):
        options = props.get("LaunchTemplateData", {}).get("MetadataOptions", {})
        if options.get("HttpTokens") != "required":
            problems.append(f"{layer}/{name}: HttpTokens is {options.get('HttpTokens')!r}, not 'required'")
        if int(options.get("HttpPutResponseHopLimit", 1)) != 1:
            problems.append(f"{layer}/{name}: hop limit above 1")
    for layer, name, spec, _ in _resources(templates, "AWS::AutoScaling::LaunchConfiguration", "AWS::EC2::Instance"):
        problems.append(f"{layer}/{name}: {spec['Type']} (use a launch template with IMDSv2)")
    return problems


def data_retained(templates: Templates) -> list[str]:
    """Tables and data buckets survive stack deletion; tables have PITR; queues are encrypted; logs expire."""
    problems = []
    for layer, name, spec, props in _resources(templates, "AWS::DynamoDB::Table", "AWS::S3::Bucket"):
        if spec.get("DeletionPolicy") != "Retain" or spec.get("UpdateReplacePolicy") != "Retain":
            problems.append(f"{layer}/{name}: DeletionPolicy/UpdateReplacePolicy not Retain")
        if spec["Type"] == "AWS::DynamoDB::Table":
            if str(props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled")).lower() != "true":
                problems.append(f"{layer}/{name}: point-in-time recovery off")
    for layer, name, _, props in _resources(templates, "AWS::SQS::Queue"):
        if str(props.get("SqsManagedSseEnabled")).lower() != "true" and "KmsMasterKeyId" not in props:
            problems.append(f"{layer}/{name}: queue not encrypted at rest")
    for layer, name, _, props in _resources(templates, "AWS::Logs::LogGroup"):
        if "RetentionInDays" not in props:
            problems.append(f"{layer}/{name}: log group without retention")
    return problems


def instance_files(templates: Templates, deploy_dir: pathlib.Path) -> list[str]:
    """The user data runs deploy/instance/install, which installs the hardened unit, the logrotate policy and the daily
    log-archive timer and checks /health; the units and the policy say what seeds 000/004 and the issue ask."""
    problems = []
    unit = (deploy_dir / "systemd/orderflow.service").read_text()
    for directive in ("User=orderflow", "NoNewPrivileges=yes", "ProtectSystem=strict", "Restart=on-failure",
                      "EnvironmentFile=/etc/orderflow/orderflow.env", "CapabilityBoundingSet="):
        if not re.search(rf"^{re.escape(directive)}", unit, re.M):
            problems.append(f"systemd/orderflow.service: missing {directive}")
    if not re.search(r"^ReadWritePaths=.*/var/lib/orderflow", unit, re.M):
        problems.append("systemd/orderflow.service: data dir not in ReadWritePaths")
    rotate = (deploy_dir / "logrotate/orderflow").read_text()
    for directive in ("daily", "rotate 7", "compress", "postrotate"):
        if not re.search(rf"^\s+{directive}\b", rotate, re.M):
            problems.append(f"logrotate/orderflow: missing {directive}")
    if re.search(r"^\s+copytruncate", rotate, re.M) or "kill --signal=HUP orderflow.service" not in rotate:
        problems.append("logrotate/orderflow: must reopen via SIGHUP (systemctl kill), not copytruncate")
    archive = (deploy_dir / "systemd/orderflow-logs-archive.service").read_text()
    for directive in ("User=orderflow", "NoNewPrivileges=yes", "ProtectSystem=strict", "Type=oneshot",
                      "EnvironmentFile=/etc/orderflow/orderflow.env"):
        if not re.search(rf"^{re.escape(directive)}", archive, re.M):
            problems.append(f"systemd/orderflow-logs-archive.service: missing {directive}")
    if not re.search(r"^ExecStart=\S*/orderflow logs archive --backend aws --log-file", archive, re.M):
        problems.append("systemd/orderflow-logs-archive.service: does not run orderflow logs archive on AWS")
    timer = (deploy_dir / "systemd/orderflow-logs-archive.timer").read_text()
    if not re.search(r"^OnCalendar=", timer, re.M) or not re.search(r"^Persistent=true", timer, re.M):
        problems.append("systemd/orderflow-logs-archive.timer: needs OnCalendar= and Persistent=true")
    install = (deploy_dir / "instance/install").read_text()
    for needle in ("deploy/systemd/orderflow.service", "deploy/logrotate/orderflow", "/health", "systemctl enable --now",
                   "deploy/systemd/orderflow-logs-archive.timer", "systemctl enable --now orderflow-logs-archive.timer"):
        if needle not in install:
            problems.append(f"instance/install: does not use {needle}")
    for layer, name, _, props in _resources(templates, "AWS::EC2::LaunchTemplate"):
        user_data = str(props.get("LaunchTemplateData", {}).get("UserData", ""))
        if "/opt/orderflow/deploy/instance/install" not in user_data:
            problems.append(f"{layer}/{name}: user data does not run deploy/instance/install")
    return problems


RULES: dict[str, Callable[..., list[str]]] = {
    "IAM: no '*' actions, Resource '*' only where the service has no resource types": iam_least_privilege,
    "network: 0.0.0.0/0 ingress only to the ALB on 80/443": world_ingress_only_alb_http,
    "network: no SSH/RDP ingress (security groups and NACLs)": no_ssh,
    "S3: every bucket blocks public access, is encrypted and TLS-only": buckets_private_encrypted_tls,
    "EC2: IMDSv2 required in every launch template": imdsv2_required,
    "data: tables and buckets retained, PITR on, queues encrypted, log retention set": data_retained,
}


def mutations() -> dict[str, Callable[[Templates], None]]:
    """One deliberate break per rule (rule name -> in-place edit of a copy of the templates)."""
    def role_policy(t: Templates) -> list:
        return t["security"]["Resources"]["ApiInstanceRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]

    def ingress(t: Templates, rule: dict) -> None:
        t["security"]["Resources"]["AppSecurityGroup"]["Properties"].setdefault("SecurityGroupIngress", []).append(rule)

    return {
        "IAM: no '*' actions, Resource '*' only where the service has no resource types":
            lambda t: role_policy(t).append({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}),
        "network: 0.0.0.0/0 ingress only to the ALB on 80/443":
            lambda t: ingress(t, {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "CidrIp": "0.0.0.0/0"}),
        "network: no SSH/RDP ingress (security groups and NACLs)":
            lambda t: ingress(t, {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "10.0.0.0/16"}),
        "S3: every bucket blocks public access, is encrypted and TLS-only":
            lambda t: t["data"]["Resources"]["UploadsBucket"]["Properties"]["PublicAccessBlockConfiguration"].update(
                RestrictPublicBuckets=False),
        "EC2: IMDSv2 required in every launch template":
            lambda t: t["compute"]["Resources"]["WorkerLaunchTemplate"]["Properties"]["LaunchTemplateData"][
                "MetadataOptions"].update(HttpTokens="optional"),
        "data: tables and buckets retained, PITR on, queues encrypted, log retention set":
            lambda t: t["data"]["Resources"]["OrdersTable"].pop("DeletionPolicy"),
    }


def extra_mutations() -> list[tuple[str, str, Callable[[Templates], None]]]:
    """More breaks of the same rules, for the cases a single mutation would not reach."""
    def action_star(t: Templates) -> None:
        t["security"]["Resources"]["WorkerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].append(
            {"Effect": "Allow", "Action": "dynamodb:*", "Resource": {"Fn::ImportValue": "x"}})

    def nacl_ssh(t: Templates) -> None:
        t["network"]["Resources"]["PublicInbound100Http"]["Properties"]["PortRange"] = {"From": 1, "To": 1023}

    def no_tls_policy(t: Templates) -> None:
        document = t["data"]["Resources"]["LogsBucketPolicy"]["Properties"]["PolicyDocument"]
        document["Statement"] = [s for s in document["Statement"] if s.get("Effect") != "Deny"]

    return [
        ("IAM: no '*' actions, Resource '*' only where the service has no resource types", "dynamodb:* action", action_star),
        ("network: no SSH/RDP ingress (security groups and NACLs)", "NACL opening 1-1023", nacl_ssh),
        ("S3: every bucket blocks public access, is encrypted and TLS-only", "logs bucket without TLS deny", no_tls_policy),
    ]


def mutated(templates: Templates, edit: Callable[[Templates], None]) -> Templates:
    copy_ = copy.deepcopy(templates)
    edit(copy_)
    return copy_
