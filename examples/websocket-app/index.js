// SPDX-License-Identifier: GPL-2.0
// The example WebSocket chat of HAProxy's WebSocket guide, made to run behind wsplice as several
// servers. Each server serves the page at /ws and the WebSocket at /ws/echo; a message sent to
// any server is published on a Redis channel, and every server relays what it hears there to its
// own clients as "Received: <msg>", so all clients on all servers see it (the guide's
// "design your system for scale" advice).
//
// Wire protocol, text frames only:
//   client -> server  the message, as typed (at most MAX_MESSAGE bytes)
//   server -> client  "Server: <name>"   once, right after the upgrade: who answered
//                     "Received: <msg>"  for every message sent by any client on any server
//
// Environment: PORT (3000), SERVER_NAME (s<PORT>), REDIS_URL (redis://127.0.0.1:6379),
// REDIS_CHANNEL (wsplice:chat), LISTEN_HOST (127.0.0.1: the load balancer is the way in).
'use strict';

const path = require('path');
const express = require('express');
const expressWs = require('express-ws');
const { createClient } = require('redis');

const PORT = parseInt(process.env.PORT || '3000', 10);
const HOST = process.env.LISTEN_HOST || '127.0.0.1';
const NAME = process.env.SERVER_NAME || `s${PORT}`;
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const CHANNEL = process.env.REDIS_CHANNEL || 'wsplice:chat';
const MAX_MESSAGE = 4096;
// Server pings find clients that vanished without a close (a dead NAT, a killed laptop); the
// same pings keep the tunnel from ever reaching the load balancer's `timeout tunnel`.
const PING_MS = 30000;

const log = (...args) => console.log(`[${NAME}]`, ...args);

const app = express();
const wsApp = expressWs(app, null, { wsOptions: { maxPayload: MAX_MESSAGE } });

// Two connections: a Redis connection in subscriber mode can run no other command.
const pub = createClient({ url: REDIS_URL });
const sub = pub.duplicate();
for (const [role, client] of [['pub', pub], ['sub', sub]]) {
  // The client retries every 0.5 s while Redis is away: say each different error once.
  let last = null;
  client.on('error', (err) => {
    if (err.message !== last) log(`redis ${role}: ${err.message}`);
    last = err.message;
  });
  client.on('ready', () => {
    last = null;
    log(`redis ${role}: connected to ${REDIS_URL}`);
  });
}

// Sends text to every client of this server; returns how many got it.
function relayLocal(text) {
  let n = 0;
  for (const client of wsApp.getWss().clients) {
    if (client.readyState === client.OPEN) {
      client.send(text);
      n++;
    }
  }
  return n;
}

// Fans a client's message out to every server. Without Redis (down, or restarting) the message
// still reaches this server's own clients rather than being held in the client's offline queue
// and delivered late, out of order with what came after.
async function broadcast(msg) {
  if (!pub.isReady) {
    log('redis not ready: relaying to local clients only');
    relayLocal(`Received: ${msg}`);
    return;
  }
  try {
    await pub.publish(CHANNEL, JSON.stringify({ from: NAME, msg }));
  } catch (err) {
    log(`publish: ${err.message}`);
    relayLocal(`Received: ${msg}`);
  }
}

function onChannelMessage(raw) {
  let m;
  try {
    m = JSON.parse(raw);
  } catch {
    log(`ignoring a malformed message on ${CHANNEL}`);
    return;
  }
  if (typeof m.msg !== 'string') return;
  const n = relayLocal(`Received: ${m.msg}`);
  log(`relayed a message from ${m.from} to ${n} client(s)`);
}

// The seed serves the page at /ws; / leads there, so the bare address works in a browser.
app.get('/', (req, res) => res.redirect(302, '/ws'));
app.get('/ws', (req, res) => {
  res.set('Cache-Control', 'no-store');
  res.sendFile(path.join(__dirname, 'index.html'));
});

// For people and for HTTP health checks: 503 while this server cannot fan messages out.
app.get('/health', (req, res) => {
  const ok = pub.isReady && sub.isReady;
  res.status(ok ? 200 : 503).json({
    status: ok ? 'ok' : 'degraded',
    server: NAME,
    redis: ok,
    clients: wsApp.getWss().clients.size,
  });
});

app.ws('/ws/echo', (ws, req) => {
  const peer = req.headers['x-forwarded-for'] || req.socket.remoteAddress;
  log(`client connected from ${peer} (${wsApp.getWss().clients.size} now)`);
  ws.isAlive = true;
  ws.on('pong', () => {
    ws.isAlive = true;
  });
  ws.send(`Server: ${NAME}`);
  // ws 7 (express-ws 5's) hands text frames over as strings and binary ones as Buffers.
  ws.on('message', (data) => {
    if (typeof data !== 'string') {
      ws.close(1003, 'text only');
      return;
    }
    broadcast(data);
  });
  // A protocol error (an oversized frame: close 1009) is this client's alone; without a
  // listener, ws would rethrow it and take every client of this server down with it.
  ws.on('error', (err) => log(`client from ${peer}: ${err.message}`));
  ws.on('close', (code) => log(`client from ${peer} left (code ${code})`));
});

const pinger = setInterval(() => {
  for (const ws of wsApp.getWss().clients) {
    if (!ws.isAlive) {
      ws.terminate();
      continue;
    }
    ws.isAlive = false;
    ws.ping();
  }
}, PING_MS);

async function main() {
  // Redis connects in the background: the client retries by itself, and the server is useful
  // (locally) before Redis is.
  pub.connect().catch((err) => log(`redis pub: ${err.message}`));
  sub
    .connect()
    .then(() => sub.subscribe(CHANNEL, onChannelMessage))
    .catch((err) => log(`redis sub: ${err.message}`));

  const server = app.listen(PORT, HOST, () => log(`listening on ${HOST}:${PORT}`));
  server.on('error', (err) => {
    // EADDRINUSE and friends: say which port, and exit so a supervisor notices.
    console.error(`[${NAME}] cannot listen on ${HOST}:${PORT}: ${err.message}`);
    process.exit(1);
  });

  let stopping = false;
  const stop = (sig) => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: closing`);
    clearInterval(pinger);
    // 1001 "going away" tells pages to reconnect, which lands them on another server.
    for (const ws of wsApp.getWss().clients) ws.close(1001, 'server shutting down');
    server.close();
    const quit = async (c) => c.isOpen && c.quit();
    Promise.allSettled([quit(pub), quit(sub)]).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main();
