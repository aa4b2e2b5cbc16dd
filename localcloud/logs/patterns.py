"""CloudWatch Logs filter patterns (``filter-log-events --filter-pattern``), as documented at
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html:

- empty: every event;
- terms, case-sensitive: ``ERROR Exception`` (all), ``?ERROR ?WARN`` (any), ``-DEBUG`` (none), ``"exact phrase"``;
- ``%regex%``;
- JSON: ``{ $.level = "ERROR" }``, ``{ ($.latency > 50) && ($.path = "/orders*") }``, ``{ $.flag IS TRUE }``,
  ``{ $.x IS NULL }``, ``{ $.x NOT EXISTS }``, with ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``&&``, ``||``.

Space-delimited patterns (``[ip, user, ...]``) are refused with :class:`FilterPatternError` rather than matched
wrongly. moto 5.2.5 returned every event for any pattern that did not start with a letter or a quote (a UUID
starting with a digit, every JSON pattern).

Example::

    FilterPattern.parse('{ $.cloudevent_id = "5b0c" }').matches('{"cloudevent_id": "5b0c"}')  # True
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_MISSING = object()
_TOKEN = re.compile(
    r"""\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<regex>%[^%]*%)|(?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))|"""
    r"""(?P<selector>\$(?:\.[A-Za-z0-9_@-]+|\[\d+\])*)|(?P<word>[^\s()&|=!<>"]+))"""
)


class FilterPatternError(ValueError):
    """The pattern is not valid filter pattern syntax (or uses syntax the local cloud does not match)."""


Predicate = Callable[[str], bool]


@dataclass(frozen=True)
class FilterPattern:
    """A parsed filter pattern; :meth:`matches` tells whether an event message matches it."""

    text: str
    _predicate: Predicate

    @staticmethod
    @functools.lru_cache(maxsize=256)
    def parse(text: str | None) -> FilterPattern:
        """Parse ``text``; raises :class:`FilterPatternError` when it is not a valid pattern."""
        pattern = (text or "").strip()
        if not pattern:
            return FilterPattern("", lambda message: True)
        if pattern.startswith("{"):
            if not pattern.endswith("}"):
                raise FilterPatternError(f"Invalid filter pattern (no closing brace): {text}")
            return FilterPattern(pattern, _json_predicate(pattern[1:-1]))
        if pattern.startswith("["):
            raise FilterPatternError(f"Space-delimited filter patterns are not supported by the local cloud: {text}")
        return FilterPattern(pattern, _terms_predicate(pattern))

    def matches(self, message: str) -> bool:
        """True when ``message`` matches."""
        return self._predicate(message)


def _unquote(token: str) -> str:
    return str(json.loads(token)) if token.startswith('"') else token


def _term_matcher(term: str) -> Predicate:
    if len(term) >= 2 and term.startswith("%") and term.endswith("%"):
        try:
            expression = re.compile(term[1:-1])
        except re.error as exc:
            raise FilterPatternError(f"Invalid regular expression {term}: {exc}") from exc
        return lambda message: expression.search(message) is not None
    text = _unquote(term)
    return lambda message: text in message


def _terms_predicate(pattern: str) -> Predicate:
    tokens = re.findall(r'[?-]?"(?:[^"\\]|\\.)*"|[?-]?%[^%]*%|\S+', pattern)
    required: list[Predicate] = []
    optional: list[Predicate] = []
    excluded: list[Predicate] = []
    for token in tokens:
        if token.startswith("?") and len(token) > 1:
            optional.append(_term_matcher(token[1:]))
        elif token.startswith("-") and len(token) > 1:
            excluded.append(_term_matcher(token[1:]))
        else:
            required.append(_term_matcher(token))

    def predicate(message: str) -> bool:
        return (
            all(match(message) for match in required)
            and not any(match(message) for match in excluded)
            and (not optional or any(match(message) for match in optional))
        )

    return predicate


def _tokens(body: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(body):
        if body[position:].strip() == "":
            break
        match = _TOKEN.match(body, position)
        if match is None or match.end() == position:
            raise FilterPatternError(f"Invalid filter pattern near {body[position:position + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _select(document: Any, selector: str) -> Any:
    value = document
    for part in re.findall(r"\.([A-Za-z0-9_@-]+)|\[(\d+)\]", selector):
        key, index = part
        if key:
            if not isinstance(value, dict) or key not in value:
                return _MISSING
            value = value[key]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                return _MISSING
            value = value[int(index)]
    return value


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _compare(value: Any, operator: str, kind: str, literal: str) -> bool:
    if value is _MISSING:
        return False
    if kind == "regex":
        matched = isinstance(value, str) and re.search(literal[1:-1], value) is not None
        return matched if operator == "=" else not matched
    number = _number(literal) if kind == "word" else None
    if number is not None and not isinstance(value, bool) and isinstance(value, int | float):
        return {"=": value == number, "!=": value != number, "<": value < number, "<=": value <= number,
                ">": value > number, ">=": value >= number}[operator]
    if operator not in ("=", "!="):
        return False
    text = _unquote(literal)
    if isinstance(value, str):
        wildcard = re.escape(text).replace(r"\*", ".*")
        equal = re.fullmatch(wildcard, value) is not None
    else:
        equal = json.dumps(value) == text
    return equal if operator == "=" else not equal


class _JsonParser:
    def __init__(self, body: str) -> None:
        self.tokens = _tokens(body)
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FilterPatternError("Invalid filter pattern: unexpected end")
        self.position += 1
        return token

    def expression(self) -> Callable[[Any], bool]:
        terms = [self.conjunction()]
        while self.peek() == ("op", "||"):
            self.take()
            terms.append(self.conjunction())
        return lambda document: any(term(document) for term in terms)

    def conjunction(self) -> Callable[[Any], bool]:
        terms = [self.primary()]
        while self.peek() == ("op", "&&"):
            self.take()
            terms.append(self.primary())
        return lambda document: all(term(document) for term in terms)

    def primary(self) -> Callable[[Any], bool]:
        kind, text = self.take()
        if (kind, text) == ("op", "("):
            inner = self.expression()
            if self.take() != ("op", ")"):
                raise FilterPatternError("Invalid filter pattern: missing )")
            return inner
        if kind != "selector":
            raise FilterPatternError(f"Invalid filter pattern: expected a $ selector, got {text!r}")
        return self.condition(text)

    def condition(self, selector: str) -> Callable[[Any], bool]:
        kind, text = self.take()
        if kind == "word" and text.upper() == "IS":
            _, expected = self.take()
            wanted = {"TRUE": True, "FALSE": False, "NULL": None}.get(expected.upper(), _MISSING)
            if wanted is _MISSING:
                raise FilterPatternError(f"Invalid filter pattern: IS {expected}")
            return lambda document: (value := _select(document, selector)) is not _MISSING and value is wanted
        if kind == "word" and text.upper() == "NOT":
            if self.take()[1].upper() != "EXISTS":
                raise FilterPatternError("Invalid filter pattern: NOT must be followed by EXISTS")
            return lambda document: _select(document, selector) is _MISSING
        if kind == "word" and text.upper() == "EXISTS":
            return lambda document: _select(document, selector) is not _MISSING
        if kind != "op" or text not in ("=", "!=", "<", "<=", ">", ">="):
            raise FilterPatternError(f"Invalid filter pattern: expected a comparison after {selector}")
        literal_kind, literal = self.take()
        if literal_kind not in ("string", "word", "regex"):
            raise FilterPatternError(f"Invalid filter pattern: expected a value after {selector} {text}")
        return lambda document: _compare(_select(document, selector), text, literal_kind, literal)


def _json_predicate(body: str) -> Predicate:
    parser = _JsonParser(body)
    condition = parser.expression()
    if parser.peek() is not None:
        raise FilterPatternError(f"Invalid filter pattern: unexpected {parser.peek()}")

    def predicate(message: str) -> bool:
        try:
            document = json.loads(message)
        except ValueError:
            return False
        return condition(document)

    return predicate
