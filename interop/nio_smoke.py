#!/usr/bin/env python3
"""Drive a homeserver with matrix-nio, a real Matrix client library.

If a client written by other people, against the specification and Synapse,
can register, chat, scroll back, change a password and share a picture on
our server, then our client-server API is real Matrix and not only our own
idea of it. The script talks HTTP to a running server and does, in order:

 1. GET /_matrix/client/versions;
 2. registers two users: the first with nio's `register` (one request that
    carries the `m.login.dummy` auth), the second through the whole
    user-interactive flow (a bare request answered by 401 with the flows and
    a session, then `m.login.dummy` with that session);
 3. logs both in with their passwords, and checks whoami;
 4. creates a room, invites the second user (who sees the invite in /sync)
    and joins, and reads the room state;
 5. sends 50 messages while the second user long-polls /sync, and checks
    that they arrived through the sync responses, all 50, in order; then
    that a long-polling /sync wakes up when a message is sent;
 6. pages back through /messages from a fresh sync's `prev_batch`, and checks
    that the earlier messages come back newest first, none lost or repeated,
    until the room's m.room.create;
 7. changes the first user's password through /account/password with the
    `m.login.password` interactive-auth step (nio has no helper for it, so
    that request is sent raw), then checks that the new password logs in,
    the old one does not, and other sessions were logged out;
 8. uploads a file (nio uses /_matrix/media/v3/upload) and downloads it as
    the other user (nio uses the authenticated /_matrix/client/v1/media/download,
    which the spec prefers since v1.11 and Synapse requires for new media);
 9. sets a display name and an avatar_url (the mxc:// URI of the upload) and
    reads them back with get_displayname, get_avatar and get_profile;
10. leaves the room, and logs out.

Each step prints `ok: <step>` or `FAIL: <step>: <why>` (a failure is followed
by indented lines with the last HTTP exchange, to reproduce it). The last
line is `nio: N passed, M failed`; the exit status is 1 when M > 0, 2 when
matrix-nio is missing.

    .venv/bin/pip install -r interop/requirements-nio.txt
    .venv/bin/python interop/nio_smoke.py --homeserver http://127.0.0.1:8008

`interop/run-nio.sh` builds and starts `lostfound serve` and runs this
against it.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import json
import logging
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

try:
    from aiohttp import ClientSession, ClientTimeout, TraceConfig
    from nio import (
        AsyncClient,
        AsyncClientConfig,
        ErrorResponse,
        JoinResponse,
        LoginResponse,
        LogoutResponse,
        MemoryDownloadResponse,
        ProfileGetAvatarResponse,
        ProfileGetDisplayNameResponse,
        ProfileGetResponse,
        ProfileSetAvatarResponse,
        ProfileSetDisplayNameResponse,
        RegisterResponse,
        RoomCreateResponse,
        RoomGetStateResponse,
        RoomInviteResponse,
        RoomLeaveResponse,
        RoomMessagesResponse,
        RoomSendResponse,
        SyncResponse,
        UploadResponse,
        WhoamiResponse,
    )
    from nio.api import MessageDirection
    from nio.client.async_client import on_request_chunk_sent
except ImportError as error:  # pragma: no cover - depends on the environment
    print(
        f"nio_smoke: cannot import matrix-nio ({error}).\n"
        "Install the pinned version into a virtualenv and run the script with it:\n"
        "  python3 -m venv .venv && .venv/bin/pip install -r interop/requirements-nio.txt\n"
        "  .venv/bin/python interop/nio_smoke.py --homeserver http://127.0.0.1:PORT",
        file=sys.stderr,
    )
    sys.exit(2)


MESSAGES = 50
# Every step must finish within this many seconds.
STEP_SECONDS = 60.0
# Request and response bodies are cut to this many characters in failure details.
SHOWN_BODY = 600
CLIENT_API = "/_matrix/client/v3"


class StepFailed(Exception):
    """A check inside a step failed; the message says why."""


# ---------------------------------------------------------------------------
# Seeing what went over the wire
# ---------------------------------------------------------------------------

EXCHANGE_COUNTER = itertools.count()


@dataclass
class Exchange:
    """One HTTP request made by a client, as far as the trace saw it."""

    method: str
    url: str
    body: bytearray = field(default_factory=bytearray)
    status: int | None = None
    response_text: str | None = None
    # Creation order over all clients, so that the latest request can be found.
    seq: int = field(default_factory=lambda: next(EXCHANGE_COUNTER))

    def lines(self) -> list[str]:
        """The exchange as it is shown under a failure."""
        request = f"> {self.method} {self.url}"
        if self.body:
            request += " " + shorten(self.body.decode("utf-8", "replace"))
        response = f"< {self.status if self.status is not None else '(no response)'}"
        if self.response_text is not None:
            response += " " + shorten(self.response_text)
        return [request, response]


def shorten(text: str) -> str:
    """One line of at most SHOWN_BODY characters, for failure details."""
    text = text.replace("\n", "\\n")
    return text if len(text) <= SHOWN_BODY else text[:SHOWN_BODY] + f"... ({len(text)} chars)"


def redact_secrets(text: str) -> str:
    """Hide access tokens in shown URLs (the scripts' passwords are throwaway)."""
    if "access_token=" not in text:
        return text
    head, _, tail = text.partition("access_token=")
    _, amp, rest = tail.partition("&")
    return head + "access_token=<token>" + amp + rest


class Tracer:
    """Remembers the last requests of one client, for failure reports."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self.config = TraceConfig()
        self.config.on_request_start.append(self._start)
        self.config.on_request_chunk_sent.append(self._chunk)
        self.config.on_request_end.append(self._end)

    async def _start(self, _session: Any, context: Any, params: Any) -> None:
        context.exchange = Exchange(params.method, redact_secrets(str(params.url)))
        self.exchanges = (self.exchanges + [context.exchange])[-20:]

    async def _chunk(self, _session: Any, context: Any, params: Any) -> None:
        if len(context.exchange.body) < 4 * SHOWN_BODY:
            context.exchange.body += params.chunk[: 4 * SHOWN_BODY]

    async def _end(self, _session: Any, context: Any, params: Any) -> None:
        context.exchange.status = params.response.status

    def last(self) -> Exchange | None:
        """The most recent request."""
        return self.exchanges[-1] if self.exchanges else None


class NioWarnings(logging.Handler):
    """Collects nio's warnings: a response that fails nio's JSON schema is
    only explained there ("Error validating response: ...")."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


NIO_WARNINGS = NioWarnings()


def new_client(homeserver: str, user: str = "") -> AsyncClient:
    """An AsyncClient that gives up instead of retrying forever, with a tracer."""
    config = AsyncClientConfig(
        max_limit_exceeded=0,
        max_timeouts=0,
        request_timeout=30,
        encryption_enabled=False,
        store_sync_tokens=False,
    )
    client = AsyncClient(homeserver, user, config=config)
    tracer = Tracer()
    # nio's own chunk hook feeds upload monitors; keep it beside ours.
    nio_trace = TraceConfig()
    nio_trace.on_request_chunk_sent.append(on_request_chunk_sent)
    client.client_session = ClientSession(
        timeout=ClientTimeout(total=config.request_timeout),
        trace_configs=[nio_trace, tracer.config],
    )
    client.tracer = tracer  # type: ignore[attr-defined]
    return client


async def explain(client: AsyncClient, response: Any, wanted: str) -> str:
    """Why response is not the wanted kind: errcode, HTTP status, nio's
    schema complaint. The raw body goes to the failure details."""
    why = f"expected {wanted}, got {type(response).__name__}"
    if isinstance(response, ErrorResponse):
        why += f" ({response.status_code or 'no errcode'}: {response.message})"
    transport = getattr(response, "transport_response", None)
    if transport is not None:
        why += f", HTTP {transport.status}"
        last = client.tracer.last()  # type: ignore[attr-defined]
        if last is not None and last.response_text is None:
            try:
                last.response_text = await transport.text()
            except Exception as error:  # the body may be gone already
                last.response_text = f"<body unreadable: {error}>"
    schema = [message for message in NIO_WARNINGS.messages if "validating response" in message]
    if schema:
        why += f"; nio says: {schema[-1]}"
    NIO_WARNINGS.messages.clear()
    return why


async def expect(client: AsyncClient, response: Any, kind: type, wanted: str = "") -> Any:
    """Return response if it is a kind, else fail the step with an explanation."""
    if isinstance(response, kind):
        return response
    raise StepFailed(await explain(client, response, wanted or kind.__name__))


async def raw(client: AsyncClient, method: str, path: str, body: Any = None,
              token: str | None = None) -> tuple[int, Any]:
    """Send one request without nio's parsing; return (HTTP status, JSON or text)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body)
    response = await client.send(method, path, data, headers)
    text = await response.text()
    last = client.tracer.last()  # type: ignore[attr-defined]
    if last is not None:
        last.response_text = text
    try:
        return response.status, json.loads(text)
    except ValueError:
        return response.status, text


# ---------------------------------------------------------------------------
# Running steps
# ---------------------------------------------------------------------------

class Steps:
    """Runs named steps, prints one line each, counts passes and failures."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0
        self.done: set[str] = set()
        self.clients: list[AsyncClient] = []

    async def run(self, name: str, work: Callable[[], Awaitable[Any]],
                  needs: tuple[str, ...] = ()) -> Any:
        """Run one step; return its result, or None when it failed."""
        missing = [step for step in needs if step not in self.done]
        if missing:
            self.fail(name, f"not run: needs '{missing[0]}', which failed")
            return None
        NIO_WARNINGS.messages.clear()
        try:
            result = await asyncio.wait_for(work(), STEP_SECONDS)
        except StepFailed as error:
            self.fail(name, str(error))
            return None
        except asyncio.TimeoutError:
            self.fail(name, f"no answer within {STEP_SECONDS:.0f} s")
            return None
        except Exception as error:  # a crash in nio or aiohttp is a failure, not a traceback
            self.fail(name, f"{type(error).__name__}: {error}")
            return None
        self.passed += 1
        self.done.add(name)
        print(f"ok: {name}", flush=True)
        return result

    def fail(self, name: str, why: str) -> None:
        """Print a failure with the last HTTP exchange of the client involved."""
        self.failed += 1
        print(f"FAIL: {name}: {why}", flush=True)
        if why.startswith("not run:"):
            return
        # The most recent exchange over all clients is the one that failed.
        exchanges = [client.tracer.last() for client in self.clients]  # type: ignore[attr-defined]
        exchanges = [exchange for exchange in exchanges if exchange is not None]
        if exchanges:
            for line in max(exchanges, key=lambda exchange: exchange.seq).lines():
                print(f"    {line}", flush=True)


# ---------------------------------------------------------------------------
# The scenario
# ---------------------------------------------------------------------------

def message_bodies(events: list[Any], prefix: str) -> list[str]:
    """Bodies of the m.room.message events among nio events, in their order."""
    bodies = []
    for event in events:
        source = getattr(event, "source", {}) or {}
        body = (source.get("content") or {}).get("body")
        if source.get("type") == "m.room.message" and isinstance(body, str) and body.startswith(prefix):
            bodies.append(body)
    return bodies


def describe_order(got: list[str], wanted: list[str]) -> str:
    """Where two lists of bodies first differ, briefly."""
    for index, (one, other) in enumerate(zip(got, wanted, strict=False)):
        if one != other:
            return f"position {index}: got {one!r}, expected {other!r}"
    missing = [body for body in wanted if body not in got]
    extra = [body for body in got if body not in wanted]
    return (f"got {len(got)}, expected {len(wanted)}; missing {missing[:5]}{'...' if len(missing) > 5 else ''}, "
            f"unexpected {extra[:5]}")


async def scenario(homeserver: str) -> Steps:
    """Every step, in order; returns the tally."""
    steps = Steps()
    run_id = secrets.token_hex(3)
    names = {"alice": f"alice{run_id}", "bob": f"bob{run_id}"}
    passwords = {"alice": "correct horse " + run_id, "bob": "battery staple " + run_id}
    new_password = "new password " + run_id
    prefix = f"nio smoke {run_id} #"
    s: dict[str, Any] = {}  # what earlier steps found out

    def client(user: str = "") -> AsyncClient:
        made = new_client(homeserver, user)
        steps.clients.append(made)
        return made

    anon = client()

    async def versions() -> None:
        status, body = await raw(anon, "GET", "/_matrix/client/versions")
        if status != 200 or not isinstance(body, dict) or not body.get("versions"):
            raise StepFailed(f"HTTP {status}, body {shorten(json.dumps(body))}")
    await steps.run("versions", versions)

    async def register_alice() -> None:
        registrar = client()
        response = await expect(registrar, await registrar.register(names["alice"], passwords["alice"]), RegisterResponse)
        if not response.user_id.startswith(f"@{names['alice']}:"):
            raise StepFailed(f"user_id {response.user_id!r}")
        s["alice_id"] = response.user_id
        s["alice_register_client"] = registrar
    await steps.run("register alice (nio register, m.login.dummy)", register_alice)

    async def register_bob() -> None:
        registrar = client()
        status, body = await raw(registrar, "POST", f"{CLIENT_API}/register",
                                 {"username": names["bob"], "password": passwords["bob"]})
        if status != 401 or not isinstance(body, dict):
            raise StepFailed(f"a request without auth: expected 401 with the flows, got HTTP {status}")
        flows = body.get("flows") or []
        if not any(flow.get("stages") == ["m.login.dummy"] for flow in flows if isinstance(flow, dict)):
            raise StepFailed(f"no flow with the single stage m.login.dummy in {flows!r}")
        if not isinstance(body.get("session"), str):
            raise StepFailed(f"401 has no session: {shorten(json.dumps(body))}")
        response = await expect(registrar, await registrar.register(
            names["bob"], passwords["bob"], session_token=body["session"]), RegisterResponse)
        if not response.user_id.startswith(f"@{names['bob']}:"):
            raise StepFailed(f"user_id {response.user_id!r}")
        s["bob_id"] = response.user_id
    await steps.run("register bob (UIA: 401 with flows and session, then m.login.dummy)", register_bob)

    async def login(user: str) -> None:
        session = client(names[user])
        response = await expect(session, await session.login(passwords[user], device_name="nio smoke"), LoginResponse)
        if response.user_id != s[f"{user}_id"]:
            raise StepFailed(f"logged in as {response.user_id!r}, registered as {s[f'{user}_id']!r}")
        s[user] = session
        who = await expect(session, await session.whoami(), WhoamiResponse)
        if who.user_id != s[f"{user}_id"]:
            raise StepFailed(f"whoami says {who.user_id!r}")
    await steps.run("login alice, whoami", lambda: login("alice"), ("register alice (nio register, m.login.dummy)",))
    await steps.run("login bob, whoami",
                    lambda: login("bob"), ("register bob (UIA: 401 with flows and session, then m.login.dummy)",))
    both = ("login alice, whoami", "login bob, whoami")

    async def create_room() -> None:
        alice = s["alice"]
        response = await expect(alice, await alice.room_create(name="nio smoke " + run_id, topic="Lost & Found"),
                                RoomCreateResponse)
        s["room"] = response.room_id
    await steps.run("createRoom", create_room, both)

    async def invite() -> None:
        await expect(s["alice"], await s["alice"].room_invite(s["room"], s["bob_id"]), RoomInviteResponse)
    await steps.run("invite bob", invite, ("createRoom",))

    async def invite_in_sync() -> None:
        bob = s["bob"]
        response = await expect(bob, await bob.sync(timeout=0), SyncResponse)
        if s["room"] not in response.rooms.invite:
            raise StepFailed(f"room {s['room']} not under rooms.invite (invite: {list(response.rooms.invite)}, "
                             f"join: {list(response.rooms.join)})")
    await steps.run("bob's sync shows the invite", invite_in_sync, ("invite bob",))

    async def join() -> None:
        bob = s["bob"]
        response = await expect(bob, await bob.join(s["room"]), JoinResponse)
        if response.room_id != s["room"]:
            raise StepFailed(f"joined {response.room_id!r}")
        synced = await expect(bob, await bob.sync(timeout=0), SyncResponse)
        if s["room"] not in synced.rooms.join:
            raise StepFailed(f"after the join, the room is not under rooms.join of bob's sync "
                             f"(join: {list(synced.rooms.join)}, invite: {list(synced.rooms.invite)})")
    await steps.run("bob joins, and his sync shows the room joined", join, ("invite bob",))
    joined = ("bob joins, and his sync shows the room joined",)

    async def room_state() -> None:
        alice = s["alice"]
        response = await expect(alice, await alice.room_get_state(s["room"]), RoomGetStateResponse)
        members = {event.get("state_key"): (event.get("content") or {}).get("membership")
                   for event in response.events if event.get("type") == "m.room.member"}
        types = {event.get("type") for event in response.events}
        if members.get(s["bob_id"]) != "join" or members.get(s["alice_id"]) != "join":
            raise StepFailed(f"memberships in /state: {members}")
        if "m.room.create" not in types or "m.room.name" not in types:
            raise StepFailed(f"state types: {sorted(types)}")
    await steps.run("room state: create, name, both members joined", room_state, joined)

    async def send_and_sync() -> None:
        alice, bob = s["alice"], s["bob"]
        wanted = [f"{prefix}{number:02d}" for number in range(MESSAGES)]
        deadline = time.monotonic() + 40
        seen: list[str] = []
        limited: list[str] = []

        async def listen() -> None:
            while len(seen) < MESSAGES and time.monotonic() < deadline:
                response = await expect(bob, await bob.sync(timeout=5000), SyncResponse)
                room = response.rooms.join.get(s["room"])
                if room is None:
                    continue
                got = message_bodies(room.timeline.events, prefix)
                if room.timeline.limited and got:
                    limited.append(f"a response with {len(got)} messages was limited")
                seen.extend(got)

        listener = asyncio.create_task(listen())
        event_ids = []
        try:
            for body in wanted:
                response = await expect(alice, await alice.room_send(
                    s["room"], "m.room.message", {"msgtype": "m.text", "body": body}), RoomSendResponse)
                event_ids.append(response.event_id)
        except BaseException:
            listener.cancel()
            raise
        s["sent"] = wanted
        if len(set(event_ids)) != MESSAGES:
            listener.cancel()
            raise StepFailed(f"{MESSAGES} sends gave {len(set(event_ids))} distinct event IDs")
        await listener
        if seen != wanted:
            raise StepFailed(f"bob's sync responses: {describe_order(seen, wanted)}"
                             + (f"; {limited[0]}" if limited else ""))
    await steps.run(f"send {MESSAGES} messages; bob's long-polled syncs get all {MESSAGES} in order",
                    send_and_sync, joined)

    async def long_poll() -> None:
        alice, bob = s["alice"], s["bob"]
        body = f"{prefix}wake"
        started = time.monotonic()
        poll = asyncio.create_task(bob.sync(timeout=20000))
        await asyncio.sleep(1.0)
        if poll.done():
            raise StepFailed(f"/sync?timeout=20000 returned after {time.monotonic() - started:.2f} s with nothing new "
                             "(it should wait)")
        sent_at = time.monotonic()
        await expect(alice, await alice.room_send(s["room"], "m.room.message",
                                                  {"msgtype": "m.text", "body": body}), RoomSendResponse)
        response = await expect(bob, await poll, SyncResponse)
        waited = time.monotonic() - sent_at
        room = response.rooms.join.get(s["room"])
        got = message_bodies(room.timeline.events, prefix) if room else []
        if got != [body]:
            raise StepFailed(f"the woken sync's timeline has {got!r}")
        if waited > 5:
            raise StepFailed(f"the sync returned {waited:.1f} s after the send")
        s["sent"] = s["sent"] + [body]
    await steps.run("long-polling /sync wakes up on a new message", long_poll,
                    (f"send {MESSAGES} messages; bob's long-polled syncs get all {MESSAGES} in order",))

    async def paginate() -> None:
        alice = s["alice"]
        sent = s["sent"]
        fresh = await expect(alice, await alice.sync(timeout=0), SyncResponse)
        room = fresh.rooms.join.get(s["room"])
        if room is None:
            raise StepFailed("alice's initial sync has no joined room")
        recent = message_bodies(room.timeline.events, prefix)
        if recent != sent[len(sent) - len(recent):]:
            raise StepFailed(f"initial sync timeline is not the latest messages: {describe_order(recent, sent[-len(recent):])}")
        if room.timeline.prev_batch is None:
            raise StepFailed("initial sync timeline has no prev_batch")
        older_wanted = list(reversed(sent[: len(sent) - len(recent)]))
        older: list[str] = []
        token = room.timeline.prev_batch
        last_type = None
        pages = 0
        while pages < 40:
            pages += 1
            page = await expect(alice, await alice.room_messages(s["room"], start=token, limit=10,
                                                                 direction=MessageDirection.back),
                                RoomMessagesResponse)
            older.extend(message_bodies(page.chunk, prefix))
            if page.chunk:
                last_type = (getattr(page.chunk[-1], "source", {}) or {}).get("type")
            if not page.chunk or page.end is None or page.end == token:
                break
            token = page.end
        if older != older_wanted:
            raise StepFailed(f"after {pages} pages of /messages?dir=b: {describe_order(older, older_wanted)}")
        if last_type != "m.room.create":
            raise StepFailed(f"paginating back ended on {last_type!r}, not on the room's m.room.create")
        s["pages"] = pages
    await steps.run("/messages dir=b from prev_batch: the earlier messages newest first, back to m.room.create",
                    paginate, (f"send {MESSAGES} messages; bob's long-polled syncs get all {MESSAGES} in order",))

    async def change_password() -> None:
        alice = s["alice"]
        other = client(names["alice"])
        await expect(other, await other.login(passwords["alice"], device_name="other session"), LoginResponse)
        s["alice_other"] = other
        path = f"{CLIENT_API}/account/password"
        status, body = await raw(alice, "POST", path, {"new_password": new_password}, alice.access_token)
        if status != 401 or not isinstance(body, dict):
            raise StepFailed(f"a request without auth: expected 401 with the flows, got HTTP {status}")
        flows = body.get("flows") or []
        if not any("m.login.password" in (flow.get("stages") or []) for flow in flows if isinstance(flow, dict)):
            raise StepFailed(f"no flow with m.login.password in {flows!r}")
        auth = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": names["alice"]},
                "password": passwords["alice"]}
        if isinstance(body.get("session"), str):
            auth["session"] = body["session"]
        status, body = await raw(alice, "POST", path, {"new_password": new_password, "auth": auth},
                                 alice.access_token)
        if status != 200 or body != {}:
            raise StepFailed(f"with m.login.password auth: HTTP {status}, body {shorten(json.dumps(body))}")
    await steps.run("account/password with UIA m.login.password", change_password, ("login alice, whoami",))
    changed = ("account/password with UIA m.login.password",)

    async def new_password_works() -> None:
        session = client(names["alice"])
        await expect(session, await session.login(new_password), LoginResponse, "LoginResponse for the new password")
        s["alice_new"] = session
    await steps.run("login with the new password", new_password_works, changed)

    async def old_password_fails() -> None:
        session = client(names["alice"])
        response = await session.login(passwords["alice"])
        if isinstance(response, LoginResponse):
            raise StepFailed("the old password still logs in")
        if getattr(response, "status_code", None) != "M_FORBIDDEN":
            raise StepFailed(await explain(session, response, "an M_FORBIDDEN error"))
    await steps.run("login with the old password is refused (M_FORBIDDEN)", old_password_fails, changed)

    async def others_logged_out() -> None:
        alice, other = s["alice"], s["alice_other"]
        still = await alice.whoami()
        if not isinstance(still, WhoamiResponse):
            raise StepFailed("the session that changed the password was logged out: "
                             + await explain(alice, still, "WhoamiResponse"))
        gone = await other.whoami()
        if isinstance(gone, WhoamiResponse):
            raise StepFailed("another session of alice still works after the password change "
                             "(logout_devices defaults to true)")
        if getattr(gone, "status_code", None) != "M_UNKNOWN_TOKEN":
            raise StepFailed(await explain(other, gone, "an M_UNKNOWN_TOKEN error"))
    await steps.run("password change logs out the other sessions, keeps the requesting one",
                    others_logged_out, changed)

    async def upload() -> None:
        alice = s["alice"]
        data = os.urandom(150_000) + "Lost & Found ✓".encode()
        response, _keys = await alice.upload(io.BytesIO(data), content_type="application/octet-stream",
                                             filename="lostfound.bin", filesize=len(data))
        await expect(alice, response, UploadResponse)
        if not response.content_uri.startswith("mxc://"):
            raise StepFailed(f"content_uri {response.content_uri!r}")
        s["upload"] = (response.content_uri, data)
    await steps.run("media upload (/_matrix/media/v3/upload)", upload, ("login alice, whoami",))

    async def download() -> None:
        bob = s["bob"]
        mxc, data = s["upload"]
        response = await expect(bob, await bob.download(mxc), MemoryDownloadResponse)
        if response.body != data:
            raise StepFailed(f"downloaded {len(response.body)} bytes that differ from the {len(data)} uploaded")
        if response.content_type != "application/octet-stream":
            raise StepFailed(f"Content-Type {response.content_type!r}")
    await steps.run("media download by bob, bytes equal (nio: /_matrix/client/v1/media/download)", download,
                    ("media upload (/_matrix/media/v3/upload)", "login bob, whoami"))

    async def displayname() -> None:
        alice = s["alice"]
        name = f"Alice ✓ {run_id}"
        await expect(alice, await alice.set_displayname(name), ProfileSetDisplayNameResponse)
        response = await expect(alice, await alice.get_displayname(), ProfileGetDisplayNameResponse)
        if response.displayname != name:
            raise StepFailed(f"get_displayname gave {response.displayname!r}")
        s["displayname"] = name
    await steps.run("profile: set and get displayname", displayname, ("login alice, whoami",))

    async def avatar() -> None:
        alice, bob = s["alice"], s["bob"]
        mxc, _data = s["upload"]
        await expect(alice, await alice.set_avatar(mxc), ProfileSetAvatarResponse)
        mine = await expect(alice, await alice.get_avatar(), ProfileGetAvatarResponse)
        if mine.avatar_url != mxc:
            raise StepFailed(f"get_avatar gave {mine.avatar_url!r}, set {mxc!r}")
        seen = await expect(bob, await bob.get_profile(s["alice_id"]), ProfileGetResponse)
        if seen.avatar_url != mxc:
            raise StepFailed(f"bob's get_profile gave avatar_url {seen.avatar_url!r}, set {mxc!r}")
        if "profile: set and get displayname" in steps.done and seen.displayname != s["displayname"]:
            raise StepFailed(f"bob's get_profile gave displayname {seen.displayname!r}")
    await steps.run("profile: avatar_url = the upload's mxc, read back by get_avatar and get_profile", avatar,
                    ("media upload (/_matrix/media/v3/upload)", "login bob, whoami"))

    async def leave() -> None:
        bob = s["bob"]
        await expect(bob, await bob.room_leave(s["room"]), RoomLeaveResponse)
        response = await expect(bob, await bob.sync(timeout=0), SyncResponse)
        if s["room"] not in response.rooms.leave:
            raise StepFailed(f"after leaving, the room is not under rooms.leave of bob's sync "
                             f"(leave: {list(response.rooms.leave)}, join: {list(response.rooms.join)})")
    await steps.run("bob leaves, and his sync shows the room left", leave, joined)

    async def logout() -> None:
        bob = s["bob"]
        token = bob.access_token
        await expect(bob, await bob.logout(), LogoutResponse)
        status, body = await raw(bob, "GET", f"{CLIENT_API}/account/whoami", token=token)
        if status != 401 or not isinstance(body, dict) or body.get("errcode") != "M_UNKNOWN_TOKEN":
            raise StepFailed(f"whoami with the logged-out token: HTTP {status}, body {shorten(json.dumps(body))}")
    await steps.run("logout; the token is then refused (401 M_UNKNOWN_TOKEN)", logout, ("login bob, whoami",))

    for made in steps.clients:
        await made.close()
    return steps


def main() -> int:
    """Parse options, run the scenario, print the tally."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--homeserver", default=os.environ.get("HOMESERVER_URL", "http://127.0.0.1:8008"),
                        help="base URL of the server (default $HOMESERVER_URL or http://127.0.0.1:8008)")
    options = parser.parse_args()
    logging.getLogger("nio").addHandler(NIO_WARNINGS)
    logging.getLogger("nio").propagate = False
    print(f"nio {version_of('matrix-nio')} against {options.homeserver}", flush=True)
    steps = asyncio.run(scenario(options.homeserver.rstrip("/")))
    print(f"nio: {steps.passed} passed, {steps.failed} failed", flush=True)
    return 1 if steps.failed else 0


def version_of(package: str) -> str:
    """The installed version of a distribution, or '?'."""
    try:
        from importlib.metadata import version
        return version(package)
    except Exception:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
