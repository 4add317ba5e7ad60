"""signalrcore (PyPI) against the gateway: connect, join a shared list, receive
its events, get .NET error texts; over WebSockets with JSON and MessagePack and
over Server-Sent Events. (Its long-polling transport polls without the
credential, which an authenticated hub refuses, so it is not covered.)"""

from __future__ import annotations

import logging
import queue
import threading

import pytest
from signalrcore.hub_connection_builder import HubConnectionBuilder
from signalrcore.protocol.messagepack_protocol import MessagePackHubProtocol
from signalrcore.types import HttpTransportType

from support import WAIT_S, access_denied, assert_item_added, new_user

COMBINATIONS = [
    pytest.param("json", HttpTransportType.web_sockets, id="websockets-json"),
    pytest.param("messagepack", HttpTransportType.web_sockets, id="websockets-messagepack"),
    pytest.param("json", HttpTransportType.server_sent_events, id="sse-json"),
]


class Tab:
    """One signalrcore connection with every ItemAdded it receives queued."""

    def __init__(self, suite, user, protocol: str, transport: HttpTransportType):
        token = suite.token(user)
        builder = (
            HubConnectionBuilder()
            .with_url(
                suite.hub_url,
                options={"access_token_factory": lambda: token, "transport": transport},
            )
            .configure_logging(logging.WARNING)
        )
        if protocol == "messagepack":
            builder = builder.with_hub_protocol(MessagePackHubProtocol())
        self.connection = builder.build()
        self.items_added: queue.Queue = queue.Queue()
        self.connection.on("ItemAdded", lambda arguments: self.items_added.put(arguments))
        # signalrcore hands a failed completion to the connection-wide error callback only;
        # calls here are made one at a time, so it completes the pending one.
        self.pending: queue.Queue | None = None
        self.connection.on_error(lambda completion: self.pending and self.pending.put(completion))
        opened = threading.Event()
        self.connection.on_open(opened.set)
        self.connection.start()
        assert opened.wait(WAIT_S), "connection opened"

    def invoke(self, method: str, *arguments):
        """Calls a hub method and returns its completion (result or error)."""
        done: queue.Queue = queue.Queue()
        self.pending = done
        try:
            self.connection.send(method, list(arguments), on_invocation=done.put)
            return done.get(timeout=WAIT_S)
        finally:
            self.pending = None

    def call(self, method: str, *arguments):
        completion = self.invoke(method, *arguments)
        assert completion.error is None, f"{method}: {completion.error}"
        return completion.result

    def next_item_added(self) -> dict:
        arguments = self.items_added.get(timeout=WAIT_S)
        assert len(arguments) == 1, arguments
        return arguments[0]

    def stop(self):
        self.connection.stop()


@pytest.mark.parametrize(("protocol", "transport"), COMBINATIONS)
def test_members_join_a_shared_list_and_receive_its_events(suite, protocol, transport):
    alice, bob = new_user("Alice"), new_user("Bob")
    a = Tab(suite, alice, protocol, transport)
    b = Tab(suite, bob, protocol, transport)
    try:
        shopping_list = a.call("CreateList", {"name": f"signalrcore {protocol}"})
        assert shopping_list["ownerId"] == alice.id
        denied = b.invoke("JoinList", shopping_list["id"])
        assert denied.error == access_denied("JoinList")

        a.call("ShareList", shopping_list["id"], {"userId": bob.id, "displayName": bob.name, "permission": "Editor"})
        a.call("JoinList", shopping_list["id"])
        # Method names are case-insensitive.
        b.call("joinlist", shopping_list["id"])

        item = b.call("AddItem", shopping_list["id"], {"name": "Milk", "quantity": 2})
        assert item["createdBy"] == {"id": bob.id, "displayName": bob.name}
        first = assert_item_added(a.next_item_added(), shopping_list["id"], item)
        assert assert_item_added(b.next_item_added(), shopping_list["id"], item) == first

        second = a.call("AddItem", shopping_list["id"], {"name": "Bread", "quantity": 1})
        for tab in (a, b):
            assert assert_item_added(tab.next_item_added(), shopping_list["id"], second) == first + 1
        snapshot = b.call("GetList", shopping_list["id"])
        assert snapshot["sequence"] >= first + 1
        assert [i["name"] for i in snapshot["items"]] == ["Milk", "Bread"]
        for tab in (a, b):
            assert tab.items_added.empty(), "nothing twice"
    finally:
        a.stop()
        b.stop()
