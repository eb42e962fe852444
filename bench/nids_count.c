/*
 * nids_count.c - the libnids peer of `mbx-streams --count` in the benchmark.
 *
 * Reads a capture with Debian's libnids, asks for the data of both directions of
 * every TCP connection (the same work mbx-streams --count does: reassemble and
 * count every byte), and prints packets, connections and the bytes delivered per
 * direction.  Checksums are not verified (captures from veths with offloads off
 * have them right, and mbx does not check them either).
 */
#include <nids.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t conns, bytes_c2s, bytes_s2c;

static void on_tcp(struct tcp_stream *ts, void **param)
{
    (void)param;
    if (ts->nids_state == NIDS_JUST_EST) {
        ts->client.collect++;
        ts->server.collect++;
        conns++;
    } else if (ts->nids_state == NIDS_DATA) {
        if (ts->server.count_new)
            bytes_c2s += ts->server.count_new; /* data the server received */
        if (ts->client.count_new)
            bytes_s2c += ts->client.count_new;
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: nids_count CAPTURE\n");
        return 2;
    }
    static struct nids_chksum_ctl nochk = {0, 0, NIDS_DONT_CHKSUM, 0};
    nids_params.filename = argv[1];
    nids_params.n_tcp_streams = 1 << 20;
    nids_params.n_hosts = 1 << 16;
    nids_params.scan_num_hosts = 0; /* no port-scan detection */
    nids_params.pcap_filter = NULL;
    if (!nids_init()) {
        fprintf(stderr, "nids_count: %s\n", nids_errbuf);
        return 2;
    }
    nids_register_chksum_ctl(&nochk, 1);
    nids_register_tcp((void *)on_tcp);
    nids_run();
    printf("connections %llu bytes_c2s %llu bytes_s2c %llu\n", (unsigned long long)conns,
           (unsigned long long)bytes_c2s, (unsigned long long)bytes_s2c);
    return 0;
}
