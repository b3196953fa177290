#!/usr/bin/env python3
"""Reference for bench/throughput: the same job with Python's smtplib (which does not
pipeline). Prints messages per second. usage: throughput_smtplib.py HOST PORT N SIZE"""
import smtplib
import sys
import time

host, port, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
message = "Subject: throughput\r\n\r\n"
while len(message) < size:
    message += "The quick brown fox jumps over the lazy dog.\r\n"
with smtplib.SMTP(host, port) as s:
    s.ehlo("bench.missive.test")
    start = time.perf_counter()
    for _ in range(n):
        s.sendmail("alice@example.org", ["bob@example.org"], message)
    took = time.perf_counter() - start
print(n / took)
