/*
 * front.c - a compilation's life: init, search path, the flat list of passes
 * (mbxc_check), --dump-after, fini.  Shared by the mbxc driver and the fuzz
 * target, so both run exactly the same front end.
 */
#include "front.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MBX_STDLIB_INSTALL_DIR
#define MBX_STDLIB_INSTALL_DIR "/usr/local/share/mbx/stdlib"
#endif
#ifndef MBX_STDLIB_SOURCE_DIR
#define MBX_STDLIB_SOURCE_DIR "stdlib"
#endif

/* The stdlib of the prefix this mbxc runs from (bin/mbxc ->
 * share/mbx/stdlib/prelude.mbx), so that an installed tree may be moved; else
 * the one configured at build time. */
static const char *stdlib_install_dir(void)
{
    static char dir[600];
    char exe[512];
    struct stat st;
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len <= 0)
        return MBX_STDLIB_INSTALL_DIR;
    exe[len] = 0;
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(exe, '/');
        if (slash == NULL)
            return MBX_STDLIB_INSTALL_DIR;
        *slash = 0;
    }
    char prelude[700];
    snprintf(dir, sizeof(dir), "%s/share/mbx/stdlib", exe);
    snprintf(prelude, sizeof(prelude), "%s/prelude.mbx", dir);
    return stat(prelude, &st) == 0 ? dir : MBX_STDLIB_INSTALL_DIR;
}

void mbxc_init(struct mbxc *mc, FILE *diag_out)
{
    memset(mc, 0, sizeof(*mc));
    arena_init(&mc->arena);
    diag_init(&mc->diag, &mc->arena, diag_out);
    mc->units_tail = &mc->units;
    mc->stdlib_dirs[0] = stdlib_install_dir();
    mc->stdlib_dirs[1] = MBX_STDLIB_SOURCE_DIR;
    mc->dump_out = stdout;
    mc->nstd_cache = -1;
}

void mbxc_fini(struct mbxc *mc)
{
    arena_free(&mc->arena);
}

void mbxc_add_path(struct mbxc *mc, const char *dir)
{
    if (mc->npath == mc->cappath) {
        int cap = mc->cappath ? mc->cappath * 2 : 8;
        const char **np = arena_alloc(&mc->arena, sizeof(*np) * (size_t)cap);
        if (mc->npath)
            memcpy(np, mc->path, sizeof(*np) * (size_t)mc->npath);
        mc->path = np;
        mc->cappath = cap;
    }
    mc->path[mc->npath++] = dir;
}

void mbxc_add_default_paths(struct mbxc *mc)
{
    const char *env = getenv("MBX_PATH");
    if (env && *env) {
        char *copy = arena_strdup(&mc->arena, env);
        for (char *tok = strtok(copy, ":"); tok; tok = strtok(NULL, ":"))
            if (*tok)
                mbxc_add_path(mc, tok);
    }
    mbxc_add_path(mc, mc->stdlib_dirs[0]);
    mbxc_add_path(mc, mc->stdlib_dirs[1]);
}

void mbxc_maybe_dump(struct mbxc *mc, const char *pass)
{
    if (mc->dump_after && strcmp(mc->dump_after, pass) == 0)
        ast_dump(mc, mc->dump_out, pass);
}

int mbxc_check(struct mbxc *mc)
{
    mbxc_maybe_dump(mc, "parse");
    if (mc->diag.errors)
        return mc->diag.errors; /* a tree with holes would only add follow-on errors */
    sema_resolve(mc);
    mbxc_maybe_dump(mc, "resolve");
    sema_typecheck(mc);
    mbxc_maybe_dump(mc, "typecheck");
    link_pipeline(mc);
    mbxc_maybe_dump(mc, "link");
    link_analyse(mc);
    mbxc_maybe_dump(mc, "analyse");
    return mc->diag.errors;
}
