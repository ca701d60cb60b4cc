#!/usr/bin/env python3
"""Deploys (or deletes) OrderFlow's CloudFormation stacks in dependency order.

The one deploy command (deploy/deploy is a wrapper) and the deploy step of scripts/test-iac share this module, so the
order of the stacks, the parameters each receives and the wait for CREATE_COMPLETE are the same in both.

    deploy/deploy up   --artifact-bucket B --auth-issuer URL --auth-client-ids IDS [--alert-email E] [--certificate-arn A] [--nat per-az] [-p Key=Value ...]
    deploy/deploy export [--env orderflow]     (the data stack's tables -> the uploads bucket, exports/<time>/<table>/)
    deploy/deploy down [--env orderflow] [--no-export]     (exports first, then deletes; data is retained)
"""
from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time

import yaml

TEMPLATES = pathlib.Path(__file__).resolve().parent / "cloudformation"

# Each stack imports only exports of the stacks before it.
STACKS = ["network", "data", "security", "compute", "observability"]

# Retained data (DeletionPolicy Retain) that outlives `down`: the tables, the uploads/logs buckets, the trail bucket.
TERMINAL_OK = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
TERMINAL_BAD = {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE",
                "UPDATE_ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_FAILED"}


class _TemplateLoader(yaml.SafeLoader):
    """Reads CloudFormation YAML far enough to list its parameters (short-form tags become plain values)."""


def _ignore_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node):  # noqa: ARG001
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_TemplateLoader.add_multi_constructor("!", _ignore_tag)


def template_path(layer: str) -> pathlib.Path:
    return TEMPLATES / f"{layer}.yaml"


def stack_name(environment: str, layer: str) -> str:
    return f"{environment}-{layer}"


def declared_parameters(layer: str) -> set[str]:
    document = yaml.load(template_path(layer).read_text(), Loader=_TemplateLoader)
    return set((document.get("Parameters") or {}).keys())


def parameters_for(layer: str, values: dict[str, str]) -> list[dict[str, str]]:
    """The subset of `values` this layer's template declares, in the API's shape."""
    declared = declared_parameters(layer)
    return [{"ParameterKey": key, "ParameterValue": str(value)} for key, value in sorted(values.items()) if key in declared]


def wait_for_stack(cfn, name: str, timeout_s: float = 3600, poll_s: float = 5) -> dict:
    """Polls until the stack reaches a terminal state; returns it, or raises with the failure reasons."""
    deadline = time.monotonic() + timeout_s
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if status in TERMINAL_OK:
            return stack
        if status in TERMINAL_BAD:
            events = cfn.describe_stack_events(StackName=name).get("StackEvents", [])
            reasons = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}" for e in events
                       if e.get("ResourceStatus", "").endswith("FAILED")][:10]
            raise RuntimeError(f"stack {name} ended in {status}: {stack.get('StackStatusReason')} {reasons}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"stack {name} still {status} after {timeout_s:.0f} s")
        time.sleep(poll_s)


def deploy_stack(cfn, environment: str, layer: str, values: dict[str, str]) -> dict:
    """Creates the layer's stack, or updates it when it exists; waits for completion and returns the stack."""
    name = stack_name(environment, layer)
    arguments = dict(StackName=name, TemplateBody=template_path(layer).read_text(),
                     Parameters=parameters_for(layer, {"EnvironmentName": environment, **values}),
                     Capabilities=["CAPABILITY_IAM"])
    try:
        cfn.describe_stacks(StackName=name)
        exists = True
    except cfn.exceptions.ClientError:
        exists = False
    if exists:
        try:
            cfn.update_stack(**arguments)
        except cfn.exceptions.ClientError as error:
            if "No updates are to be performed" not in str(error):
                raise
    else:
        cfn.create_stack(**arguments)
    return wait_for_stack(cfn, name)


def deploy_all(cfn, environment: str, values: dict[str, str], log=print) -> dict[str, dict]:
    stacks = {}
    for layer in STACKS:
        log(f"==> {stack_name(environment, layer)}")
        stacks[layer] = deploy_stack(cfn, environment, layer, values)
    return stacks


def delete_stack(cfn, environment: str, layer: str, timeout_s: float = 3600) -> None:
    """Deletes one layer's stack and waits until it is gone; retained resources (tables, buckets) stay."""
    name = stack_name(environment, layer)
    cfn.delete_stack(StackName=name)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        except cfn.exceptions.ClientError:
            return  # gone
        if status == "DELETE_COMPLETE":
            return
        if status == "DELETE_FAILED":
            raise RuntimeError(f"could not delete {name}")
        time.sleep(5)
    raise TimeoutError(f"stack {name} not deleted after {timeout_s:.0f} s")


# The data stack's tables (by the names of their ARN exports), saved to the uploads bucket before a teardown.
EXPORTED_TABLES = ("OrdersTableArn", "OutboxTableArn", "AnalyticsTableArn", "ApiKeysTableArn", "DocumentsTableArn",
                   "AuditTableArn")


def stack_exports(cfn) -> dict[str, str]:
    exports, token = {}, None
    while True:
        page = cfn.list_exports(**({"NextToken": token} if token else {}))
        exports.update({e["Name"]: e["Value"] for e in page["Exports"]})
        token = page.get("NextToken")
        if not token:
            return exports


def export_tables(cfn, dynamodb, environment: str, prefix: str = "exports/", timeout_s: float = 3600, poll_s: float = 10,
                  log=print) -> dict[str, dict]:
    """Seed 004, export before teardown: a point-in-time export (DynamoDB JSON) of every table of the data stack into
    the uploads bucket under `<prefix><UTC time>/<table>`, waited for. Returns table -> export description; raises if
    an export fails, so a teardown that depends on it stops before deleting anything."""
    exports = stack_exports(cfn)
    bucket = exports[f"{environment}-data-UploadsBucketName"]
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    started: dict[str, str] = {}
    for name in EXPORTED_TABLES:
        arn = exports[f"{environment}-data-{name}"]
        table = arn.rsplit("/", 1)[1]
        log(f"==> exporting {table} to s3://{bucket}/{prefix}{stamp}/{table}")
        started[table] = dynamodb.export_table_to_point_in_time(
            TableArn=arn, S3Bucket=bucket, S3Prefix=f"{prefix}{stamp}/{table}", ExportFormat="DYNAMODB_JSON")["ExportDescription"]["ExportArn"]
    finished: dict[str, dict] = {}
    deadline = time.monotonic() + timeout_s
    while len(finished) < len(started):
        for table, arn in started.items():
            if table in finished:
                continue
            description = dynamodb.describe_export(ExportArn=arn)["ExportDescription"]
            if description["ExportStatus"] == "FAILED":
                raise RuntimeError(f"export of {table} failed: {description.get('FailureCode')} {description.get('FailureMessage')}")
            if description["ExportStatus"] == "COMPLETED":
                finished[table] = description
        if len(finished) < len(started):
            if time.monotonic() > deadline:
                raise TimeoutError(f"exports of {sorted(set(started) - set(finished))} not complete after {timeout_s:.0f} s")
            time.sleep(poll_s)
    return finished


def delete_all(cfn, environment: str, log=print) -> None:
    """Deletes the stacks newest first."""
    for layer in reversed(STACKS):
        log(f"==> deleting {stack_name(environment, layer)}")
        delete_stack(cfn, environment, layer)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="deploy/deploy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["up", "export", "down"])
    parser.add_argument("--no-export", action="store_true", help="down: skip the export of the tables (not recommended)")
    parser.add_argument("--env", default="orderflow", help="EnvironmentName: stack and export prefix")
    parser.add_argument("--region", default=None, help="AWS region (default: AWS_REGION, then the SDK's configuration)")
    parser.add_argument("--artifact-bucket", help="bucket holding the release artifact and the Lambda zip")
    parser.add_argument("--alert-email", default="", help="subscribed to lab-alerts")
    parser.add_argument("--certificate-arn", default="", help="ACM certificate: adds HTTPS 443, 80 redirects")
    parser.add_argument("--nat", choices=["single", "per-az"], default="single")
    parser.add_argument("--auth-issuer", default="", help="up: token issuer of the API, e.g. a Cognito user pool's https://cognito-idp.REGION.amazonaws.com/POOL")
    parser.add_argument("--auth-client-ids", default="", help="up: app client ids whose access tokens the API accepts, comma-separated")
    parser.add_argument("-p", "--parameter", action="append", default=[], metavar="KEY=VALUE",
                        help="any other template parameter, passed to every stack that declares it")
    args = parser.parse_args(argv)

    import boto3  # only the command needs it; the tests bring their own session

    # Seed 004's lesson: a missing region is one clear line, not a NoRegionError traceback.
    region = args.region or os.environ.get("AWS_REGION") or boto3.session.Session().region_name
    if not region:
        parser.error("no AWS region: pass --region or set AWS_REGION (or a region in the AWS config file)")
    cfn = boto3.client("cloudformation", region_name=region)
    if args.action in ("export", "down") and not (args.action == "down" and args.no_export):
        for table, export in export_tables(cfn, boto3.client("dynamodb", region_name=region), args.env).items():
            print(f"{table}: {export.get('ItemCount', '?')} items exported to s3://{export['S3Bucket']}/{export['S3Prefix']}")
    if args.action == "export":
        return 0
    if args.action == "down":
        delete_all(cfn, args.env)
        print("stacks deleted; the tables and buckets are retained (see deploy/README.md, teardown)")
        return 0
    if not args.artifact_bucket:
        parser.error("up needs --artifact-bucket")
    if not args.auth_issuer or not args.auth_client_ids:
        parser.error("up needs --auth-issuer and --auth-client-ids: the API instances listen on the network and require tokens")
    values = {"ArtifactBucketName": args.artifact_bucket, "LambdaCodeBucket": args.artifact_bucket,
              "AlertEmail": args.alert_email, "CertificateArn": args.certificate_arn, "NatGateways": args.nat,
              "AuthIssuerUrl": args.auth_issuer, "AuthClientIds": args.auth_client_ids}
    for item in args.parameter:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--parameter {item!r} is not KEY=VALUE")
        values[key] = value
    stacks = deploy_all(cfn, args.env, values)
    for output in stacks["compute"].get("Outputs", []):
        if output["OutputKey"] in ("AlbDnsName", "NlbDnsName"):
            print(f"{output['OutputKey']}: {output['OutputValue']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
