/*
 * fuzz_be_lower.c - libFuzzer target over the front end, the lowering and the
 * C back end (tests/backend/CMakeLists.txt builds it).
 *
 * Bytes are a .mbx program; when the front end accepts it, it is lowered to
 * the IR (lower.c), the IR is printed (ir_dump) and the C back end emits the
 * program into /dev/null.  A lowering that hits unreachable(), a back end that
 * cannot emit a checked program, a crash or a leak is a bug.  Seeds: the front
 * end's corpus (tests/fuzz/corpus/fe_front) and the programs of tests/backend.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend.h"
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
    mbxc_add_default_paths(&mc);
    if (parse_prelude(&mc) == 0) {
        parse_text(&mc, "fuzz.mbx", "fuzz.mbx", (const char *)data, size, true);
        parse_uses(&mc);
        if (mbxc_check(&mc) == 0 && !mc.internal_error && mc.graph) {
            struct ir_prog *p = lower_program(&mc);
            /* a checked program the lowering refuses must say why (a diagnostic) */
            if (p == NULL && mc.diag.errors == 0)
                abort();
            if (p) {
                ir_dump(p, sink);
                if (cgc_backend.emit(p, sink) != 0)
                    abort(); /* the C back end cannot emit a lowered program */
            }
        }
    }
    diag_flush(&mc.diag, true);
    mbxc_fini(&mc);
    return 0;
}
