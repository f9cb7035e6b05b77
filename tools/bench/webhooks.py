#!/usr/bin/env python3
"""Pre-signed webhook requests for wrk (tools/bench/webhook.lua replays them).

wrk's LuaJIT has no HMAC, so every request is made here: one per line, as
`path<TAB>x-line-signature<TAB>body`, with the body signed as LINE signs it
(base64 of HMAC-SHA256 keyed with the channel secret over the exact bytes). Bodies look like
LINE's: `{"destination":<bot user id>,"events":[...]}` with message, follow and postback
events of 400-700 bytes each, non-ASCII text escaped as \\uXXXX (emoji as surrogate pairs), and
a fresh ULID webhookEventId per event, unique across the whole file (and across files, since
the random part comes from os.urandom), its time growing with the line (DISPATCH_RATE).
Requests are spread uniformly over the bindings.

    webhooks.py --bindings=FILE --out=FILE --requests=N --events=K [--kind=ingest|lookup]

--bindings is bench_grpc_load's bind_burst output: team_id, channel_id, webhook_key,
channel_secret, bot_user_id, webhook_url (tab-separated). --kind=lookup makes empty bodies
signed with the right secret: the server finds the binding, opens its sealed secret and checks
the signature, then refuses the body with 400 and stores nothing.
"""

import argparse
import base64
import hashlib
import hmac
import os
import random
import sys
import time

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PIECES = [
    "Hello ", "thanks ", "order ", "#", "12 ", "please ", "ok ", "when ", "open? ",
    "\\u3053\\u3093\\u306b\\u3061\\u306f", "\\u3042\\u308a\\u304c\\u3068\\u3046",
    "\\u6ce8\\u6587", "\\u4e88\\u7d04", "\\u30c1\\u30b1\\u30c3\\u30c8", "\\u3002",
    "\\ud83d\\udc4b", "\\ud83c\\udf63", "\\ud83d\\ude4f", " ",
]
# The file is sent in its order (webhook.lua), as if LINE sent this many requests a second:
# the time in each webhookEventId grows with its line, as LINE's ids grow with the time it sent
# them, so a store sees them about in order, give or take the requests in flight. (Until the
# bench modelled this, every id of a run fell within the same three seconds, in random order.)
DISPATCH_RATE = 20000
TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def read_bindings(path):
    bindings = []
    with open(path) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) >= 5:
                team, channel, key, secret, bot = fields[:5]
                bindings.append((key, secret.encode(), bot))
    if not bindings:
        sys.exit(f"webhooks.py: no bindings in {path}")
    return bindings


class Ulids:
    """ULIDs: 48 bits of milliseconds then 80 random bits, base32 (Crockford)."""

    def __init__(self):
        self.pool = os.urandom(1 << 16)
        self.at = len(self.pool)

    def _random80(self):
        if self.at + 10 > len(self.pool):
            self.pool, self.at = os.urandom(1 << 16), 0
        value = int.from_bytes(self.pool[self.at:self.at + 10], "big")
        self.at += 10
        return value

    def make(self, millis):
        value = (millis << 80) | self._random80()
        out = []
        for _ in range(26):
            out.append(CROCKFORD[value & 31])
            value >>= 5
        return "".join(reversed(out))


class Texts:
    """Message texts of a given escaped length, a few variants per length, made once."""

    def __init__(self, rng, variants=8):
        self.rng, self.variants, self.cache = rng, variants, {}

    def get(self, size):
        choices = self.cache.get(size)
        if choices is None:
            choices = self.cache[size] = [self._make(size) for _ in range(self.variants)]
        return choices[self.rng.randrange(self.variants)]

    def _make(self, size):
        out, length = [], 0
        while length < size:
            piece = self.rng.choice(PIECES)
            out.append(piece)
            length += len(piece)
        return "".join(out)


def token(n):
    return base64.b64encode(os.urandom(n * 3 // 4)).decode()[:n]


def event(rng, ulids, texts, dispatch_ms):
    """One event's JSON, 400-700 bytes: it happened 50-3,000 ms before LINE sent it, and its
    webhookEventId (a ULID) carries the time LINE sent it."""
    target = rng.randint(400, 700)
    timestamp = dispatch_ms - rng.randint(50, 3000)
    common = (
        f',"timestamp":{timestamp},"mode":"active","webhookEventId":"{ulids.make(dispatch_ms)}",'
        f'"deliveryContext":{{"isRedelivery":false}},'
        f'"source":{{"type":"user","userId":"U{os.urandom(16).hex()}"}},'
        f'"replyToken":"{os.urandom(16).hex()}"'
    )
    kind = rng.randrange(100)
    if kind < 92:
        head = (
            f'{{"type":"message"{common},"message":{{"type":"text",'
            f'"id":"{rng.randrange(10**17, 10**18)}","quoteToken":"{token(48)}","text":"'
        )
        return head + texts.get(max(8, target - len(head) - 3)) + '"}}'
    if kind < 96:
        return f'{{"type":"follow"{common},"follow":{{"isUnblocked":false}}}}'
    head = (f'{{"type":"postback"{common},"postback":{{"data":"action=buy&itemid='
            f'{rng.randrange(100000)}&note=')
    return head + "x" * max(0, target - len(head) - 3) + '"}}'


def sign(secret, body):
    return base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()


def dispatch_span_ms(requests):
    """How far the ids' time moves along a file of this many requests."""
    return requests * 1000 // DISPATCH_RATE + 1


def generate(bindings_path, out_path, requests, events_per_request, kind="ingest", seed=None,
             start_ms=None):
    """Writes the requests file, its first ids at `start_ms` (default now); returns (requests,
    events, mean body bytes)."""
    bindings = read_bindings(bindings_path)
    rng = random.Random(seed if seed is not None else os.urandom(16))
    ulids = Ulids()
    texts = Texts(rng)
    total_bytes = 0
    now_ms = int(time.time() * 1000) if start_ms is None else start_ms
    with open(out_path, "w") as out:
        for i in range(requests):
            key, secret, bot = bindings[rng.randrange(len(bindings))]
            if kind == "lookup":
                body = b""
            else:
                dispatch_ms = now_ms + i * 1000 // DISPATCH_RATE
                events = ",".join(event(rng, ulids, texts, dispatch_ms)
                                  for _ in range(events_per_request))
                body = f'{{"destination":"{bot}","events":[{events}]}}'.encode()
            total_bytes += len(body)
            out.write(f"/line/webhook/{key}\t{sign(secret, body)}\t{body.decode()}\n")
    return requests, requests * (0 if kind == "lookup" else events_per_request), (
        total_bytes / max(1, requests))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bindings", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--events", type=int, default=1)
    parser.add_argument("--kind", choices=["ingest", "lookup"], default="ingest")
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()
    n, events, mean = generate(args.bindings, args.out, args.requests, args.events, args.kind,
                               args.seed)
    print(f"{n} requests, {events} events, {mean:.0f} bytes per body on average")


if __name__ == "__main__":
    main()
