/*
 * fuzz_fe_front.c - libFuzzer target over the whole mbxc front end.
 *
 * Bytes are a .mbx program: parse (with the real prelude and stdlib units a
 * `use` may name), resolve, typecheck, link, analyse, print the diagnostics
 * (text or JSON, chosen by the input's length) and, for some inputs, the
 * --dump-after output and the DOT graph.  Everything must end without a crash,
 * an internal-error abort, or a leak (the arena is freed once).  Seeds: the
 * golden programs of tests/compile (corpus/fe_front/).
 */
#include <stdint.h>
#include <stdio.h>

#include "front.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (!sink)
        sink = fopen("/dev/null", "w");
    if (!sink)
        return 0;
    struct mbxc mc;
    mbxc_init(&mc, sink);
    mc.dump_out = sink;
    mc.diag.json = size % 3 == 0;
    mc.diag.werror_all = size % 7 == 0;
    if (size % 5 == 0)
        mc.dump_after = size % 2 ? "analyse" : "typecheck";
    mbxc_add_default_paths(&mc);
    if (parse_prelude(&mc) == 0) {
        parse_text(&mc, "fuzz.mbx", "fuzz.mbx", (const char *)data, size, true);
        parse_uses(&mc);
        if (mbxc_check(&mc) == 0 && !mc.internal_error)
            link_print_dot(&mc, sink);
    }
    diag_flush(&mc.diag, true);
    mbxc_fini(&mc);
    return 0;
}
