"""CloudFormation in the local cloud, answered by its own deployer: the API on the endpoint (:mod:`.provider`,
:mod:`.changesets`, :mod:`.protocol`), the deployer (:mod:`.deployer`, :mod:`.deployment`, :mod:`.changeplan`), the
template language (:mod:`.templates`, :mod:`.intrinsics`) and one module per resource type family (:mod:`.resources`).

Example::

    from localcloud.cloudformation.provider import CloudFormationApi
    providers = {"cloudformation": CloudFormationApi(cloud)}
"""
