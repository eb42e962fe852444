/*
 * bulk.c - the C side of extern module bulk_detector (bulk.mbx), written
 * against the public runtime API (mbx.h) only.
 *
 * What mbxc's generated code expects of an extern module NAME (mbx.h section
 * 13): `int mbx_ext_NAME_attach(mbx_engine *e, int *ids)`, which registers
 * the events NAME exports and writes their ids in export-list order, and
 * `void mbx_ext_NAME_detach(void)`; a raised event's payload is a struct of
 * its parameters in order (a tcp/udp flow as mbx_flow *, a user-defined flow
 * or record as const void *, int as int64_t, uint/port/duration/time as
 * uint64_t, bool, str as struct mbx_str, ip as struct mbx_addr); and a field F
 * of an exported flow or record T is read through `mbx_ext_T_F(const void *)`.
 *
 * bulk_detector subscribes tcp.close and tcp.timeout and raises
 * bulk_transfer(b) for a connection whose server sent at least 64 KiB of
 * payload (bulk_report filters further with its own config).
 */
#include <errno.h>

#include "mbx.h"

#define BULK_MIN_BYTES (64u << 10)

struct bulk_conn {  /* an instance of flow bulk_conn */
    uint64_t bytes; /* payload bytes the server sent */
    uint64_t secs;  /* duration in ns */
};

struct bulk_transfer_payload { /* event bulk_transfer(b: bulk_conn) */
    const void *b;
};

static int bulk_ev = -1;

uint64_t mbx_ext_bulk_conn_bytes(const void *x);
uint64_t mbx_ext_bulk_conn_secs(const void *x);
int mbx_ext_bulk_detector_attach(mbx_engine *e, int *ids);
void mbx_ext_bulk_detector_detach(void);

uint64_t mbx_ext_bulk_conn_bytes(const void *x)
{
    return ((const struct bulk_conn *)x)->bytes;
}

uint64_t mbx_ext_bulk_conn_secs(const void *x)
{
    return ((const struct bulk_conn *)x)->secs;
}

static void on_end(const struct mbx_event *ev, void *udata)
{
    (void)udata;
    if (ev->flow == NULL)
        return;
    struct mbx_half_info h;
    mbx_flow_half(ev->flow, MBX_SERVER, &h);
    if (h.payload < BULK_MIN_BYTES)
        return;
    struct bulk_conn c = {h.payload, mbx_flow_last(ev->flow) - mbx_flow_start(ev->flow)};
    struct bulk_transfer_payload p = {&c};
    mbx_raise(ev->engine, bulk_ev, ev->flow, MBX_SERVER, &p);
}

int mbx_ext_bulk_detector_attach(mbx_engine *e, int *ids)
{
    bulk_ev = mbx_event_register(e, "bulk_transfer");
    if (bulk_ev < 0)
        return bulk_ev;
    int rc = mbx_subscribe(e, MBX_EV_TCP_CLOSE, on_end, NULL, 0);
    if (rc >= 0)
        rc = mbx_subscribe(e, MBX_EV_TCP_TIMEOUT, on_end, NULL, 0);
    if (rc < 0)
        return rc;
    ids[0] = bulk_ev;
    return 0;
}

void mbx_ext_bulk_detector_detach(void)
{
    bulk_ev = -1;
}
