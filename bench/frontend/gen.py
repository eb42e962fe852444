#!/usr/bin/env python3
"""gen.py - write a large .mbx program for timing `mbxc check` (not a test).

    gen.py LINES > big.mbx

Each block is a realistic ~50-line module (configs, tables, state, derived
events, handlers with loops, alerts, table updates), plus a user flow with
an extern exporter every 10 modules, and one pipeline listing every module,
so every pass (parse, resolve, typecheck, link, analyse) has work to do.
"""
import sys

MODULE = """\
event get_{i} = tcp.data(c, s) where s == client and s.stream.starts_with("GET /{i}");
event big_{i} = get_{i}(c, s) where c.client.bytes > {i}000;

module m{i} {{
    import tcp;
    config threshold: int = {i};
    config window: duration = {w}s;
    config net: prefix = 10.{a}.0.0/16;
    table counts: map<ip, uint> expire window max 100000;
    table ports: map<ip, set<port>> expire 1m;
    state per tcp {{ hits: int = 0; bytes: uint = 0; }}

    on tcp.syn(c) {{
        counts[c.client.ip] += 1;
        ports[c.client.ip].add(c.server.port);
        if ports[c.client.ip].len() >= threshold and c.client.ip in net {{
            alert("m{i}.scan", src = c.client.ip, n = ports[c.client.ip].len());
            drop flow;
        }}
    }}

    on get_{i}(c, s) {{
        state.hits += 1;
        let head = s.stream.peek(64) as str;
        let at = head.find("Host:");
        if at >= 0 and head[at:at + 5].lower() == "host:" {{
            log("m{i}.host", at = at, hits = state.hits);
        }}
    }}

    on big_{i}(c, _) {{
        state.bytes = c.client.bytes + c.server.bytes;
        if state.bytes > 1MiB {{ alert("m{i}.big", bytes = state.bytes); }}
    }}

    on tcp.close(c) {{
        let total = c.client.pkts + c.server.pkts;
        if total > 1000 and c.server.port as int != 443 {{ log("m{i}.long", pkts = total); }}
    }}

    every window {{
        for k, v in counts {{
            if v > 100 {{ log("m{i}.busy", src = k, n = v); }}
        }}
    }}
}}

"""

FLOW = """\
flow proto_{i} over tcp {{ kind: str; count: uint; }}
event proto_{i}_msg(p: proto_{i}, body: bytes);
extern module proto_{i}_parser {{ import tcp; export proto_{i}, proto_{i}_msg; }}
module proto_{i}_watch {{
    import proto_{i};
    on proto_{i}_msg(p, body) where body.len() > 100 {{ alert("proto_{i}.big", kind = p.kind); }}
}}

"""


def main():
    want = int(sys.argv[1]) if len(sys.argv) > 1 else 50000
    out, lines, members, i = [], 0, [], 0
    while lines < want - 10:
        text = MODULE.format(i=i, w=5 + i % 50, a=i % 256)
        members.append("m%d" % i)
        if i % 10 == 0:
            text += FLOW.format(i=i)
            members.append("proto_%d_watch" % i)
        out.append(text)
        lines += text.count("\n")
        i += 1
    out.append("pipeline big {\n")
    for k in range(0, len(members), 8):
        out.append("    " + " ".join(m + ";" for m in members[k:k + 8]) + "\n")
    out.append("}\n")
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main()
