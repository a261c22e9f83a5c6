#!/usr/bin/env python3
"""Cross-check Lost & Found's event hashing and signing against Synapse.

Synapse is the reference Matrix homeserver. If our `lostfound` binary and
Synapse's own Python code agree, byte for byte, on the canonical JSON, the
content hash, the redacted form, the reference hash, the event ID and the
ed25519 signature of hundreds of awkward room-version-10 events, then our
events will be accepted by real Matrix servers (and theirs by ours).

What the script does:

1. generates room v10 PDUs from a seeded random generator (unicode of every
   kind, control characters, integers at the canonical-JSON limits, nested
   content, every state type the redaction algorithm treats specially, unknown
   top-level keys, `unsigned`), plus the two event vectors published in the
   Matrix specification, a few hand-written JSON texts with unusual but valid
   spellings, and a negative set of events that contain floats or integers
   outside +-(2**53-1) (each with a control twin holding `1` instead, which
   must be accepted);
2. runs `lostfound event sign --jsonl` once and `lostfound event inspect --jsonl`
   once, each fed with all the events as JSON Lines;
3. computes the same things with Synapse's functions (imported, never copied)
   and prints every field that differs;
4. times Synapse's own code on the same events, as a peer figure.

The last line is `crosscheck: N passed, M failed`; the exit status is 0 only
when M is 0 (1 on mismatches, 2 when the binary or Synapse is missing).

Run it with the Python that has requirements.txt installed, from anywhere:

    python3 -m venv .venv && .venv/bin/pip install -r interop/requirements.txt
    cargo build --release -p lostfound-cli
    .venv/bin/python interop/crosscheck.py [--count 600] [--seed 1]
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import json
import os
import random
import string
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

try:
    from canonicaljson import encode_canonical_json
    from signedjson.key import decode_signing_key_base64, get_verify_key
    from signedjson.sign import SignatureVerifyException, verify_signed_json
    from synapse.api.room_versions import KNOWN_ROOM_VERSIONS
    from synapse.crypto.event_signing import (
        add_hashes_and_signatures,
        compute_content_hash,
        compute_event_reference_hash,
    )
    from synapse.events import make_event_from_dict
    from synapse.events.utils import prune_event, validate_canonicaljson
    from synapse.synapse_rust.events import redact_event_dict
    from unpaddedbase64 import encode_base64
except ImportError as error:  # pragma: no cover - depends on the environment
    print(
        f"crosscheck: cannot import Synapse's code ({error}).\n"
        "Install the pinned packages into a virtualenv and run the script with it:\n"
        "  python3 -m venv .venv && .venv/bin/pip install -r interop/requirements.txt\n"
        "  .venv/bin/python interop/crosscheck.py",
        file=sys.stderr,
    )
    sys.exit(2)


REPO_ROOT = Path(__file__).resolve().parent.parent
ROOM_VERSION = KNOWN_ROOM_VERSIONS["10"]

# The largest integer canonical JSON allows (and its negative).
MAX_SAFE_INT = 2**53 - 1

# Signing key seed, server name and key id of the specification's test
# vectors (appendices, "Signing JSON"). They are the defaults, so that the two
# spec event vectors can be checked against their published results too.
SPEC_SEED = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1"
SPEC_SERVER = "domain"
SPEC_KEY_ID = "ed25519:1"

# The two event signing vectors from the specification, as published
# (input JSON text, expected content hash, expected signature).
SPEC_EVENT_VECTORS = [
    (
        "spec vector A (minimal event)",
        '{"room_id":"!x:domain","sender":"@a:domain","origin":"domain",'
        '"origin_server_ts":1000000,"signatures":{},"hashes":{},"type":"X",'
        '"content":{},"prev_events":[],"auth_events":[],"depth":3,'
        '"unsigned":{"age_ts":1000000}}',
        "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos",
        "KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg",
    ),
    (
        "spec vector B (redactable content)",
        '{"content":{"body":"Here is the message content"},"event_id":"$0:domain",'
        '"origin":"domain","origin_server_ts":1000000,"type":"m.room.message",'
        '"room_id":"!r:domain","sender":"@u:domain","signatures":{},'
        '"unsigned":{"age_ts":1000000}}',
        "onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g",
        "Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA",
    ),
]


# ---------------------------------------------------------------------------
# Generating events
# ---------------------------------------------------------------------------

SERVER_NAMES = [
    "domain",
    "alice.lab",
    "bob.lab",
    "hs.lab:8448",
    "carol.lab:8008",
    "127.0.0.1:8448",
    "[::1]:8448",
    "matrix.example.org",
    "xn--caf-dma.example",
]

# Pieces that random strings are glued together from. Each one is here because
# some JSON encoder somewhere gets it wrong.
TEXT_PIECES = [
    # plain ASCII
    "hello", "Lost & Found", "a b  c", "", "0", "null", "true",
    # CJK and Hangul (multi-byte UTF-8, must be emitted raw, never \u-escaped)
    "日本語", "漢字かな交じり文", "한국어", "中文",
    # astral plane: 4-byte UTF-8, surrogate pairs in UTF-16 based encoders
    "😀", "🏳️‍🌈", "👩🏽‍💻", "𝄞", "\U00010348", "\U0010fffd",
    # combining marks: must not be normalised (NFC "Å" and NFD "A\u030a" differ)
    "e\u0301", "A\u030a", "\u00c5", "a\u0308\u0323", "\u0915\u094d\u0937",
    # right-to-left text and bidi controls
    "שלום", "مرحبا", "\u202eabc\u202c", "\u200f", "\u200b", "\ufeff", "\ufffd", "\u00a0",
    # characters JSON does escape, or that people think it does
    '"', "\\", "/", "\\/", "</script>", '"quoted"', "back\\slash", "a/b/c", "\\u0000",
    # JavaScript line terminators, DEL and C1 controls: all emitted raw
    "\u2028", "\u2029", "\u007f", "\u0080", "\u009f",
] + [chr(code) for code in range(0x20)]  # every C0 control character

# Object keys: the canonical order is by Unicode code point, so keys from the
# private use area (U+E000) and fullwidth forms (U+FF21) must sort *before*
# astral keys (U+1F600), unlike in UTF-16 order.
KEY_PIECES = [
    "a", "b", "A", "Z", "_", "aa", "ab", "", "0", "10", "9", "ü", "日", "本",
    "\uff21", "\ue000", "\U0001f600", "\U00010000", "\u0000", "\n", "\\", '"',
    "key with space", "m.relates_to", "org.example.custom",
]

# Top-level keys an event may carry that the v10 redaction algorithm drops
# (plus "membership" and "prev_state", which it keeps). We never generate
# "age_ts", "outlier" or "destinations": Synapse's compute_content_hash strips
# those legacy keys before hashing, which the specification does not; see
# README.md.
EXTRA_TOP_LEVEL_KEYS = [
    "foo", "org.example.extra", "😀", "redacts", "user_id", "age", "txn_id",
    "nested", "membership", "prev_state",
]


def random_text(rng: random.Random, max_pieces: int = 5) -> str:
    """Return a string glued from 0..max_pieces awkward pieces."""
    return "".join(rng.choice(TEXT_PIECES) for _ in range(rng.randint(0, max_pieces)))


def random_key(rng: random.Random) -> str:
    """Return an object key: usually a tricky fixed key, sometimes random text."""
    if rng.random() < 0.7:
        return rng.choice(KEY_PIECES)
    return random_text(rng, 3)


def random_int(rng: random.Random) -> int:
    """Return an integer, often exactly at the limits of canonical JSON."""
    return rng.choice(
        [
            0, 1, -1, MAX_SAFE_INT, -MAX_SAFE_INT, MAX_SAFE_INT - 1, -MAX_SAFE_INT + 1,
            2**31 - 1, -(2**31), 2**32, 2**53 - 2**20,
            rng.randint(-MAX_SAFE_INT, MAX_SAFE_INT),
            rng.randint(-1000, 1000),
        ]
    )


def random_value(rng: random.Random, depth: int) -> Any:
    """Return a random JSON value (never a float); containers only while shallow."""
    kinds = ["text", "text", "int", "bool", "null"]
    if depth < 4:
        kinds += ["object", "array"]
    kind = rng.choice(kinds)
    if kind == "text":
        return random_text(rng)
    if kind == "int":
        return random_int(rng)
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "array":
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return random_object(rng, depth + 1)


def random_object(rng: random.Random, depth: int = 0, max_keys: int = 5) -> dict:
    """Return a random JSON object with up to max_keys keys."""
    return {random_key(rng): random_value(rng, depth) for _ in range(rng.randint(0, max_keys))}


def random_localpart(rng: random.Random) -> str:
    """Return a user localpart such as `alice` or `u_42`."""
    return rng.choice(["alice", "bob", "carol", "dave", "erin", "u_" + str(rng.randint(0, 99))])


def random_user_id(rng: random.Random) -> str:
    """Return a user ID `@localpart:server`."""
    return f"@{random_localpart(rng)}:{rng.choice(SERVER_NAMES)}"


def random_room_id(rng: random.Random) -> str:
    """Return a room ID `!opaque:server`."""
    opaque = "".join(rng.choice(string.ascii_letters) for _ in range(18))
    return f"!{opaque}:{rng.choice(SERVER_NAMES)}"


def fake_event_id(rng: random.Random) -> str:
    """Return something shaped like a v4+ event ID: `$` + 43 URL-safe base64 chars."""
    digest = rng.randbytes(32)
    return "$" + base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def maybe_add_extras(rng: random.Random, content: dict, chance: float = 0.5) -> dict:
    """Sometimes add random extra keys to a content object (redaction must drop them)."""
    if rng.random() < chance:
        for _ in range(rng.randint(1, 3)):
            content[random_key(rng)] = random_value(rng, 1)
    return content


# Each builder returns (event type, state key or None, content, extra top-level keys).

def build_create(rng: random.Random) -> tuple[str, str | None, dict, dict]:
    """m.room.create: redaction keeps only `creator` in v10."""
    content = {"creator": random_user_id(rng), "room_version": "10"}
    if rng.random() < 0.4:
        content["m.federate"] = rng.random() < 0.5
    if rng.random() < 0.3:
        content["predecessor"] = {"room_id": random_room_id(rng), "event_id": fake_event_id(rng)}
    return "m.room.create", "", maybe_add_extras(rng, content), {}


def build_member(rng: random.Random) -> tuple[str, str | None, dict, dict]:
    """m.room.member: redaction keeps membership and join_authorised_via_users_server."""
    content: dict[str, Any] = {
        "membership": rng.choice(["join", "invite", "leave", "ban", "knock"])
    }
    if rng.random() < 0.6:
        content["displayname"] = random_text(rng)
    if rng.random() < 0.5:
        content["avatar_url"] = f"mxc://{rng.choice(SERVER_NAMES)}/{rng.randbytes(6).hex()}"
    if rng.random() < 0.4:
        content["join_authorised_via_users_server"] = random_user_id(rng)
    if rng.random() < 0.2:
        content["reason"] = random_text(rng)
    if rng.random() < 0.2:
        content["is_direct"] = rng.random() < 0.5
    if rng.random() < 0.15:
        # v11 keeps third_party_invite.signed; v10 must drop it entirely.
        content["third_party_invite"] = {
            "display_name": random_text(rng),
            "signed": {"mxid": random_user_id(rng), "token": "abc", "signatures": {}},
        }
    extra = {}
    if rng.random() < 0.1:
        extra["membership"] = content["membership"]  # legacy top-level copy, kept
    return "m.room.member", random_user_id(rng), maybe_add_extras(rng, content, 0.3), extra


def build_join_rules(rng: random.Random) -> tuple[str, str | None, dict, dict]:
    """m.room.join_rules: redaction keeps join_rule and allow."""
    content: dict[str, Any] = {
        "join_rule": rng.choice(["public", "invite", "knock", "restricted", "knock_restricted", "private"])
    }
    if rng.random() < 0.6:
        content["allow"] = [
            {"type": "m.room_membership", "room_id": random_room_id(rng)}
            for _ in range(rng.randint(0, 3))
        ]
        if rng.random() < 0.3:
            content["allow"].append(random_object(rng, 2))
    return "m.room.join_rules", "", maybe_add_extras(rng, content), {}


def build_power_levels(rng: random.Random) -> tuple[str, str | None, dict, dict]:
    """m.room.power_levels: v10 keeps ban, events, events_default, kick, redact,
    state_default, users, users_default (not invite, not notifications)."""
    content = {
        "ban": random_int(rng),
        "events": {
            rng.choice(["m.room.name", "m.room.topic", "m.room.power_levels", random_text(rng, 2)]):
            random_int(rng)
            for _ in range(rng.randint(0, 4))
        },
        "events_default": random_int(rng),
        "invite": random_int(rng),
        "kick": random_int(rng),
        "notifications": {"room": random_int(rng)},
        "redact": random_int(rng),
        "state_default": random_int(rng),
        "users": {random_user_id(rng): random_int(rng) for _ in range(rng.randint(0, 4))},
        "users_default": random_int(rng),
    }
    if rng.random() < 0.5:
        content["historical"] = 100
    return "m.room.power_levels", "", maybe_add_extras(rng, content), {}


def build_history_visibility(rng: random.Random) -> tuple[str, str | None, dict, dict]:
    """m.room.history_visibility: redaction keeps history_visibility."""
    content = {
        "history_visibility": rng.choice(["invited", "joined", "shared", "world_readable"])
    }
    return "m.room.history_visibility", "", maybe_add_extras(rng, content), {}


def build_name(rng: random.Random) -> tuple[str, str | None, dict, dict]:
    """m.room.name: redaction empties the content."""
    return "m.room.name", "", {"name": random_text(rng)}, {}


def build_topic(rng: random.Random) -> tuple[str, str | None, dict, dict]:
    """m.room.topic: redaction empties the content."""
    content: dict[str, Any] = {"topic": random_text(rng)}
    if rng.random() < 0.5:
        content["m.topic"] = [{"mimetype": "text/plain", "body": content["topic"]}]
    return "m.room.topic", "", content, {}


def build_custom_state(rng: random.Random) -> tuple[str, str | None, dict, dict]:
    """A custom state type with an arbitrary (possibly empty, possibly unicode) state key."""
    event_type = rng.choice(["org.example.state", "lab.lostfound.thing", "x." + random_text(rng, 2)])
    state_key = rng.choice(["", random_user_id(rng), random_text(rng, 3)])
    return event_type, state_key, random_object(rng), {}


def build_message(rng: random.Random) -> tuple[str, str | None, dict, dict]:
    """m.room.message: redaction empties the content."""
    content: dict[str, Any] = {"msgtype": rng.choice(["m.text", "m.notice", "m.emote"]), "body": random_text(rng)}
    if rng.random() < 0.3:
        content["format"] = "org.matrix.custom.html"
        content["formatted_body"] = "<b>" + random_text(rng) + "</b>"
    if rng.random() < 0.2:
        content["m.relates_to"] = {"rel_type": "m.thread", "event_id": fake_event_id(rng)}
    return "m.room.message", None, maybe_add_extras(rng, content, 0.3), {}


def build_redaction(rng: random.Random) -> tuple[str, str | None, dict, dict]:
    """m.room.redaction with the top-level `redacts` key (v10 drops it on redaction)."""
    content: dict[str, Any] = {}
    if rng.random() < 0.6:
        content["reason"] = random_text(rng)
    if rng.random() < 0.2:
        content["redacts"] = fake_event_id(rng)  # v11 style; v10 must not keep it
    return "m.room.redaction", None, content, {"redacts": fake_event_id(rng)}


def build_custom(rng: random.Random) -> tuple[str, str | None, dict, dict]:
    """A custom non-state event type with random nested content."""
    event_type = rng.choice(["org.example.ping", "m.reaction", "x." + random_text(rng, 2)])
    return event_type, None, random_object(rng, max_keys=7), {}


EVENT_BUILDERS: list[Callable[[random.Random], tuple[str, str | None, dict, dict]]] = [
    build_create, build_member, build_member, build_join_rules, build_power_levels,
    build_history_visibility, build_name, build_topic, build_custom_state,
    build_message, build_message, build_redaction, build_custom,
]


def generate_event(rng: random.Random) -> dict:
    """Generate one unsigned room v10 PDU (no `hashes`, no own signature yet)."""
    server = rng.choice(SERVER_NAMES)
    event_type, state_key, content, extra = rng.choice(EVENT_BUILDERS)(rng)
    event: dict[str, Any] = {
        "type": event_type,
        "room_id": random_room_id(rng),
        "sender": f"@{random_localpart(rng)}:{server}",
        "origin": server,
        "origin_server_ts": rng.choice([0, MAX_SAFE_INT, rng.randint(1_600_000_000_000, 1_800_000_000_000)]),
        "depth": rng.choice([1, 2, MAX_SAFE_INT, rng.randint(1, 10**6)]),
        "prev_events": [fake_event_id(rng) for _ in range(rng.randint(0, 3))],
        "auth_events": [fake_event_id(rng) for _ in range(rng.randint(0, 4))],
        "content": content,
    }
    if state_key is not None:
        event["state_key"] = state_key
    event.update(extra)
    if rng.random() < 0.25:
        for _ in range(rng.randint(1, 2)):
            event[rng.choice(EXTRA_TOP_LEVEL_KEYS)] = random_value(rng, 2)
    if rng.random() < 0.3:
        event["unsigned"] = {"age_ts": random_int(rng), "transaction_id": random_text(rng, 2)}
        if rng.random() < 0.5:
            event["unsigned"][random_key(rng)] = random_value(rng, 2)
    if rng.random() < 0.2:
        event["hashes"] = {}
    if rng.random() < 0.2:
        event["signatures"] = {}
    elif rng.random() < 0.06:
        # A signature by another server, which signing must keep.
        event["signatures"] = {"other.lab": {"ed25519:old": base64.b64encode(rng.randbytes(64)).decode().rstrip("=")}}
    return event


def raw_text_cases() -> list[tuple[str, str]]:
    """Hand-written JSON texts that spell valid values unusually.

    The parser must decode them and the canonical form must respell them:
    `-0` becomes `0`, `\\/` becomes `/`, `\\u00e9` becomes a raw `é`, an
    escaped surrogate pair becomes a raw 4-byte character, `\\u001F` becomes
    `\\u001f`, and whitespace between tokens disappears.
    """
    head = (
        '"type":"m.room.message","room_id":"!r:domain","sender":"@u:domain","origin":"domain",'
        '"origin_server_ts":1000000,"depth":7,"prev_events":[],"auth_events":[],"hashes":{},'
    )

    def text(content: str) -> str:
        return "{" + head + '"content":' + content + "}"

    return [
        ("minus zero integer", text('{"n":-0,"m":[-0]}')),
        ("escaped solidus", text('{"body":"a\\/b\\/c"}')),
        ("lowercase and uppercase \\u escapes", text('{"body":"caf\\u00e9 CAF\\u00C9"}')),
        ("escaped surrogate pair", text('{"body":"\\ud83d\\ude00 \\uD834\\uDD1E"}')),
        ("escaped control characters", text('{"body":"\\u001F\\u0000\\u0008\\u000c\\u007f\\u2028"}')),
        ("escaped key", text('{"\\u65e5":1,"\\u0041":2,"\\"":3}')),
        ("whitespace between tokens", text('{ "body" :\t"x" ,\r "n" : [ 1 , 2 ] }')),
        ("integer limits", text('{"max":9007199254740991,"min":-9007199254740991}')),
        ("keys needing sort", text('{"b":1,"a":{"d":[{"z":1,"y":2}],"c":null}}')),
        ("empty containers", text('{"o":{},"a":[],"s":""}')),
    ]


# Numbers that canonical JSON forbids: floats (also when they hold an integer
# value, or use an exponent) and integers outside +-(2**53-1).
BAD_NUMBERS = [
    "1.5", "-0.25", "1.0", "-0.0", "1e3", "9007199254740992", "-9007199254740992",
    "18446744073709551616", "123456789012345678901234567890",
]

# Where a bad number is planted in an event.
BAD_NUMBER_PLACES = [
    "content.n", "content.deep.deeper.x", "content.list[1]", "depth", "origin_server_ts", "unsigned.age_ts",
]


def plant(event: dict, place: str, value: Any) -> None:
    """Put value at one of the BAD_NUMBER_PLACES of an event."""
    if place == "content.n":
        event["content"]["n"] = value
    elif place == "content.deep.deeper.x":
        event["content"]["deep"] = {"deeper": {"x": value}}
    elif place == "content.list[1]":
        event["content"]["list"] = [1, value, "s"]
    elif place == "unsigned.age_ts":
        event["unsigned"] = {"age_ts": value}
    else:
        event[place] = value


def negative_cases(seed: int) -> list[tuple[str, str, str]]:
    """Return (label, bad JSON text, control JSON text) for the negative set.

    A marker string is planted in a generated event, the event is encoded,
    and the marker (with its quotes) is replaced by the bad number's text,
    so that the number reaches the parser exactly as written. The control
    is the same text with `1` instead: it must be accepted, which shows that
    a rejection of the bad text is due to the number and nothing else.
    """
    rng = random.Random(seed + 1)
    marker = "@@BAD_NUMBER@@"
    cases = []
    for number in BAD_NUMBERS:
        for place in BAD_NUMBER_PLACES:
            event = generate_event(rng)
            event["hashes"] = {}
            plant(event, place, marker)
            text = json.dumps(event, ensure_ascii=False)
            bad = text.replace(json.dumps(marker), number)
            control = text.replace(json.dumps(marker), "1")
            cases.append((f"{number} at {place}", bad, control))
    return cases


# ---------------------------------------------------------------------------
# The cases we check
# ---------------------------------------------------------------------------

@dataclass
class Case:
    """One thing we check: an event we sign and/or inspect, or a bad event.

    sign_line / inspect_line are the exact JSON Lines sent to our CLI (None
    when that command does not see this case). For negative cases only
    inspect_line is set, and both sides must reject it, while its
    control_line (the same event with a valid number) must pass.
    """

    index: int
    kind: str  # "spec", "generated", "raw", "negative"
    label: str
    sign_line: str | None = None
    inspect_line: str | None = None
    control_line: str | None = None
    spec_hash: str | None = None
    spec_signature: str | None = None
    failed_fields: list[str] = field(default_factory=list)


def to_json_line(event: dict, index: int) -> str:
    """Encode an event as one line of JSON.

    Even cases are sent with non-ASCII escaped (so our parser must decode
    `\\uXXXX` and surrogate pairs), odd cases with raw UTF-8.
    """
    return json.dumps(event, ensure_ascii=(index % 2 == 0))


def inspect_variant(index: int, event: dict, synapse_signed: dict) -> dict:
    """Choose what `inspect` sees for a generated event.

    Cycling through three variants: the event as Synapse signed it (claimed
    hash present and correct); the unsigned event with empty `hashes`
    (claimed hash null; Synapse's event parser requires the key); and the
    signed event with its content tampered with afterwards (claimed hash
    present but wrong, as a receiving server would see it).
    """
    variant = index % 3
    if variant == 0:
        return copy.deepcopy(synapse_signed)
    if variant == 1:
        unsigned_event = copy.deepcopy(event)
        unsigned_event["hashes"] = {}
        return unsigned_event
    tampered = copy.deepcopy(synapse_signed)
    tampered["content"]["tampered"] = True
    return tampered


def build_cases(count: int, seed: int, server: str, signing_key: Any, check_spec_vectors: bool) -> tuple[list[Case], list[dict]]:
    """Build every case; also return the generated events (for the timing)."""
    cases: list[Case] = []

    if check_spec_vectors:
        for label, text, expected_hash, expected_signature in SPEC_EVENT_VECTORS:
            case = Case(len(cases), "spec", label, sign_line=text,
                        spec_hash=expected_hash, spec_signature=expected_signature)
            if '"event_id"' not in text:
                # Vector B carries an `event_id` key, which Synapse's room v10
                # event parser refuses, so only vector A is inspected.
                case.inspect_line = json.dumps(synapse_sign(json.loads(text), server, signing_key))
            cases.append(case)

    rng = random.Random(seed)
    events = [generate_event(rng) for _ in range(count)]
    for number, event in enumerate(events):
        index = len(cases)
        synapse_signed = synapse_sign(event, server, signing_key)
        cases.append(Case(
            index, "generated", f"generated event {number} ({event['type']!r})",
            sign_line=to_json_line(event, index),
            inspect_line=to_json_line(inspect_variant(number, event, synapse_signed), index),
        ))

    for label, text in raw_text_cases():
        cases.append(Case(len(cases), "raw", label, sign_line=text, inspect_line=text))

    for label, bad, control in negative_cases(seed):
        cases.append(Case(len(cases), "negative", label, inspect_line=bad, control_line=control))

    return cases, events


# ---------------------------------------------------------------------------
# Synapse's answers
# ---------------------------------------------------------------------------

def synapse_inspect(event: dict) -> dict:
    """What Synapse computes for an event, in the shape of our `inspect` output."""
    synapse_event = make_event_from_dict(copy.deepcopy(event), ROOM_VERSION)
    _, content_digest = compute_content_hash(event, hashlib.sha256)
    _, reference_digest = compute_event_reference_hash(synapse_event)
    return {
        "canonical": encode_canonical_json(event).decode("utf-8"),
        "content_hash": {
            "claimed": (event.get("hashes") or {}).get("sha256"),
            "computed": encode_base64(content_digest),
        },
        "redacted": redact_event_dict(ROOM_VERSION, event),
        "reference_hash": encode_base64(reference_digest),
        "event_id": synapse_event.event_id,
    }


def synapse_sign(event: dict, server: str, signing_key: Any) -> dict:
    """The event as Synapse's add_hashes_and_signatures leaves it."""
    signed = copy.deepcopy(event)
    add_hashes_and_signatures(ROOM_VERSION, signed, server, signing_key)
    return signed


def synapse_verify(signed_event: dict, server: str, verify_key: Any) -> str | None:
    """Verify our signature with Synapse's code; None if valid, else why not.

    Synapse's keyring checks the signature on the redacted event with
    signedjson's verify_signed_json. The redaction here is Synapse's
    redact_event_dict (the same Rust code behind prune_event), which works on
    plain dicts, so it also handles spec vector B, whose `event_id` key
    Synapse's room v10 Event parser refuses.
    """
    try:
        verify_signed_json(redact_event_dict(ROOM_VERSION, signed_event), server, verify_key)
    except SignatureVerifyException as error:
        return f"signature invalid: {error}"
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


def synapse_rejects(text: str) -> str | None:
    """Run Synapse's canonical-JSON validation; return its error, or None if accepted."""
    try:
        validate_canonicaljson(json.loads(text))
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


# ---------------------------------------------------------------------------
# Our CLI
# ---------------------------------------------------------------------------

def find_binary() -> Path:
    """Locate the `lostfound` binary, or exit 2 with instructions.

    LOSTFOUND_BIN wins; otherwise target/release, then target/debug, relative
    to the repository root (the parent of this script's directory).
    """
    from_env = os.environ.get("LOSTFOUND_BIN")
    if from_env:
        candidates = [Path(from_env)]
    else:
        candidates = [REPO_ROOT / "target/release/lostfound", REPO_ROOT / "target/debug/lostfound"]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    looked_at = ", ".join(str(path) for path in candidates)
    print(
        f"crosscheck: no lostfound binary (looked at {looked_at}).\n"
        "Build it first:  cargo build --release -p lostfound-cli\n"
        "(or point LOSTFOUND_BIN at the binary)",
        file=sys.stderr,
    )
    sys.exit(2)


@dataclass
class CliRun:
    """The parsed output of one CLI process: one entry per input line."""

    outputs: list[Any]  # a parsed JSON value, or a string describing what went wrong
    seconds: float
    problem: str | None  # set when the process as a whole misbehaved


def run_cli(binary: Path, arguments: list[str], lines: list[str]) -> CliRun:
    """Run our CLI once with all lines on stdin; pair each output line with its input.

    Output is split on b"\\n" only: str.splitlines() would also split on
    U+2028, U+2029 and other characters that canonical JSON emits raw.
    """
    stdin = "".join(line + "\n" for line in lines).encode("utf-8")
    started = time.perf_counter()
    process = subprocess.run([str(binary), *arguments], input=stdin, capture_output=True, timeout=600)
    seconds = time.perf_counter() - started

    raw_lines = process.stdout.split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()

    problem = None
    if process.returncode != 0:
        # Not a failure by itself (a CLI may exit non-zero after error lines),
        # but worth showing; missing output lines do fail their cases.
        problem = f"exit status {process.returncode}"
    if len(raw_lines) != len(lines):
        problem = (problem + "; " if problem else "") + f"{len(raw_lines)} output lines for {len(lines)} input lines"
    if problem:
        stderr = process.stderr.decode("utf-8", "replace").strip()
        problem += f"\n  command: {binary} {' '.join(arguments)}\n  stderr: {truncate(stderr, 600)}"

    outputs: list[Any] = []
    for number in range(len(lines)):
        if number >= len(raw_lines):
            outputs.append("<no output line>")
            continue
        try:
            outputs.append(json.loads(raw_lines[number]))
        except ValueError as error:
            outputs.append(f"<not JSON: {error}: {truncate(raw_lines[number].decode('utf-8', 'replace'))}>")
    return CliRun(outputs, seconds, problem)


# ---------------------------------------------------------------------------
# Comparing and reporting
# ---------------------------------------------------------------------------

def visible(text: str) -> str:
    """Make invisible characters visible: U+2028 is shown as <U+2028>.

    Control, format (bidi, zero-width), separator and combining characters
    would otherwise vanish in a terminal or change how the line is drawn.
    """
    shown = []
    for character in text:
        if character.isprintable() and not unicodedata.category(character).startswith("M"):
            shown.append(character)
        else:
            shown.append(f"<U+{ord(character):04X}>")
    return "".join(shown)


def truncate(value: Any, limit: int = 160) -> str:
    """Show a JSON value on one line, invisible characters made visible, cut to limit.

    Strings that start with "<" are our own descriptions and shown as they are.
    """
    if isinstance(value, str) and value.startswith("<"):
        shown = value
    elif isinstance(value, str):
        shown = '"' + visible(value) + '"'
    else:
        shown = visible(json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def same(ours: Any, theirs: Any) -> bool:
    """Compare two JSON values strictly.

    Python says True == 1 and {"a": True} == {"a": 1}, so objects and arrays
    are compared through their canonical encodings, and scalars by type too.
    """
    if isinstance(ours, (dict, list)) or isinstance(theirs, (dict, list)):
        if type(ours) is not type(theirs):
            return False
        return encode_canonical_json(ours) == encode_canonical_json(theirs)
    return type(ours) is type(theirs) and ours == theirs


def first_difference(ours: str, theirs: str) -> int:
    """Index of the first character where two strings differ."""
    for position, (a, b) in enumerate(zip(ours, theirs)):
        if a != b:
            return position
    return min(len(ours), len(theirs))


def difference_path(ours: Any, theirs: Any, path: str = "") -> tuple[str, Any, Any] | None:
    """Find the first place where two JSON values differ.

    Returns (path, our part, their part), e.g. (".unsigned", "<missing>", {...}),
    or None when they are the same.
    """
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in sorted(set(ours) | set(theirs)):
            if key not in ours:
                return f"{path}.{key}", "<missing>", theirs[key]
            if key not in theirs:
                return f"{path}.{key}", ours[key], "<missing>"
            found = difference_path(ours[key], theirs[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        for position, (our_item, their_item) in enumerate(zip(ours, theirs)):
            found = difference_path(our_item, their_item, f"{path}[{position}]")
            if found:
                return found
        return None
    return None if same(ours, theirs) else (path or "(whole value)", ours, theirs)


class Report:
    """Collects mismatches, prints each one, and counts passed and failed cases."""

    def __init__(self) -> None:
        self.by_field: Counter[str] = Counter()

    def mismatch(self, case: Case, field_name: str, ours: Any, theirs: Any) -> None:
        """Record and print one differing field of one case."""
        case.failed_fields.append(field_name)
        self.by_field[field_name] += 1
        print(f"MISMATCH case #{case.index} [{case.kind}: {case.label}] field {field_name}")
        long_strings = isinstance(ours, str) and isinstance(theirs, str) and max(len(ours), len(theirs)) > 100
        both_containers = isinstance(ours, (dict, list)) and isinstance(theirs, (dict, list))
        if long_strings and not ours.startswith("<"):
            position = first_difference(ours, theirs)
            start = max(0, position - 40)
            print(f"    first difference at character {position}")
            print(f"    ours:   ...{truncate(ours[start:])[1:]}")
            print(f"    theirs: ...{truncate(theirs[start:])[1:]}")
        elif both_containers and difference_path(ours, theirs):
            path, our_part, their_part = difference_path(ours, theirs)
            print(f"    first difference at {path}")
            print(f"    ours:   {truncate(our_part)}")
            print(f"    theirs: {truncate(their_part)}")
        else:
            print(f"    ours:   {truncate(ours)}")
            print(f"    theirs: {truncate(theirs)}")

    def check(self, case: Case, field_name: str, ours: Any, theirs: Any) -> None:
        """Report a mismatch unless ours and theirs are the same JSON value."""
        if not same(ours, theirs):
            self.mismatch(case, field_name, ours, theirs)


def without_unsigned(event: Any) -> Any:
    """Drop `unsigned` from a redacted event before comparing.

    Synapse keeps `unsigned.age_ts` and `unsigned.replaces_state` in its
    pruned copy for its own bookkeeping; the specification's redaction
    drops `unsigned`. It is never hashed nor signed, so it is left out of
    the comparison (see README.md).
    """
    if isinstance(event, dict):
        return {key: value for key, value in event.items() if key != "unsigned"}
    return event


def check_signed(report: Report, case: Case, ours: Any, server: str, signing_key: Any, verify_key: Any, key_id: str) -> None:
    """Compare one output line of `lostfound event sign` with Synapse."""
    theirs = synapse_sign(json.loads(case.sign_line), server, signing_key)
    if not isinstance(ours, dict) or "error" in ours:
        report.mismatch(case, "sign (ours rejected the event)", ours,
                        f"<signed, hashes.sha256 {theirs['hashes']['sha256']}>")
        return
    failures_before = len(case.failed_fields)
    report.check(case, "sign.hashes.sha256", (ours.get("hashes") or {}).get("sha256"), theirs["hashes"]["sha256"])
    report.check(case, "sign.signatures", ours.get("signatures"), theirs["signatures"])
    if len(case.failed_fields) == failures_before:
        # Same hash and signature: the rest of the event must be untouched too.
        report.check(case, "sign.event", ours, theirs)
    why_not = synapse_verify(ours, server, verify_key)
    if why_not:
        report.mismatch(case, "sign.verify (Synapse verifying our signature)", f"<{why_not}>", "<valid>")
    if case.spec_hash is not None:
        report.check(case, "spec.hashes.sha256 (ours vs the specification)", (ours.get("hashes") or {}).get("sha256"), case.spec_hash)
        report.check(case, "spec.signature (ours vs the specification)", ((ours.get("signatures") or {}).get(server) or {}).get(key_id), case.spec_signature)
        report.check(case, "spec.hashes.sha256 (Synapse vs the specification)", theirs["hashes"]["sha256"], case.spec_hash)
        report.check(case, "spec.signature (Synapse vs the specification)", theirs["signatures"][server][key_id], case.spec_signature)


def check_rejected(report: Report, case: Case, ours: Any) -> None:
    """A negative case: Synapse's validation and our inspect must both reject it."""
    synapse_error = synapse_rejects(case.inspect_line)
    if synapse_error is None:
        report.mismatch(case, "negative (Synapse's validate_canonicaljson)", "<n/a>", "<accepted, but a rejection was expected>")
    if not (isinstance(ours, dict) and "error" in ours):
        report.mismatch(case, "negative (our inspect accepted it)", ours, {"error": synapse_error or "a rejection"})


def check_inspected(report: Report, case: Case, ours: Any, line: str, prefix: str = "") -> None:
    """Compare one output line of `lostfound event inspect` with Synapse.

    line is the input we gave; prefix names the field for negative cases'
    controls ("control.").
    """
    try:
        theirs = synapse_inspect(json.loads(line))
    except Exception as error:
        theirs = f"<Synapse failed too: {type(error).__name__}: {error}>"
    if not isinstance(ours, dict) or "error" in ours:
        shown = theirs if isinstance(theirs, str) else f"<accepted, event ID {theirs['event_id']}>"
        report.mismatch(case, prefix + "inspect (ours rejected the event)", ours, shown)
        return
    if isinstance(theirs, str):
        report.mismatch(case, prefix + "inspect (Synapse rejected the event)", "<accepted>", theirs)
        return
    synapse_error = synapse_rejects(line)
    if synapse_error:
        report.mismatch(case, prefix + "validate (generator made an event Synapse rejects)", "<accepted>", f"<{synapse_error}>")
    ours_hash = ours.get("content_hash") if isinstance(ours.get("content_hash"), dict) else {}
    report.check(case, prefix + "canonical", ours.get("canonical"), theirs["canonical"])
    report.check(case, prefix + "content_hash.claimed", ours_hash.get("claimed"), theirs["content_hash"]["claimed"])
    report.check(case, prefix + "content_hash.computed", ours_hash.get("computed"), theirs["content_hash"]["computed"])
    report.check(case, prefix + "redacted", without_unsigned(ours.get("redacted")), without_unsigned(theirs["redacted"]))
    report.check(case, prefix + "reference_hash", ours.get("reference_hash"), theirs["reference_hash"])
    report.check(case, prefix + "event_id", ours.get("event_id"), theirs["event_id"])


# ---------------------------------------------------------------------------
# Timing Synapse
# ---------------------------------------------------------------------------

def events_per_second(work: Callable[[Any], Any], items: list[Any], min_seconds: float) -> float:
    """Apply work to every item, repeating the whole list until min_seconds passed."""
    done = 0
    started = time.perf_counter()
    while True:
        for item in items:
            work(item)
        done += len(items)
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            return done / elapsed


def time_synapse(events: list[dict], server: str, signing_key: Any, verify_key: Any, min_seconds: float) -> dict[str, float]:
    """Time Synapse's code on our events: event ID, signing and verifying.

    - event_id: canonical JSON of the event, then the event ID of the Event
      object (which hashes the redacted form);
    - sign: add_hashes_and_signatures on a fresh top-level copy;
    - verify: what the keyring does per event: prune, then verify_signed_json.
    """
    signed = [synapse_sign(event, server, signing_key) for event in events]
    unhashed = [{key: value for key, value in event.items() if key != "hashes"} for event in events]
    synapse_events = [make_event_from_dict(copy.deepcopy(event), ROOM_VERSION) for event in signed]

    def event_id(event: dict) -> None:
        encode_canonical_json(event)
        make_event_from_dict(event, ROOM_VERSION).event_id

    def sign(event: dict) -> None:
        add_hashes_and_signatures(ROOM_VERSION, dict(event), server, signing_key)

    def verify(synapse_event: Any) -> None:
        verify_signed_json(prune_event(synapse_event).get_pdu_json(), server, verify_key)

    return {
        "event_id": events_per_second(event_id, signed, min_seconds),
        "sign": events_per_second(sign, unhashed, min_seconds),
        "verify": events_per_second(verify, synapse_events, min_seconds),
    }


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def parse_arguments() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=600, help="generated events (default 600)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--server", default=SPEC_SERVER, help=f"signing server name (default {SPEC_SERVER})")
    parser.add_argument("--signing-seed", default=SPEC_SEED, help="base64 ed25519 seed (default: the spec's)")
    parser.add_argument("--key-id", default=SPEC_KEY_ID, help=f"signing key id (default {SPEC_KEY_ID})")
    parser.add_argument("--timing-seconds", type=float, default=1.0, help="minimum seconds per Synapse timing (0 skips timing)")
    parser.add_argument("--dump-failures", metavar="FILE", help="write failing cases as JSON Lines, to reproduce them")
    return parser.parse_args()


def main() -> int:
    """Generate, run both implementations, compare, time, summarise."""
    options = parse_arguments()
    binary = find_binary()
    algorithm, _, version = options.key_id.partition(":")
    signing_key = decode_signing_key_base64(algorithm, version, options.signing_seed)
    verify_key = get_verify_key(signing_key)
    check_spec_vectors = (options.server, options.signing_seed, options.key_id) == (SPEC_SERVER, SPEC_SEED, SPEC_KEY_ID)

    cases, events = build_cases(options.count, options.seed, options.server, signing_key, check_spec_vectors)
    to_sign = [case for case in cases if case.sign_line is not None]
    # Each inspected line, with its case; negative cases send their control too.
    to_inspect = [(case, case.inspect_line) for case in cases if case.inspect_line is not None]
    to_inspect += [(case, case.control_line) for case in cases if case.control_line is not None]
    print(f"checking {binary}: {len(cases)} cases "
          f"({len(to_sign)} signed, {len(to_inspect)} lines inspected, "
          f"{sum(case.kind == 'negative' for case in cases)} negative cases with their controls); seed {options.seed}")

    report = Report()
    sign_arguments = ["event", "sign", "--jsonl", "--server", options.server,
                      "--seed", options.signing_seed, "--key-id", options.key_id, "-"]
    signed = run_cli(binary, sign_arguments, [case.sign_line for case in to_sign])
    inspected = run_cli(binary, ["event", "inspect", "--jsonl", "-"], [line for _, line in to_inspect])
    for name, run in (("sign", signed), ("inspect", inspected)):
        if run.problem:
            print(f"PROBLEM with `lostfound event {name}`: {run.problem}")

    for case, ours in zip(to_sign, signed.outputs):
        check_signed(report, case, ours, options.server, signing_key, verify_key, options.key_id)
    for (case, line), ours in zip(to_inspect, inspected.outputs):
        if case.kind != "negative":
            check_inspected(report, case, ours, line)
        elif line == case.inspect_line:
            check_rejected(report, case, ours)
        else:
            check_inspected(report, case, ours, line, prefix="control.")

    failed = [case for case in cases if case.failed_fields]
    if report.by_field:
        print("mismatches by field: " + ", ".join(f"{name} {count}" for name, count in report.by_field.most_common()))
    if options.dump_failures and failed:
        with open(options.dump_failures, "w", encoding="utf-8") as out:
            for case in failed:
                out.write(json.dumps({"index": case.index, "kind": case.kind, "label": case.label,
                                      "fields": case.failed_fields, "sign_input": case.sign_line,
                                      "inspect_input": case.inspect_line,
                                      "control_input": case.control_line}) + "\n")
        print(f"failing cases written to {options.dump_failures}")

    print(f"lostfound (one process each, including start-up): "
          f"sign {len(to_sign) / signed.seconds:.0f} ev/s, inspect {len(to_inspect) / inspected.seconds:.0f} ev/s")
    if options.timing_seconds > 0:
        rates = time_synapse(events, options.server, signing_key, verify_key, options.timing_seconds)
        print(f"synapse: event_id {rates['event_id']:.0f} ev/s, sign {rates['sign']:.0f} ev/s, "
              f"verify {rates['verify']:.0f} ev/s")

    print(f"crosscheck: {len(cases) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
