/*
 * addr.c - IPv4 and IPv6 addresses (mbx.h section 1).
 *
 * An address is 16 bytes; IPv4 is kept IPv4-mapped (::ffff:a.b.c.d) so that the
 * flow table and every comparison treat both families alike.  The text form is
 * dotted quad for IPv4 and RFC 5952 for IPv6 (lower-case hex, the longest run of
 * two or more zero groups as "::", the first such run on a tie), which is what
 * inet_ntop and `ip -6` print.  Written by hand so that output code can call it
 * per event without libc's locale machinery.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "mbx.h"

static const uint8_t addr_v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool mbx_addr_is_v4(const struct mbx_addr *a)
{
    return memcmp(a->b, addr_v4_prefix, sizeof addr_v4_prefix) == 0;
}

/* Appends the decimal form of v (0..255) at p; returns the new end. */
static char *addr_put_u8(char *p, unsigned v)
{
    if (v >= 100)
        *p++ = (char)('0' + v / 100);
    if (v >= 10)
        *p++ = (char)('0' + v / 10 % 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

/* Appends the hex form of v without leading zeros. */
static char *addr_put_hex16(char *p, unsigned v)
{
    static const char hex[] = "0123456789abcdef";
    int shift = 12;
    while (shift > 0 && ((v >> shift) & 0xf) == 0)
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        *p++ = hex[(v >> shift) & 0xf];
    return p;
}

char *mbx_addr_str(const struct mbx_addr *a, char *buf, size_t len)
{
    char tmp[48];
    char *p = tmp;
    if (mbx_addr_is_v4(a)) {
        for (int i = 12; i < 16; i++) {
            p = addr_put_u8(p, a->b[i]);
            if (i < 15)
                *p++ = '.';
        }
    } else {
        unsigned g[8];
        for (int i = 0; i < 8; i++)
            g[i] = (unsigned)a->b[2 * i] << 8 | a->b[2 * i + 1];
        int best = -1, best_len = 1; /* a single zero group is not compressed */
        for (int i = 0; i < 8;) {
            if (g[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && g[j] == 0)
                j++;
            if (j - i > best_len) {
                best = i;
                best_len = j - i;
            }
            i = j;
        }
        for (int i = 0; i < 8; i++) {
            if (i == best) {
                *p++ = ':';
                if (i == 0)
                    *p++ = ':';
                i += best_len - 1;
                continue;
            }
            p = addr_put_hex16(p, g[i]);
            if (i < 7)
                *p++ = ':';
        }
    }
    *p = '\0';
    if (len > 0) {
        size_t n = (size_t)(p - tmp);
        if (n >= len)
            n = len - 1;
        memcpy(buf, tmp, n);
        buf[n] = '\0';
    }
    return buf;
}

int mbx_addr_parse(const char *s, struct mbx_addr *out)
{
    uint8_t v4[4];
    if (inet_pton(AF_INET, s, v4) == 1) {
        memcpy(out->b, addr_v4_prefix, sizeof addr_v4_prefix);
        memcpy(out->b + 12, v4, 4);
        return 0;
    }
    if (inet_pton(AF_INET6, s, out->b) == 1)
        return 0;
    return -EINVAL;
}
