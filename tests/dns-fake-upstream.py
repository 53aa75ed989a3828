#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A hostile or silent upstream resolver for tests/041-net-dns.bats, on loopback of the world's network
namespace only.

dns-fake-upstream.py silent ADDR            reads queries and never answers
dns-fake-upstream.py big ADDR               answers with 40 A records (192.0.2.1-40) when the query carries an
                                            EDNS record or comes over TCP, else, as a real server must past 512
                                            bytes, with the TC bit and no answer
dns-fake-upstream.py forge ADDR OTHER       for each query: first a forged answer 192.0.2.66 from OTHER (the
                                            right ID and port, the wrong sender), then one from ADDR for another
                                            question (192.0.2.67), then the true answer 192.0.2.7 from ADDR

It prints "ready" once bound, "id N" for each query it answers, and runs until killed (at most 60 s)."""
import socket
import struct
import sys
import threading
import time


def question_end(q):
    off = 12
    while q[off] != 0:
        off += 1 + q[off]
    return off + 1 + 4


def encode_name(name):
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def answer(qid, question, ip):
    header = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0)
    rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 0, 4) + socket.inet_aton(ip)
    return header + question + rr


def big_answer(qid, question):
    rrs = b"".join(b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 0, 4) + bytes([192, 0, 2, i]) for i in range(1, 41))
    return struct.pack("!HHHHHH", qid, 0x8180, 1, 40, 0, 0) + question + rrs


def serve_tcp(lsock):
    while True:
        conn, _ = lsock.accept()
        conn.settimeout(5)
        try:
            n = struct.unpack("!H", conn.recv(2, socket.MSG_WAITALL))[0]
            q = conn.recv(n, socket.MSG_WAITALL)
            qid = struct.unpack("!H", q[:2])[0]
            print("tcp id", qid, flush=True)
            r = big_answer(qid, q[12:question_end(q)])
            conn.sendall(struct.pack("!H", len(r)) + r)
        except (OSError, struct.error):
            pass
        conn.close()


def main():
    mode, addr = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((addr, 53))
    other = None
    if mode == "big":
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind((addr, 53))
        lsock.listen(8)
        threading.Thread(target=serve_tcp, args=(lsock,), daemon=True).start()
    if mode == "forge":
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other.bind((sys.argv[3], 0))
    print("ready", flush=True)
    end = time.monotonic() + 60
    sock.settimeout(1)
    while time.monotonic() < end:
        try:
            q, peer = sock.recvfrom(4096)
        except socket.timeout:
            continue
        if mode == "silent" or len(q) < 17:
            continue
        qid = struct.unpack("!H", q[:2])[0]
        print("id", qid, flush=True)
        question = q[12:question_end(q)]
        if mode == "big":
            arcount = struct.unpack("!H", q[10:12])[0]
            if arcount == 0:
                sock.sendto(struct.pack("!HHHHHH", qid, 0x8380, 1, 0, 0, 0) + question, peer)
                continue
            sock.sendto(big_answer(qid, question), peer)
            continue
        other.sendto(answer(qid, question, "192.0.2.66"), peer)
        time.sleep(0.05)
        wrong = encode_name("other.test") + question[-4:]
        sock.sendto(answer(qid, wrong, "192.0.2.67"), peer)
        time.sleep(0.05)
        sock.sendto(answer(qid, question, "192.0.2.7"), peer)


if __name__ == "__main__":
    main()
