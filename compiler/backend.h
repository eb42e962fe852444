/*
 * backend.h - the back ends behind one small vtable (QBE's struct Target).
 *
 * A back end turns the IR of one program (ir.h, made once by lower.c) into
 * text: the C back end (cgc.c) one C file that includes mbx.h and calls
 * mbx_main(); the LLVM back end (cgl.c) LLVM IR.  build.c chooses one by
 * name, emits into a temporary file and runs the system compiler on it.
 */
#ifndef MBXC_BACKEND_H
#define MBXC_BACKEND_H

#include <stdio.h>

#include "ir.h"

struct backend {
    const char *name;   /* "c", "llvm" */
    const char *suffix; /* ".c", ".ll" */
    /* Write the program; 0, or -1 after a diagnostic on stderr. */
    int (*emit)(const struct ir_prog *p, FILE *out);
};

extern const struct backend cgc_backend;
/* The LLVM back end (cgl.c, linked into mbxc only): emit writes LLVM IR text, and
 * cgl_emit_object an object file (optimised) that build.c links like cc's. */
extern const struct backend cgl_backend;
int cgl_emit_object(const struct ir_prog *p, const char *path);
/* Make build.c offer a back end that writes its own object file (main.c: LLVM). */
void build_register_llvm(const struct backend *be,
                         int (*obj)(const struct ir_prog *p, const char *path));

/* The back end called name, or NULL. */
const struct backend *backend_find(const char *name);

/* mbxc build / mbxc emit-c (build.c): argv[0] is the subcommand. */
int build_main(int argc, char **argv);
int build_emit_main(int argc, char **argv, const char *backend);
/* The driver's entry: argv[cmd] is build, emit-c or emit-llvm; options may come
 * before it too (mbxc -I dir build x.mbx -o x). */
int build_command(int argc, char **argv, int cmd);

#endif
