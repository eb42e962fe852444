/*
 * fuzz_http_parse.c - libFuzzer target over std.http's parser core.
 *
 * The input is a script for one connection.  Byte 0: bit 0 decode bodies,
 * bit 1 the connection ends cleanly.  Then records, each a control byte h:
 * bit 0 the direction (0 request, 1 response); if bit 1 is set, a gap of h>>2
 * bytes; otherwise the next (h>>2)+1 bytes are fed to that direction.  So
 * arbitrary bytes become two interleaved directions, cut into arbitrary
 * chunks, with holes.  The callbacks read every reported string and check
 * the invariants the parser promises (transactions reported once, in order;
 * file offsets increasing; a file's state final when it ends).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parser.h"

struct fz {
    uint64_t next_tx;     /* the id the next tx_done must carry */
    uint64_t next_off[2]; /* file_data offsets increase per side */
};

static void check_tx(const struct mbx_http_tx *tx)
{
    size_t n = strlen(tx->method) + strlen(tx->uri) + strlen(tx->protocol) + strlen(tx->host) +
               strlen(tx->user_agent) + strlen(tx->content_type) + strlen(tx->redirect) +
               strlen(tx->req_content_type) + strlen(tx->resp_protocol);
    if (n > 10 * MBX_HTTP_URI_MAX)
        abort();
}

static void f_req(void *u, const struct mbx_http_tx *tx)
{
    check_tx(tx);
}
static void f_resp(void *u, const struct mbx_http_tx *tx)
{
    check_tx(tx);
}

static void f_data(void *u, const struct mbx_http_file_data *d)
{
    struct fz *z = u;
    int s = d->file->side;
    if (d->offset < z->next_off[s] || d->len == 0 || d->file->state != MBX_HTTP_FILE_OPEN)
        abort();
    z->next_off[s] = d->offset + d->len;
    volatile uint8_t sum = 0;
    for (size_t i = 0; i < d->len; i++)
        sum ^= d->data[i];
    (void)sum;
}

static void f_end(void *u, const struct mbx_http_file_info *f)
{
    struct fz *z = u;
    if (f->state == MBX_HTTP_FILE_OPEN || strlen(f->name) >= MBX_HTTP_URI_MAX)
        abort();
    if (f->has_sha256 && (f->gaps || f->state != MBX_HTTP_FILE_CLOSED))
        abort();
    z->next_off[f->side] = 0;
}

static void f_done(void *u, const struct mbx_http_tx *tx)
{
    struct fz *z = u;
    check_tx(tx);
    if (tx->tx_id != z->next_tx)
        abort();
    z->next_tx++;
}

static const struct http_callbacks fcb = {f_req, f_resp, f_data, f_end, f_done, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct fz z;
    memset(&z, 0, sizeof z);
    struct http_parser *p = http_parser_new(&fcb, &z, data[0] & 1);
    if (!p)
        return 0;
    bool clean = data[0] & 2;
    size_t i = 1;
    while (i < size) {
        uint8_t h = data[i++];
        enum http_dir d = (enum http_dir)(h & 1);
        if (h & 2) {
            http_parser_gap(p, d, h >> 2);
            continue;
        }
        size_t n = (size_t)(h >> 2) + 1;
        if (n > size - i)
            n = size - i;
        if (n)
            http_parser_feed(p, d, data + i, n);
        i += n;
    }
    http_parser_close(p, clean);
    http_parser_free(p);
    return 0;
}
