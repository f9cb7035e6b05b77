#!/usr/bin/env python3
"""Writes the hand-made seed inputs of the fuzz targets: corpus/<target>/seed-*.

Run it again after changing an input layout (see each <target>_fuzzer.cc). It rewrites only the
seed-* files; the other files in corpus/<target>/ are inputs run_fuzzers.sh merged in.
The SDK signature vectors are read from tests/testdata/line_vectors/.
"""

import base64
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "testdata", "line_vectors")

BOT = "U0123456789abcdef0123456789abcdef"
KEY = "fuzzKey_0123456789abcdefghijklmnopqrstuv"  # webhook_http_fuzzer.cc's binding.


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "seed-" + name), "wb") as f:
        f.write(data)


def vectors():
    with open(os.path.join(VECTORS, "vectors.json")) as f:
        for v in json.load(f):
            with open(os.path.join(VECTORS, v["body_file"]), "rb") as body:
                yield v, body.read()


def event(kind, i, extra=""):
    return (
        '{"type":"%s","timestamp":%d,"mode":"active","webhookEventId":"01HF%022d",'
        '"deliveryContext":{"isRedelivery":false},"source":{"type":"user","userId":"U%032x"}%s}'
        % (kind, 1700000000000 + i, i, i, extra)
    )


def body(events, destination=BOT):
    return '{"destination":"%s","events":[%s]}' % (destination, ",".join(events))


EMOJI_EVENT = (
    '{"type":"message","message":{"type":"text","id":"468789577898262530",'
    '"quoteToken":"q3Plxr4AgKd...","text":"\\ud83d\\ude00 caf\\u00e9 \\u3053\\u3093\\u306b\\u3061\\u306f",'
    '"emojis":[{"index":0,"length":6,"productId":"5ac1bfd5040ab15980c9b435","emojiId":"001"}]},'
    '"webhookEventId":"01H810YECXQQZ37VAXPF6H9E6T","deliveryContext":{"isRedelivery":false},'
    '"timestamp":1692251666727,"source":{"type":"group","groupId":"Ca56f94637c...","userId":"U4af4980629..."},'
    '"replyToken":"38ef843bde154d9b91c21320ffd17a0f","mode":"active"}'
)

SPEC_TYPES = [
    "message", "unsend", "follow", "unfollow", "join", "leave", "memberJoined", "memberLeft",
    "postback", "videoPlayComplete", "beacon", "accountLink", "membership", "module",
    "activated", "deactivated", "botSuspended", "botResumed", "delivery", "somethingNew2030",
]


def payload_bodies():
    """(name, bytes) of webhook bodies, for every target that takes one."""
    out = []
    for v, raw in vectors():
        name = "vector-" + os.path.splitext(v["body_file"])[0][:40]
        out.append((name, raw))
        # Bodies without a destination are refused (LINE's spec requires it); the same body
        # with one reaches the events.
        if b'"destination"' not in raw and raw.startswith(b"{") and b'"events"' in raw:
            out.append((name + "-dest", b'{"destination":"%s",' % BOT.encode() + raw[1:]))
    out += [
        ("emoji-escapes", body([EMOJI_EVENT])),
        ("all-types", body([event(t, i) for i, t in enumerate(SPEC_TYPES)])),
        ("redelivery-standby",
         body([event("message", 1).replace('"isRedelivery":false', '"isRedelivery":true')
               .replace('"mode":"active"', '"mode":"standby"')])),
        ("room-source", body(['{"type":"join","timestamp":0,"source":{"type":"room","roomId":"R1"}}'])),
        ("events-first-whitespace",
         '{ "events" : [\n\t%s ,\r\n %s\n] ,\n "destination" : "%s" }'
         % (event("follow", 1), event("unfollow", 2), BOT)),
        ("timestamp-max", body(['{"type":"x","timestamp":253402300799999}'])),
        ("timestamp-over", body(['{"type":"x","timestamp":253402300800000}'])),
        ("timestamp-negative", body(['{"type":"x","timestamp":-1}'])),
        ("timestamp-float", body(['{"type":"x","timestamp":1.0e3}'])),
        ("nested-events-key",
         body(['{"type":"x","timestamp":1,"events":[{"type":"y","timestamp":2}],"e":{"events":[]}}'])),
        ("duplicate-keys", body(['{"type":"a","type":"b","timestamp":1,"timestamp":2}'])),
        ("escaped-key", '{"ev\\u0065nts":[%s],"destination":"%s"}' % (event("message", 3), BOT)),
        ("events-twice", '{"destination":"%s","events":[],"events":[%s]}' % (BOT, event("message", 4))),
        ("many-events", body([event("message", i) for i in range(40)])),
        ("deep-60", body(['{"type":"x","timestamp":1,"d":%s1%s}' % ("[" * 58, "]" * 58)])),
        ("deep-70", body(['{"type":"x","timestamp":1,"d":%s1%s}' % ("[" * 70, "]" * 70)])),
        ("bad-utf8", b'{"destination":"%s","events":[{"type":"m\xc3\x28","timestamp":1}]}' % BOT.encode()),
        ("utf8-bom", b"\xef\xbb\xbf" + body([event("message", 5)]).encode()),
        ("no-destination", '{"events":[%s]}' % event("message", 6)),
        ("other-destination", body([event("message", 7)], destination="Uffffffffffffffffffffffffffffffff")),
        ("destination-number", '{"destination":1,"events":[]}'),
        ("event-not-object", '{"destination":"%s","events":[1,"x",null]}' % BOT),
        ("trailing-garbage", body([]) + " x"),
        ("string-escapes", body(['{"type":"m\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000","timestamp":1}'])),
        ("big-numbers", body(['{"type":"x","timestamp":9223372036854775807,"n":1e400,"i":-0}'])),
    ]
    return out


def webhook_payload():
    for name, data in payload_bodies():
        write("webhook_payload", name, data)


def webhook_request():
    # flags | secret length | secret | [signature] | body (webhook_request_fuzzer.cc).
    def seed(flags, secret, rest):
        secret = secret.encode() if isinstance(secret, str) else secret
        rest = rest.encode() if isinstance(rest, str) else rest
        return bytes([flags, len(secret)]) + secret + rest

    for v, raw in vectors():
        name = os.path.splitext(v["body_file"])[0][:32]
        signature = v["expected_signature"].encode()
        # The SDK's own signature, taken from the input: it must check.
        write("webhook_request", "sdk-" + name,
              seed(0x03, v["channel_secret"], bytes([len(signature)]) + signature + raw))
    secret = "0123456789abcdef0123456789abcdef"
    for name, data in payload_bodies():
        write("webhook_request", "signed-" + name, seed(0x00, secret, data))
    verify = body([])
    write("webhook_request", "verify-checks-off", seed(0x40, secret, verify))
    write("webhook_request", "store-fails", seed(0x80, secret, body([event("message", 1)])))
    write("webhook_request", "no-header", seed(0x01, secret, verify))
    for how in range(4):
        write("webhook_request", "broken-%d" % how, seed(0x05 | how << 3, secret, bytes([7]) + verify.encode()))
    write("webhook_request", "other-secret", seed(0x07, secret, verify))
    write("webhook_request", "long-secret", seed(0x00, "s" * 80, verify))
    write("webhook_request", "empty-secret", seed(0x00, "", verify))


def http(method, path, headers, data=b"", version="HTTP/1.1"):
    data = data.encode() if isinstance(data, str) else data
    lines = ["%s %s %s" % (method, path, version)] + ["%s: %s" % h for h in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def signed_post(data, extra=(), path="/line/webhook/" + KEY, signature="{{sig}}"):
    data = data.encode() if isinstance(data, str) else data
    headers = [("Host", "127.0.0.1"), ("Content-Type", "application/json; charset=utf-8"),
               ("x-line-signature", signature), ("Content-Length", str(len(data)))]
    return http("POST", path, headers + list(extra), data)


def chunked(data, size):
    data = data.encode()
    out = b""
    for i in range(0, len(data), size):
        piece = data[i:i + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def webhook_http():
    verify = body([])
    message = body([EMOJI_EVENT])
    w = "/line/webhook/" + KEY
    seeds = {
        "verify-200": signed_post(verify),
        "message-200": signed_post(message),
        "all-types-200": signed_post(body([event(t, i) for i, t in enumerate(SPEC_TYPES)])),
        "bad-signature-401": signed_post(verify, signature="3q8QXTAGaey18yL8FWTqdVlbMr6hcuNvM4tefa0o9nA="),
        "no-signature-401": http("POST", w, [("Host", "x"), ("Content-Length", str(len(verify)))], verify),
        "not-json-400": signed_post("i am not jason"),
        "other-destination-403": signed_post(body([event("message", 1)], destination="Uffff")),
        "unknown-key-404": signed_post(verify, path="/line/webhook/unknownKey123"),
        "bad-key-404": signed_post(verify, path="/line/webhook/bad%20key"),
        "other-path-404": http("GET", "/", [("Host", "x")]),
        "healthz-200": http("GET", "/healthz", [("Host", "x")]),
        "healthz-post-405": http("POST", "/healthz", [("Host", "x"), ("Content-Length", "2")], "{}"),
        "get-webhook-405": http("GET", w, [("Host", "x")]),
        "too-large-413": http("POST", w, [("Host", "x"), ("x-line-signature", "x"), ("Content-Length", "9000")]),
        "chunked-200": http("POST", w, [("Host", "x"), ("x-line-signature", "{{sig}}"),
                                        ("Transfer-Encoding", "chunked")], chunked(message, 100)),
        "chunked-too-large-413": http("POST", w, [("Host", "x"), ("Transfer-Encoding", "chunked")],
                                      chunked("x" * 9000, 4096)),
        "pipelined-200-200": signed_post(verify) + signed_post(body([event("message", 2)])),
        "pipelined-close": signed_post(verify, [("Connection", "close")]) + signed_post(verify),
        "http10": http("POST", w, [("x-line-signature", "{{sig}}"), ("Content-Length", str(len(verify)))],
                       verify, version="HTTP/1.0"),
        "query-and-case": http("POST", w + "?x=1&y", [("HOST", "x"), ("X-LINE-SIGNATURE", "{{sig}}"),
                                                      ("content-length", str(len(verify)))], verify),
        "expect-continue": signed_post(verify, [("Expect", "100-continue")]),
        "partial-body-408": http("POST", w, [("Host", "x"), ("x-line-signature", "x"),
                                             ("Content-Length", "100")], "{\"events\":"),
        "cl-and-te": http("POST", w, [("Host", "x"), ("Content-Length", "5"),
                                      ("Transfer-Encoding", "chunked")], "0\r\n\r\n"),
        "two-content-lengths": http("POST", w, [("Host", "x"), ("Content-Length", "2"),
                                                ("Content-Length", "3")], "{}"),
        "bad-request-line": b"POST  /line/webhook/x HTTP/9.9\r\n\r\n",
        "not-http": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        "obs-fold": b"POST " + w.encode() + b" HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n b\r\nContent-Length: 0\r\n\r\n",
        "headers-431": http("GET", "/", [("Host", "x")] + [("X-Pad-%d" % i, "p" * 120) for i in range(140)]),
    }
    for name, data in seeds.items():
        write("webhook_http", name, data)


def secret_sealer():
    t = "secret_sealer"
    # Known values are indexed key-major: (k1, k2) x 5 plaintexts x 3 contexts.
    for i in (0, 1, 2, 3, 5, 12, 15, 16, 29):
        write(t, "known-%02d" % i, bytes([1, i, 0]))
    write(t, "flip-one-bit", bytes([1, 0, 1, 0, 20, 0, 0x01]))
    write(t, "truncate", bytes([1, 0, 1, 1, 28, 0, 0]))
    write(t, "insert", bytes([1, 3, 1, 2, 13, 0, 0x41]))
    write(t, "append", bytes([1, 15, 1, 3, 0, 0, 0x00]))
    write(t, "version-2", bytes([1, 0, 1, 0, 0, 0, 0x03]))
    write(t, "other-key-id", bytes([2 | 4, 0, 2]) + b"k2")
    write(t, "unknown-key-id", bytes([2 | 4, 0, 2]) + b"k3")
    write(t, "other-context", bytes([2 | 8, 0, 23]) + b"access_token:1656000001")
    write(t, "context-moved", bytes([2 | 8, 0, 25]) + b"channel_secret:1656000002")
    write(t, "raw-minimal", bytes([0, 0, 0, 1]) + bytes(28))
    write(t, "raw-short", bytes([0, 1, 0, 1]) + bytes(10))
    write(t, "raw-free-key-id", bytes([0, 3, 3]) + b"k|1" + bytes([1, 0x7c]) + b"\x01" + bytes(40))
    write(t, "seal-secret", bytes([3, 25]) + b"channel_secret:1656000001" + b"0123456789abcdef0123456789abcdef")
    write(t, "seal-empty", bytes([3, 0]))


def pb_varint(n):
    n &= (1 << 64) - 1
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def pb(fields):
    """Protobuf wire format of [(number, value)]: str/bytes length-delimited, int varint."""
    out = b""
    for number, value in fields:
        if isinstance(value, str):
            value = value.encode()
        if isinstance(value, bytes):
            out += pb_varint(number << 3 | 2) + pb_varint(len(value)) + value
        else:
            out += pb_varint(number << 3) + pb_varint(value)
    return out


def raw(values):
    """request_validation_fuzzer.cc's raw layout: strings length-prefixed (or 0xff, count,
    chunk), ints little-endian, bools one byte; `values` in field-number order."""
    out = b""
    for kind, value in values:
        if kind == "s":
            value = value.encode() if isinstance(value, str) else value
            out += bytes([len(value)]) + value
        elif kind == "rep":
            count, chunk = value
            out += b"\xff" + struct.pack("<H", count) + bytes([len(chunk)]) + chunk
        elif kind == "i32":
            out += struct.pack("<i", value)
        elif kind == "i64":
            out += struct.pack("<q", value)
        elif kind == "b":
            out += bytes([value])
    return out


def page_token(text):
    """What EncodePageToken makes of "after:<n>" (web-safe base64, no padding), for any text."""
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def request_validation():
    t = "request_validation"
    BINARY, TEXT, RAW = 0, 8, 16
    good = [("team_id", "team-a.1:x_y"), ("app_name", "Shop A \u2615"), ("channel_id", "1656000001"),
            ("channel_secret", "0123456789abcdef0123456789ABCDEF"),
            ("channel_access_token", "abcDEF123+/=abcDEF123+/=abcDEF123+/="), ("line_id", "@123abcde")]
    write(t, "bind-good-binary", bytes([0 | BINARY]) + pb([(i + 1, v) for i, (_, v) in enumerate(good)] + [(7, 1)]))
    write(t, "bind-good-text", bytes([0 | TEXT]) + "\n".join('%s: "%s"' % (k, v.replace("\u2615", "\\342\\230\\225"))
                                                          for k, v in good).encode() + b"\nset_webhook_url: true\n")
    write(t, "bind-empty", bytes([0 | BINARY]))
    write(t, "bind-raw-bad", bytes([0 | RAW]) + raw([
        ("s", "team a"), ("s", b"Shop\xff\x01"), ("s", "16560x"), ("s", "0123456789abcdef 123456789abcdef"),
        ("s", "Bearer abcDEF123"), ("s", "@@Shop"), ("b", 1), ("b", 0)]))
    write(t, "bind-raw-extreme", bytes([0 | RAW]) + raw([
        ("rep", (70, b"t")), ("rep", (200, b"\xe2\x98\x95")), ("rep", (30, b"1")), ("rep", (4, b"abcdef0123456789abcdef0123456789")),
        ("rep", (3000, b"tok")), ("rep", (40, b"a")), ("b", 0), ("b", 1)]))
    write(t, "bind-token-is-secret", bytes([0 | TEXT]) + b'team_id: "t" app_name: "a" channel_id: "1" channel_secret: "0123456789abcdef0123456789abcdef" channel_access_token: "0123456789abcdef0123456789abcdef" line_id: "X"')
    write(t, "update-token-only", bytes([1 | BINARY]) + pb([(1, "team-a"), (2, "1656000001"), (4, "newtoken1234567890")]))
    write(t, "update-empty", bytes([1 | TEXT]) + b'team_id: "team-a" channel_id: "1656000001"')
    write(t, "update-raw", bytes([1 | RAW]) + raw([("s", "team-a"), ("s", "1656000001"), ("s", "zz\nzz"), ("s", b"tok\x00en")]))
    write(t, "list-good", bytes([2 | BINARY]) + pb([(1, "team-a"), (2, 50), (3, page_token("after:42")), (4, 1), (5, 2)]))
    write(t, "list-bad-text", bytes([2 | TEXT]) + b'team_id: "team-a" page_size: -1 page_token: "' + page_token("after:0").encode() + b'" state: 99')
    write(t, "list-raw", bytes([2 | RAW]) + raw([("s", "team-a"), ("i32", 1001), ("s", page_token("after:-1")), ("b", 1), ("i32", 7)]))
    write(t, "get-channel", bytes([3 | BINARY]) + pb([(1, "team-a"), (2, "1656000001")]))
    write(t, "get-channel-raw", bytes([3 | RAW]) + raw([("s", ""), ("rep", (25, b"9"))]))
    write(t, "unbind-text", bytes([4 | TEXT]) + b'team_id: "team-a" channel_id: ""')
    write(t, "list-events", bytes([5 | BINARY]) + pb([(1, "team-a"), (3, 12), (4, 1000)]))
    write(t, "list-events-raw", bytes([5 | RAW]) + raw([("s", "team-a"), ("s", "x"), ("i64", -1), ("i32", -5)]))
    write(t, "stream-events", bytes([6 | TEXT]) + b'team_id: "team-a" channel_id: "1656000001" after_cursor: 9223372036854775807')
    write(t, "line-id-and-token", bytes([7, 9]) + b"@123ABCDE" + struct.pack("<q", 42) + page_token("after:42").encode())
    write(t, "line-id-at-only", bytes([7, 1]) + b"@" + struct.pack("<q", 0) + base64.urlsafe_b64encode(b"after:0042"))
    write(t, "token-non-canonical", bytes([7, 0]) + struct.pack("<q", -7) + page_token("after: +42").encode())


def main():
    webhook_payload()
    webhook_request()
    webhook_http()
    secret_sealer()
    request_validation()
    return 0


if __name__ == "__main__":
    sys.exit(main())
