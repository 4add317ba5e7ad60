"""What the Python client tests share: users, and the checks of CONTRACT §3.1 payloads."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

#: How long a test waits for one expected message, in seconds.
WAIT_S = 10.0


@dataclass(frozen=True)
class User:
    id: str
    name: str


def new_user(first_name: str) -> User:
    """A fresh user with a random suffix, so tests sharing the suite never meet."""
    return User(id=str(uuid.uuid4()), name=f"{first_name} {secrets.token_hex(2)}")


def access_denied(method: str) -> str:
    """The .NET text of a refused hub call (CONTRACT §1)."""
    return f"An unexpected error occurred invoking '{method}' on the server. HubException: Access denied"


def assert_item_added(payload: dict, list_id: str, item: dict) -> int:
    """`payload` is the ItemAdded every member gets for `item`; returns its sequence."""
    assert set(payload) == {"eventType", "listId", "item", "timestamp", "sequence"}, payload
    assert payload["eventType"] == "ItemAdded"
    assert payload["listId"] == list_id
    assert payload["item"] == item
    assert payload["timestamp"].endswith("Z")
    assert isinstance(payload["sequence"], int) and payload["sequence"] > 0
    return payload["sequence"]
