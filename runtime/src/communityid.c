/*
 * communityid.c - the Community ID v1 flow hash (corelight/community-id-spec).
 *
 * Every event record carries it so that mbx's output joins with Zeek's
 * conn.log, Suricata's EVE and tshark's communityid field for the same flow.
 * The value is "1:" followed by the base64 of SHA-1 over
 *
 *   seed (2 bytes, network order) | lower address | higher address |
 *   protocol (1) | padding 0 (1) | lower address's port | higher address's port
 *
 * where the endpoints are ordered by address bytes, then by port, so that both
 * directions hash alike.  Addresses are 4 bytes for IPv4 (mbx keeps them as
 * ::ffff:a.b.c.d and strips the prefix here) and 16 for IPv6; ports are in
 * network order.  SHA-1 comes from OpenSSL's libcrypto.
 */
#include <string.h>

#include <openssl/sha.h>

#include "communityid.h"

/* RFC 4648 base64 with padding; out needs 4 * ((n + 2) / 3) + 1 bytes. */
static void cid_base64(const uint8_t *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

char *mbx__community_id(uint16_t seed, uint8_t proto, const struct mbx_addr *a, uint16_t aport,
                        const struct mbx_addr *b, uint16_t bport, char *buf, size_t len)
{
    if (buf == NULL || len < 32) /* "1:" + 28 characters + NUL */
        return NULL;
    bool v4 = mbx_addr_is_v4(a) && mbx_addr_is_v4(b);
    size_t alen = v4 ? 4 : 16;
    const uint8_t *pa = a->b + (v4 ? 12 : 0);
    const uint8_t *pb = b->b + (v4 ? 12 : 0);
    int c = memcmp(pa, pb, alen);
    if (c > 0 || (c == 0 && aport > bport)) { /* the lower endpoint goes first */
        const uint8_t *t = pa;
        pa = pb;
        pb = t;
        uint16_t tp = aport;
        aport = bport;
        bport = tp;
    }
    uint8_t msg[2 + 16 + 16 + 2 + 4];
    size_t n = 0;
    msg[n++] = (uint8_t)(seed >> 8);
    msg[n++] = (uint8_t)seed;
    memcpy(msg + n, pa, alen);
    n += alen;
    memcpy(msg + n, pb, alen);
    n += alen;
    msg[n++] = proto;
    msg[n++] = 0;
    msg[n++] = (uint8_t)(aport >> 8);
    msg[n++] = (uint8_t)aport;
    msg[n++] = (uint8_t)(bport >> 8);
    msg[n++] = (uint8_t)bport;
    uint8_t md[SHA_DIGEST_LENGTH];
    SHA1(msg, n, md);
    buf[0] = '1';
    buf[1] = ':';
    cid_base64(md, sizeof(md), buf + 2);
    return buf;
}

char *mbx_flow_community_id(const mbx_flow *f, char *buf, size_t len)
{
    return mbx__community_id(0, (uint8_t)mbx_flow_proto(f), mbx_flow_addr(f, MBX_CLIENT),
                             mbx_flow_port(f, MBX_CLIENT), mbx_flow_addr(f, MBX_SERVER),
                             mbx_flow_port(f, MBX_SERVER), buf, len);
}
