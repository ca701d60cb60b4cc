"""What moto 5.2.1's CloudFormation does not do, and how the test still checks it.

moto marks a resource type it has no model for as CREATE_COMPLETE and creates nothing, and for several types it
creates the resource but drops properties. Nothing here is dropped silently: every skipped resource and dropped
property the templates use is named below with the reason, then applied from the template's own (resolved)
properties through the service's API (which moto does implement), so the inspections that follow check the real
values on real resources. What no moto API can show is listed in NOT_VERIFIABLE and printed by the test."""
from __future__ import annotations

import json
from typing import Any, Callable

from cfn_model import Resolver

MOTO = "moto 5.2.1"

# Resource types moto's CloudFormation skips (no model): type -> reason printed by the test.
SKIPPED_TYPES = {
    "AWS::EC2::NetworkAcl": f"{MOTO} CloudFormation has no model for NACLs",
    "AWS::EC2::NetworkAclEntry": f"{MOTO} CloudFormation has no model for NACL entries",
    "AWS::EC2::SubnetNetworkAclAssociation": f"{MOTO} CloudFormation has no model for NACL associations",
    "AWS::S3::BucketPolicy": f"{MOTO} CloudFormation has no model for bucket policies",
    "AWS::SQS::QueuePolicy": f"{MOTO} CloudFormation has no model for queue policies",
    "AWS::SNS::Subscription": f"{MOTO} CloudFormation has no model for standalone subscriptions",
    "AWS::CloudWatch::Alarm": f"{MOTO} CloudFormation has no model for alarms",
    "AWS::CloudTrail::Trail": f"{MOTO} CloudFormation has no model for trails",
}

# Resources the test itself leaves out of moto's stack through a template condition: condition -> reason.
# moto's LoadBalancer model ignores Type, so every load balancer is an ALB and an NLB's TCP listener is refused;
# compute.yaml's InternalLoadBalancer=disabled turns HasInternalLoadBalancer off in moto and the test creates the NLB,
# its target group and listener here from the same template properties (resolved as for InternalLoadBalancer=enabled).
LEFT_OUT_BY_CONDITION = {
    "HasInternalLoadBalancer": f"{MOTO} CloudFormation ignores LoadBalancer Type (an NLB becomes an ALB)",
}

# Types moto's CloudFormation "creates" only in a record its own APIs never show: applied through the API as well.
INVISIBLE_TYPES = {
    "AWS::EC2::SubnetRouteTableAssociation":
        f"{MOTO} CloudFormation records the association where DescribeRouteTables does not see it",
}

# Properties moto's CloudFormation drops on types it does create: type -> {property: reason}.
DROPPED_PROPERTIES = {
    "AWS::S3::Bucket": {
        prop: f"{MOTO} CloudFormation keeps only BucketName, BucketEncryption and Tags"
        for prop in ("PublicAccessBlockConfiguration", "VersioningConfiguration", "LifecycleConfiguration",
                     "NotificationConfiguration", "LoggingConfiguration", "OwnershipControls")
    },
    "AWS::EC2::VPC": {prop: f"{MOTO} CloudFormation keeps only CidrBlock and InstanceTenancy"
                      for prop in ("EnableDnsSupport", "EnableDnsHostnames")},
    "AWS::EC2::Subnet": {"MapPublicIpOnLaunch": f"{MOTO} CloudFormation ignores MapPublicIpOnLaunch"},
    "AWS::DynamoDB::Table": {"PointInTimeRecoverySpecification": f"{MOTO} CloudFormation ignores PITR",
                             "TimeToLiveSpecification": f"{MOTO} CloudFormation ignores the TTL attribute"},
    "AWS::EC2::SecurityGroup": {"SecurityGroupEgress": f"{MOTO} CloudFormation reads only SecurityGroupIngress"},
    "AWS::ElasticLoadBalancingV2::LoadBalancer": {"LoadBalancerAttributes": f"{MOTO} CloudFormation ignores attributes"},
    "AWS::ElasticLoadBalancingV2::TargetGroup": {"TargetGroupAttributes": f"{MOTO} CloudFormation ignores attributes"},
    "AWS::Logs::LogGroup": {"RetentionInDays": f"{MOTO} CloudFormation ignores the retention period"},
    "AWS::AutoScaling::AutoScalingGroup": {"TargetGroupARNs": "the NLB target group is created outside moto's stack"},
}

NETWORK_DELETE = (f"{MOTO} CloudFormation deletes the subnets but not the NAT gateway, the VPC endpoints, the internet "
                  "gateway or their network interfaces, then refuses to delete the VPC (DependencyViolation); the "
                  "other four stacks are deleted and the retained data checked")

# What no moto API can show; printed by the test with the reason.
NOT_VERIFIABLE = [
    ("user data, systemd unit, logrotate, CloudWatch agent on the instances",
     "moto does not boot instances; the policy test checks the launch template's user data and the unit/logrotate files instead"),
    ("/health answering through the ALB and NLB", "moto's load balancers route no traffic"),
    ("IAM resource scoping of DynamoDB, SNS and Kinesis statements (which table, topic, stream) at run time",
     "moto authorises those services against Resource \"*\" only; the e2e test runs the API and worker under their "
     "role policies with those resources widened to \"*\" (SQS and S3 keep their exact ARNs), and the policy test "
     "checks the ARNs themselves"),
    ("alarms changing state and notifying lab-alerts; the e-mail subscription confirmation",
     "moto stores alarms but does not evaluate metrics or send e-mail"),
    ("flow-log, CloudTrail and S3 access-log delivery; Glacier transitions",
     "moto records the configuration but delivers no logs and runs no lifecycle"),
    ("gateway/interface endpoints carrying traffic, NAT and NACL filtering", "moto routes no packets"),
    ("the Lambda processor running", "moto would need Docker to invoke a provided.al2023 function"),
    ("the Lambda function's configuration (runtime, handler, role, environment, DLQ) through the Lambda API",
     f"{MOTO} server checks Lambda request signatures against its internal service name 'awslambda', so with "
     "authentication on every Lambda API call is refused; the test checks that the stack created the function and "
     "exported its ARN, and the policy rules read the template"),
    ("S3 bucket-policy conditions (aws:SecureTransport, aws:SourceArn)",
     f"{MOTO} ignores policy conditions and applies statements with Principal '*' unconditionally: the TLS-only deny "
     "refuses every object request there, which the test checks, and lifts for its one notification probe"),
    ("the CloudFormation resource policy checks of real AWS (e.g. S3 refusing a notification the queue policy does not allow)",
     "moto's CloudFormation does not validate them"),
]


class Replay:
    """Applies skipped resources and dropped properties through the service APIs."""

    def __init__(self, clients: Callable[[str], Any]):
        self.client = clients

    # -------------------------------------------------------------- resources moto skipped
    def create(self, resource_type: str, props: dict, resolver: Resolver) -> str:
        handler = {
            "AWS::EC2::NetworkAcl": self._network_acl,
            "AWS::EC2::NetworkAclEntry": self._network_acl_entry,
            "AWS::EC2::SubnetNetworkAclAssociation": self._network_acl_association,
            "AWS::S3::BucketPolicy": self._bucket_policy,
            "AWS::SQS::QueuePolicy": self._queue_policy,
            "AWS::SNS::Subscription": self._subscription,
            "AWS::CloudWatch::Alarm": self._alarm,
            "AWS::CloudTrail::Trail": self._trail,
            "AWS::ElasticLoadBalancingV2::LoadBalancer": self._load_balancer,
            "AWS::ElasticLoadBalancingV2::TargetGroup": self._target_group,
            "AWS::ElasticLoadBalancingV2::Listener": self._listener,
            "AWS::EC2::SubnetRouteTableAssociation": self._route_table_association,
        }.get(resource_type)
        if handler is None:
            raise NotImplementedError(f"no replay for {resource_type}")
        return handler(props)

    def _network_acl(self, p: dict) -> str:
        acl = self.client("ec2").create_network_acl(VpcId=p["VpcId"], TagSpecifications=[
            {"ResourceType": "network-acl", "Tags": p.get("Tags", [])}])["NetworkAcl"]
        return acl["NetworkAclId"]

    def _network_acl_entry(self, p: dict) -> str:
        egress = str(p.get("Egress", False)).lower() == "true"
        args = dict(NetworkAclId=p["NetworkAclId"], RuleNumber=int(p["RuleNumber"]), Protocol=str(p["Protocol"]),
                    RuleAction=p["RuleAction"], Egress=egress, CidrBlock=p["CidrBlock"])
        if "PortRange" in p:
            args["PortRange"] = {"From": int(p["PortRange"]["From"]), "To": int(p["PortRange"]["To"])}
        self.client("ec2").create_network_acl_entry(**args)
        return f"{p['NetworkAclId']}|{p['RuleNumber']}|{'egress' if egress else 'ingress'}"

    def _network_acl_association(self, p: dict) -> str:
        ec2 = self.client("ec2")
        acls = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [p["SubnetId"]]}])
        association = next(a["NetworkAclAssociationId"] for acl in acls["NetworkAcls"] for a in acl["Associations"]
                           if a["SubnetId"] == p["SubnetId"])
        return ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=p["NetworkAclId"])[
            "NewAssociationId"]

    def _route_table_association(self, p: dict) -> str:
        return self.client("ec2").associate_route_table(RouteTableId=p["RouteTableId"], SubnetId=p["SubnetId"])[
            "AssociationId"]

    def _bucket_policy(self, p: dict) -> str:
        self.client("s3").put_bucket_policy(Bucket=p["Bucket"], Policy=json.dumps(p["PolicyDocument"]))
        return p["Bucket"]

    def _queue_policy(self, p: dict) -> str:
        for url in p["Queues"]:
            self.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(p["PolicyDocument"])})
        return ",".join(p["Queues"])

    def _subscription(self, p: dict) -> str:
        attributes = {key: (json.dumps(p[key]) if isinstance(p[key], dict) else str(p[key]).lower()
                            if isinstance(p[key], bool) else str(p[key]))
                      for key in ("RawMessageDelivery", "FilterPolicy", "RedrivePolicy") if key in p}
        return self.client("sns").subscribe(TopicArn=p["TopicArn"], Protocol=p["Protocol"], Endpoint=p["Endpoint"],
                                            Attributes=attributes, ReturnSubscriptionArn=True)["SubscriptionArn"]

    def _alarm(self, p: dict) -> str:
        args = {key: p[key] for key in (
            "AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "InsufficientDataActions",
            "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Unit", "ComparisonOperator",
            "TreatMissingData", "EvaluateLowSampleCountPercentile", "ThresholdMetricId") if key in p}
        for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
            if key in p:
                args[key] = int(p[key])
        args["Threshold"] = float(p["Threshold"])
        if "Metrics" in p:
            args["Metrics"] = []
            for metric in p["Metrics"]:
                metric = dict(metric)
                if "MetricStat" in metric:
                    metric["MetricStat"] = dict(metric["MetricStat"], Period=int(metric["MetricStat"]["Period"]))
                args["Metrics"].append(metric)
        self.client("cloudwatch").put_metric_alarm(**args)
        return p["AlarmName"]

    def _trail(self, p: dict) -> str:
        trail = self.client("cloudtrail")
        args = {key: p[key] for key in ("S3BucketName", "S3KeyPrefix", "IncludeGlobalServiceEvents",
                                        "IsMultiRegionTrail", "EnableLogFileValidation", "KmsKeyId",
                                        "CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn") if key in p}
        trail.create_trail(Name=p["TrailName"], **args)
        if p.get("IsLogging"):
            trail.start_logging(Name=p["TrailName"])
        return p["TrailName"]

    def _load_balancer(self, p: dict) -> str:
        elb = self.client("elbv2")
        args = {key: p[key] for key in ("Name", "Subnets", "SecurityGroups", "Scheme", "Type", "IpAddressType") if key in p}
        arn = elb.create_load_balancer(**args)["LoadBalancers"][0]["LoadBalancerArn"]
        if "LoadBalancerAttributes" in p:
            elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=p["LoadBalancerAttributes"])
        return arn

    def _target_group(self, p: dict) -> str:
        elb = self.client("elbv2")
        args = {key: p[key] for key in ("Name", "Protocol", "VpcId", "TargetType", "HealthCheckProtocol",
                                        "HealthCheckPort", "HealthCheckPath", "Matcher") if key in p}
        for key in ("Port", "HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds", "HealthyThresholdCount",
                    "UnhealthyThresholdCount"):
            if key in p:
                args[key] = int(p[key])
        if "HealthCheckEnabled" in p:
            args["HealthCheckEnabled"] = str(p["HealthCheckEnabled"]).lower() == "true"
        arn = elb.create_target_group(**args)["TargetGroups"][0]["TargetGroupArn"]
        if "TargetGroupAttributes" in p:
            elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=p["TargetGroupAttributes"])
        return arn

    def _listener(self, p: dict) -> str:
        args = {key: p[key] for key in ("LoadBalancerArn", "Protocol", "DefaultActions", "Certificates", "SslPolicy")
                if key in p}
        args["Port"] = int(p["Port"])
        return self.client("elbv2").create_listener(**args)["Listeners"][0]["ListenerArn"]

    def delete(self, resource_type: str, physical: str, props: dict) -> None:
        """Removes what create() made, as deleting the stack would (buckets and queues are the stack's own)."""
        ec2, elb = self.client("ec2"), self.client("elbv2")
        if resource_type == "AWS::EC2::SubnetNetworkAclAssociation":
            vpc = ec2.describe_subnets(SubnetIds=[props["SubnetId"]])["Subnets"][0]["VpcId"]
            default = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                                         {"Name": "default", "Values": ["true"]}])["NetworkAcls"][0]
            ec2.replace_network_acl_association(AssociationId=physical, NetworkAclId=default["NetworkAclId"])
        elif resource_type == "AWS::EC2::NetworkAcl":
            ec2.delete_network_acl(NetworkAclId=physical)
        elif resource_type == "AWS::EC2::SubnetRouteTableAssociation":
            ec2.disassociate_route_table(AssociationId=physical)
        elif resource_type == "AWS::S3::BucketPolicy":
            self.client("s3").delete_bucket_policy(Bucket=physical)
        elif resource_type == "AWS::SNS::Subscription":
            self.client("sns").unsubscribe(SubscriptionArn=physical)
        elif resource_type == "AWS::CloudWatch::Alarm":
            self.client("cloudwatch").delete_alarms(AlarmNames=[physical])
        elif resource_type == "AWS::CloudTrail::Trail":
            self.client("cloudtrail").delete_trail(Name=physical)
        elif resource_type == "AWS::ElasticLoadBalancingV2::Listener":
            elb.delete_listener(ListenerArn=physical)
        elif resource_type == "AWS::ElasticLoadBalancingV2::LoadBalancer":
            elb.delete_load_balancer(LoadBalancerArn=physical)
        elif resource_type == "AWS::ElasticLoadBalancingV2::TargetGroup":
            autoscaling = self.client("autoscaling")
            for group in autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]:
                if physical in group.get("TargetGroupARNs", []):
                    autoscaling.detach_load_balancer_target_groups(AutoScalingGroupName=group["AutoScalingGroupName"],
                                                                   TargetGroupARNs=[physical])
            elb.delete_target_group(TargetGroupArn=physical)
        # NACL entries go with their NACL, queue policies with their queue.

    # -------------------------------------------------------------- properties moto dropped
    def apply_property(self, resource_type: str, prop: str, value: Any, physical: str) -> None:
        if resource_type == "AWS::S3::Bucket":
            self._bucket_property(prop, value, physical)
        elif resource_type == "AWS::EC2::VPC":
            self.client("ec2").modify_vpc_attribute(VpcId=physical, **{prop: {"Value": str(value).lower() == "true"}})
        elif resource_type == "AWS::EC2::Subnet":
            self.client("ec2").modify_subnet_attribute(SubnetId=physical, MapPublicIpOnLaunch={
                "Value": str(value).lower() == "true"})
        elif resource_type == "AWS::DynamoDB::Table" and prop == "PointInTimeRecoverySpecification":
            self.client("dynamodb").update_continuous_backups(TableName=physical, PointInTimeRecoverySpecification={
                "PointInTimeRecoveryEnabled": str(value["PointInTimeRecoveryEnabled"]).lower() == "true"})
        elif resource_type == "AWS::DynamoDB::Table" and prop == "TimeToLiveSpecification":
            self.client("dynamodb").update_time_to_live(TableName=physical, TimeToLiveSpecification={
                "AttributeName": value["AttributeName"], "Enabled": str(value["Enabled"]).lower() == "true"})
        elif resource_type == "AWS::EC2::SecurityGroup":
            self._security_group_egress(physical, value)
        elif resource_type == "AWS::ElasticLoadBalancingV2::LoadBalancer":
            self.client("elbv2").modify_load_balancer_attributes(LoadBalancerArn=physical, Attributes=value)
        elif resource_type == "AWS::ElasticLoadBalancingV2::TargetGroup":
            self.client("elbv2").modify_target_group_attributes(TargetGroupArn=physical, Attributes=value)
        elif resource_type == "AWS::Logs::LogGroup":
            self.client("logs").put_retention_policy(logGroupName=physical, retentionInDays=int(value))
        elif resource_type == "AWS::AutoScaling::AutoScalingGroup":
            self.client("autoscaling").attach_load_balancer_target_groups(AutoScalingGroupName=physical,
                                                                          TargetGroupARNs=value)
        else:
            raise NotImplementedError(f"no replay for {resource_type}.{prop}")

    def _bucket_property(self, prop: str, value: Any, bucket: str) -> None:
        s3 = self.client("s3")
        if prop == "PublicAccessBlockConfiguration":
            s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
                key: str(flag).lower() == "true" for key, flag in value.items()})
        elif prop == "VersioningConfiguration":
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": value["Status"]})
        elif prop == "OwnershipControls":
            s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=value)
        elif prop == "LoggingConfiguration":
            s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
                "TargetBucket": value["DestinationBucketName"], "TargetPrefix": value.get("LogFilePrefix", "")}})
        elif prop == "LifecycleConfiguration":
            s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={
                "Rules": [_lifecycle_rule(rule) for rule in value["Rules"]]})
        elif prop == "NotificationConfiguration":
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=_notification(value))
        else:
            raise NotImplementedError(f"no replay for AWS::S3::Bucket.{prop}")

    def _security_group_egress(self, group_id: str, rules: list[dict]) -> None:
        ec2 = self.client("ec2")
        current = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]["IpPermissionsEgress"]
        if current:  # CloudFormation replaces the default allow-all egress with the template's rules
            ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=current)
        permissions = []
        for rule in rules:
            permission = {"IpProtocol": str(rule["IpProtocol"])}
            if "FromPort" in rule:
                permission.update(FromPort=int(rule["FromPort"]), ToPort=int(rule["ToPort"]))
            if "CidrIp" in rule:
                permission["IpRanges"] = [{"CidrIp": rule["CidrIp"], "Description": rule.get("Description", "")}]
            if "DestinationSecurityGroupId" in rule:
                permission["UserIdGroupPairs"] = [{"GroupId": rule["DestinationSecurityGroupId"],
                                                   "Description": rule.get("Description", "")}]
            permissions.append(permission)
        ec2.authorize_security_group_egress(GroupId=group_id, IpPermissions=permissions)


def _lifecycle_rule(rule: dict) -> dict:
    """CloudFormation's lifecycle rule shape -> the S3 API's."""
    api: dict = {"ID": rule.get("Id", ""), "Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "Transitions" in rule:
        api["Transitions"] = [{"Days": int(t["TransitionInDays"]), "StorageClass": t["StorageClass"]}
                              for t in rule["Transitions"]]
    if "ExpirationInDays" in rule:
        api["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpiration" in rule:
        api["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        api["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])}
    return api


def _notification(value: dict) -> dict:
    """CloudFormation's NotificationConfiguration -> the S3 API's."""
    def filter_of(config: dict) -> dict:
        rules = config.get("Filter", {}).get("S3Key", {}).get("Rules", [])
        return {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}}

    api: dict = {}
    for config in value.get("QueueConfigurations", []):
        api.setdefault("QueueConfigurations", []).append(
            {"QueueArn": config["Queue"], "Events": [config["Event"]], "Filter": filter_of(config)})
    for config in value.get("LambdaConfigurations", []):
        api.setdefault("LambdaFunctionConfigurations", []).append(
            {"LambdaFunctionArn": config["Function"], "Events": [config["Event"]], "Filter": filter_of(config)})
    for config in value.get("TopicConfigurations", []):
        api.setdefault("TopicConfigurations", []).append(
            {"TopicArn": config["Topic"], "Events": [config["Event"]], "Filter": filter_of(config)})
    return api


# ------------------------------------------------------------------ IAM as moto evaluates it (the e2e pipeline test)
# moto authorises DynamoDB, SNS and Kinesis requests against Resource "*" (it knows no resource ARN for them), so a
# statement naming a table, topic or stream ARN never matches there. SQS (queue ARN) and S3 (bucket/key ARN) are
# evaluated on the real resource and keep their exact ARNs.
MOTO_RESOURCE_STAR_SERVICES = {"dynamodb", "sns", "kinesis"}
# moto names the action after the operation where AWS authorises a batch or transaction as its single-item action.
MOTO_OPERATION_ACTIONS = {
    "dynamodb:PutItem": ["dynamodb:TransactWriteItems"], "dynamodb:UpdateItem": ["dynamodb:TransactWriteItems"],
    "sns:Publish": ["sns:PublishBatch"], "sqs:SendMessage": ["sqs:SendMessageBatch"],
    "sqs:DeleteMessage": ["sqs:DeleteMessageBatch"], "sqs:ChangeMessageVisibility": ["sqs:ChangeMessageVisibilityBatch"],
}


def moto_policy(document: dict) -> dict:
    """A role policy (resolved ARNs) as moto 5.2.1 must read it to grant what AWS grants, and nothing more: the
    resources of DynamoDB, SNS and Kinesis statements only are widened to "*" (moto matches those services against
    "*" alone; in moto the role's tables, topic and stream therefore share one grant, which is the only widening), and
    each single-item action gains the operation-named action moto checks for its batch or transaction. Every other
    statement, and every other service's resources, stay exactly as the template has them."""
    statements = []
    for statement in document["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        services = {action.split(":", 1)[0] for action in actions}
        translated = dict(statement)
        translated["Action"] = list(dict.fromkeys(actions + [extra for a in actions for extra in MOTO_OPERATION_ACTIONS.get(a, [])]))
        if services & MOTO_RESOURCE_STAR_SERVICES:
            if not services <= MOTO_RESOURCE_STAR_SERVICES:
                raise ValueError(f"statement {statement.get('Sid')} mixes {sorted(services)}: cannot widen only some resources")
            translated["Resource"] = "*"
        statements.append(translated)
    return {**document, "Statement": statements}
