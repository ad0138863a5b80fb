// What Homer's frontend sees when its server shuts down and another takes over: the official
// socket.io-client, with its default reconnection, connected to /chat. Prints one JSON line per thing that
// happens, and exits once it has reconnected after a server_shutdown (or after 60 s, with code 1).
//
//   node restart_client.mjs <base_url> <token>
import { io } from "socket.io-client";

const [baseUrl, token] = process.argv.slice(2);
const report = (line) => console.log(JSON.stringify(line));

const socket = io(`${baseUrl}/chat`, { auth: { token } });
let shutdownSeen = false;
socket.on("connect", () => {
  const engine = socket.io.engine;
  report({ event: "connect", transport: engine.transport.name });
  if (shutdownSeen) {
    socket.close();
    process.exit(0);
  }
  engine.once("upgrade", () => report({ event: "upgrade", transport: engine.transport.name }));
});
socket.on("server_shutdown", (data) => {
  shutdownSeen = true;
  report({ event: "server_shutdown", data });
});
// `active`: whether the client is going to reconnect by itself (false after "io server disconnect").
socket.on("disconnect", (reason) => report({ event: "disconnect", reason, active: socket.active }));
setTimeout(() => {
  report({ event: "gave_up" });
  process.exit(1);
}, 60000);
