/*
 * hand_portscan.c - examples/portscan.mbx written by hand in C on libmbx, for
 * bench/backend/run.sh: the same table (map<ip, set<port>> expire 10s), the
 * same threshold, the same alert record and drop flow, so the difference in
 * rate is what mbxc's generated code costs.  usage: hand_portscan -r FILE [-o OUT]
 */
#include <stdio.h>
#include <string.h>

#include "mbx.h"

static mbx_table *probes, *reported;
static const int64_t threshold = 20;
static const mbx_time window = 10000000000ULL;

static void on_syn(const struct mbx_event *ev, void *ud)
{
    (void)ud;
    mbx_engine *e = ev->engine;
    mbx_time now = mbx_engine_now(e);
    const struct mbx_addr *src = mbx_flow_addr(ev->flow, MBX_CLIENT);
    mbx_table *s = mbx_table_put_set(probes, mbx_tkey_addr(src), now);
    if (s == NULL)
        return;
    mbx_table_put(s, mbx_tkey_u(mbx_flow_port(ev->flow, MBX_SERVER)), now);
    uint64_t n = mbx_table_len(s, now);
    if ((int64_t)n < threshold)
        return;
    if (!mbx_table_contains(reported, mbx_tkey_addr(src), now)) {
        mbx_table_put(reported, mbx_tkey_addr(src), now);
        struct mbx_out *o = mbx_engine_output(e);
        mbx_out_begin(o, now, "alert", ev->flow);
        mbx_out_object(o, "alert");
        mbx_out_str(o, "signature", "portscan");
        mbx_out_str(o, "module", "portscan");
        mbx_out_end_object(o);
        mbx_out_object(o, "mbx");
        mbx_out_addr(o, "src", src);
        mbx_out_int(o, "ports", (int64_t)n);
        mbx_table_out_keys(s, o, "sample", now);
        mbx_out_end_object(o);
        mbx_out_end(o);
    }
    mbx_drop_flow(ev->flow);
}

int main(int argc, char **argv)
{
    const char *in = NULL, *outp = "-";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-r") == 0)
            in = argv[i + 1];
        else if (strcmp(argv[i], "-o") == 0)
            outp = argv[i + 1];
    }
    if (in == NULL) {
        fprintf(stderr, "usage: %s -r FILE [-o OUT]\n", argv[0]);
        return 2;
    }
    char err[256];
    struct mbx_source *src = mbx_source_open_file(in, err, sizeof(err));
    struct mbx_out *o = mbx_out_open(outp, err, sizeof(err));
    if (src == NULL || o == NULL) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    struct mbx_config cfg;
    mbx_config_default(&cfg);
    mbx_engine *e = mbx_engine_new(&cfg);
    mbx_engine_set_output(e, o);
    struct mbx_table_def pd = {"portscan.probes", MBX_TK_ADDR, MBX_TK_SET, MBX_TK_UINT, window, 0};
    struct mbx_table_def rd = {"portscan.reported", MBX_TK_ADDR, MBX_TK_NONE, 0, window, 0};
    probes = mbx_table_new(&pd);
    reported = mbx_table_new(&rd);
    mbx_subscribe(e, MBX_EV_TCP_SYN, on_syn, NULL, 0);
    int rc = mbx_engine_run(e, src);
    mbx_table_free(probes);
    mbx_table_free(reported);
    mbx_engine_free(e);
    mbx_source_close(src);
    mbx_out_close(o);
    return rc < 0 ? 1 : 0;
}
