#!/usr/bin/env python3
"""forms_check.py CAPTURE EVENTS.json STATS.txt KIND - check the events of
e2e/forms.mbx against hand-computed constants and against tshark / the netem
corpus manifest (the sources are named beside each check)."""
import collections, json, subprocess, sys

cap, events, stats, kind = sys.argv[1:5]
ev = [json.loads(l) for l in open(events)]
logs = collections.defaultdict(list)
for e in ev:
    assert e["event_type"] == "log", e
    logs[e["log"]["message"]].append(e)
bad = 0


def check(cond, what):
    global bad
    print(("ok: " if cond else "FAIL: ") + what)
    bad += 0 if cond else 1


def tshark(*args):
    out = subprocess.run(["tshark", "-r", cap] + list(args), capture_output=True, text=True).stdout
    return [l.split("\t") for l in out.splitlines() if l]


# -- constants: values computed by hand from LANGUAGE.md's rules ---------------------------
if kind == "http":
    (a,) = [e["mbx"] for e in logs["arith"]]
    check(a == {"mul": 42, "div": 3, "rem": 2, "prec": 14, "paren": 20,
                "bits": 49,          # (0xf0 & 0x3c) | 0x01 = 0x30 | 1: & | bind like *, left to right
                "shifts": 4,         # (1 << 4) >> 2
                "xor": 240, "neg": -42,
                "wrap": -2**63,      # int arithmetic wraps (§8 Values)
                "div0": 0,           # division by zero gives 0 (and is counted)
                "u": 43, "back": -1, "logic": True, "cmp": True}, "arith %s" % a)
    (l,) = [e["mbx"] for e in logs["literals"]]
    check(l == {"int": 42, "dur": 1.5, "size": 65536, "mib": 1048576, "gib": 1073741824,
                "str": "a\tb\"c",
                "bytes": "160301",   # bytes as hex in JSON
                "ip4": "10.0.0.1", "ip6": "2001:db8::1", "port": 443, "flag": True,
                "min": 300, "hour": 3600, "in4": True, "in6": True, "out4": False,
                # SHA-256("abc"), FIPS 180-2 appendix B.1
                "sha": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
          "literals %s" % l)
    (s,) = [e["mbx"] for e in logs["strings"]]
    check(s == {"len": 12, "sw": True, "ew": True, "has": True, "find": 7, "miss": -1,
                "lower": "hello, world", "head": "Hello", "tail": "World",
                "sum": 97 + 98 + 99, "idx": 0 + 1 + 2, "lb": 1 + 2, "eq": True, "ne": True},
          "strings %s" % s)
    (t,) = [e["mbx"] for e in logs["tables"]]
    check(t == {"missing": 0, "n1": 2, "hasy": True, "after": 1, "total": 5, "n2": 2,
                "has3": False,       # max 2: adding 9 evicted the oldest entry (3)
                "left": [9]}, "tables %s" % t)
    check([e["mbx"] for e in logs["note"]] == [{"n": 42, "what": "raised"}], "raise note")
    check("unreachable" not in logs, "else branch not taken")
    check("gap" not in logs, "no tcp.gap: the netem captures miss no bytes for good")

    # -- per connection: tshark's view of the same capture -----------------------------------
    conns = {}   # tcp.stream -> client port, in order of first packet (= mbx flow ids)
    for st, sp, dp, flags in tshark("-T", "fields", "-e", "tcp.stream", "-e", "tcp.srcport",
                                    "-e", "tcp.dstport", "-e", "tcp.flags.syn"):
        if st not in conns:
            conns[st] = int(sp) if dp == "80" else int(dp)
    port_of_id = {i + 1: p for i, p in enumerate(conns.values())}
    length = collections.defaultdict(int)  # (client port, from client?) -> stream bytes
    for st, sp, seq, ln in tshark("-T", "fields", "-e", "tcp.stream", "-e", "tcp.srcport",
                                  "-e", "tcp.seq", "-e", "tcp.len"):
        if int(ln):
            k = (conns[st], sp != "80")
            length[k] = max(length[k], int(seq) + int(ln) - 1)
    closes = {e["mbx"]["client_port"]: e["mbx"] for e in logs["close"]}
    check(sorted(closes) == sorted(conns.values()) and len(logs["close"]) == len(conns),
          "one close per connection %s" % sorted(closes))
    for port, c in closes.items():
        check(port_of_id[c["id"]] == port, "flow id %d is the connection opened %s" % (c["id"], port))
        check(c["data_first"] == 1, "unsubscribe after the first tcp.data on %d" % port)
        check(c["states"] and c["cid"] and c["ended"], "state_change, community_id, times %d" % port)
        if kind == "http" and "server" in cap:
            check((c["cbytes"], c["sbytes"]) == (length[(port, True)], length[(port, False)]),
                  "stream bytes of %d: %s vs tshark %s" % (port, (c["cbytes"], c["sbytes"]),
                  (length[(port, True)], length[(port, False)])))
            check(not c["gap"], "no gap in server.pcap (tshark: lost_segment 0)")
    check([e["mbx"]["client_port"] for e in logs["steered close"]] == [port_of_id[2]],
          "steer: only flow 2 (%d) reaches the steered module" % port_of_id[2])

    # derived events: the first 14 bytes of each client stream, by tshark's first payload
    first = {}
    for st, sp, pl in tshark("-Y", "tcp.len > 0 && tcp.dstport == 80", "-T", "fields",
                             "-e", "tcp.stream", "-e", "tcp.srcport", "-e", "tcp.payload"):
        first.setdefault(int(sp), pl.replace(":", "")[:28])
    got = sorted(e["mbx"]["line"] for e in logs["first_get"])
    check(got == sorted(first.values()), "first_get tree: request lines %s" % got)
    for e in logs["first_get"]:
        m = e["mbx"]
        check(m["starts"] and m["at"] == 0 and m["has"] and m["slen"] and m["peek"],
              "stream methods on %d" % e["src_port"])

    # std.http: every request tshark sees, every file of the manifest with its sha256
    uris = sorted(u for (u,) in tshark("-Y", "http.request", "-T", "fields", "-e", "http.request.uri"))
    check(sorted(e["mbx"]["uri"] for e in logs["request"]) == uris, "http_request: %d URIs" % len(uris))
    firsts = {}
    for sp, u in tshark("-Y", "http.request", "-T", "fields", "-e", "tcp.srcport",
                        "-e", "http.request.uri"):
        firsts.setdefault(int(sp), u)
    check(all(e["mbx"]["first"] == firsts[e["src_port"]] for e in logs["request"]),
          "state per http_session keeps each connection's first URI (a copy)")
    files = {e["mbx"]["name"]: e["mbx"] for e in logs["file"]}
    man = "/".join(cap.split("/")[:-1]) + "/manifest.tsv"
    for name, size, sha in (l.split() for l in open(man)):
        f = files.get("/" + name)
        check(f is not None and f["size"] == int(size) and f["sha"] == sha,
              "file_seen %s: size and sha256 per manifest.tsv" % name)

    # pkt_in: the 1000th decoded packet is tshark's frame 1000 (all frames are TCP)
    ((t1000,),) = tshark("-Y", "frame.number == 1000", "-T", "fields", "-e", "frame.time_epoch")
    (p,) = logs["pkt_in 1000"]
    import datetime
    ts = datetime.datetime.strptime(p["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    check(abs(ts - float(t1000)) < 2e-6, "pkt_in 1000 at %s (tshark %s)" % (ts, t1000))
    # every tick (100ms): first packet + k * 100ms, never after the last packet
    times = [float(t) for (t,) in tshark("-T", "fields", "-e", "frame.time_epoch")]
    check(len(logs["tick"]) == int((times[-1] - times[0]) / 0.1), "%d ticks" % len(logs["tick"]))
    st = open(stats).read()
    check("packets dropped by actions" in st and
          int(st.split("packets dropped by actions")[1].split()[0]) == len(conns),
          "drop packet on each tcp.syn: %d (one per connection)" % len(conns))
    check(int(st.split("divisions by zero in .mbx code")[1].split()[0]) == 1, "div0 counted once")

if kind == "gap":
    # suricata-verify eve-payload-05-tcp-data-gap (TABLE.md row 4): 4 bytes missing between
    # "VERY" and "DATA" of the client's stream
    check([(e["mbx"]["len"], e["mbx"]["side"]) for e in logs["gap"]] == [(4, "client")],
          "tcp.gap: %s" % [e["mbx"] for e in logs["gap"]])
    check(len(logs["close"]) + len(logs["timeout"]) == 1, "one end of the connection")

if kind == "cut":
    # a capture cut short (editcap -r 1-400): connections still open at its end get tcp.timeout,
    # in flow-id order (LANGUAGE.md §8 Output); every connection ends exactly once
    syns = len(tshark("-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 0"))
    ends = [e["mbx"]["id"] for e in ev if e["log"]["message"] in ("close", "timeout")]
    touts = [e["mbx"]["id"] for e in logs["timeout"]]
    check(sorted(ends) == list(range(1, syns + 1)), "one end per connection %s" % ends)
    check(touts and touts == sorted(touts) and ends[-len(touts):] == touts,
          "tcp.timeout at the end, in flow-id order %s" % touts)

if kind == "udp":
    want = tshark("-T", "fields", "-e", "udp.srcport", "-e", "udp.length", "-e", "dns.id")
    got = [e["mbx"] for e in logs["udp"]]
    check(len(got) == len(want), "one udp.data per datagram (%d)" % len(want))
    for m, (sp, ulen, dnsid) in zip(got, want):
        side = "client" if m["client_port"] == int(sp) else "server"
        check(m["len"] == int(ulen) - 8 and m["side"] == side and
              m["first"] == dnsid[2:].rjust(4, "0"), "datagram %s" % m)

sys.exit(1 if bad else 0)
