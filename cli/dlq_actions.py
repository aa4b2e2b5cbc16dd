"""The ``dlq`` command of the command line: ``list`` (``--group-by code``), ``redrive``, and one by one ``retry``,
``delete`` (asks first, ``--yes`` skips the question; with no terminal to ask on and no ``--yes`` it refuses) and
``edit-retry``.

Example:
    $ fifo-messaging dlq list orders-command --group-by code
    $ fifo-messaging dlq retry orders-command 5b0c... 9f1e...
    $ fifo-messaging dlq delete orders-command 5b0c... --yes
    $ fifo-messaging dlq edit-retry orders-command 5b0c... --body @fixed.json
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

from cli import dead_letters as dl
from cli import queues as q
from cli.endpoints import Endpoints, QueueEndpoint, UnknownName
from cli.errors import UsageError
from cli.render import Output, table

EXIT_OK, EXIT_ERROR = 0, 1


def queue_or_its_dlq(endpoints: Endpoints, name: str) -> QueueEndpoint:
    """The queue called ``name``, or the queue whose dead-letter queue is called ``name`` (``.fifo`` optional)."""
    try:
        return endpoints.queue(name)
    except UnknownName:
        wanted = name.removesuffix(".fifo")
        for queue in endpoints.queues:
            if queue.dead_letter_url and q.queue_name_of(queue.dead_letter_url).removesuffix(".fifo") == wanted:
                return queue
        raise


def confirm(question: str, *, yes: bool, stdin: TextIO | None = None, err: TextIO | None = None) -> None:
    """Return if the caller agreed (``--yes``, or "y" typed on a terminal); raise :class:`UsageError` otherwise."""
    if yes:
        return
    stdin = stdin if stdin is not None else sys.stdin
    err = err if err is not None else sys.stderr
    if not stdin.isatty():
        raise UsageError(f"{question}: refused without --yes (no terminal to ask on)")
    err.write(f"{question} [y/N] ")
    err.flush()
    if stdin.readline().strip().lower() not in ("y", "yes"):
        raise UsageError(f"{question}: not confirmed, nothing done")


def list_(args: Any, out: Output, sqs: Any, queue: QueueEndpoint) -> int:
    listing = q.list_dead_letters(sqs, queue, limit=args.limit)
    if args.group_by == "code":
        return group_by_code(out, listing)
    if out.as_json:
        out.json(listing)
        return EXIT_OK
    rows = [
        [
            m.group_id,
            m.sent_at.strftime("%Y-%m-%d %H:%M:%S") if m.sent_at else None,
            m.type,
            m.failure_code,
            _shorten(m.failure_reason, 60),
            m.times_redriven,
            m.message_id,
            m.id,
        ]
        for m in listing.messages
    ]
    headers = ["group", "sent (UTC)", "type", "failure code", "reason", "redriven", "message id", "cloudevent id"]
    out.write(table(headers, rows))
    more = f" of about {listing.approximate_depth}" if listing.truncated else ""
    out.note(f"{len(listing.messages)}{more} message(s) in {listing.dead_letter_url} (left in place)")
    return EXIT_OK


def redrive(args: Any, out: Output, sqs: Any, queue: QueueEndpoint) -> int:
    verb = "would move" if args.dry_run else "moved"

    def progress(moved: int, skipped: int, failed: int, budget: int) -> None:
        out.note(f"redrive {queue.name}: {moved}/{budget} {verb}, {skipped} skipped, {failed} failed")

    result = q.redrive(sqs, queue, destination_url=args.to, limit=args.limit, dry_run=args.dry_run, progress=progress)
    if out.as_json:
        out.json(result)
    else:
        out.write(
            f"{'dry run: ' if result.dry_run else ''}{verb} {result.moved}, skipped {result.skipped}, failed "
            f"{len(result.failed)} of the {result.budget} message(s) in {queue.name}'s DLQ at the start "
            f"({len(result.groups)} group(s))"
        )
        for failure in result.failed:
            out.err.write(f"not moved: {failure['message_id']}: {failure['error']}\n")
    return EXIT_ERROR if result.failed else EXIT_OK


def _shorten(text: str | None, width: int) -> str | None:
    if text is None or len(text) <= width:
        return text
    return text[: width - 1] + "…"


def group_by_code(out: Output, listing: q.DlqListing) -> int:
    counts = dl.count_by_code(listing.messages)
    if out.as_json:
        out.json({"queue": listing.queue, "dead_letter_url": listing.dead_letter_url, "by_code": counts,
                  "truncated": listing.truncated})
        return EXIT_OK
    out.write(table(["failure code", "messages"], [[code, count] for code, count in counts.items()]))
    more = f" (of about {listing.approximate_depth}: the peek saw the head of each group)" if listing.truncated else ""
    out.note(f"{len(listing.messages)} message(s) in {listing.dead_letter_url}{more}")
    return EXIT_OK


def _report(out: Output, outcome: dl.Outcome) -> int:
    if out.as_json:
        out.json(outcome)
    else:
        done = ", ".join(outcome.done) or "none"
        out.write(f"{outcome.action} {len(outcome.done)} message(s) of {outcome.queue}'s DLQ: {done}")
        for name in outcome.missing:
            out.err.write(f"error: {name} is not in {outcome.queue}'s DLQ (or is behind the first 10 messages of "
                          "its group)\n")
        for name, error in outcome.failed.items():
            out.err.write(f"error: {name} not moved: {error}\n")
    return EXIT_ERROR if outcome.missing or outcome.failed else EXIT_OK


def retry(args: Any, out: Output, sqs: Any, queue: QueueEndpoint) -> int:
    return _report(out, dl.retry(sqs, queue, args.ids))


def delete(args: Any, out: Output, sqs: Any, queue: QueueEndpoint) -> int:
    confirm(f"delete {len(args.ids)} message(s) from {queue.name}'s dead-letter queue for good", yes=args.yes,
            err=out.err)
    return _report(out, dl.delete(sqs, queue, args.ids))


def edit_retry(args: Any, out: Output, sqs: Any, queue: QueueEndpoint) -> int:
    try:
        return _report(out, dl.edit_retry(sqs, queue, args.id, args.body))
    except dl.BadCorrection as exc:
        raise UsageError(str(exc)) from exc


ACTIONS: dict[str, Callable[[Any, Output, Any, QueueEndpoint], int]] = {
    "list": list_,
    "redrive": redrive,
    "retry": retry,
    "delete": delete,
    "edit-retry": edit_retry,
}
