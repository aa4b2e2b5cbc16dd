"""The HTTP API resource types (AWS::ApiGatewayV2::Api, Stage, Integration, Route) through the deployer on moto:
created as the template says, updated in place, replaced when a replacement property changes, deleted with the
stack."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from localcloud.cloudformation.deployer import Deployer, StackRequest
from localcloud.cloudformation.resources.base import FunctionCode, ResourceContext

pytestmark = pytest.mark.integration
REGION, ACCOUNT = "us-east-1", "123456789012"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-api"


class NoCode:
    def locate(self, ctx: ResourceContext) -> FunctionCode:
        raise AssertionError("the template has no function")


TEMPLATE: dict[str, Any] = {"Resources": {
    "Api": {"Type": "AWS::ApiGatewayV2::Api",
            "Properties": {"Name": "orders-api", "ProtocolType": "HTTP", "Description": "the front door"}},
    "Stage": {"Type": "AWS::ApiGatewayV2::Stage",
              "Properties": {"ApiId": {"Ref": "Api"}, "StageName": "$default", "AutoDeploy": True}},
    "Integration": {"Type": "AWS::ApiGatewayV2::Integration",
                    "Properties": {"ApiId": {"Ref": "Api"}, "IntegrationType": "AWS_PROXY",
                                   "IntegrationUri": FUNCTION_ARN, "PayloadFormatVersion": "2.0"}},
    "Route": {"Type": "AWS::ApiGatewayV2::Route",
              "Properties": {"ApiId": {"Ref": "Api"}, "RouteKey": "POST /orders", "AuthorizationType": "AWS_IAM",
                             "Target": {"Fn::Join": ["", ["integrations/", {"Ref": "Integration"}]]}}},
}, "Outputs": {"Endpoint": {"Value": {"Fn::GetAtt": ["Api", "ApiEndpoint"]}}}}


@pytest.fixture
def deployer() -> Iterator[Deployer]:
    with mock_aws():
        session: Any = boto3.session.Session(region_name=REGION)
        yield Deployer(session.client, region=REGION, account_id=ACCOUNT)


def deploy(deployer: Deployer, template: dict[str, Any]) -> dict[str, Any]:
    return deployer.apply(StackRequest("FrontDoor", template, NoCode())).refs


def test_the_four_types_are_created_as_the_template_says(deployer: Deployer) -> None:
    # Given the template of an HTTP API with a stage, a Lambda proxy integration and a route
    # When it is deployed
    refs = deploy(deployer, TEMPLATE)
    # Then each part exists with its properties, and the Refs are their ids
    client = deployer.client("apigatewayv2")
    api = client.get_api(ApiId=refs["Api"])
    assert (api["Name"], api["ProtocolType"], api["Description"]) == ("orders-api", "HTTP", "the front door")
    assert refs["Api"] in deployer.deployment.stacks["FrontDoor"].outputs["Endpoint"]
    stage = client.get_stage(ApiId=refs["Api"], StageName="$default")
    assert refs["Stage"] == "$default" and stage["AutoDeploy"] is True
    integration = client.get_integration(ApiId=refs["Api"], IntegrationId=refs["Integration"])
    assert (integration["IntegrationType"], integration["IntegrationUri"]) == ("AWS_PROXY", FUNCTION_ARN)
    route = client.get_route(ApiId=refs["Api"], RouteId=refs["Route"])
    assert (route["RouteKey"], route["Target"], route["AuthorizationType"]) == (
        "POST /orders", f"integrations/{refs['Integration']}", "AWS_IAM")


def test_changed_properties_update_each_part_in_place(deployer: Deployer) -> None:
    # Given the deployed API
    before = deploy(deployer, TEMPLATE)
    # When the description, the stage's auto-deploy, the integration's URI and the route's key change
    changed = copy.deepcopy(TEMPLATE)
    resources = changed["Resources"]
    resources["Api"]["Properties"]["Description"] = "the new front door"
    resources["Stage"]["Properties"]["AutoDeploy"] = False
    resources["Integration"]["Properties"]["IntegrationUri"] = FUNCTION_ARN + ":live"
    resources["Route"]["Properties"]["RouteKey"] = "PUT /orders"
    after = deploy(deployer, changed)
    # Then every part keeps its id and carries the new values
    assert after == before
    client = deployer.client("apigatewayv2")
    assert client.get_api(ApiId=after["Api"])["Description"] == "the new front door"
    assert client.get_stage(ApiId=after["Api"], StageName="$default")["AutoDeploy"] is False
    assert client.get_integration(ApiId=after["Api"], IntegrationId=after["Integration"])["IntegrationUri"] == (
        FUNCTION_ARN + ":live")
    assert client.get_route(ApiId=after["Api"], RouteId=after["Route"])["RouteKey"] == "PUT /orders"


def test_a_new_stage_name_replaces_the_stage(deployer: Deployer) -> None:
    # Given the deployed API
    deploy(deployer, TEMPLATE)
    # When the stage is renamed (a replacement property)
    changed = copy.deepcopy(TEMPLATE)
    changed["Resources"]["Stage"]["Properties"]["StageName"] = "live"
    refs = deploy(deployer, changed)
    # Then the new stage exists and the old one is gone
    stages = deployer.client("apigatewayv2").get_stages(ApiId=refs["Api"])["Items"]
    assert refs["Stage"] == "live"
    assert [stage["StageName"] for stage in stages] == ["live"]


def test_deleting_the_stack_deletes_the_api_and_a_part_already_gone_is_no_error(deployer: Deployer) -> None:
    # Given the deployed API whose route was deleted by hand
    refs = deploy(deployer, TEMPLATE)
    client = deployer.client("apigatewayv2")
    client.delete_route(ApiId=refs["Api"], RouteId=refs["Route"])
    # When the stack is deleted
    deployer.delete("FrontDoor")
    # Then the API is gone
    assert client.get_apis()["Items"] == []


def test_only_http_apis_are_emulated(deployer: Deployer) -> None:
    # Given a WebSocket API, When it is deployed, Then the deployment fails naming it
    websocket = {"Resources": {"Api": {"Type": "AWS::ApiGatewayV2::Api",
                                       "Properties": {"Name": "ws", "ProtocolType": "WEBSOCKET"}}}}
    with pytest.raises(Exception, match="only HTTP APIs are emulated"):
        deploy(deployer, websocket)
