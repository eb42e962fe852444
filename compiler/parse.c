/*
 * parse.c - the parse pass: read files, run the flex/bison parser over them,
 * and load every unit a `use` names (and the prelude) from the search path.
 *
 * `use a.b;` looks for a/b.mbx in each -I directory and MBX_PATH entry, in
 * order; `use std.x;` also looks for x.mbx in the stdlib directories (the
 * installed one, then the source tree's stdlib/, so mbxc works from a build
 * tree).  The prelude is stdlib/prelude.mbx, found the same way.
 */
#include "parse.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mbx.tab.h"

#define PARSE_MAX_FILE (256 << 20) /* bytes of one source file: far above any real program */

/* flex's reentrant interface (declared here so we need not include the
 * generated header of the scanner) */
typedef void *yyscan_t;
int mbx_yylex_init_extra(struct parse_ctx *extra, yyscan_t *scanner);
int mbx_yylex_destroy(yyscan_t scanner);
struct yy_buffer_state *mbx_yy_scan_bytes(const char *bytes, int len, yyscan_t scanner);

struct diag_msg *parse_lex_error(struct parse_ctx *ctx, struct loc loc, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    ctx->syntax_errors++;
    ctx->lex_err_tok = ctx->ntok;
    return diag_error(&ctx->mc->diag, loc, "%s", buf);
}

const char *parse_intern(struct parse_ctx *ctx, const char *s, size_t n)
{
    return arena_strndup(&ctx->mc->arena, s, n);
}

void parse_table_option(struct parse_ctx *ctx, const char *word, struct loc loc)
{
    if (strcmp(word, "max") != 0) {
        struct diag_msg *m =
            diag_error(&ctx->mc->diag, loc, "unknown table option '%s'", word);
        diag_hint(&ctx->mc->diag, m, "a table takes `expire DURATION` and `max COUNT`");
    }
}

struct unit *parse_text(struct mbxc *mc, const char *path, const char *unit_name, const char *text,
                        size_t len, bool is_main)
{
    struct unit *u = ARENA_NEW(&mc->arena, struct unit);
    u->name = arena_strdup(&mc->arena, unit_name);
    u->file = diag_add_file(&mc->diag, path, text, len);
    u->is_main = is_main;
    *mc->units_tail = u;
    mc->units_tail = &u->next;

    struct parse_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.mc = mc;
    ctx.unit = u;
    ctx.file = u->file;
    ctx.line = 1;
    ctx.col = 1;
    ctx.prev = ctx.cur = diag_noloc();
    ctx.lex_err_tok = -9;
    yyscan_t scanner;
    if (mbx_yylex_init_extra(&ctx, &scanner) != 0)
        unreachable("cannot create the scanner");
    if (len > PARSE_MAX_FILE) {
        diag_error(&mc->diag, diag_noloc(), "'%s' is too large (%zu bytes; the limit is %d MiB)",
                   path, len, PARSE_MAX_FILE >> 20);
    } else {
        /* scan the arena copy: it stays alive for the whole compilation */
        mbx_yy_scan_bytes(mc->diag.files[u->file]->text, (int)len, scanner);
        mbx_yyparse(scanner, &ctx);
    }
    mbx_yylex_destroy(scanner);
    return u;
}

static char *read_all(struct mbxc *mc, const char *path, size_t *len, int *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        *err = errno;
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(fp);
        *err = EISDIR;
        return NULL;
    }
    if (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > PARSE_MAX_FILE) {
        fclose(fp);
        *err = EFBIG;
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(fp);
            *err = ENOMEM;
            return NULL;
        }
        n += fread(buf + n, 1, cap - n, fp);
        if (n < cap)
            break;
        cap *= 2;
        char *nb = realloc(buf, cap);
        if (!nb)
            free(buf);
        buf = nb;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        *err = EIO;
        return NULL;
    }
    char *copy = arena_strndup(&mc->arena, buf, n);
    free(buf);
    *len = n;
    return copy;
}

struct unit *parse_file(struct mbxc *mc, const char *path, const char *unit_name, bool is_main)
{
    size_t len = 0;
    int err = 0;
    char *text = read_all(mc, path, &len, &err);
    if (!text) {
        if (err == EFBIG)
            diag_error(&mc->diag, diag_noloc(), "cannot read '%s': larger than %d MiB", path,
                       PARSE_MAX_FILE >> 20);
        else
            diag_error(&mc->diag, diag_noloc(), "cannot read '%s': %s", path, strerror(err));
        return NULL;
    }
    return parse_text(mc, path, unit_name ? unit_name : path, text, len, is_main);
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int parse_prelude(struct mbxc *mc)
{
    for (int i = 0; i < 2; i++) {
        if (!mc->stdlib_dirs[i])
            continue;
        const char *p = arena_printf(&mc->arena, "%s/prelude.mbx", mc->stdlib_dirs[i]);
        if (!is_file(p))
            continue;
        struct unit *u = parse_file(mc, p, "prelude", false);
        if (!u)
            return -EIO;
        u->is_prelude = true;
        return 0;
    }
    diag_error(&mc->diag, diag_noloc(), "cannot find prelude.mbx in %s%s%s",
               mc->stdlib_dirs[0] ? mc->stdlib_dirs[0] : "",
               mc->stdlib_dirs[1] ? " or " : "", mc->stdlib_dirs[1] ? mc->stdlib_dirs[1] : "");
    return -ENOENT;
}

/* Find the file of a unit named a.b.c; NULL if none. */
static const char *find_unit(struct mbxc *mc, struct ast_name *path)
{
    size_t len = 0;
    for (struct ast_name *p = path; p; p = p->next)
        len += strlen(p->name) + 1;
    char *rel = arena_alloc(&mc->arena, len + 4);
    size_t o = 0;
    for (struct ast_name *p = path; p; p = p->next) {
        size_t l = strlen(p->name);
        memcpy(rel + o, p->name, l);
        o += l;
        rel[o++] = p->next ? '/' : '.';
    }
    memcpy(rel + o, "mbx", 4);
    for (int i = 0; i < mc->npath; i++) {
        const char *f = arena_printf(&mc->arena, "%s/%s", mc->path[i], rel);
        if (is_file(f))
            return f;
        /* stdlib dirs hold std.x as x.mbx */
        if (strncmp(rel, "std/", 4) == 0 &&
            (mc->path[i] == mc->stdlib_dirs[0] || mc->path[i] == mc->stdlib_dirs[1])) {
            f = arena_printf(&mc->arena, "%s/%s", mc->path[i], rel + 4);
            if (is_file(f))
                return f;
        }
    }
    return NULL;
}

void parse_uses(struct mbxc *mc)
{
    for (struct unit *u = mc->units; u; u = u->next) {
        for (struct ast_decl *d = u->decls; d; d = d->next) {
            if (d->kind != D_USE)
                continue;
            struct unit *t = NULL;
            for (struct unit *v = mc->units; v; v = v->next)
                if (!v->is_main && strcmp(v->name, d->name) == 0)
                    t = v;
            if (!t) {
                const char *f = find_unit(mc, d->u.use.path);
                if (!f) {
                    struct diag_msg *m =
                        diag_error(&mc->diag, d->loc, "cannot find unit '%s'", d->name);
                    char *rel = arena_strdup(&mc->arena, d->name);
                    for (char *c = rel; *c; c++)
                        if (*c == '.')
                            *c = '/';
                    diag_hint(&mc->diag, m,
                              "looked for %s.mbx in the -I directories, MBX_PATH and the "
                              "stdlib; add its directory with -I DIR",
                              strncmp(rel, "std/", 4) == 0 ? rel + 4 : rel);
                    continue;
                }
                t = parse_file(mc, f, d->name, false);
            }
            d->u.use.target = t;
        }
    }
}

/* Read the stdlib's units (not the prelude) once, for hints. */
static void load_std_cache(struct mbxc *mc)
{
    int cap = 16;
    mc->std_cache = arena_alloc(&mc->arena, sizeof(*mc->std_cache) * (size_t)cap);
    mc->nstd_cache = 0;
    for (int i = 0; i < 2; i++) {
        if (!mc->stdlib_dirs[i] || (i == 1 && strcmp(mc->stdlib_dirs[1], mc->stdlib_dirs[0]) == 0))
            continue;
        DIR *dir = opendir(mc->stdlib_dirs[i]);
        if (!dir)
            continue;
        struct dirent *de;
        while ((de = readdir(dir)) != NULL && mc->nstd_cache < cap) {
            size_t n = strlen(de->d_name);
            if (n < 5 || strcmp(de->d_name + n - 4, ".mbx") != 0 ||
                strcmp(de->d_name, "prelude.mbx") == 0)
                continue;
            size_t len = 0;
            int err = 0;
            const char *path = arena_printf(&mc->arena, "%s/%s", mc->stdlib_dirs[i], de->d_name);
            char *text = read_all(mc, path, &len, &err);
            if (!text)
                continue;
            mc->std_cache[mc->nstd_cache].unit =
                arena_printf(&mc->arena, "std.%.*s", (int)(n - 4), de->d_name);
            mc->std_cache[mc->nstd_cache].text = text;
            mc->nstd_cache++;
        }
        closedir(dir);
        if (mc->nstd_cache)
            break; /* the first stdlib directory that has units wins */
    }
}

/* Which stdlib unit (std.NAME, not loaded yet) declares `name`, for a hint
 * on an unknown name; NULL if none.  A plain text search of the stdlib
 * sources: only called on error paths. */
const char *parse_std_unit_declaring(struct mbxc *mc, const char *name)
{
    static const char *const kinds[] = {"flow ", "record ", "event ", "fn ", "module "};
    if (mc->nstd_cache < 0)
        load_std_cache(mc);
    size_t nl = strlen(name);
    for (int i = 0; i < mc->nstd_cache; i++) {
        bool loaded = false;
        for (struct unit *u = mc->units; u; u = u->next)
            loaded |= strcmp(u->name, mc->std_cache[i].unit) == 0;
        if (loaded)
            continue;
        const char *text = mc->std_cache[i].text;
        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
            size_t kl = strlen(kinds[k]);
            for (const char *p = strstr(text, kinds[k]); p; p = strstr(p + 1, kinds[k])) {
                if (p != text && p[-1] != '\n' && p[-1] != ' ')
                    continue;
                if (strncmp(p + kl, name, nl) != 0)
                    continue;
                char after = p[kl + nl];
                if (after == ' ' || after == '(' || after == '{' || after == ';')
                    return mc->std_cache[i].unit;
            }
        }
    }
    return NULL;
}
