"""An HTTP front door: API Gateway HTTP API (payload format 2.0) in front of one Lambda adapter, IAM-authorized."""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import CfnOutput, RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.consumer_function import ConsumerFunction
from infra.stage import staged

THROTTLE_RATE = 100
THROTTLE_BURST = 200
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "caller": "$context.identity.caller",
    "user": "$context.identity.user",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationError": "$context.integrationErrorMessage",
}


class HttpFrontDoor(Construct):
    """``routes`` (method, path) of an HTTP API to ``handler`` with payload format 2.0.

    Authorization: IAM (SigV4) on every route: callers are AWS principals (a partner's role, a browser with
    Cognito identity-pool credentials, a service); :meth:`grant_invoke` lets one in. A ``$default`` stage with
    auto-deploy, throttling and JSON access logs (its own log group, 30 days). Output ``output_name``: the base URL.

    Example:
        >>> api = HttpFrontDoor(stack, "Api", name="orders-api", handler=api_function,
        ...                     routes=[("POST", "/orders")], output_name="OrdersApiUrl")  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        handler: ConsumerFunction,
        routes: Sequence[tuple[str, str]],
        output_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        api_name = staged(self, name)
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            api_name=api_name,
            description=f"HTTP front door {api_name} (IAM-authorized)",
            create_default_stage=False,
            default_authorizer=authorizers.HttpIamAuthorizer(),
        )
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/aws/apigateway/{api_name}",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.stage = apigwv2.HttpStage(
            self,
            "Stage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=THROTTLE_RATE, burst_limit=THROTTLE_BURST),
        )
        cfn_stage = self.stage.node.default_child
        if not isinstance(cfn_stage, apigwv2.CfnStage):
            raise TypeError("the HTTP stage has no CfnStage")
        cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=self.access_logs.log_group_arn, format=json.dumps(ACCESS_LOG_FORMAT)
        )
        integration = integrations.HttpLambdaIntegration(
            "Handler", handler.function, payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0
        )
        for method, path in routes:
            self.api.add_routes(path=path, methods=[apigwv2.HttpMethod(method)], integration=integration)
        self.url = f"{self.api.api_endpoint}/"
        CfnOutput(self, "Url", value=self.url).override_logical_id(output_name)

    def grant_invoke(self, principal: iam.IGrantable) -> None:
        """Let ``principal`` call every route (``execute-api:Invoke`` on this API's ``$default`` stage).

        Example:
            >>> api.grant_invoke(partner_role)  # doctest: +SKIP
        """
        iam.Grant.add_to_principal(
            grantee=principal,
            actions=["execute-api:Invoke"],
            resource_arns=[self.api.arn_for_execute_api(stage="$default")],
        )
