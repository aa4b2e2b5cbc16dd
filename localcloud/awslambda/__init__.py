"""Lambda in the local cloud: the API on the endpoint (:mod:`.provider`), the in-process runtime (:mod:`.runtime`,
with per-invocation environment :mod:`.environ` and log capture :mod:`.logcapture`), function code (:mod:`.code`),
event source mappings (:mod:`.esm`) and the pollers that drive them (:mod:`.triggers`).

Example::

    from localcloud.awslambda.provider import LambdaApi
    providers = {"lambda": LambdaApi(cloud)}
"""
