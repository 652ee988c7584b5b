"""Evaluate an Azure role assignment condition (ABAC, version 2.0) against one storage request, offline.

Azure decides at request time whether a role assignment with a condition grants a data action;
nothing here can ask Azure, so this evaluates the subset of the condition language that the
template writes, following
https://learn.microsoft.com/azure/role-based-access-control/conditions-format:

- ``ActionMatches{'<data action>'}`` and ``SubOperationMatches{'<suboperation>'}``;
- ``@Resource[<attribute>]`` and ``@Request[<attribute>]`` compared with ``StringEquals``,
  ``StringNotEquals``, ``StringStartsWith`` or ``StringLike`` to a quoted literal;
- ``!``/``NOT``, ``AND``, ``OR`` (``AND`` binds tighter than ``OR``) and parentheses.

A comparison with an attribute that the request does not carry is false, as Azure evaluates it
(the docs' "List blobs" carries no blob path, only the request's blob prefix:
https://learn.microsoft.com/azure/storage/blobs/storage-auth-abac-attributes). An assignment
with a condition grants a data action of its role only where the condition is true.
Anything else raises ``ValueError`` naming the unexpected text, so the evaluator never guesses.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field

BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
BLOB_PATH = f"@Resource[{BLOBS}:path]"
BLOB_PREFIX = f"@Request[{BLOBS}:prefix]"

# Data actions of the built-in role "Storage Blob Data Contributor"
# (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage).
STORAGE_BLOB_DATA_CONTRIBUTOR = (
    f"{BLOBS}/read",
    f"{BLOBS}/write",
    f"{BLOBS}/delete",
    f"{BLOBS}/add/action",
    f"{BLOBS}/move/action",
)


@dataclass(frozen=True)
class Request:
    """One storage data operation: its data action, suboperation (or None) and attributes."""

    what: str
    action: str
    suboperation: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)


_TOKEN = re.compile(
    r"\s*(?:(?P<paren>[()])|(?P<not>!|NOT\b)|(?P<bool>AND\b|OR\b)"
    r"|(?P<matcher>ActionMatches|SubOperationMatches)\{'(?P<matched>[^']*)'\}"
    r"|(?P<attribute>@(?:Resource|Request)\[[^\]]+\])"
    r"|(?P<operator>StringEquals|StringNotEquals|StringStartsWith|StringLike)\b"
    r"|'(?P<literal>[^']*)')"
)


def _tokens(condition: str) -> list[tuple[str, str]]:
    tokens, position, text = [], 0, condition.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"unsupported condition text at {text[position:position + 40]!r}")
        if match.group("matcher") is not None:
            tokens.append((match.group("matcher"), match.group("matched")))
        else:
            kind = next(name for name in ("paren", "not", "bool", "attribute", "operator", "literal")
                        if match.group(name) is not None)
            tokens.append((kind, match.group(kind)))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return tokens


class _Parser:
    def __init__(self, condition: str, request: Request) -> None:
        self.tokens = _tokens(condition)
        self.position = 0
        self.request = request

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, kind: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (kind is not None and token[0] != kind):
            raise ValueError(f"expected {kind or 'more condition'} at token {self.position}, got {token}")
        self.position += 1
        return token

    def expression(self) -> bool:
        return self.chain("OR", self.conjunction, any)

    def conjunction(self) -> bool:
        return self.chain("AND", self.unary, all)

    def chain(self, operator: str, operand: Callable[[], bool], combine: Callable[[list[bool]], bool]) -> bool:
        """``operand (operator operand)*``: every operand is parsed (no short cut, so the tokens
        are consumed) and the values are combined with ``any`` (OR) or ``all`` (AND)."""
        values = [operand()]
        while self.peek() == ("bool", operator):
            self.take()
            values.append(operand())
        return combine(values)

    def unary(self) -> bool:
        token = self.peek()
        if token is not None and token[0] == "not":
            self.take()
            return not self.unary()
        if token == ("paren", "("):
            self.take()
            value = self.expression()
            self.take("paren")
            return value
        if token is not None and token[0] == "ActionMatches":
            self.take()
            return self.request.action == token[1]
        if token is not None and token[0] == "SubOperationMatches":
            self.take()
            return self.request.suboperation == token[1]
        if token is not None and token[0] == "attribute":
            self.take()
            operator = self.take("operator")[1]
            literal = self.take("literal")[1]
            value = self.request.attributes.get(token[1])
            if value is None:
                return False
            return {
                "StringEquals": value == literal,
                "StringNotEquals": value != literal,
                "StringStartsWith": value.startswith(literal),
                "StringLike": fnmatch.fnmatchcase(value, literal),
            }[operator]
        raise ValueError(f"unexpected token {token} at {self.position}")


def condition_allows(condition: str, request: Request) -> bool:
    """Whether ``condition`` (ABAC 2.0 text) is true for ``request``, i.e. the assignment grants it.

    Raises ValueError for text outside the subset described in the module docstring.
    """
    parser = _Parser(condition, request)
    value = parser.expression()
    if parser.peek() is not None:
        raise ValueError(f"trailing condition text at token {parser.position}: {parser.peek()}")
    return value


def azurerm_backend_requests(key: str) -> list[Request]:
    """The blob operations Terraform's azurerm backend makes for the default workspace of ``key``.

    From hashicorp/terraform internal/backend/remote-state/azure (backend_state.go, client.go):
    ``terraform init`` and every command list the workspaces (List Blobs with the prefix
    ``<key>env:``), read the state blob (Get Blob / Get Blob Properties), and, where it does not
    exist yet, lock it (Put Blob of an empty blob, Lease Blob), write it and release the lease;
    plan and apply lock, read, write (Put Blob, Set Blob Metadata for the lock info) and unlock.
    Data actions per operation: https://learn.microsoft.com/rest/api/storageservices/authorize-with-azure-active-directory
    """
    path = {BLOB_PATH: key}
    return [
        Request("list workspaces (terraform init)", f"{BLOBS}/read", "Blob.List", {BLOB_PREFIX: f"{key}env:"}),
        Request("read the state (Get Blob)", f"{BLOBS}/read", None, path),
        Request("create the empty state blob to lock (Put Blob)", f"{BLOBS}/write", None, path),
        Request("lock: acquire, renew or release the lease (Lease Blob)", f"{BLOBS}/write", None, path),
        Request("record the lock info (Set Blob Metadata)", f"{BLOBS}/write", None, path),
        Request("write the state (Put Blob)", f"{BLOBS}/write", None, path),
    ]
