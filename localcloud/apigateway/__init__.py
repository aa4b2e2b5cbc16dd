"""API Gateway HTTP APIs (``apigatewayv2``), as the local cloud serves them.

The deployer creates the template's ``AWS::ApiGatewayV2::Api``, ``Stage``, ``Integration`` and ``Route`` in moto
(so ``aws apigatewayv2 get-apis`` and its siblings list them) through :mod:`localcloud.apigateway.resources`; an
API's ``ApiEndpoint`` is ``<endpoint>/_aws/execute-api/<api id>`` on a local cloud server. Requests there are
answered by :class:`~localcloud.apigateway.router.HttpApiRouter`: it matches the route (``METHOD /path/{param}``,
then ``$default``), builds the payload format 2.0 event (``rawPath``, lower-cased ``headers``, ``body`` base64 when
binary, ``pathParameters``, ``requestContext`` with ``http``, ``requestId``, ``routeKey``, ``stage``) and invokes
the integration's function in process, then turns its result into the HTTP response as API Gateway does (a dict with
``statusCode`` as given, anything else as a 200 JSON body). Any credentials are accepted, signed or not, as for the
other APIs; an unknown API or route answers ``404 {"message":"Not Found"}``, a failing function
``500 {"message":"Internal Server Error"}``, as API Gateway does.

Example::

    router = HttpApiRouter(cloud)
    status, headers, body = router.invoke("POST", url, {"content-type": "application/json"}, b"{}")
"""

from localcloud.apigateway.router import EXECUTE_API_PREFIX, HttpApiRouter, api_endpoint

__all__ = ["EXECUTE_API_PREFIX", "HttpApiRouter", "api_endpoint"]
