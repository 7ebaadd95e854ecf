#!/usr/bin/env python3
"""Independent JA3 / JA3N / JA4 calculator for ja3echo golden files (stdlib only).

Written from the text of ../../../shared/docs/fingerprint-spec.md, not from the
project's Go code, so that the Go parser can be checked against it.

Usage:
  ja4.py hex FILE.hex            fingerprints of a capture (raw TLS records as
                                 hex, '#' comment lines ignored) as JSON
  ja4.py msg HEX                 fingerprints of one handshake message (hex)
  ja4.py validate FILE.jsonl...  compare against the shared vectors (lines with
                                 clienthello_hex + ja4/ja4_r/ja4_o/ja4_ro/ja3n_*)
  ja4.py golden FILE.hex TSHARK.tsv
                                 print the golden JSON. TSHARK.tsv holds tshark's
                                 fields tcp.stream, tls.handshake.random,
                                 tls.handshake.ja3_full, tls.handshake.ja3 (tab
                                 separated, one hello a line); the row whose random
                                 equals the capture's is used. JA3 comes from tshark,
                                 JA3N from tshark's string with the extensions sorted,
                                 the JA4 family from this script. Fails if this
                                 script's own JA3 disagrees with tshark's.
"""

import hashlib
import json
import re
import sys


def is_grease(v):
    """RFC 8701 GREASE for 16-bit code points: 0x?a?a with both bytes equal."""
    return (v & 0x0F0F) == 0x0A0A and (v >> 8) == (v & 0xFF)


class ParseError(Exception):
    pass


class Reader:
    def __init__(self, data):
        self.d = data
        self.i = 0

    def left(self):
        return len(self.d) - self.i

    def take(self, n):
        if n < 0 or self.i + n > len(self.d):
            raise ParseError("truncated: need %d bytes at %d, have %d" % (n, self.i, self.left()))
        b = self.d[self.i:self.i + n]
        self.i += n
        return b

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        b = self.take(2)
        return (b[0] << 8) | b[1]

    def u24(self):
        b = self.take(3)
        return (b[0] << 16) | (b[1] << 8) | b[2]

    def vec(self, lenbytes):
        n = {1: self.u8, 2: self.u16, 3: self.u24}[lenbytes]()
        return self.take(n)


def u16list(b):
    if len(b) % 2:
        raise ParseError("odd length u16 list")
    return [(b[i] << 8) | b[i + 1] for i in range(0, len(b), 2)]


def reassemble(wire):
    """Walk 5-byte TLS records of type 22 and return (handshake message, record count, bytes used)."""
    buf = b""
    i = 0
    records = 0
    while True:
        if len(buf) >= 4:
            need = 4 + ((buf[1] << 16) | (buf[2] << 8) | buf[3])
            if len(buf) >= need:
                return buf[:need], records, i
        if i + 5 > len(wire):
            raise ParseError("truncated: record header missing (have %d handshake bytes)" % len(buf))
        ctype = wire[i]
        if ctype != 22:
            raise ParseError("record content type %d is not handshake(22)" % ctype)
        rlen = (wire[i + 3] << 8) | wire[i + 4]
        if rlen == 0:
            raise ParseError("zero-length handshake record")
        if i + 5 + rlen > len(wire):
            raise ParseError("truncated record")
        buf += wire[i + 5:i + 5 + rlen]
        i += 5 + rlen
        records += 1


def parse_hello(msg):
    r = Reader(msg)
    if r.u8() != 1:
        raise ParseError("not a ClientHello")
    body = Reader(r.take(r.u24()))
    if r.left():
        raise ParseError("trailing bytes after handshake message")
    h = {}
    h["legacy_version"] = body.u16()
    body.take(32)
    body.vec(1)  # session id
    h["ciphers"] = u16list(body.vec(2))
    body.vec(1)  # compression methods
    h["exts"] = []  # (type, data) in wire order
    if body.left():
        ext = Reader(body.vec(2))
        while ext.left():
            t = ext.u16()
            h["exts"].append((t, ext.vec(2)))
    if body.left():
        raise ParseError("trailing bytes in ClientHello body")
    return h


def ext_data(h, t):
    for et, d in h["exts"]:
        if et == t:
            return d
    return None


def details(h):
    """Decode the extension contents JA3/JA4 need."""
    out = {"groups": [], "point_formats": [], "sigalgs": [], "versions": None,
           "alpn": None, "sni": None}
    d = ext_data(h, 10)
    if d is not None:
        out["groups"] = u16list(Reader(d).vec(2))
    d = ext_data(h, 11)
    if d is not None:
        out["point_formats"] = list(Reader(d).vec(1))
    d = ext_data(h, 13)
    if d is not None:
        out["sigalgs"] = u16list(Reader(d).vec(2))
    d = ext_data(h, 43)
    if d is not None:
        out["versions"] = u16list(Reader(d).vec(1))
    d = ext_data(h, 16)
    if d is not None:
        names = []
        lst = Reader(Reader(d).vec(2))
        while lst.left():
            names.append(lst.vec(1))
        out["alpn"] = names
    d = ext_data(h, 0)
    if d is not None:
        lst = Reader(Reader(d).vec(2)) if d else Reader(b"")
        while lst.left():
            typ = lst.u8()
            name = lst.vec(2)
            if typ == 0 and out["sni"] is None:
                out["sni"] = name.decode("latin-1")
    return out


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def sha12(s):
    return hashlib.sha256(s.encode()).hexdigest()[:12]


def ja3_string(h, x, sort_exts=False):
    exts = [t for t, _ in h["exts"] if not is_grease(t)]
    if sort_exts:
        exts = sorted(exts)
    fields = [
        str(h["legacy_version"]),
        "-".join(str(c) for c in h["ciphers"] if not is_grease(c)),
        "-".join(str(t) for t in exts),
        "-".join(str(g) for g in x["groups"] if not is_grease(g)),
        "-".join(str(p) for p in x["point_formats"]),
    ]
    return ",".join(fields)


VERSION_CODES = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10",
                 0x0300: "s3", 0x0002: "s2", 0xFEFF: "d1", 0xFEFD: "d2", 0xFEFC: "d3"}


def alnum(b):
    return (0x30 <= b <= 0x39) or (0x41 <= b <= 0x5A) or (0x61 <= b <= 0x7A)


def alpn_code(names):
    if not names or len(names[0]) == 0:
        return "00"
    first = names[0]
    if alnum(first[0]) and alnum(first[-1]):
        return chr(first[0]) + chr(first[-1])
    hx = first.hex()
    return hx[0] + hx[-1]


def ja4_all(h, x):
    ciphers = [c for c in h["ciphers"] if not is_grease(c)]
    exts = [t for t, _ in h["exts"] if not is_grease(t)]
    sigalgs = [s for s in x["sigalgs"] if not is_grease(s)]
    version = h["legacy_version"]
    if x["versions"] is not None:
        vs = [v for v in x["versions"] if not is_grease(v)]
        if vs:
            version = max(vs)
    sni = "d" if any(t == 0 for t in exts) else "i"
    a = "t%s%s%02d%02d%s" % (VERSION_CODES.get(version, "00"), sni,
                            min(len(ciphers), 99), min(len(exts), 99),
                            alpn_code(x["alpn"]))
    hexl = lambda vals: ",".join("%04x" % v for v in vals)
    sig = ("_" + hexl(sigalgs)) if sigalgs else ""

    def part_b(cs):
        raw = hexl(cs)
        return raw, (sha12(raw) if cs else "000000000000")

    def part_c(es):
        raw = hexl(es) + sig
        return raw, (sha12(raw) if es else "000000000000")

    b_raw, b_hash = part_b(sorted(ciphers))
    c_raw, c_hash = part_c(sorted(t for t in exts if t not in (0x0000, 0x0010)))
    bo_raw, bo_hash = part_b(ciphers)
    co_raw, co_hash = part_c(exts)
    return {
        "ja4": "%s_%s_%s" % (a, b_hash, c_hash),
        "ja4_r": "%s_%s_%s" % (a, b_raw, c_raw),
        "ja4_o": "%s_%s_%s" % (a, bo_hash, co_hash),
        "ja4_ro": "%s_%s_%s" % (a, bo_raw, co_raw),
    }


def fingerprint_msg(msg):
    h = parse_hello(msg)
    x = details(h)
    ja3 = ja3_string(h, x)
    ja3n = ja3_string(h, x, sort_exts=True)
    out = {"ja3": ja3, "ja3_hash": md5(ja3), "ja3n": ja3n, "ja3n_hash": md5(ja3n)}
    out.update(ja4_all(h, x))
    out["sni"] = x["sni"]
    out["alpn"] = [n.decode("latin-1") for n in x["alpn"]] if x["alpn"] is not None else []
    # tshark shows ALPN names as UTF-8 with invalid bytes replaced; keep that form for comparisons.
    out["alpn_display"] = [n.decode("utf-8", "replace") for n in x["alpn"]] if x["alpn"] is not None else []
    out["tls_versions"] = x["versions"] if x["versions"] is not None else []
    out["hello_len"] = len(msg)
    return out


def read_hex_file(path):
    parts = []
    with open(path) as f:
        for line in f:
            if line.lstrip().startswith("#"):
                continue
            parts.append("".join(line.split()))
    return bytes.fromhex("".join(parts))


def fingerprint_wire(wire):
    msg, records, used = reassemble(wire)
    out = fingerprint_msg(msg)
    out["record_count"] = records
    out["wire_len"] = len(wire)
    out["hello_wire_len"] = used
    return out


def validate(paths):
    keys = ["ja4", "ja4_r", "ja4_o", "ja4_ro", "ja3n_full", "ja3n_hash", "ja3_full", "ja3_hash"]
    total = ok = skipped = 0
    for p in paths:
        for n, line in enumerate(open(p), 1):
            v = json.loads(line)
            if not v.get("clienthello_hex") or v.get("ja4") is None:
                skipped += 1
                continue
            total += 1
            got = fingerprint_msg(bytes.fromhex(v["clienthello_hex"]))
            got["ja3n_full"] = got["ja3n"]
            got["ja3_full"] = got["ja3"]  # vs tshark's own JA3
            bad = [k for k in keys if got[k] != v[k]]
            if v.get("sni_tshark") != got["sni"]:
                bad.append("sni")
            if v.get("alpn_tshark") is not None and v["alpn_tshark"] != got["alpn_display"]:
                bad.append("alpn")
            if bad:
                print("MISMATCH %s:%d (%s stream %s): %s" % (p, n, v.get("pcap"), v.get("tcp_stream"), bad))
                for k in bad:
                    if k in v:
                        print("   want %s = %s\n   got  %s = %s" % (k, v[k], k, got[k]))
            else:
                ok += 1
    print("validated %d/%d hellos (%d lines without a hello skipped)" % (ok, total, skipped))
    return ok == total


def read_comment(path):
    """Client description and date from the '# <client> captured <date>' line."""
    with open(path) as f:
        first = f.readline().strip()
    m = re.match(r"^#\s*(.*?)\s+captured\s+(\S+)\s*$", first)
    if not m:
        raise ParseError("%s: first line is not '# <client> captured <date>'" % path)
    return m.group(1), m.group(2)


def golden(hex_path, tsv_path):
    wire = read_hex_file(hex_path)
    msg, _, _ = reassemble(wire)
    random_hex = msg[6:38].hex()
    rows = []
    with open(tsv_path) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 4 and cols[1].replace(":", "").lower() == random_hex:
                rows.append(cols)
    if len(rows) != 1:
        sys.stderr.write("%s: %d tshark rows carry random %s\n" % (hex_path, len(rows), random_hex))
        return 1
    ja3_full, ja3_hash = rows[0][2], rows[0][3]
    fp = fingerprint_wire(wire)
    if fp["ja3"] != ja3_full or fp["ja3_hash"] != ja3_hash or md5(ja3_full) != ja3_hash:
        sys.stderr.write("%s: JA3 differs from tshark\n tshark %s %s\n own    %s %s\n"
                         % (hex_path, ja3_full, ja3_hash, fp["ja3"], fp["ja3_hash"]))
        return 1
    f = ja3_full.split(",")
    f[2] = "-".join(str(e) for e in sorted(int(e) for e in f[2].split("-") if e))
    ja3n = ",".join(f)
    client, _ = read_comment(hex_path)
    out = {
        "client": client,
        "ja3": ja3_full,
        "ja3_hash": ja3_hash,
        "ja3n": ja3n,
        "ja3n_hash": md5(ja3n),
    }
    for k in ("ja4", "ja4_r", "ja4_o", "ja4_ro", "sni", "alpn", "tls_versions",
              "record_count", "hello_len"):
        out[k] = fp[k]
    print(json.dumps(out, indent=2))
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    cmd = argv[1]
    if cmd == "hex":
        print(json.dumps(fingerprint_wire(read_hex_file(argv[2])), indent=2))
    elif cmd == "msg":
        print(json.dumps(fingerprint_msg(bytes.fromhex("".join(argv[2].split()))), indent=2))
    elif cmd == "validate":
        return 0 if validate(argv[2:]) else 1
    elif cmd == "golden":
        return golden(argv[2], argv[3])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
