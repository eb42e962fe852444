# Writes fuzz seeds for fuzz_http_parse: conversations in the target's record format.
# (run: python3 tests/http/make_fuzz_seeds.py tests/fuzz/corpus/http_parse)
import gzip
import os
import sys
import zlib

out = sys.argv[1]


def enc(flags, steps):
    """Byte 0 flags; then per step 'd' (data, cut in records of <= 64 bytes) or 'gap'."""
    b = bytearray([flags])
    for kind, d, payload in steps:
        if kind == 'gap':
            b.append((payload << 2) | 2 | d)
            continue
        for k in range(0, len(payload), 64):
            c = payload[k:k + 64]
            b.append(((len(c) - 1) << 2) | d)
            b += c
    return bytes(b)


R, S = 0, 1
body = b"hello world " * 20
gz = zlib.compress(gzip.compress(body, mtime=0))
cases = {
    'simple': [
        ('d', R, b"GET /a?b HTTP/1.1\r\nHost: h\r\nUser-Agent: x\r\n\r\n"),
        ('d', S, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: t\r\n\r\nhello")],
    'chunked': [
        ('d', R, b"POST /u HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"5\r\nabcde\r\n0\r\nT: 1\r\n\r\n"),
        ('d', S, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\n\r\n")],
    'gzip': [
        ('d', R, b"GET /g HTTP/1.1\r\n\r\n"),
        ('d', S, b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip, deflate\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(gz) + gz)],
    'gap': [
        ('d', R, b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"),
        ('d', S, b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n0123"), ('gap', S, 10),
        ('d', S, b"456789HTTP/1.1 404 NF\r\nContent-Length: 0\r\n\r\n")],
    'connect': [
        ('d', R, b"CONNECT a:443 HTTP/1.1\r\n\r\n"), ('d', S, b"HTTP/1.1 200 OK\r\n\r\n"),
        ('d', R, b"\x16\x03\x01\x00\x10abcdefghijklmnop")],
    'async': [
        ('d', S, b"HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\nmoved"),
        ('d', R, b"GET /\nUser-Agent: myscript\n\n")],
    'multipart': [
        ('d', R, b'POST /up HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=XY\r\n'
                 b'Content-Length: 75\r\n\r\n--XY\r\nContent-Disposition: form-data; '
                 b'filename="a"\r\n\r\nab\r\n--X\r\n--XY--\r\n')],
    'overflow': [
        ('d', R, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"10000000000000000\r\n\r\nGET /s HTTP/1.1\r\n\r\n")],
}
os.makedirs(out, exist_ok=True)
for name, steps in cases.items():
    for flags in (1, 3):
        open(os.path.join(out, f"{name}-{flags}"), 'wb').write(enc(flags, steps))
