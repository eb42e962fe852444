/*
 * front.h - one compilation of the mbxc front end, and its passes.
 *
 * The driver (main.c, or the fuzz target) makes a struct mbxc, then calls the
 * passes as a flat list, as QBE's main.c does:
 *     parse (the files, the prelude, every unit they `use`)
 *     → sema_resolve → sema_typecheck → link_pipeline → link_analyse
 * mbxc_check() is that list.  Each pass keeps going after errors (types
 * become TY_ERROR, which silences follow-on errors), so one mistake gives one
 * message.  Everything lives in mc->arena and is freed by mbxc_fini().
 */
#ifndef MBXC_FRONT_H
#define MBXC_FRONT_H

#include <stdbool.h>
#include <stdio.h>

#include "arena.h"
#include "ast.h"
#include "diag.h"

#define MBXC_VERSION "0.1.0"

struct sema_tab; /* name → pointer hash table (sema.c) */

struct mbxc {
    struct arena arena;          /* everything of this compilation */
    struct diag diag;            /* messages */
    const char **path;           /* unit search path: -I, MBX_PATH, stdlib dirs */
    int npath, cappath;          /* used and allocated entries of path */
    const char *stdlib_dirs[2];  /* installed dir, source tree dir (prelude lookup) */
    struct unit *units;          /* every unit, prelude first */
    struct unit **units_tail;    /* append point */
    struct sema_tab *globals;    /* resolve: every top-level name */
    struct ast_decl *pipeline;   /* resolve: the pipeline, or NULL */
    struct link_graph *graph;    /* link: the linked pipeline, or NULL */
    struct ast_decl *prelude_tcp;   /* flow tcp */
    struct ast_decl *prelude_udp;   /* flow udp */
    struct ast_decl *prelude_endpoint; /* record endpoint */
    const char *dump_after;      /* --dump-after=PASS or NULL */
    FILE *dump_out;              /* where dumps go */
    bool internal_error;         /* the prelude disagrees with mbx_events.def */
    bool too_deep;               /* "nested too deeply" was reported */
    struct sema_tab *missing_units; /* std units reported as missing a `use` */
    struct std_text *std_cache;  /* texts of the stdlib units, read on first need */
    int nstd_cache;              /* entries of std_cache; -1 before reading */
};

void mbxc_init(struct mbxc *mc, FILE *diag_out);
void mbxc_fini(struct mbxc *mc);
void mbxc_add_path(struct mbxc *mc, const char *dir);
/* Add -I dirs first, then this: MBX_PATH entries and the stdlib dirs. */
void mbxc_add_default_paths(struct mbxc *mc);

/* parse.c: read and parse; NULL and a diagnostic on I/O errors. */
struct unit *parse_file(struct mbxc *mc, const char *path, const char *unit_name, bool is_main);
struct unit *parse_text(struct mbxc *mc, const char *path, const char *unit_name, const char *text,
                        size_t len, bool is_main);
int parse_prelude(struct mbxc *mc);
/* Load every unit named by a `use`, transitively (part of the parse pass). */
void parse_uses(struct mbxc *mc);
struct std_text {
    const char *unit;  /* "std.http" */
    const char *text;  /* its source */
};
/* The std.X unit (not loaded) that declares `name`, for hints; or NULL. */
const char *parse_std_unit_declaring(struct mbxc *mc, const char *name);

/* sema.c */
void sema_resolve(struct mbxc *mc);
void sema_typecheck(struct mbxc *mc);
struct sema_tab *sema_tab_new(struct arena *a, unsigned cap);
void *sema_tab_get(const struct sema_tab *t, const char *name);
/* Insert; returns the value already there (and inserts nothing), or NULL. */
void *sema_tab_put(struct sema_tab *t, const char *name, void *val);
/* `name` (a `what`) is declared in a std unit the program does not `use`:
 * report that once per unit (later names of that unit only count an error).
 * Returns false if no std unit declares it. */
bool sema_missing_use(struct mbxc *mc, const char *name, struct loc loc, const char *what);

/* link.c */
void link_pipeline(struct mbxc *mc);
void link_analyse(struct mbxc *mc);
void link_print_dot(struct mbxc *mc, FILE *out);

/* The whole front end on files already parsed: resolve to analyse, with dumps.
 * Returns the number of errors. */
int mbxc_check(struct mbxc *mc);
/* Prints the state after `pass` if --dump-after names it. */
void mbxc_maybe_dump(struct mbxc *mc, const char *pass);

#endif
