#!/usr/bin/env python3
"""An SMTP sink that fails on purpose, for tests/integration/check/outbox_chaos.py.

usage: chaos_sink.py [--port P] [--log FILE] [--p421 P] [--pdrop P] [--seed S]

Speaks EHLO (PIPELINING, 8BITMIME, SIZE), HELO, MAIL, RCPT, DATA, RSET, NOOP and QUIT on
127.0.0.1, reading line by line and answering in order, so pipelined commands work. It never
answers 5xx to a well-formed transaction. Per transaction (decided at MAIL):
  --p421 P   probability of "421 4.3.2" then closing: at MAIL, at the first RCPT, or after the
             data (the server refuses the message: not delivered, to be retried)
  --pdrop P  probability of closing without a reply: at MAIL, at RCPT, at DATA, in the middle of
             the data (nothing delivered), or after the whole message was received and logged
             but before its 250 (the outcome-unknown case)
--port 0 (the default) takes a free port. The first line on stdout is
"listening 127.0.0.1:PORT". The log (JSON Lines, flushed line by line, written before the reply
it describes) holds one line per message received whole:
  {"id": X-Test-Id or null, "case": "accepted" | "dropped_after_data" | "refused_after_data",
   "conn": N, "from": ..., "to": [...], "size": octets}
"accepted" is written before the 250 goes out. Memory per connection is bounded: lines longer
than 64 KiB end the connection (500), and of the data only the X-Test-Id header is kept.
SIGTERM or SIGINT: prints counts on stderr and exits 0.
"""
import argparse
import asyncio
import json
import random
import re
import signal
import sys

LINE_LIMIT = 65536
ADDRESS = re.compile(r"<([^<>]*)>")
MAX_SIZE = 10 * 1024 * 1024
MAX_RECIPIENTS = 1000


def address_of(command):
    """The <path> of MAIL FROM:<…> or RCPT TO:<…> (what follows the colon when unbracketed)."""
    m = ADDRESS.search(command)
    return (m.group(1) if m else command.split(":", 1)[-1].strip())[:1000]


class Sink:
    def __init__(self, args):
        self.p421 = args.p421
        self.pdrop = args.pdrop
        self.random = random.Random(args.seed)
        self.log = open(args.log, "a", encoding="utf-8") if args.log else None
        self.connections = 0
        self.counts = {}

    def count(self, what):
        self.counts[what] = self.counts.get(what, 0) + 1

    def record(self, case, conn, test_id, sender, recipients, size):
        self.count(case)
        if self.log:
            self.log.write(json.dumps({"id": test_id, "case": case, "conn": conn, "from": sender,
                                       "to": recipients, "size": size}) + "\n")
            self.log.flush()

    def fault(self):
        """What goes wrong in this transaction: None, ("421", where) or ("drop", where)."""
        r = self.random.random()
        if r < self.p421:
            return ("421", self.random.choice(["mail", "rcpt", "after_data"]))
        if r < self.p421 + self.pdrop:
            # Half the drops lose the reply to a whole message: the case the outbox must hold.
            if self.random.random() < 0.5:
                return ("drop", "after_data")
            return ("drop", self.random.choice(["mail", "rcpt", "data", "in_data"]))
        return None

    async def serve(self, reader, writer):
        self.connections += 1
        conn = self.connections
        try:
            await self.dialogue(conn, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.count("connection_error")
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    async def dialogue(self, conn, reader, writer):
        async def reply(text):
            # One reply per command, in order (pipelined commands included). write() sends at
            # once when it can; drain() waits only while the peer reads nothing.
            writer.write(text.encode() + b"\r\n")
            await writer.drain()

        async def close_with_421(why):
            self.count("421_" + why)
            await reply("421 4.3.2 chaos sink: closing (" + why + ")")

        async def read_line():
            try:
                line = await reader.readuntil(b"\n")
            except asyncio.LimitOverrunError:
                await reply("500 5.5.2 line too long")
                return None
            except asyncio.IncompleteReadError:
                return None
            return line

        await reply("220 chaos-sink ESMTP")
        sender = None
        recipients = []
        fault = None
        while True:
            line = await read_line()
            if line is None:
                return
            command = line.rstrip(b"\r\n").decode("utf-8", "replace")
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                sender, recipients, fault = None, [], None
                await reply(f"250-chaos-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
                            f"250 SIZE {MAX_SIZE}")
            elif verb == "HELO":
                sender, recipients, fault = None, [], None
                await reply("250 chaos-sink")
            elif verb == "MAIL":
                if sender is not None:
                    await reply("503 5.5.1 nested MAIL")
                    continue
                fault = self.fault()
                if fault == ("421", "mail"):
                    return await close_with_421("mail")
                if fault == ("drop", "mail"):
                    self.count("drop_mail")
                    return
                sender = address_of(command)
                await reply("250 2.1.0 ok")
            elif verb == "RCPT":
                if sender is None:
                    await reply("503 5.5.1 MAIL first")
                    continue
                if fault == ("421", "rcpt"):
                    return await close_with_421("rcpt")
                if fault == ("drop", "rcpt"):
                    self.count("drop_rcpt")
                    return
                if len(recipients) >= MAX_RECIPIENTS:
                    await reply("452 4.5.3 too many recipients")
                    continue
                recipients.append(address_of(command))
                await reply("250 2.1.5 ok")
            elif verb == "DATA":
                if not recipients:
                    await reply("503 5.5.1 RCPT first")
                    continue
                if fault == ("drop", "data"):
                    self.count("drop_data")
                    return
                await reply("354 end with <CRLF>.<CRLF>")
                received = await self.data(read_line, fault)
                if received is None:
                    return  # dropped in the data, or the client went away
                test_id, size = received
                if fault == ("drop", "after_data"):
                    self.record("dropped_after_data", conn, test_id, sender, recipients, size)
                    return
                if fault == ("421", "after_data"):
                    self.record("refused_after_data", conn, test_id, sender, recipients, size)
                    return await close_with_421("after_data")
                self.record("accepted", conn, test_id, sender, recipients, size)
                await reply(f"250 2.0.0 ok: queued as {conn}.{self.counts['accepted']}")
                sender, recipients, fault = None, [], None
            elif verb == "RSET":
                sender, recipients, fault = None, [], None
                await reply("250 2.0.0 ok")
            elif verb == "NOOP":
                await reply("250 2.0.0 ok")
            elif verb == "QUIT":
                await reply("221 2.0.0 bye")
                return
            else:
                await reply("500 5.5.2 unknown command")

    async def data(self, read_line, fault):
        """Reads the data to its dot. @return (X-Test-Id or None, size), or None on a drop."""
        in_header = True
        test_id = None
        size = 0
        lines = 0
        drop_at = self.random.randint(0, 3) if fault == ("drop", "in_data") else None
        while True:
            line = await read_line()
            if line is None:
                return None
            if line in (b".\r\n", b".\n"):
                return test_id, size
            if drop_at is not None and lines >= drop_at:
                self.count("drop_in_data")
                return None
            lines += 1
            if line.startswith(b"."):
                line = line[1:]
            size += len(line)
            if in_header:
                text = line.rstrip(b"\r\n")
                if not text:
                    in_header = False
                elif text.lower().startswith(b"x-test-id:"):
                    test_id = text.split(b":", 1)[1].strip().decode("utf-8", "replace")


async def main():
    parser = argparse.ArgumentParser(description="An SMTP sink that fails on purpose.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log")
    parser.add_argument("--p421", type=float, default=0.0)
    parser.add_argument("--pdrop", type=float, default=0.0)
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()
    if not (0 <= args.p421 and 0 <= args.pdrop and args.p421 + args.pdrop <= 1):
        parser.error("--p421 and --pdrop are probabilities whose sum is at most 1")
    sink = Sink(args)
    server = await asyncio.start_server(sink.serve, "127.0.0.1", args.port, limit=LINE_LIMIT)
    port = server.sockets[0].getsockname()[1]
    print(f"listening 127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    async with server:
        await stop.wait()
    print(json.dumps({"connections": sink.connections, **sink.counts}), file=sys.stderr,
          flush=True)


if __name__ == "__main__":
    asyncio.run(main())
