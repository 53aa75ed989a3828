#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""unpack-hostile.py LAYOUT VICTIM [CASE...]
unpack-hostile.py LAYOUT VICTIM --tar NAME FILE [--lie-isize]

Writes the hostile-layer corpus (THREATS.md U1-U21) into the OCI image layout LAYOUT (created if missing), one
image per case, named 127.0.0.1:5000/hostile/CASE:latest. VICTIM is an absolute host directory the layers aim
at; tests check it is untouched. Layers are built here with tarfile, independently of the code under test.
Prints the case names and their number of layers, one case per line."""
import base64
import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import random
import struct
import sys
import tarfile

MTIME = 1704067200
PREFIX = "127.0.0.1:5000/hostile/"


def entry(name, kind=tarfile.REGTYPE, data=b"", mode=0o644, uid=0, gid=0, link="", pax=None, major=0, minor=0,
          mtime=MTIME):
    t = tarfile.TarInfo(name)
    t.type = kind
    t.mode = mode
    t.uid, t.gid = uid, gid
    t.mtime = mtime
    t.linkname = link
    t.devmajor, t.devminor = major, minor
    if pax:
        t.pax_headers = pax
    if kind == tarfile.REGTYPE:
        t.size = len(data)
    return (t, data)


def d(name, mode=0o755, **kw):
    return entry(name, tarfile.DIRTYPE, mode=mode, **kw)


def sym(name, target):
    return entry(name, tarfile.SYMTYPE, mode=0o777, link=target)


def hard(name, target):
    return entry(name, tarfile.LNKTYPE, link=target)


def tar(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for t, data in entries:
            tf.addfile(t, io.BytesIO(data) if t.type == tarfile.REGTYPE else None)
    return buf.getvalue()


def gz(b):
    return gzip.compress(b, compresslevel=1, mtime=0)


def zstd_raw(b, window_log=20):
    """A zstd frame of raw blocks, written by hand (no zstd module needed); window_log sets the frame's
    Window_Descriptor, so a frame can demand a huge window."""
    out = bytearray(b"\x28\xb5\x2f\xfd")
    out.append(0x00)  # no single segment, no checksum, no dict, no content size
    out.append((window_log - 10) << 3)
    chunks = [b[i:i + 100000] for i in range(0, len(b), 100000)] or [b""]
    for i, c in enumerate(chunks):
        last = 1 if i == len(chunks) - 1 else 0
        out += struct.pack("<I", last | (len(c) << 3))[:3]
        out += c
    return bytes(out)


def zstd_zeros(prefix, n_mib, window_log=20):
    """A zstd frame: prefix in a raw block, then n_mib MiB of zeros as RLE blocks (4 bytes per 128 KiB)."""
    out = bytearray(b"\x28\xb5\x2f\xfd\x00") + bytes([(window_log - 10) << 3])
    out += struct.pack("<I", 0 | (len(prefix) << 3))[:3] + prefix
    n = n_mib * 8
    for i in range(n):
        out += struct.pack("<I", (1 if i == n - 1 else 0) | (1 << 1) | (128 * 1024 << 3))[:3] + b"\0"
    return bytes(out)


def zeros_gzip_members(prefix, n_mib, suffix=b""):
    """gzip of prefix + n_mib MiB of zeros + suffix, as concatenated members so it is quick to build."""
    mib = gzip.compress(b"\0" * (1 << 20), compresslevel=9, mtime=0)
    return gz(prefix) + mib * n_mib + gz(suffix)


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


class Layout:
    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(path, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        p = os.path.join(path, "index.json")
        self.index = json.load(open(p)) if os.path.exists(p) else {"schemaVersion": 2, "manifests": []}

    def blob(self, b):
        dg = sha(b)
        with open(os.path.join(self.path, "blobs", "sha256", dg[7:]), "wb") as f:
            f.write(b)
        return {"digest": dg, "size": len(b)}

    def image(self, name, layers):
        """layers: list of (blob bytes, media type, diff_id)"""
        config = {"architecture": "amd64", "os": "linux", "config": {},
                  "rootfs": {"type": "layers", "diff_ids": [l[2] for l in layers]}}
        cdesc = self.blob(json.dumps(config).encode())
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": dict(cdesc, mediaType="application/vnd.oci.image.config.v1+json"),
                    "layers": [dict(self.blob(b), mediaType=mt) for b, mt, _ in layers]}
        mdesc = self.blob(json.dumps(manifest).encode())
        self.index["manifests"] = [m for m in self.index["manifests"]
                                   if m["annotations"]["org.opencontainers.image.ref.name"] != name]
        self.index["manifests"].append(dict(mdesc, mediaType="application/vnd.oci.image.manifest.v1+json",
                                            annotations={"org.opencontainers.image.ref.name": name}))

    def save(self):
        with open(os.path.join(self.path, "index.json"), "w") as f:
            json.dump(self.index, f)


GZ = "application/vnd.oci.image.layer.v1.tar+gzip"
ZS = "application/vnd.oci.image.layer.v1.tar+zstd"
TAR = "application/vnd.oci.image.layer.v1.tar"


def layer(entries, fmt=tarfile.PAX_FORMAT):
    t = tar(entries, fmt)
    return (gz(t), GZ, sha(t))


def cases(victim):
    v = victim.strip("/")  # the victim's path, as seen inside the root
    up = "../" * 12 + v  # relative path that would climb out of any root
    base = [d("etc"), entry("etc/passwd", data=b"root:x:0:0::/root:/bin/sh\n"), d("tmp", mode=0o1777), d("run")]
    c = {}
    # U1: '..' in names
    c["u1-dotdot"] = [layer(base + [entry("../victim/x", data=b"x")])]
    c["u1-abs-dotdot"] = [layer([entry("/../x", data=b"x")])]
    c["u1-mid-dotdot"] = [layer([d("a"), entry("a/../../x", data=b"x")])]
    # U2: absolute symlink then a file through it
    c["u2-symlink-abs"] = [layer([d(v), sym("localetc", victim), entry("localetc/unbroken", data=b"in root\n")])]
    c["u2-symlink-dangling"] = [layer([sym("localetc", victim), entry("localetc/unbroken", data=b"x\n")])]
    # U3: symlink climbing out, then a hardlink through it
    c["u3-symlink-hardlink"] = [layer([d(v), entry(v + "/file", data=b"inside\n"), sym("d1", up),
                                       hard("linked", "d1/file")])]
    # U4: hardlinks with absolute or climbing targets
    c["u4-hardlink-abs"] = [layer(base + [hard("h", "/etc/passwd"), d(v), entry(v + "/file", data=b"in\n"),
                                          hard("hv", victim + "/file")])]
    c["u4-hardlink-dotdot"] = [layer(base + [hard("h", "../../../etc/passwd")])]
    # U5: chained relative symlinks
    c["u5-chained-symlinks"] = [layer([d("inner"), sym("inner/go_up", ".."), sym("inner/go_up/escape", up), d(v),
                                       entry("inner/go_up/escape/newfile", data=b"new\n")])]
    # U6: a directory replaced by a symlink, then a write below it (CVE-2025-47290)
    c["u6-symlink-override"] = [layer([d(v), d("foo"), entry("foo/a", data=b"a"), sym("foo", victim),
                                       entry("foo/x", data=b"x\n")])]
    # U7: metadata through a symlink
    c["u7-symlink-chmod-file"] = [layer([sym("s", victim + "/file"), entry("s", data=b"s\n", mode=0o777)])]
    c["u7-symlink-chmod-dir"] = [layer([sym("s", victim), d("s", mode=0o777)])]
    c["u7-dir-then-symlink"] = [layer([d("dd", mode=0o700), sym("dd", victim), d("dd", mode=0o777),
                                       entry("dd/f", data=b"f")])]
    # U8: the root as a non-directory
    c["u8-root-symlink"] = [layer([sym(".", "/")])]
    c["u8-root-file"] = [layer([entry("/", data=b"x")])]
    c["u8-root-dot-file"] = [layer([entry(".", data=b"x")])]
    c["u8-root-slash-symlink"] = [layer([sym("/", "/etc")])]
    c["u8-root-dir-ok"] = [layer([d(".", mode=0o755), entry("ok", data=b"ok\n")])]
    # U9: invalid whiteouts
    for n, name in [("dot", ".wh.."), ("dotdot", ".wh..."), ("etc-dot", "etc/.wh.."), ("empty", ".wh.")]:
        c["u9-wh-" + n] = [layer(base), layer([entry(name)])]
    # U10: a whiteout through an absolute symlink from a lower layer
    c["u10-whiteout-symlink"] = [layer([d(v), entry(v + "/file", data=b"in root\n"), sym("localetc", victim)]),
                                 layer([entry("localetc/.wh.file")])]
    # U11: opaque marker after new content in the same layer
    c["u11-opaque-order"] = [layer([d("a"), entry("a/x", data=b"x"), d("a/b"), d("a/b/c"),
                                    entry("a/b/c/lower", data=b"l")]),
                             layer([d("a"), d("a/b"), d("a/b/c"), entry("a/b/c/foo", data=b"foo\n"),
                                    entry("a/.wh..wh..opq")])]
    # U12: overlay xattrs from the image
    c["u12-overlay-xattrs"] = [layer([d("o", pax={"SCHILY.xattr.trusted.overlay.opaque": "y"}),
                                      entry("o/f", data=b"f", pax={
                                          "SCHILY.xattr.trusted.overlay.redirect": "/etc",
                                          "SCHILY.xattr.user.overlay.origin": "x",
                                          "SCHILY.xattr.user.keep": "kept"})])]
    # U13: absolute symlink from a lower layer must resolve inside the root, not be refused
    c["u13-abs-symlink-lower"] = [layer([d("run"), d("var"), sym("var/run", "/run")]),
                                  layer([d("var"), entry("var/run/x", data=b"x\n"),
                                         hard("h", "var/run/x")])]
    # U14: bombs, 96 MiB of zeros in six 16 MiB files (each below the limits the tests set, so the stream's
    # cap has to stop them)
    hdrs = []
    for k in range(6):
        z = tarfile.TarInfo("zeros%d" % k)
        z.size, z.mtime = 16 << 20, MTIME
        hdrs.append(z.tobuf(tarfile.GNU_FORMAT))
    mib = gzip.compress(b"\0" * (1 << 20), compresslevel=9, mtime=0)
    c["u14-gzip-bomb"] = [(b"".join(gz(h) + mib * 16 for h in hdrs) + gz(b"\0" * 1024), GZ, "sha256:" + "0" * 64)]
    c["u14-zstd-bomb"] = [(b"".join(zstd_zeros(h, 16) for h in hdrs) + zstd_raw(b"\0" * 1024), ZS,
                           "sha256:" + "0" * 64)]
    c["u14-tar-padding"] = [(zeros_gzip_members(tar([entry("f", data=b"f")]), 96), GZ, "sha256:" + "0" * 64)]
    c["u14-zstd-window"] = [(zstd_raw(tar([entry("f", data=b"f")]), window_log=31), ZS, "sha256:" + "0" * 64)]
    # Absurd sizes: a file claiming 2^62 bytes (GNU base-256), a sparse file claiming 1 PiB in 512 bytes.
    huge = tarfile.TarInfo("huge")
    huge.size, huge.mtime = 1 << 62, MTIME
    t = huge.tobuf(tarfile.GNU_FORMAT) + b"\0" * 1024
    c["u14-huge-size"] = [(gz(t), GZ, sha(t))]
    sp = tarfile.TarInfo("sparse")
    sp.size, sp.mtime = 512, MTIME
    sp.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "sparse",
                      "GNU.sparse.realsize": str(1 << 50)}
    t = sp.tobuf(tarfile.PAX_FORMAT) + b"1\n0\n0\n".ljust(512, b"\0") + b"\0" * 1024
    c["u14-sparse-huge"] = [(gz(t), GZ, sha(t))]
    # U15: junk
    rnd = random.Random(42).randbytes(200000)
    c["u15-gzip-random"] = [(gz(rnd), GZ, sha(rnd))]
    t = tar([entry("big", data=rnd[:100000])])
    c["u15-truncated-tar"] = [(gz(t[:50000]), GZ, sha(t[:50000]))]
    c["u15-zstd-garbage"] = [(zstd_raw(rnd), ZS, sha(rnd))]
    c["u15-truncated-gzip"] = [(gz(t)[:3000], GZ, sha(t))]
    c["u15-plain-garbage"] = [(rnd, TAR, sha(rnd))]
    # U16: DiffID mismatch; junk after the tar's end
    t = tar([entry("f", data=b"f\n")])
    c["u16-diffid-mismatch"] = [(gz(t), GZ, sha(t + b"x"))]
    c["u16-junk-after-eof"] = [(gz(t + b"junk" * 100), GZ, sha(t))]
    # U17: decompressors planted in the image; the zstd layer must be decompressed in-process
    fake = b"#!/bin/sh\ntouch " + victim.encode() + b"/executed\ncat\n"
    t = tar([d("usr"), d("usr/bin")] + [entry("usr/bin/" + n, data=fake, mode=0o755)
                                        for n in ("zstd", "xz", "gzip", "unpigz", "igzip", "pigz")])
    t2 = tar([entry("after", data=b"after\n")])
    c["u17-fake-decompressors"] = [(gz(t), GZ, sha(t)), (zstd_raw(t2), ZS, sha(t2)), (t2 + b"", TAR, sha(t2))]
    # Data in a compression libarchive could hand to an external program (lrzip, grzip, lzop, ... when its
    # filters are enabled), as a tar layer above the planted programs: never run, refused as not a tar.
    t3 = tar([entry("f", data=b"f\n")])
    for n, blob in [("xz", lzma.compress(t3)), ("bzip2", bz2.compress(t3)), ("lz4", b"\x04\x22\x4d\x18"),
                    ("lrzip", b"LRZI\x00\x06"), ("grzip", b"GRZipII\x00\x02\x04:)"),
                    ("lzop", b"\x89LZO\x00\r\n\x1a\n"), ("lzip", b"LZIP\x01"), ("compress", b"\x1f\x9d\x90"),
                    ("uuencode", b"begin 644 x\n")]:
        c["u17-foreign-" + n] = [(gz(t), GZ, sha(t)), (blob + b"\0" * 600 * (len(blob) < 16), TAR, sha(t3))]
    # A media type that is no tar layer (xz), with a forged log line in it: refused before anything is read.
    c["u17-media-type"] = [(lzma.compress(t3), "application/vnd.oci.image.layer.v1.tar+xz\nberth-unpack: forged",
                            sha(t3))]
    # U18: out-of-range header fields (GNU base-256 numbers)
    G = tarfile.GNU_FORMAT
    c["u18-dev-major-2e32"] = [layer([entry("dev", tarfile.CHRTYPE, major=1 << 32, minor=1)], G)]
    c["u18-dev-minor-neg"] = [layer([entry("dev", tarfile.BLKTYPE, major=8, minor=-1)], G)]
    c["u18-uid-2e32"] = [layer([entry("f", data=b"f", uid=1 << 32)], G)]
    c["u18-uid-neg"] = [layer([entry("f", data=b"f", uid=-1)], G)]
    c["u18-gid-2e31"] = [layer([entry("f", data=b"f", gid=1 << 31)], G)]
    # U19: replacements and link order
    c["u19-file-dir-file"] = [layer([entry("p", data=b"one\n"), d("p"), entry("p/in", data=b"in"),
                                     entry("p", data=b"three\n")])]
    c["u19-hardlink-forward"] = [layer([hard("early", "late"), entry("late", data=b"late\n")])]
    lower = layer([d("w"), entry("w/lower", data=b"lower\n"), d("w/sub"), entry("w/sub/old", data=b"old\n")])
    c["u19-whiteout-then-content"] = [lower, layer([entry(".wh.w"), entry("w/sub/new", data=b"new\n")])]
    c["u19-content-then-whiteout"] = [lower, layer([entry("w/sub/new", data=b"new\n"), entry(".wh.w")])]
    c["u19-dup-hardlinks"] = [layer([entry("f", data=b"f\n"), hard("h1", "f"), hard("h2", "f"), hard("h1", "f")])]
    # U20: names
    long_ok = "/".join(["d" * 200] * 15) + "/f"  # ~3 KiB, every component fits
    c["u20-long-ok"] = [layer([entry(long_ok, data=b"deep\n"), sym("l", "x" * 1000)], tarfile.GNU_FORMAT)]
    c["u20-too-long"] = [layer([entry("/".join(["e" * 250] * 20) + "/f", data=b"x")])]
    c["u20-long-component"] = [layer([entry("n" * 300, data=b"x")])]
    c["u20-pax-dotdot"] = [layer([entry("innocent", data=b"x", pax={"path": "../../" + v + "/pax"})])]
    c["u20-newline-name"] = [layer([entry("a\nberth-unpack: forged line/../../x", data=b"x")])]
    c["u20-nul-name"] = [layer([entry("nul", data=b"x", pax={"path": "a\0/../../b"})])]
    # U21: setuid, setgid, sticky, capabilities, owners kept
    cap = bytes.fromhex("0100000200200000000000000000000000000000")
    # SCHILY.xattr with raw bytes (tarfile then marks the header hdrcharset=BINARY), as GNU tar writes it; the
    # same value again in libarchive's base64 form on another file.
    cap_schily = cap.decode("utf-8", "surrogateescape")
    cap_b64 = base64.b64encode(cap).decode()
    c["u21-setuid"] = [layer([d("bin"), entry("bin/suid", data=b"#!/bin/sh\n", mode=0o4755),
                              entry("bin/sgid", data=b"#!/bin/sh\n", mode=0o2755, gid=50),
                              d("sticky", mode=0o1777), d("gdir", mode=0o2775, uid=1000, gid=1000),
                              entry("bin/cap", data=b"cap", mode=0o755,
                                    pax={"SCHILY.xattr.security.capability": cap_schily}),
                              entry("bin/cap2", data=b"cap", mode=0o755,
                                    pax={"LIBARCHIVE.xattr.security.capability": cap_b64}),
                              entry("fifo", tarfile.FIFOTYPE, mode=0o600),
                              entry("null", tarfile.CHRTYPE, mode=0o666, major=1, minor=3),
                              entry("sda", tarfile.BLKTYPE, mode=0o660, gid=6, major=8, minor=0)])]
    # U22: hardlinks to a lower layer's file (copied up in the store) that the merged view does not show
    one = layer([entry("f", data=b"f\n"), d("d"), entry("d/f", data=b"df\n")])
    c["u22-xlayer-whiteout"] = [one, layer([entry(".wh.f")]), layer([hard("h", "f")])]
    c["u22-xlayer-opaque"] = [one, layer([d("d"), entry("d/.wh..wh..opq"), entry("d/g", data=b"g\n")]),
                              layer([hard("h", "d/f")])]
    c["u22-xlayer-opaque-first"] = [one, layer([entry("d/.wh..wh..opq"), hard("h", "d/f")])]
    c["u22-xlayer-opaque-root"] = [one, layer([entry(".wh..wh..opq"), hard("h", "d/f")])]
    c["u22-xlayer-dir"] = [one, layer([entry("g", data=b"g\n")]), layer([hard("h", "d")])]
    # A symlinked directory planted in a lower layer, absolute or climbing, aimed at the victim (whose file
    # is the canary); the image has a file of that name inside too.
    plant = layer([d(v), entry(v + "/file", data=b"inside\n"), sym("abs", victim), sym("up", up)])
    c["u22-xlayer-symlink-abs"] = [plant, layer([entry("g", data=b"g\n")]), layer([hard("h", "abs/file")])]
    c["u22-xlayer-symlink-up"] = [plant, layer([hard("h", "up/file")])]
    return c


def zstd_cli(b):
    """Real zstd compression when the zstd program is there, else stored blocks (still a valid zstd frame)."""
    import shutil
    import subprocess
    if not shutil.which("zstd"):
        return zstd_raw(b)
    return subprocess.run(["zstd", "-q", "-3", "-c"], input=b, stdout=subprocess.PIPE, check=True).stdout


def extra(victim, want):
    """Benign images for the functional tests; built only when named."""
    c = {}
    if not any(w.startswith(("ok-", "gc-")) for w in want):
        return c
    t1 = tar([d("etc"), entry("etc/one", data=b"gzip\n"), entry("etc/shared", data=b"1\n")])
    t2 = tar([entry("etc/two", data=b"zstd\n"), entry("etc/shared", data=b"2\n")])
    t3 = tar([entry("etc/three", data=b"plain\n")])
    t4 = tar([entry("etc/four", data=b"multi-member\n"), entry("etc/shared", data=b"4\n")])
    c["ok-formats"] = [(gz(t1), GZ, sha(t1)), (zstd_cli(t2), ZS, sha(t2)), (t3, TAR, sha(t3)),
                       (gz(t4[:1024]) + gz(t4[1024:]), "application/vnd.docker.image.rootfs.diff.tar.gzip", sha(t4))]
    for n in (130, 300):
        if "ok-%dlayers" % n in want:
            c["ok-%dlayers" % n] = [layer([d("layers"), entry("layers/%03d" % i, data=b"%d\n" % i),
                                           entry("top", data=b"%d\n" % i)]) for i in range(n)]
    rnd = random.Random(7)
    if "ok-12layers" in want:
        c["ok-12layers"] = [layer([d("l%02d" % i)] + [entry("l%02d/f%04d" % (i, k), data=rnd.randbytes(2000),
                                                            mode=0o640, uid=k % 3, gid=k % 5) for k in range(300)])
                            for i in range(12)]
    if "ok-manyfiles" in want:
        c["ok-manyfiles"] = [layer([d("m%02d" % (k // 1000)) for k in range(0, 40000, 1000)] +
                                   [entry("m%02d/f%05d" % (k // 1000, k), data=b"%d" % k) for k in range(40000)])]
    base = layer([d("base"), entry("base/f", data=b"base\n")])
    c["gc-a"] = [base, layer([entry("a", data=b"a\n")])]
    c["gc-b"] = [base, layer([entry("b", data=b"b\n")])]
    c["ok-owners"] = [layer([d("home"), d("home/u", uid=1000, gid=1000), entry("home/u/f", data=b"u", uid=1000, gid=100),
                             entry("rootfile", data=b"r")])]
    c["ok-unmapped"] = [layer([entry("f", data=b"f", uid=70000)])]
    c["ok-implicit-parents"] = [layer([d("top"), entry("top/a/b/f", data=b"f\n")])]
    # Hardlinks across layers (kaniko, buildah): the top layer links to files of the bottom one, which is big
    # enough that with --jobs the top layer is ready first and must wait for it.
    cap2 = bytes.fromhex("0100000200200000000000000000000000000000")  # v2, cap_net_raw+ep
    low = [d("usr", mtime=MTIME - 50), d("usr/bin", mtime=MTIME - 40),
           entry("usr/bin/a", data=b"a\n" * 1000, mode=0o4750, uid=1000, gid=50,
                 pax={"SCHILY.xattr.security.capability": cap2.decode("utf-8", "surrogateescape"),
                      "SCHILY.xattr.user.note": "kept"}),
           sym("usr/bin/sl", "a"), entry("usr/bin/fifo", tarfile.FIFOTYPE, mode=0o640),
           d("opt", mtime=MTIME - 30), d("opt/deep", mode=0o750, uid=5, gid=6, mtime=MTIME - 20),
           d("opt/deep/dir", mode=0o710, uid=7, gid=8, pax={"SCHILY.xattr.user.dir": "d"}, mtime=MTIME - 10),
           entry("opt/deep/dir/f", data=b"deep\n", mode=0o600, uid=9, gid=9), d("many")]
    low += [entry("many/f%04d" % k, data=b"%d\n" % k) for k in range(3000)]
    c["ok-xlayer-hardlink"] = [layer(low), layer([d("etc"), entry("etc/mid", data=b"mid\n")]),
                               layer([d("usr", mtime=MTIME - 50), d("usr/bin", mtime=MTIME - 40),
                                      hard("usr/bin/b", "usr/bin/a"), d("top"), hard("top/g", "opt/deep/dir/f"),
                                      hard("top/l", "usr/bin/sl"), hard("top/p", "usr/bin/fifo")])]
    # The same layer links to lower files, then deletes them: a whiteout of the target, an opaque marker above
    # it. The links keep the file; the names go, as in a merged tree.
    c["ok-xlayer-then-delete"] = [layer([d("w"), entry("w/a", data=b"a\n"), d("o"), d("o/sub"),
                                         entry("o/sub/f", data=b"f\n"), entry("o/old", data=b"old\n")]),
                                  layer([hard("b", "w/a"), entry("w/.wh.a"), hard("c", "o/sub/f"),
                                         entry("o/.wh..wh..opq"), entry("o/new", data=b"new\n")])]
    if "ok-xlayer-sparse" in want:
        # A sparse file (GNU tar's PAX sparse form: 64 MiB, 4 KiB of data in the middle) linked from above.
        import subprocess
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "s"), "wb") as f:
                f.truncate(64 << 20)
                f.seek(32 << 20)
                f.write(b"x" * 4096)
            os.utime(os.path.join(tmp, "s"), (MTIME, MTIME))
            t = subprocess.run(["tar", "--sparse", "--format=posix", "--owner=0", "--group=0", "--numeric-owner",
                                "--pax-option=delete=atime,delete=ctime", "-C", tmp, "-cf", "-", "s"],
                               stdout=subprocess.PIPE, check=True).stdout
        c["ok-xlayer-sparse"] = [(gz(t), GZ, sha(t)), layer([hard("t", "s")])]
    # File capabilities: v2 and v3 (rootid 1234, the builder's namespace), owned by a user.
    cap3 = bytes.fromhex("0100000300200000000000000000000000000000d2040000")
    c["ok-caps"] = [layer([d("bin", uid=1000, gid=1000),
                           entry("bin/v2", data=b"2", mode=0o755, uid=1000, gid=1000,
                                 pax={"SCHILY.xattr.security.capability": cap2.decode("utf-8", "surrogateescape")}),
                           entry("bin/v3", data=b"3", mode=0o755, uid=1000, gid=1000,
                                 pax={"SCHILY.xattr.security.capability": cap3.decode("utf-8", "surrogateescape")}),
                           # The host's cat with cap_net_raw+ep: what it prints of /proc/self/status shows whether
                           # the kernel granted the capability.
                           entry("bin/capcat", data=open("/bin/cat", "rb").read(), mode=0o755, uid=1000, gid=1000,
                                 pax={"SCHILY.xattr.security.capability": cap2.decode("utf-8", "surrogateescape")})])]
    return c


def main():
    layout, victim = sys.argv[1], sys.argv[2]
    if not os.path.isabs(victim):
        sys.exit("VICTIM must be absolute")
    lay = Layout(layout)
    if sys.argv[3:4] == ["--tar"]:
        # An image of one layer from a tar file made by the caller. --lie-isize splits the gzip stream so that
        # its trailer (ISIZE of the last member) claims 1 KiB: a free-space estimate that is far too small.
        t = open(sys.argv[5], "rb").read()
        blob = gz(t[:-1024]) + gz(t[-1024:]) if "--lie-isize" in sys.argv else gz(t)
        lay.image(PREFIX + sys.argv[4] + ":latest", [(blob, GZ, sha(t))])
        lay.save()
        print(sys.argv[4], 1)
        return
    want = set(sys.argv[3:])
    all_cases = cases(victim)
    all_cases.update({k: v for k, v in extra(victim, want).items() if k in want})
    for name, layers in all_cases.items():
        if want and name not in want:
            continue
        lay.image(PREFIX + name + ":latest", layers)
        print(name, len(layers))
    lay.save()


if __name__ == "__main__":
    main()
