"""pysignalr (PyPI) against the gateway: connect over WebSockets with JSON and
MessagePack, join a shared list, receive its events, get .NET error texts.
pysignalr sends the bearer token on negotiate only through `headers`, which is
how its documentation authenticates."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from pysignalr.client import SignalRClient
from pysignalr.messages import CompletionMessage
from pysignalr.protocol.json import JSONProtocol
from pysignalr.protocol.messagepack import MessagepackProtocol

from support import WAIT_S, access_denied, assert_item_added, new_user

PROTOCOLS = [
    pytest.param(JSONProtocol, id="json"),
    pytest.param(MessagepackProtocol, id="messagepack"),
]


class Tab:
    """One pysignalr connection, its run loop in a task, ItemAdded payloads queued."""

    def __init__(self, suite, user, protocol):
        self.client = SignalRClient(
            suite.hub_url,
            protocol=protocol(),
            headers={"Authorization": f"Bearer {suite.token(user)}"},
        )
        self.items_added: asyncio.Queue = asyncio.Queue()
        self.opened = asyncio.Event()

        async def on_open() -> None:
            self.opened.set()

        async def on_item_added(arguments) -> None:
            await self.items_added.put(arguments)

        # pysignalr hands a failed completion to the connection-wide error callback (and then to
        # the call's own); calls here are made one at a time, so it completes the pending one.
        self.pending: asyncio.Future | None = None

        async def on_error(message: CompletionMessage) -> None:
            if self.pending is not None and not self.pending.done():
                self.pending.set_result(message)

        self.client.on_open(on_open)
        self.client.on_error(on_error)
        self.client.on("ItemAdded", on_item_added)
        self.task: asyncio.Task | None = None

    async def start(self) -> "Tab":
        self.task = asyncio.create_task(self.client.run())
        await asyncio.wait_for(self.opened.wait(), WAIT_S)
        return self

    async def invoke(self, method: str, *arguments) -> CompletionMessage:
        done: asyncio.Future = asyncio.get_running_loop().create_future()
        self.pending = done

        async def on_completion(message: CompletionMessage) -> None:
            if not done.done():
                done.set_result(message)

        await self.client.send(method, list(arguments), on_invocation=on_completion)
        try:
            return await asyncio.wait_for(done, WAIT_S)
        finally:
            self.pending = None

    async def call(self, method: str, *arguments):
        completion = await self.invoke(method, *arguments)
        assert completion.error is None, f"{method}: {completion.error}"
        return completion.result

    async def next_item_added(self) -> dict:
        arguments = await asyncio.wait_for(self.items_added.get(), WAIT_S)
        assert len(arguments) == 1, arguments
        return arguments[0]

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_members_join_a_shared_list_and_receive_its_events(suite, protocol):
    async def scenario() -> None:
        alice, bob = new_user("Alice"), new_user("Bob")
        a = await Tab(suite, alice, protocol).start()
        b = await Tab(suite, bob, protocol).start()
        try:
            shopping_list = await a.call("CreateList", {"name": "pysignalr"})
            assert shopping_list["ownerId"] == alice.id
            denied = await b.invoke("JoinList", shopping_list["id"])
            assert denied.error == access_denied("JoinList")

            await a.call(
                "ShareList",
                shopping_list["id"],
                {"userId": bob.id, "displayName": bob.name, "permission": "Editor"},
            )
            await a.call("JoinList", shopping_list["id"])
            await b.call("joinList", shopping_list["id"])

            item = await a.call("AddItem", shopping_list["id"], {"name": "Milk", "quantity": 2})
            first = assert_item_added(await a.next_item_added(), shopping_list["id"], item)
            assert assert_item_added(await b.next_item_added(), shopping_list["id"], item) == first

            other = await b.call("AddItem", shopping_list["id"], {"name": "Eggs", "quantity": 6})
            for tab in (a, b):
                payload = await tab.next_item_added()
                assert assert_item_added(payload, shopping_list["id"], other) == first + 1
            for tab in (a, b):
                assert tab.items_added.empty(), "nothing twice"
        finally:
            await a.stop()
            await b.stop()

    asyncio.run(scenario())
