"use strict";
// smtp_server.js DIR PORT IMPLICIT_PORT: Nodemailer's smtp-server (npm, pinned by
// package-lock.json beside this file) on 127.0.0.1:PORT (STARTTLS, then AUTH PLAIN/LOGIN for
// CRAM-MD5 for alice / Secret123) and IMPLICIT_PORT (TLS from the first byte), with DSN, SMTPUTF8 and
// enhanced status codes. Each message is stored before the 250 goes out as
// DIR/mail/<ms>-<n>.eml (the bytes as received: CRLF, dot-unstuffed, nothing added) and .json
// (session.envelope with its DSN and SMTPUTF8 parameters, the login, TLS). rej@example.com is
// refused at RCPT with 550 5.1.1. The certificate is DIR/server.crt and DIR/server.key.
const { SMTPServer } = require("smtp-server");
const fs = require("fs");
const [DIR, PORT, IMPLICIT] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
fs.mkdirSync(`${DIR}/mail`, { recursive: true });
let n = 0;
const options = (secure) => ({
  secure,
  name: "smtp-server.test",
  key: fs.readFileSync(`${DIR}/server.key`),
  cert: fs.readFileSync(`${DIR}/server.crt`),
  authMethods: ["PLAIN", "LOGIN", "CRAM-MD5"],
  authOptional: true,
  size: 30 * 1024 * 1024,
  rejectOversized: true,
  hideENHANCEDSTATUSCODES: false,
  hideDSN: false,
  disableReverseLookup: true,
  closeTimeout: 1000,
  logger: false,
  onAuth(auth, session, cb) {
    const ok = auth.method === "CRAM-MD5" ? auth.validatePassword("Secret123") : auth.password === "Secret123";
    if (auth.username === "alice" && ok) return cb(null, { user: auth.username });
    cb(Object.assign(new Error("Invalid username or password"), { responseCode: 535 }));
  },
  onRcptTo(address, session, cb) {
    if (address.address.toLowerCase() === "rej@example.com") {
      return cb(Object.assign(new Error("no such user"), { responseCode: 550 }));
    }
    cb();
  },
  onData(stream, session, cb) {
    const chunks = [];
    stream.on("data", (c) => chunks.push(c));
    stream.on("end", () => {
      if (stream.sizeExceeded) return cb(); // rejectOversized answers 552 itself
      const base = `${DIR}/mail/${Date.now()}-${++n}`;
      const meta = { envelope: session.envelope, user: session.user || null, tls: session.secure,
                     helo: session.hostNameAppearsAs };
      fs.writeFileSync(`${base}.json`, JSON.stringify(meta));
      fs.writeFileSync(`${base}.tmp`, Buffer.concat(chunks));
      fs.renameSync(`${base}.tmp`, `${base}.eml`); // the .eml appears last, complete
      cb(null, "Ok: queued");
    });
  },
});
const servers = [[new SMTPServer(options(false)), PORT], [new SMTPServer(options(true)), IMPLICIT]];
for (const [server, port] of servers) {
  server.on("error", (e) => {
    console.error("smtp-server:", e.message);
    if (e.code === "EADDRINUSE") process.exit(1);
  });
  server.listen(port, "127.0.0.1");
}
process.on("SIGTERM", () => {
  let open = servers.length;
  for (const [server] of servers) server.close(() => { if (--open === 0) process.exit(0); });
});
