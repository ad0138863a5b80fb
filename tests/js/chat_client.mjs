// Drives Homer RT's /chat namespace with the official socket.io-client, as Homer's frontend does, and
// prints what happened as one JSON object on stdout.
//
//   node chat_client.mjs <base_url> <renter_token> <owner_token> <chat_id>
import { io } from "socket.io-client";

const [baseUrl, renterToken, ownerToken, chatId] = process.argv.slice(2);
const TIMEOUT_MS = 5000;

function withTimeout(promise, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), TIMEOUT_MS)),
  ]);
}

function open(token) {
  const socket = io(`${baseUrl}/chat`, { auth: { token }, reconnection: false });
  const seen = { message: [], typing: [], read: [], unread_count: [] };
  for (const event of Object.keys(seen)) socket.on(event, (data) => seen[event].push(data));
  const connected = new Promise((resolve, reject) => {
    socket.on("connect", resolve);
    socket.on("connect_error", reject);
  });
  return { socket, seen, connected };
}

function waitFor(client, event, predicate) {
  return withTimeout(
    new Promise((resolve) => {
      const found = client.seen[event].find(predicate);
      if (found) return resolve(found);
      const listener = (data) => {
        if (predicate(data)) {
          client.socket.off(event, listener);
          resolve(data);
        }
      };
      client.socket.on(event, listener);
    }),
    event,
  );
}

async function refusedReason() {
  const socket = io(`${baseUrl}/chat`, { auth: { token: "not-a-token" }, reconnection: false });
  try {
    return await withTimeout(
      new Promise((resolve) => socket.on("connect_error", (err) => resolve({ message: err.message, data: err.data }))),
      "refusal",
    );
  } finally {
    socket.close();
  }
}

async function main() {
  const renter = open(renterToken);
  const owner = open(ownerToken);
  await withTimeout(Promise.all([renter.connected, owner.connected]), "connect");
  const initialUnread = await waitFor(owner, "unread_count", () => true);

  const joined = await owner.socket.timeout(TIMEOUT_MS).emitWithAck("join_chat", { chat_id: chatId });
  const sent = await renter.socket
    .timeout(TIMEOUT_MS)
    .emitWithAck("send_message", { chat_id: chatId, message: "Hello from socket.io-client", client_msg_id: "js-1" });
  const retried = await renter.socket
    .timeout(TIMEOUT_MS)
    .emitWithAck("send_message", { chat_id: chatId, message: "Hello from socket.io-client", client_msg_id: "js-1" });
  const received = await waitFor(owner, "message", (e) => e.message.client_msg_id === "js-1");

  await owner.socket.timeout(TIMEOUT_MS).emitWithAck("typing", { chat_id: chatId, is_typing: true });
  const typing = await waitFor(renter, "typing", () => true);
  const markRead = await owner.socket.timeout(TIMEOUT_MS).emitWithAck("mark_read", { chat_id: chatId });
  const receipt = await waitFor(renter, "read", (e) => e.up_to >= sent.data.seq);
  const sync = await renter.socket
    .timeout(TIMEOUT_MS)
    .emitWithAck("sync", { chats: { [chatId]: sent.data.seq - 1 } });
  const refused = await refusedReason();

  const transport = renter.socket.io.engine.transport.name;
  renter.socket.close();
  owner.socket.close();
  process.stdout.write(
    JSON.stringify({
      initialUnread,
      joined,
      sent,
      retried,
      received,
      typing,
      markRead,
      receipt,
      sync,
      refused,
      transport,
      ownerMessages: owner.seen.message.length,
    }) + "\n",
  );
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error.stack || error}\n`);
    process.exit(1);
  },
);
