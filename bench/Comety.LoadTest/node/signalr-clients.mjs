// SignalR's own JavaScript client, on long polling, as a check on the load test's
// SignalRLongPollingFleet: the same hub, the same room joins, the same "tick" events.
//
// node signalr-clients.mjs <hubUrl> <clients> <expectedEvents> <timeoutSeconds> [transport] [sourceAddresses]
//
// transport is LongPolling (the default) or WebSockets (straight to the WebSocket, no negotiation,
// as the load test's SignalRWebSocketFleet). With sourceAddresses k > 0 (WebSockets only), client
// sockets are bound in turn to 127.0.0.2 .. 127.0.0.(k+1) before they connect (ws's localAddress),
// so that one address's ephemeral ports do not bound the connections; the server listens on
// 127.0.0.1 only, and every 127.0.0.0/8 address is loopback on Linux.
//
// Connects <clients> clients (at most 100 connecting at a time) and has client c join room
// "room-" + (c % 100); prints READY when all are connected and joined. Then waits until every
// client has received ticks 0 .. expectedEvents-1, or <timeoutSeconds> have passed since READY,
// prints one JSON line with the counts and latencies, stops every connection and exits 0.
// Connecting has its own bound of <timeoutSeconds>. Latency is the receipt time from
// process.hrtime.bigint() minus the server's stamp; both read CLOCK_MONOTONIC in nanoseconds.

import * as signalR from "@microsoft/signalr";
import WebSocket from "ws";

const ConnectConcurrency = 100;
const Rooms = 100;
const StopTimeoutMs = 30_000;

const MaxSourceAddresses = 64;

const [hubUrl, clientsArg, eventsArg, timeoutArg, transportArg = "LongPolling", sourcesArg = "0"] = process.argv.slice(2);
const clients = Number.parseInt(clientsArg, 10);
const expectedEvents = Number.parseInt(eventsArg, 10);
const timeoutSeconds = Number.parseInt(timeoutArg, 10);
const transport = { LongPolling: signalR.HttpTransportType.LongPolling, WebSockets: signalR.HttpTransportType.WebSockets }[transportArg];
const sourceAddresses = Number.parseInt(sourcesArg, 10);
if (!hubUrl || !(clients > 0) || !(expectedEvents > 0) || !(timeoutSeconds > 0) || transport === undefined
    || !(sourceAddresses >= 0 && sourceAddresses <= MaxSourceAddresses)
    || (sourceAddresses > 0 && transport !== signalR.HttpTransportType.WebSockets)) {
    console.error("usage: node signalr-clients.mjs <hubUrl> <clients> <expectedEvents> <timeoutSeconds> [LongPolling|WebSockets] [sourceAddresses (WebSockets only, 0 to 64)]");
    process.exit(2);
}

// ws passes its options on to http.request, which binds the socket to localAddress before connecting.
let nextSource = 0;
class BoundWebSocket extends WebSocket {
    constructor(url, protocols, options) {
        super(url, protocols, { ...options, localAddress: `127.0.0.${2 + (nextSource++ % sourceAddresses)}` });
    }
}

// latency[c * expectedEvents + i]: nanoseconds from the server's stamp to receipt, or -1 while not received.
const latency = new Float64Array(clients * expectedEvents).fill(-1);
const lastIndex = new Int32Array(clients).fill(-1);
const connections = new Array(clients);
let received = 0;
let duplicates = 0;
let outOfOrder = 0;
let unexpected = 0;
let failures = 0;
let stopping = false;
let allReceived = () => {};

function record(client, index, sentAt) {
    const receivedAt = Number(process.hrtime.bigint());
    if (!Number.isInteger(index) || index < 0 || index >= expectedEvents || typeof sentAt !== "number" || sentAt <= 0) {
        unexpected++;
        return;
    }

    const slot = client * expectedEvents + index;
    if (latency[slot] >= 0) {
        duplicates++;
        return;
    }

    if (index < lastIndex[client]) {
        outOfOrder++;
    }

    lastIndex[client] = index;
    latency[slot] = receivedAt - sentAt;
    received++;
    if (received === clients * expectedEvents) {
        allReceived();
    }
}

async function connect(client) {
    const connection = new signalR.HubConnectionBuilder()
        .withUrl(hubUrl, transport === signalR.HttpTransportType.WebSockets
            ? { transport, skipNegotiation: true, WebSocket: sourceAddresses > 0 ? BoundWebSocket : WebSocket }
            : { transport })
        .configureLogging(signalR.LogLevel.Warning)
        .build();
    connection.on("tick", (index, sentAt) => record(client, index, sentAt));
    connection.onclose((error) => {
        if (!stopping) {
            failures++;
            console.error(`client ${client} closed: ${error ?? "no error"}`);
        }
    });
    connections[client] = connection;
    await connection.start();
    await connection.invoke("Join", "room-" + (client % Rooms));
}

function withTimeout(promise, ms, what) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no end after ${ms} ms`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function connectAll() {
    let next = 0;
    const worker = async () => {
        while (next < clients) {
            await connect(next++);
        }
    };
    await Promise.all(Array.from({ length: Math.min(ConnectConcurrency, clients) }, worker));
}

function percentile(sorted, p) {
    return sorted.length === 0 ? null : sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

async function main() {
    await withTimeout(connectAll(), timeoutSeconds * 1000, "connecting");
    console.log("READY");

    const done = new Promise((resolve) => {
        allReceived = resolve;
    });
    if (received < clients * expectedEvents) {
        await withTimeout(done, timeoutSeconds * 1000, "receiving").catch((error) => console.error(error.message));
    }

    const latencies = latency.filter((value) => value >= 0).sort();
    const ms = (ns) => (ns === null ? null : Math.round(ns / 1e4) / 100);
    console.log(JSON.stringify({
        clients,
        received,
        duplicates,
        outOfOrder,
        lost: clients * expectedEvents - received,
        unexpected,
        failures,
        p50Ms: ms(percentile(latencies, 0.5)),
        p99Ms: ms(percentile(latencies, 0.99)),
        maxMs: ms(percentile(latencies, 1)),
    }));

    stopping = true;
    await withTimeout(Promise.all(connections.map((connection) => connection?.stop())), StopTimeoutMs, "stopping")
        .catch((error) => console.error(error.message));
}

main().then(
    () => process.exit(0),
    (error) => {
        console.error(error?.stack ?? String(error));
        process.exit(1);
    });
