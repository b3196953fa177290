"use strict";
// smtp_server.js DIR PORT IMPLICIT_PORT LMTP_PORT: Nodemailer's smtp-server (npm, pinned by
// package-lock.json beside this file) on 127.0.0.1:PORT (STARTTLS, then AUTH PLAIN/LOGIN for
// CRAM-MD5 for alice / Secret123) and IMPLICIT_PORT (TLS from the first byte), with DSN, SMTPUTF8 and
// enhanced status codes; and on LMTP_PORT as an LMTP server (STARTTLS, no AUTH) that answers
// each recipient after the data: 451 4.2.0 for carol@example.com, 250 for the others.
// Each message is stored before the 250 goes out as
// DIR/mail/<ms>-<n>.eml (the bytes as received: CRLF, dot-unstuffed, nothing added) and .json
// (session.envelope with its DSN and SMTPUTF8 parameters, the login, TLS). rej@example.com is
// and nobody@example.com are refused at RCPT with 550 5.1.1. The certificate is DIR/server.crt and DIR/server.key.
const { SMTPServer } = require("smtp-server");
const fs = require("fs");
const [DIR, PORT, IMPLICIT, LMTP] = [process.argv[2], ...process.argv.slice(3, 6).map(Number)];
fs.mkdirSync(`${DIR}/mail`, { recursive: true });
let n = 0;
const options = (secure, lmtp = false) => ({
  secure,
  lmtp,
  disabledCommands: lmtp ? ["AUTH"] : [],
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
    if (["rej@example.com", "nobody@example.com"].includes(address.address.toLowerCase())) {
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
      if (!lmtp) return cb(null, "Ok: queued");
      // LMTP: one reply per recipient, in order (RFC 2033 4.2)
      cb(null, session.envelope.rcptTo.map((r) => r.address.toLowerCase() === "carol@example.com"
        ? Object.assign(new Error("4.2.0 <carol@example.com> mailbox unavailable"), { responseCode: 451 })
        : `2.0.0 <${r.address}> Saved`));
    });
  },
});
const servers = [[new SMTPServer(options(false)), PORT], [new SMTPServer(options(true)), IMPLICIT],
                 [new SMTPServer(options(false, true)), LMTP]];
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
