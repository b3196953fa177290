#!/usr/bin/env python3
"""The reference for starttls_connections: Python's smtplib, one connection per message with
STARTTLS, the SSL context made once (as a careful Python program would). Prints messages per
second and CPU milliseconds per connection, like the C++ tool.
Usage: starttls_smtplib.py HOST PORT CA_FILE N   (CA_FILE "-": the system's trust store)"""
import smtplib
import ssl
import sys
import time

host, port, ca_file, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
context = ssl.create_default_context(cafile=None if ca_file == "-" else ca_file)
message = "Subject: starttls\r\n\r\nOne connection per message.\r\n"
cpu0, t0 = time.process_time(), time.monotonic()
for _ in range(n):
    with smtplib.SMTP(host, port, local_hostname="bench.missive.test") as s:
        s.starttls(context=context)
        s.sendmail("alice@example.org", ["bob@example.org"], message)
took, cpu = time.monotonic() - t0, time.process_time() - cpu0
print(n / took, cpu * 1000 / n)
