// The webhook_sdk_peer baseline of tools/bench (see ../README.md): what a bot written with
// LINE's own Node SDK does with a webhook before it gets to the events: express and
// @line/bot-sdk's middleware check the x-line-signature (HMAC-SHA256 with the channel secret)
// and parse the body; the handler answers 200 and stores nothing.
//
//   node sdk_peer.js BINDINGS_TSV
//
// BINDINGS_TSV is bench_grpc_load's bind_burst output (team, channel, webhook key, channel
// secret, ...): the peer serves POST /line/webhook/<key> for each binding with that binding's
// secret, so it receives exactly the signed requests channeld receives. It listens on a free
// loopback port and prints one line: "sdk_peer ready webhook=127.0.0.1:PORT".
"use strict";

const fs = require("fs");
const express = require("express");
const line = require("@line/bot-sdk");

const middlewares = new Map();
for (const row of fs.readFileSync(process.argv[2], "utf8").split("\n")) {
  const fields = row.split("\t");
  if (fields.length >= 5) {
    middlewares.set(fields[2], line.middleware({ channelSecret: fields[3] }));
  }
}

const app = express();
app.get("/healthz", (req, res) => res.sendStatus(200));
app.post(
  "/line/webhook/:key",
  (req, res, next) => {
    const check = middlewares.get(req.params.key);
    if (!check) return res.sendStatus(404);
    return check(req, res, next);
  },
  (req, res) => res.sendStatus(200),
);
// The SDK's signature and JSON errors; anything else is express's default 500.
app.use((err, req, res, next) => {
  if (err instanceof line.SignatureValidationFailed) return res.sendStatus(401);
  if (err instanceof line.JSONParseError) return res.sendStatus(400);
  return next(err);
});

const server = app.listen(0, "127.0.0.1", () => {
  process.stdout.write(`sdk_peer ready webhook=127.0.0.1:${server.address().port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
