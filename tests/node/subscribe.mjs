// Subscribes to documentPosted with the graphql-ws client and prints, one JSON line each, the
// connection's acknowledgement and the first document delivered; then disconnects.
// Environment: PORTAL_WS_URL (ws://.../graphql) and PORTAL_TOKEN (an access token).
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const url = process.env.PORTAL_WS_URL;
const token = process.env.PORTAL_TOKEN;
if (!url || !token) {
  console.error("PORTAL_WS_URL and PORTAL_TOKEN are required");
  process.exit(2);
}

const print = (line) => process.stdout.write(JSON.stringify(line) + "\n");
const fail = (message) => {
  print({ event: "error", message: String(message) });
  process.exit(1);
};
setTimeout(() => fail("no document within 30 s"), 30_000).unref();

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  retryAttempts: 0,
  lazy: false,
  on: {
    connected: () => print({ event: "connected" }),
    closed: (event) => {
      if (event && event.code !== 1000) fail(`closed ${event.code} ${event.reason}`);
    },
    error: (error) => fail(error && error.message ? error.message : error),
  },
});

const subscription = client.iterate({
  query: "subscription { documentPosted { id name reportType { code } employee { lastName } } }",
});

try {
  for await (const result of subscription) {
    if (result.errors) fail(JSON.stringify(result.errors));
    print({ event: "next", data: result.data });
    break;
  }
} catch (error) {
  fail(error && error.message ? error.message : error);
}
await client.dispose();
process.exit(0);
