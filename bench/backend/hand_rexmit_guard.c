/*
 * hand_rexmit_guard.c - examples/rexmit_guard.mbx written by hand in C on
 * libmbx, for bench/backend/run.sh: a tcp.rexmit subscriber that reads both
 * sides (so the runtime keeps their recent bytes), one alert per connection
 * with the same fields, per-flow state in mbx_flow_ext, and the 10 s
 * heartbeat timer.  usage: hand_rexmit_guard -r FILE [-o OUT]
 */
#include <stdio.h>
#include <string.h>

#include "mbx.h"

static int slot;

static void on_rexmit(const struct mbx_event *ev, void *ud)
{
    (void)ud;
    if (!ev->inconsistent || ev->flow == NULL)
        return;
    bool *reported = mbx_flow_ext(ev->flow, slot);
    if (*reported)
        return;
    *reported = true;
    mbx_engine *e = ev->engine;
    struct mbx_half_info h;
    mbx_flow_half(ev->flow, ev->side, &h);
    struct mbx_out *o = mbx_engine_output(e);
    mbx_out_begin(o, mbx_engine_now(e), "alert", ev->flow);
    mbx_out_object(o, "alert");
    mbx_out_str(o, "signature", "tcp.inconsistent_rexmit");
    mbx_out_str(o, "module", "rexmit_guard");
    mbx_out_end_object(o);
    mbx_out_object(o, "mbx");
    mbx_out_str(o, "side", ev->side == MBX_SERVER ? "server" : "client");
    mbx_out_uint(o, "seq", h.next_seq);
    mbx_out_addr(o, "client", mbx_flow_addr(ev->flow, MBX_CLIENT));
    mbx_out_addr(o, "server", mbx_flow_addr(ev->flow, MBX_SERVER));
    mbx_out_uint(o, "rexmits", h.rexmits);
    mbx_out_end_object(o);
    mbx_out_end(o);
}

static void heartbeat(mbx_engine *e, void *ud)
{
    (void)ud;
    struct mbx_out *o = mbx_engine_output(e);
    mbx_out_begin(o, mbx_engine_now(e), "log", NULL);
    mbx_out_object(o, "log");
    mbx_out_str(o, "message", "rexmit_guard alive");
    mbx_out_str(o, "module", "rexmit_guard");
    mbx_out_end_object(o);
    mbx_out_end(o);
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
    slot = mbx_flow_ext_register(e, sizeof(bool));
    mbx_subscribe(e, MBX_EV_TCP_REXMIT, on_rexmit, NULL, MBX_SUB_READ_CLIENT | MBX_SUB_READ_SERVER);
    mbx_every(e, 10000000000ULL, heartbeat, NULL);
    int rc = mbx_engine_run(e, src);
    mbx_engine_free(e);
    mbx_source_close(src);
    mbx_out_close(o);
    return rc < 0 ? 1 : 0;
}
