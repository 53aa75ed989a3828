#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""unpack-compare.py A B [--no-mtime-dirs]: compare two trees entry by entry (type, mode, owner, size, content,
symlink target, device numbers, xattrs, mtime, hardlink groups). Prints every difference; exit 1 if any."""
import hashlib
import os
import stat
import sys


def walk(root, dir_mtimes):
    out = {}
    inodes = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames) + ([""] if dirpath == root else []):
            p = os.path.join(dirpath, name) if name else dirpath
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            d = {
                "type": stat.S_IFMT(st.st_mode),
                "mode": oct(stat.S_IMODE(st.st_mode)),
                "owner": (st.st_uid, st.st_gid),
            }
            if stat.S_ISREG(st.st_mode):
                h = hashlib.sha256()
                with open(p, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
                d["size"] = st.st_size
                d["sha256"] = h.hexdigest()
                if st.st_nlink > 1:
                    inodes.setdefault(st.st_ino, []).append(rel)
            elif stat.S_ISLNK(st.st_mode):
                d["target"] = os.readlink(p)
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                d["rdev"] = (os.major(st.st_rdev), os.minor(st.st_rdev))
            if (not stat.S_ISDIR(st.st_mode) or dir_mtimes) and rel != ".":
                d["mtime"] = int(st.st_mtime)
            try:
                d["xattrs"] = sorted((k, os.getxattr(p, k, follow_symlinks=False))
                                     for k in os.listxattr(p, follow_symlinks=False))
            except OSError:
                d["xattrs"] = []
            out[rel] = d
    for group in inodes.values():
        for rel in group:
            out[rel]["links"] = sorted(group)
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    dir_mtimes = "--no-mtime-dirs" not in sys.argv
    a, b = walk(args[0], dir_mtimes), walk(args[1], dir_mtimes)
    diffs = 0
    for rel in sorted(set(a) | set(b)):
        if rel not in a or rel not in b:
            print(f"{rel}: only in {args[0] if rel in a else args[1]}")
            diffs += 1
            continue
        for k in sorted(set(a[rel]) | set(b[rel])):
            if a[rel].get(k) != b[rel].get(k):
                print(f"{rel}: {k} differs: {a[rel].get(k)!r} != {b[rel].get(k)!r}")
                diffs += 1
    print(f"{len(a)} entries compared, {diffs} differences")
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
