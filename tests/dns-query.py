#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A raw DNS client for tests/041-net-dns.bats (busybox nslookup hides what the tests look at: it takes a
SERVFAIL as a reason to ask again, and it has no TCP).

dns-query.py [--tcp] [--edns SIZE] [--repeat N] [--ptr] SERVER NAME
Sends an A query for NAME (with --ptr: a PTR query for the address NAME) N times (over TCP one after the other
on one connection before reading) and prints, for each answer, "rcode=R tc=T answers=N first=X" (first: the
first A record's address or PTR record's name, or -)."""
import argparse
import random
import socket
import struct


def reverse_name(addr):
    if ":" in addr:
        nibbles = socket.inet_pton(socket.AF_INET6, addr).hex()
        return ".".join(reversed(nibbles)) + ".ip6.arpa"
    return ".".join(reversed(addr.split("."))) + ".in-addr.arpa"


def read_name(r, off):
    labels = []
    while r[off] != 0:
        if r[off] & 0xC0 == 0xC0:
            labels.append(read_name(r, struct.unpack("!H", r[off:off + 2])[0] & 0x3FFF)[0])
            return ".".join(labels), off + 2
        labels.append(r[off + 1:off + 1 + r[off]].decode())
        off += 1 + r[off]
    return ".".join(labels), off + 1


def query(qid, name, edns, qtype):
    q = struct.pack("!6H", qid, 0x0100, 1, 0, 0, 1 if edns else 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack("!HH", qtype, 1)
    if edns:
        q += b"\0" + struct.pack("!HHIH", 41, edns, 0, 0)
    return q


def describe(qid, r):
    rid, flags, qd, an = struct.unpack("!4H", r[:8])
    assert rid == qid, "answer for another query: %x, not %x" % (rid, qid)
    off = 12
    while r[off] != 0:
        off += 1 + r[off]
    off += 5
    first = "-"
    for _ in range(an):
        if r[off] & 0xC0 == 0xC0:
            off += 2
        else:
            while r[off] != 0:
                off += 1 + r[off]
            off += 1
        rtype, _, _, rdlen = struct.unpack("!HHIH", r[off:off + 10])
        off += 10
        if rtype == 1 and first == "-":
            first = socket.inet_ntoa(r[off:off + 4])
        if rtype == 12 and first == "-":
            first = read_name(r, off)[0]
        off += rdlen
    return "rcode=%d tc=%d answers=%d first=%s" % (flags & 15, (flags >> 9) & 1, an, first)


def recv_all(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tcp", action="store_true")
    p.add_argument("--edns", type=int, default=0)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--ptr", action="store_true")
    p.add_argument("server")
    p.add_argument("name")
    a = p.parse_args()
    ids = [random.randrange(65536) for _ in range(a.repeat)]
    name, qtype = (reverse_name(a.name), 12) if a.ptr else (a.name, 1)
    if a.tcp:
        s = socket.create_connection((a.server, 53), timeout=20)
        for qid in ids:
            m = query(qid, name, a.edns, qtype)
            s.sendall(struct.pack("!H", len(m)) + m)
        for qid in ids:
            n = struct.unpack("!H", recv_all(s, 2))[0]
            print(describe(qid, recv_all(s, n)))
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(20)
        for qid in ids:
            s.sendto(query(qid, name, a.edns, qtype), (a.server, 53))
            print(describe(qid, s.recv(65535)))


if __name__ == "__main__":
    main()
