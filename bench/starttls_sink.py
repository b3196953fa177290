"""A STARTTLS sink for bench/run_scale.sh: aiosmtpd that offers PIPELINING (it takes pipelined
commands without saying so) and throws every message away.
Usage: /usr/bin/python3 starttls_sink.py PORT CERT KEY (runs until SIGTERM)."""
import signal
import ssl
import sys

from aiosmtpd.controller import Controller


class Discard:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return responses[:-1] + ["250-PIPELINING", responses[-1]]

    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 Ok"


port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain(cert, key)
sink = Controller(Discard(), hostname="127.0.0.1", port=port, server_hostname="localhost",
                  tls_context=tls, require_starttls=True)
sink.start()
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
try:
    signal.pause()
finally:
    sink.stop()
