"""The console's routes, served by the local cloud's endpoint under ``/_console/`` (a provider of the gateway).

| Route | Page |
|---|---|
| ``GET /_console/`` | the topology (:mod:`.topology`) |
| ``GET /_console/queues/<name>`` | a queue's messages (:mod:`.queues`) |
| ``GET /_console/queues/<name>/confirm?action=...`` | what an action on a dead-letter queue will do, to confirm |
| ``POST /_console/queues/<name>/<redrive, retry or delete>`` | the confirmed action; 303 to the queue page |
| ``GET /_console/messages/<id>`` | the journey of a message or correlation id (:mod:`.journey`) |
| ``GET /_console/messages?id=<id>`` | the search form's redirect to that page |
| ``GET /_console/dashboard[?name=<dashboard>]`` | the CloudWatch dashboard (:mod:`.dashboard`) |
| ``GET /_console/catalogue`` | the message catalogue of ``contracts/asyncapi.yaml`` (:mod:`.catalogue`) |

An unknown path, queue, id or dashboard is a 404 page; a refused request a 400 page with a one-line reason; an
error of the console itself a 500 page (the traceback goes to the server's log, never to the page).

Example::

    server = EndpointServer("localhost", 4566, providers, routes={CONSOLE: ConsoleApi(cloud)})
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import quote, urlparse

from werkzeug.wrappers import Request, Response

from localcloud.clock import CLOCK
from localcloud.console.catalogue import catalogue_page, load_document
from localcloud.console.dashboard import dashboard_page
from localcloud.console.dead_letters import ACTIONS, act, confirm_page
from localcloud.console.html import CONSOLE, error_page
from localcloud.console.journey import check_id, journey_page, locate
from localcloud.console.queues import BadRequest, RedriveFailed, queue_page
from localcloud.console.saga import saga_page
from localcloud.console.topology import Topology, topology_page
from localcloud.console.triggers import trigger_states

if TYPE_CHECKING:
    from localcloud.cloud import LocalCloud

log = logging.getLogger("localcloud.console")

LOG_FLUSH_SECONDS = 5.0
"""How long a journey waits for the invocation logs still being shipped."""


class NotFound(Exception):  # noqa: N818 - named after the HTTP status it becomes
    """Nothing of that name: answered with a 404 page saying what was looked for."""


def _html(text: str, status: int = 200) -> Response:
    return Response(text, status=status, content_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                                        "img-src data:; form-action 'self'"})


class ConsoleApi:
    """The web console of one local cloud."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud

    def handle(self, request: Request) -> Response:
        """Answer a request under ``/_console``."""
        try:
            return self._dispatch(request)
        except NotFound as missing:
            return _html(error_page("Not found", str(missing)), 404)
        except BadRequest as refused:
            return _html(error_page("Bad request", str(refused)), 400)
        except RedriveFailed as failed:
            return _html(error_page("Redrive failed", str(failed)), 502)
        except Exception as exc:
            log.exception("console page %s failed", request.path)
            return _html(error_page("Console error", f"the page could not be built ({type(exc).__name__}); "
                                                     "the local cloud's log has the details"), 500)

    def _dispatch(self, request: Request) -> Response:
        path = request.path.removeprefix(CONSOLE).rstrip("/")
        segments = path.split("/")[1:] if path else []
        if request.method == "POST":
            return self._post(request, segments)
        if request.method not in ("GET", "HEAD"):
            return Response(f"{request.method} is not allowed here\n", status=405,
                            headers={"Allow": "GET, HEAD, POST"}, content_type="text/plain; charset=utf-8")
        return self._get(request, segments)

    def _post(self, request: Request, segments: list[str]) -> Response:
        if len(segments) != 3 or segments[0] != "queues" or segments[2] not in ACTIONS:
            raise BadRequest(f"nothing to post to at {request.path} (only a dead-letter queue's "
                             f"{', '.join(ACTIONS)} take a POST)")
        self._check_origin(request)
        location = act(self.cloud, self._topology(), segments[1], segments[2], request.form.to_dict())
        return Response(status=303, headers={"Location": self._found(location, f"no deployed queue is called "
                                                                                f"{segments[1]!r}")})

    def _get(self, request: Request, segments: list[str]) -> Response:
        if segments == ["messages"]:  # the search box
            wanted = (request.args.get("id") or "").strip()
            if not wanted:
                raise BadRequest("give a message id or correlation id to look up")
            return Response(status=303, headers={"Location": f"{CONSOLE}/messages/{quote(wanted, safe='')}"})
        return _html(self._page(request, segments))

    def _page(self, request: Request, segments: list[str]) -> str:
        """The HTML of the page at ``segments`` (NotFound when there is none)."""
        if not segments:
            return topology_page(self.cloud, self._topology(), self._triggers())
        if segments == ["dashboard"]:
            name = request.args.get("name") or None
            page = dashboard_page(self.cloud.client("cloudwatch"), self._dashboards(), name, now=CLOCK.now())
            return self._found(page, f"no deployed dashboard is called {name!r}")
        if segments == ["catalogue"]:
            document = load_document()
            if document is None:
                raise NotFound("there is no contracts/asyncapi.yaml in this checkout (make contracts writes it)")
            return catalogue_page(document)
        if segments[0] == "queues" and (len(segments) == 2 or segments[2:] == ["confirm"]):
            return self._queue_page(request, segments[1], confirm=len(segments) == 3)
        if len(segments) >= 2 and segments[0] == "messages":  # an id may hold "/" (sent as %2F)
            return self._journey("/".join(segments[1:]))
        if len(segments) == 2 and segments[0] == "sagas":
            page = saga_page(self.cloud.client("dynamodb"), self.cloud.outputs, segments[1])
            return self._found(page, f"no saga table holds a saga {segments[1]!r}")
        raise NotFound(f"the console has no page at {request.path}")

    def _queue_page(self, request: Request, name: str, *, confirm: bool) -> str:
        """A queue's page, or the confirmation page of an action on its dead letters."""
        if confirm:
            page = confirm_page(self.cloud, self._topology(), name, request.args.to_dict())
        else:
            page = queue_page(self.cloud, self._topology(), name, notice=request.args.get("notice") or None,
                              triggers=self._triggers())
        return self._found(page, f"no deployed queue is called {name!r}")

    def _journey(self, message_id: str) -> str:
        problem = check_id(message_id)
        if problem is not None:
            raise BadRequest(f"{message_id[:80]!r} is not a message id: {problem}")
        self.cloud.logs.flush(LOG_FLUSH_SECONDS)
        location = locate(self.cloud, self._topology(), message_id, self._triggers())
        return self._found(journey_page(self.cloud.client("logs"), message_id, location),
                           f"no queue holds {message_id!r} and no log line of any function mentions it")

    def _topology(self) -> Topology:
        with self.cloud.stack_lock:  # a stack operation changes the deployment while it runs
            return Topology.of(self.cloud.deployment)

    def _triggers(self) -> dict[str, tuple[tuple[str, str], ...]]:
        with self.cloud.stack_lock:
            return trigger_states(self.cloud)

    def _dashboards(self) -> list[str]:
        with self.cloud.stack_lock:
            return [str(state.physical_id) for stack in self.cloud.deployment.stacks.values()
                    for state in stack.resources.values()
                    if state.type == "AWS::CloudWatch::Dashboard" and state.skipped is None]

    @staticmethod
    def _check_origin(request: Request) -> None:
        """A form post from another site (a page open in the same browser) is refused."""
        origin = request.headers.get("Origin")
        if origin and urlparse(origin).netloc != request.host:
            raise BadRequest(f"a form posted from {origin[:80]} is refused: post from the console's own pages")

    @staticmethod
    def _found(page: str | None, missing: str) -> str:  # a page, or where to redirect
        if page is None:
            raise NotFound(missing)
        return page
