"""Issue 4, "Prove it" point 5: the AWS pipeline end to end on the resources the stacks created, each process limited
to its role's policy from security.yaml.

The API process (`orderflow serve --backend aws --aws-role api`) and the worker (`orderflow worker --backend aws`) run
with the environment the compute stack's launch templates write for the instances (parsed from their user data), the
Lambda processor (`orderflow lambda`) with the function's environment from the template and a local Runtime API
(`lambda_runtime.py`: moto cannot run the function), each with the keys of an IAM user whose only policy is its
role's inline policy from the template, translated for moto by `moto_gaps.moto_policy`. moto enforces it
(authentication on), so a missing permission fails the pipeline, and the denials checked at the end show the
translation still refuses what the role does not grant.

Seed 001's plan: an order of exactly 300 (not high-value) and one of 450 through the API, and orders/1001.json
(450) uploaded through the API into the uploads bucket; then every order is in Orders, only the high-value ones have a
review case, and /stats counts each order once. Then the processor: the seeds' direct event (1004, 450), its replay,
and an S3 event for orders/1005.json, counted once more each."""
from __future__ import annotations

import base64
import json
import os
import pathlib
import queue
import re
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any, Callable

import lambda_runtime
import moto_gaps

# Role logical id -> (IAM user for the moto run, command line after the binary).
PROCESSES = {
    "ApiInstanceRole": ("orderflow-e2e-api", ["serve", "--backend", "aws", "--aws-role", "api"]),
    "WorkerRole": ("orderflow-e2e-worker", ["worker", "--backend", "aws"]),
    "ProcessorFunctionRole": ("orderflow-e2e-lambda", ["lambda"]),
}
# What the user data sets for the machine, not for the process under test (host, port, paths are the test's).
MACHINE_ONLY = {"ORDERFLOW_COMMAND", "ORDERFLOW_HOST", "ORDERFLOW_PORT", "ORDERFLOW_DATA_DIR", "ORDERFLOW_LOG_FILE"}
# The API's token settings name the user pool of a real deployment; the test's processes listen on loopback only, where
# the server allows running without authentication (the JWT checks have their own tests in the Swift suites).
AUTH_SETTINGS = {"ORDERFLOW_AUTH", "ORDERFLOW_JWKS_URL", "ORDERFLOW_JWT_ISSUER", "ORDERFLOW_JWT_AUDIENCE"}


class Failure(Exception):
    """A step of the pipeline did not happen; the message says which and what was seen."""


def eventually(what: str, timeout: float, probe: Callable[[], Any]) -> Any:
    """Polls `probe` until it returns something other than None, or fails after `timeout` seconds with the last error."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            result = probe()
        except (Failure, OSError, ValueError) as error:  # URLError is an OSError
            result, last = None, error
        if result is not None:
            return result
        time.sleep(0.25)  # poll interval, not synchronisation: the deadline bounds the wait
    raise Failure(f"{what}: not within {timeout:.0f} s (last: {last!r})")


def instance_environment(user_data_base64: str) -> dict[str, str]:
    """The variables the launch template's user data writes to /etc/orderflow/orderflow.env."""
    text = base64.b64decode(user_data_base64).decode()
    match = re.search(r"<<'ENV'\n(.*?)\nENV\n", text, re.S)
    if not match:
        raise Failure("the launch template's user data writes no /etc/orderflow/orderflow.env heredoc")
    return dict(line.split("=", 1) for line in match.group(1).splitlines() if "=" in line)


class Process:
    """One orderflow process (on a free port when it listens), its stdout and stderr kept in files: the log lines go
    to one or the other depending on the logging setup, and the test reads both."""

    def __init__(self, binary: str, arguments: list[str], environment: dict[str, str], workdir: pathlib.Path, name: str,
                 listens: bool = True):
        self.name = name
        self.log = workdir / f"{name}.stderr.log"
        self.out = workdir / f"{name}.stdout.log"
        data = workdir / f"{name}-data"
        data.mkdir()
        server = ["--host", "127.0.0.1", "--port", "0", "--data-dir", str(data), "--log-level", "info"] if listens else []
        self.process = subprocess.Popen([binary, *arguments, *server], env=environment, stdout=subprocess.PIPE,
                                        stderr=self.log.open("wb"), text=True)
        lines: queue.Queue[str] = queue.Queue()

        def drain() -> None:
            with self.out.open("a") as copy:
                for line in self.process.stdout:
                    copy.write(line)
                    copy.flush()
                    lines.put(line)
        threading.Thread(target=drain, daemon=True).start()
        self.url = ""
        try:
            self._await_listening(lines, listens)
        except BaseException:
            self.stop()
            raise

    def _await_listening(self, lines: queue.Queue[str], listens: bool) -> None:
        # The announcement is plain text or, with JSON logging, the message of a log record:
        # "OrderFlow 0.1.0 (api, backend aws, region …) listening on http://127.0.0.1:PORT".
        deadline = time.monotonic() + 60
        while listens and not self.url:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise Failure(f"{self.name} did not start listening within 60 s: {self.output()[-2000:]}") from None
            if match := re.search(r"listening on (http://[\d.]+:\d+)", line):
                self.url = match.group(1)
            elif self.process.poll() is not None or time.monotonic() > deadline:
                raise Failure(f"{self.name} exited or did not listen (status {self.process.poll()}): {self.output()[-2000:]}")

    def output(self) -> str:
        """What the process wrote so far, stdout then stderr."""
        return self.out.read_text(errors="replace") + self.log.read_text(errors="replace")

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str = "application/json") -> tuple[int, Any]:
        request = urllib.request.Request(self.url + path, data=body, method=method,
                                         headers={"Content-Type": content_type} if body is not None else {})
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                status, text = reply.status, reply.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        return status, json.loads(text) if text else None

    def json(self, path: str) -> Any:
        status, body = self.request("GET", path)
        if status != 200:
            raise Failure(f"{self.name} GET {path}: {status} {body}")
        return body

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def role_user(iam, user: str, document: dict) -> dict[str, str]:
    """An IAM user whose only policy is `document` (moto's reading of a role policy); its keys as AWS variables."""
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="role-policy", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def denied(call: Callable[[], Any]) -> str | None:
    """The error code if moto refused `call` for authorization, else None (the call went through or failed otherwise)."""
    try:
        call()
    except Exception as error:  # noqa: BLE001 - botocore's ClientError, read by its response
        code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
        return code if "AccessDenied" in code or code in ("403", "AuthorizationError") else None
    return None


def _translation_changes(document: dict) -> tuple[list[str], list[str]]:
    """What `moto_gaps.moto_policy` changed in `document`: (statements changed beyond the two allowed translations,
    the operation-named actions it added)."""
    translated = moto_gaps.moto_policy(document)["Statement"]
    if len(translated) != len(document["Statement"]):
        return ["the number of statements"], []
    problems, added = [], set()
    for before, after in zip(document["Statement"], translated):
        actions = set(_as_list(before["Action"]))
        extra = set(after["Action"]) - actions
        allowed_extra = {name for action in actions for name in moto_gaps.MOTO_OPERATION_ACTIONS.get(action, [])}
        star = {a.split(":")[0] for a in actions} <= moto_gaps.MOTO_RESOURCE_STAR_SERVICES
        rest = lambda statement: {k: v for k, v in statement.items() if k not in ("Action", "Resource")}  # noqa: E731
        if not actions <= set(after["Action"]) or not extra <= allowed_extra \
                or after["Resource"] != ("*" if star else before["Resource"]) or rest(after) != rest(before):
            problems.append(before.get("Sid", "?"))
        added |= extra
    return problems, sorted(added)


def run(d, c) -> None:
    """The pipeline on deployment `d` (stacks deployed, inspected, not yet deleted), reporting to checks `c`."""
    import boto3

    binary = os.environ.get("ORDERFLOW_BIN", "")
    if not (binary and os.access(binary, os.X_OK)):
        c.check("e2e: ORDERFLOW_BIN is the orderflow binary (scripts/test-iac builds it when unset)", False, repr(binary))
        return
    data, compute = d.physical["data"], d.physical["compute"]
    template = d.templates["security"]["Resources"]
    policies = {role: d.resolver("security", d.production).resolve(template[role]["Properties"]["Policies"])[0]["PolicyDocument"]
                for role in PROCESSES}
    iam, s3, sqs, ddb = d.client("iam"), d.client("s3"), d.client("sqs"), d.client("dynamodb")

    def session(keys: dict[str, str]):
        return boto3.session.Session(aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
                                     aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"], region_name=d.REGION)

    for role, document in policies.items():
        problems, added = _translation_changes(document)
        c.check(f"e2e: {role}'s moto reading only widens DynamoDB/SNS/Kinesis resources to \"*\" and adds moto's "
                f"operation names {added}", not problems, f"statements changed otherwise: {problems}")
    suffix = uuid.uuid4().hex[:6]  # a second run against the same moto makes its own users
    users = {role: f"{user}-{suffix}" for role, (user, _) in PROCESSES.items()}
    keys = {role: role_user(iam, users[role], moto_gaps.moto_policy(policies[role])) for role in PROCESSES}
    c.check("e2e: one IAM user per role, each with only its role's policy from security.yaml (moto reading)",
            all(iam.list_user_policies(UserName=user)["PolicyNames"] == ["role-policy"]
                and not iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
                for user in users.values()))

    # The environment the instances get, from the compute stack's launch templates, plus moto and the role's keys.
    templates = {"ApiInstanceRole": "ApiLaunchTemplate", "WorkerRole": "WorkerLaunchTemplate"}
    ec2 = d.client("ec2")
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AWS_ENDPOINT_URL": d.endpoint, "AWS_EC2_METADATA_DISABLED": "true"}
    environments = {}
    for role, launch_template in templates.items():
        user_data = ec2.describe_launch_template_versions(LaunchTemplateId=compute[launch_template])[
            "LaunchTemplateVersions"][0]["LaunchTemplateData"]["UserData"]
        variables = {k: v for k, v in instance_environment(user_data).items() if k not in MACHINE_ONLY | AUTH_SETTINGS}
        environments[role] = {**base, **variables, **keys[role]}
    # moto refuses the Lambda API with authentication on: the function's environment comes from the compute template,
    # resolved against this deployment, as CloudFormation gives it to the function.
    function = d.templates["compute"]["Resources"]["ProcessorFunction"]["Properties"]["Environment"]["Variables"]
    runtime = lambda_runtime.RuntimeAPI()
    environments["ProcessorFunctionRole"] = {**base, **d.resolver("compute", d.production).resolve(function),
                                             "AWS_REGION": d.REGION, "AWS_LAMBDA_RUNTIME_API": runtime.address,
                                             **keys["ProcessorFunctionRole"]}
    c.equal("e2e: the processes run on the stacks' resources (environment from the launch templates' user data)",
            {k: environments["ApiInstanceRole"].get(k) for k in ("AWS_REGION", "ORDERFLOW_AWS_ORDERS_TABLE",
                                                                  "ORDERFLOW_AWS_ANALYTICS_TABLE", "ORDERFLOW_AWS_UPLOADS_BUCKET")},
            {"AWS_REGION": d.REGION, "ORDERFLOW_AWS_ORDERS_TABLE": data["OrdersTable"],
             "ORDERFLOW_AWS_ANALYTICS_TABLE": data["AnalyticsTable"], "ORDERFLOW_AWS_UPLOADS_BUCKET": data["UploadsBucket"]})

    # The data inspection's probes left messages in flight; the pipeline starts from empty queues.
    for name in ("HighValueQueue", "UploadsQueue", "HighValueDeadLetterQueue", "UploadsDeadLetterQueue"):
        sqs.purge_queue(QueueUrl=data[name])
    # moto applies the bucket policy's Principal "*" Deny without its aws:SecureTransport condition, so over moto's
    # plain HTTP it refuses every object request (inspect_data checks that); it is lifted for the run and put back.
    bucket = data["UploadsBucket"]
    bucket_policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    s3.delete_bucket_policy(Bucket=bucket)
    processes: list[Process] = []
    with tempfile.TemporaryDirectory(prefix="orderflow-e2e-") as workdir:
        try:
            api = Process(binary, PROCESSES["ApiInstanceRole"][1], environments["ApiInstanceRole"], pathlib.Path(workdir), "api")
            processes.append(api)
            worker = Process(binary, PROCESSES["WorkerRole"][1], environments["WorkerRole"], pathlib.Path(workdir), "worker")
            processes.append(worker)
            processor = Process(binary, PROCESSES["ProcessorFunctionRole"][1], environments["ProcessorFunctionRole"],
                                pathlib.Path(workdir), "lambda", listens=False)
            processes.append(processor)
            c.check("e2e: API, worker and Lambda processor processes started with their role users' keys", True)
            _pipeline(c, api, worker, ddb, data)
            _lambda_processor(c, runtime, api, ddb, s3, data, d.REGION)
            c.equal("e2e: the Lambda processor reported no init error to the Runtime API", runtime.init_error, None)
            _denials(c, d, session(keys["ApiInstanceRole"]), session(keys["WorkerRole"]),
                     session(keys["ProcessorFunctionRole"]), data)
            for process in processes:
                # Refusals by name, and every error-level line (JSON records or text lines): a failed round of a
                # background worker (the relay, a consumer) is logged and retried without its cause in every format.
                output = process.output()
                refusals = sorted(set(re.findall(r"AccessDenied[^\n]{0,160}", output)))
                errors = re.findall(r'^.*(?:"level":"(?:error|critical)"|^\S+ (?:error|critical) ).*$', output, re.M)
                c.check(f"e2e: the {process.name} process was refused nothing and logged no error (its role's policy is enough)",
                        not refusals and not errors, (refusals + errors)[:3])
        except Failure as failure:
            c.check("e2e: the pipeline ran to the end", False,
                    f"{failure}\n" + "\n".join(f"--- {p.name} output (tail):\n{p.output()[-3000:]}" for p in processes))
        finally:
            for process in processes:
                process.stop()
            runtime.close()
            s3.put_bucket_policy(Bucket=bucket, Policy=bucket_policy)


def _pipeline(c, api: Process, worker: Process, ddb, data: dict[str, str]) -> None:
    status, body = api.request("POST", "/orders", b'{"OrderId":"1002","Amount":300}')
    c.equal("e2e: POST /orders 1002 (amount exactly 300) through the API process", (status, body and body.get("orderId")), (201, "1002"))
    status, body = api.request("POST", "/orders", b'{"OrderId":"1003","Amount":450}')
    c.equal("e2e: POST /orders 1003 (450) through the API process", (status, body and body.get("orderId")), (201, "1003"))
    status, body = api.request("PUT", "/uploads/orders/1001.json", b'{"OrderId":"1001","Amount":450}')
    c.equal("e2e: PUT /uploads/orders/1001.json through the API process lands in the stack's uploads bucket",
            (status, body and body.get("bucket"), body and body.get("key")), (200, data["UploadsBucket"], "orders/1001.json"))

    uploaded = eventually("the worker ingests orders/1001.json (S3 -> order-uploads -> worker)", 90, lambda: (
        lambda reply: reply[1] if reply[0] == 200 else None)(api.request("GET", "/orders/1001")))
    c.equal("e2e: order 1001 came from the upload", uploaded.get("source"), "upload:orders/1001.json")
    items = {i: ddb.get_item(TableName=data["OrdersTable"], Key={"OrderID": {"S": i}}, ConsistentRead=True).get("Item")
             for i in ("1001", "1002", "1003")}
    c.check("e2e: orders 1001, 1002, 1003 are items in the stack's Orders table",
            all(item and item["OrderID"]["S"] == i for i, item in items.items()), {i: bool(v) for i, v in items.items()})

    for order in ("1001", "1003"):
        eventually(f"the review of {order} opens (SNS HighValueOrderTopic -> HighValueQueue -> worker)", 90,
                   lambda: True if api.json(f"/orders/{order}").get("review") == "open" else None)
    c.check("e2e: review cases opened for the high-value orders 1001 and 1003", True)
    exact = api.json("/orders/1002")
    c.equal("e2e: order 1002 (exactly 300) is not high-value and has no review", (exact.get("highValue"), exact.get("review")), (False, None))
    reviews = api.json("/reviews?status=open").get("reviews", [])
    c.equal("e2e: the open reviews are exactly 1001 and 1003", sorted(r.get("orderId") for r in reviews), ["1001", "1003"])

    # Exactly once: wait until everything is relayed and the analytics consumer has read the whole stream, then the
    # counts must be 3 orders (not more), with one de-dup marker per order.
    eventually("the outbox is empty (every event relayed)", 60, lambda: True if ddb.scan(
        TableName=data["OutboxTable"], Select="COUNT", ConsistentRead=True)["Count"] == 0 else None)
    eventually("the analytics consumer has read the whole stream (worker /status lag 0)", 90, lambda: True if (
        (worker.json("/status").get("streamConsumerLag") or {}).get("total") == 0
        and api.json("/stats").get("orders") == 3) else None)
    stats = api.json("/stats")
    c.equal("e2e: /stats (API process) counts each order once: 3 orders, 2 high-value, USD 1200.00",
            (stats.get("orders"), stats.get("highValueOrders"), stats.get("revenue", {}).get("USD")), (3, 2, "1200.00"))
    markers = ddb.scan(TableName=data["AnalyticsTable"], ConsistentRead=True,
                       FilterExpression="begins_with(#k, :order)", ExpressionAttributeNames={"#k": "Key"},
                       ExpressionAttributeValues={":order": {"S": "order#"}})["Items"]
    c.equal("e2e: OrdersAnalytics holds one de-dup marker per order, each with its ExpiresAt (TTL)",
            sorted((m["Key"]["S"], "ExpiresAt" in m) for m in markers),
            [("order#1001", True), ("order#1002", True), ("order#1003", True)])
    queues = {q["name"]: q for q in api.json("/queues").get("queues", [])}
    c.equal("e2e: nothing dead-lettered (API /queues)", {n: q.get("deadLetters") for n, q in queues.items()},
            {"HighValueQueue": 0, "order-uploads": 0})

    # Documents and the audit trail in their tables, under the API role's policy.
    boundary = "e2eb0undary"
    upload = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"invoice.txt\"\r\n"
              f"Content-Type: text/plain\r\n\r\ninvoice 1001\r\n--{boundary}--\r\n").encode()
    status, body = api.request("POST", "/upload", upload, content_type=f"multipart/form-data; boundary={boundary}")
    c.equal("e2e: POST /upload through the API process records the document", (status, body and body.get("filename")), (201, "invoice.txt"))
    listed = api.json("/documents").get("documents", [])
    c.equal("e2e: GET /documents (API process) lists it from the stack's documents table",
            [d.get("id") for d in listed], [body and body.get("id")])
    entries = api.json("/audit?limit=1000").get("entries", [])
    c.check("e2e: GET /audit (API process): every state-changing request is one entry of one chain in the audit table",
            len(entries) >= 4 and [e.get("sequence") for e in entries] == list(range(1, len(entries) + 1))
            and all(b.get("previousHash") == a.get("hash") for a, b in zip(entries, entries[1:]))
            and {"/orders", "/upload"} <= {e.get("route") for e in entries}, entries[:3])


def _lambda_processor(c, runtime, api: Process, ddb, s3, data: dict[str, str], region: str) -> None:
    """The Lambda processor under its role's policy: the seeds' direct event, its replay, and an S3 event."""
    kind, reply = runtime.invoke({"OrderId": "1004", "Amount": 450})
    c.equal("e2e: Lambda: the direct event {OrderId 1004, Amount 450} creates the order",
            (kind, (reply or {}).get("outcome"), ((reply or {}).get("order") or {}).get("highValue")), ("response", "created", True))
    kind, reply = runtime.invoke({"OrderId": "1004", "Amount": 450})
    c.equal("e2e: Lambda: the same event again is a replay (the stored order is read back)",
            (kind, (reply or {}).get("outcome")), ("response", "replayed"))
    s3.put_object(Bucket=data["UploadsBucket"], Key="orders/1005.json", Body=b'{"OrderId":"1005","Amount":120}')
    event = {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": region,
                          "eventName": "ObjectCreated:Put",
                          "s3": {"bucket": {"name": data["UploadsBucket"], "arn": f"arn:aws:s3:::{data['UploadsBucket']}"},
                                 "object": {"key": "orders/1005.json", "size": 31}}}]}
    kind, reply = runtime.invoke(event)
    objects = (reply or {}).get("objects", [])
    # S3 also notified order-uploads, so the worker may have stored 1005 first: then the processor's is a replay.
    c.check("e2e: Lambda: the S3 event for orders/1005.json stores that order once (created or replayed)",
            kind == "response" and [(o.get("key"), o.get("accepted", 0) + o.get("replayed", 0), o.get("problems")) for o in objects]
            == [("orders/1005.json", 1, 0)], (kind, reply))
    c.check("e2e: Lambda: orders 1004 and 1005 are items in the stack's Orders table",
            all(ddb.get_item(TableName=data["OrdersTable"], Key={"OrderID": {"S": i}}, ConsistentRead=True).get("Item")
                for i in ("1004", "1005")))
    eventually("the review of 1004 opens (the processor's relay -> SNS -> HighValueQueue -> worker)", 90,
               lambda: True if api.json("/orders/1004").get("review") == "open" else None)
    stats = eventually("/stats counts the processor's orders too (5 orders)", 90,
                       lambda: (lambda s: s if s.get("orders") == 5 else None)(api.json("/stats")))
    c.equal("e2e: /stats after the processor: 5 orders, 3 high-value, USD 1770.00 (each counted once)",
            (stats.get("orders"), stats.get("highValueOrders"), stats.get("revenue", {}).get("USD")), (5, 3, "1770.00"))


def _denials(c, d, api, worker, processor, data: dict[str, str]) -> None:
    """The moto reading of the policies is not vacuous: what a role does not grant is refused."""
    api_ddb, api_sqs, api_s3, api_kinesis = (api.client(s, endpoint_url=d.endpoint) for s in ("dynamodb", "sqs", "s3", "kinesis"))
    worker_s3, worker_ddb = (worker.client(s, endpoint_url=d.endpoint) for s in ("s3", "dynamodb"))
    processor_ddb, processor_sqs = (processor.client(s, endpoint_url=d.endpoint) for s in ("dynamodb", "sqs"))
    c.check("e2e: the API user may read queue attributes (the control: its keys work)",
            denied(lambda: api_sqs.get_queue_attributes(QueueUrl=data["HighValueQueue"], AttributeNames=["QueueArn"])) is None)
    for what, call in (
        ("the API user cannot DeleteTable Orders", lambda: api_ddb.delete_table(TableName=data["OrdersTable"])),
        ("the API user cannot Query Orders (trimmed)", lambda: api_ddb.query(
            TableName=data["OrdersTable"], KeyConditionExpression="OrderID = :id",
            ExpressionAttributeValues={":id": {"S": "1001"}})),
        ("the API user cannot ReceiveMessage from HighValueQueue (only the worker consumes it)",
         lambda: api_sqs.receive_message(QueueUrl=data["HighValueQueue"], WaitTimeSeconds=0)),
        ("the API user cannot GetObject from the uploads bucket (it only stores uploads)",
         lambda: api_s3.get_object(Bucket=data["UploadsBucket"], Key="orders/1001.json")),
        ("the API user cannot read the stream (GetShardIterator)", lambda: api_kinesis.get_shard_iterator(
            StreamName=data["OrdersStream"], ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")),
        ("the worker user cannot PutObject into the uploads bucket", lambda: worker_s3.put_object(
            Bucket=data["UploadsBucket"], Key="orders/not-allowed.json", Body=b"{}")),
        ("the worker user cannot DeleteItem (no role deletes single items)", lambda: worker_ddb.delete_item(
            TableName=data["OutboxTable"], Key={"EventId": {"S": "not-there"}})),
        ("the Lambda user cannot GetItem (it only writes orders and reads them back in batches)",
         lambda: processor_ddb.get_item(TableName=data["OrdersTable"], Key={"OrderID": {"S": "1004"}})),
        ("the Lambda user cannot ReceiveMessage from order-uploads (only Lambda's DLQ delivery sends)",
         lambda: processor_sqs.receive_message(QueueUrl=data["UploadsQueue"], WaitTimeSeconds=0)),
    ):
        code = denied(call)
        c.check(f"e2e: {what}: refused by moto's IAM", code is not None, "the call was not refused")
