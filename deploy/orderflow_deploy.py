#!/usr/bin/env python3
"""Deploys (or deletes) OrderFlow's CloudFormation stacks in dependency order.

The one deploy command (deploy/deploy is a wrapper) and the deploy step of scripts/test-iac share this module, so the
order of the stacks, the parameters each receives and the wait for CREATE_COMPLETE are the same in both.

    deploy/deploy up   --artifact-bucket B [--alert-email E] [--certificate-arn A] [--nat per-az] [-p Key=Value ...]
    deploy/deploy down [--env orderflow]
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


def delete_all(cfn, environment: str, log=print) -> None:
    """Deletes the stacks newest first."""
    for layer in reversed(STACKS):
        log(f"==> deleting {stack_name(environment, layer)}")
        delete_stack(cfn, environment, layer)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="deploy/deploy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--env", default="orderflow", help="EnvironmentName: stack and export prefix")
    parser.add_argument("--region", default=None, help="AWS region (default: AWS_REGION, then the SDK's configuration)")
    parser.add_argument("--artifact-bucket", help="bucket holding the release artifact and the Lambda zip")
    parser.add_argument("--alert-email", default="", help="subscribed to lab-alerts")
    parser.add_argument("--certificate-arn", default="", help="ACM certificate: adds HTTPS 443, 80 redirects")
    parser.add_argument("--nat", choices=["single", "per-az"], default="single")
    parser.add_argument("-p", "--parameter", action="append", default=[], metavar="KEY=VALUE",
                        help="any other template parameter, passed to every stack that declares it")
    args = parser.parse_args(argv)

    import boto3  # only the command needs it; the tests bring their own session

    # Seed 004's lesson: a missing region is one clear line, not a NoRegionError traceback.
    region = args.region or os.environ.get("AWS_REGION") or boto3.session.Session().region_name
    if not region:
        parser.error("no AWS region: pass --region or set AWS_REGION (or a region in the AWS config file)")
    cfn = boto3.client("cloudformation", region_name=region)
    if args.action == "down":
        delete_all(cfn, args.env)
        print("stacks deleted; the tables and buckets are retained (see deploy/README.md, teardown)")
        return 0
    if not args.artifact_bucket:
        parser.error("up needs --artifact-bucket")
    values = {"ArtifactBucketName": args.artifact_bucket, "LambdaCodeBucket": args.artifact_bucket,
              "AlertEmail": args.alert_email, "CertificateArn": args.certificate_arn, "NatGateways": args.nat}
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
