/*
 * addr.c - IPv4 and IPv6 addresses (mbx.h section 1).
 *
 * An address is 16 bytes; IPv4 is kept IPv4-mapped (::ffff:a.b.c.d) so that the
 * flow table and every comparison treat both families alike.  The text form is
 * the dotted quad for IPv4 (written here: output code calls it per record) and
 * inet_ntop's for IPv6 (RFC 5952: lower case, the longest zero run as "::"), the
 * form `ip -6` prints.
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
        *p = '\0';
    } else if (!inet_ntop(AF_INET6, a->b, tmp, sizeof tmp)) {
        tmp[0] = '\0';
    }
    size_t n = strlen(tmp);
    if (len > 0) {
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
