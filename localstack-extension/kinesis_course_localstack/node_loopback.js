// Preloaded into kinesis-mock (NODE_OPTIONS=--require=...), the Node.js program LocalStack runs for Kinesis.
// kinesis-mock listens on every interface (0.0.0.0) and has no setting for the host; the course's servers
// listen on 127.0.0.1 only, so listen() gets the loopback address instead of a wildcard or no host.
const net = require("net");
const WILDCARDS = new Set([undefined, "0.0.0.0", "::", ""]);
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number" || (typeof args[0] === "string" && /^\d+$/.test(args[0]))) {
    if (typeof args[1] === "string" && WILDCARDS.has(args[1])) args[1] = "127.0.0.1";
    else if (typeof args[1] !== "string") args.splice(1, 0, "127.0.0.1");
  } else if (args[0] && typeof args[0] === "object" && !args[0].path && WILDCARDS.has(args[0].host)) {
    args[0] = { ...args[0], host: "127.0.0.1" };
  }
  return listen.apply(this, args);
};
