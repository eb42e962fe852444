/*
 * communityid.h - Community ID v1 of a 5-tuple, for communityid.c and its unit test.
 *
 * mbx_flow_community_id() (mbx.h section 5) computes it from a flow's public
 * accessors; this entry point takes the tuple itself so that the hash can be
 * checked against published vectors without building a flow.
 */
#ifndef MBX_COMMUNITYID_H
#define MBX_COMMUNITYID_H

#include "mbx.h"

/* "1:<base64 of SHA-1>" for the tuple (either order gives the same value), seed
 * as given (mbx uses 0).  Returns buf, or NULL if len < 32. */
char *mbx__community_id(uint16_t seed, uint8_t proto, const struct mbx_addr *a, uint16_t aport,
                        const struct mbx_addr *b, uint16_t bport, char *buf, size_t len);

#endif
