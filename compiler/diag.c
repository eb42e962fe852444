/*
 * diag.c - formatting and queueing of diagnostics (see diag.h).
 *
 * Text form (GCC/cproc):
 *     prog.mbx:3:12: error: message
 *         3 |     import htp_session;
 *           |            ^~~~~~~~~~~
 *     prog.mbx:1:1: note: ...
 *     hint: ...
 * JSON form: one array of objects {kind, file, line, column, end_line,
 * end_column, message, option, children: [...]} printed when diag_flush()
 * is called with final = true.
 */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const warn_names[W_COUNT] = {
    [W_UNUSED_HANDLER] = "unused-handler",
    [W_UNUSED_EXPORT] = "unused-export",
    [W_UNUSED_IMPORT] = "unused-import",
};

int diag_warn_by_name(const char *name)
{
    for (int i = 0; i < W_COUNT; i++)
        if (strcmp(name, warn_names[i]) == 0)
            return i;
    return -1;
}

const char *diag_warn_name(int w)
{
    return w >= 0 && w < W_COUNT ? warn_names[w] : "?";
}

void diag_init(struct diag *d, struct arena *a, FILE *out)
{
    memset(d, 0, sizeof(*d));
    d->arena = a;
    d->out = out;
    d->max_errors = 20;
    d->sink.warn = -1;
    d->sink.loc = diag_noloc();
}

struct loc diag_noloc(void)
{
    struct loc l = {-1, 0, 0, 0, 0};
    return l;
}

struct loc loc_span(struct loc a, struct loc b)
{
    if (a.file < 0)
        return b;
    if (b.file != a.file)
        return a;
    a.last_line = b.last_line;
    a.last_column = b.last_column;
    return a;
}

int diag_add_file(struct diag *d, const char *path, const char *text, size_t len)
{
    if (d->nfiles == d->capfiles) {
        int cap = d->capfiles ? d->capfiles * 2 : 8;
        struct src_file **nf = arena_alloc(d->arena, sizeof(*nf) * (size_t)cap);
        if (d->nfiles)
            memcpy(nf, d->files, sizeof(*nf) * (size_t)d->nfiles);
        d->files = nf;
        d->capfiles = cap;
    }
    struct src_file *f = ARENA_NEW(d->arena, struct src_file);
    f->path = arena_strdup(d->arena, path);
    f->text = arena_strndup(d->arena, text, len);
    f->len = len;
    int n = 1;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n')
            n++;
    f->line_off = arena_alloc(d->arena, sizeof(size_t) * (size_t)n);
    f->nlines = 0;
    f->line_off[f->nlines++] = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n')
            f->line_off[f->nlines++] = i + 1;
    d->files[d->nfiles] = f;
    return d->nfiles++;
}

static struct diag_msg *new_msg(struct diag *d, enum diag_kind k, struct loc loc, const char *fmt,
                                va_list ap) __attribute__((format(printf, 4, 0)));

static struct diag_msg *new_msg(struct diag *d, enum diag_kind k, struct loc loc, const char *fmt,
                                va_list ap)
{
    struct diag_msg *m = ARENA_NEW(d->arena, struct diag_msg);
    m->kind = k;
    m->warn = -1;
    m->loc = loc;
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    char *t = arena_alloc(d->arena, (size_t)(n < 0 ? 0 : n) + 1);
    vsnprintf(t, (size_t)n + 1, fmt, ap);
    m->text = t;
    return m;
}

static void enqueue(struct diag *d, struct diag_msg *m)
{
    if (d->last)
        d->last->next = m;
    else
        d->first = m;
    d->last = m;
}

struct diag_msg *diag_error(struct diag *d, struct loc loc, const char *fmt, ...)
{
    d->errors++;
    if (d->errors > d->max_errors)
        return &d->sink;
    va_list ap;
    va_start(ap, fmt);
    struct diag_msg *m = new_msg(d, DIAG_ERROR, loc, fmt, ap);
    va_end(ap);
    enqueue(d, m);
    return m;
}

struct diag_msg *diag_warning(struct diag *d, enum diag_warn w, struct loc loc, const char *fmt,
                              ...)
{
    if (d->wdisabled & (1u << w))
        return &d->sink;
    bool promote = d->werror_all || (d->werror & (1u << w));
    if (promote) {
        d->errors++;
        if (d->errors > d->max_errors)
            return &d->sink;
    } else {
        d->warnings++;
    }
    va_list ap;
    va_start(ap, fmt);
    struct diag_msg *m = new_msg(d, promote ? DIAG_ERROR : DIAG_WARNING, loc, fmt, ap);
    va_end(ap);
    m->warn = (int)w;
    m->promoted = promote;
    enqueue(d, m);
    return m;
}

static void attach(struct diag_msg *parent, struct diag_msg *m)
{
    struct diag_msg **p = &parent->sub;
    while (*p)
        p = &(*p)->next;
    *p = m;
}

void diag_note(struct diag *d, struct diag_msg *parent, struct loc loc, const char *fmt, ...)
{
    if (parent == &d->sink)
        return;
    va_list ap;
    va_start(ap, fmt);
    attach(parent, new_msg(d, DIAG_NOTE, loc, fmt, ap));
    va_end(ap);
}

void diag_hint(struct diag *d, struct diag_msg *parent, const char *fmt, ...)
{
    if (parent == &d->sink)
        return;
    va_list ap;
    va_start(ap, fmt);
    attach(parent, new_msg(d, DIAG_HINT, diag_noloc(), fmt, ap));
    va_end(ap);
}

static const char *kind_name(enum diag_kind k)
{
    switch (k) {
    case DIAG_ERROR:
        return "error";
    case DIAG_WARNING:
        return "warning";
    case DIAG_NOTE:
        return "note";
    case DIAG_HINT:
        return "hint";
    }
    return "?";
}

/* The source line of loc, then a caret range under it. */
static void print_excerpt(struct diag *d, struct loc loc)
{
    if (loc.file < 0 || loc.file >= d->nfiles || loc.first_line < 1)
        return;
    struct src_file *f = d->files[loc.file];
    if (loc.first_line > f->nlines)
        return;
    const char *line = f->text + f->line_off[loc.first_line - 1];
    const char *end = f->text + f->len;
    size_t n = 0;
    while (line + n < end && line[n] != '\n' && line[n] != '\r')
        n++;
    fprintf(d->out, "%5d | ", loc.first_line);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)line[i];
        fputc(c == '\t' || c >= 0x20 ? c : ' ', d->out);
    }
    fputs("\n      | ", d->out);
    int first = loc.first_column < 1 ? 1 : loc.first_column;
    int last = loc.last_line == loc.first_line ? loc.last_column : (int)n;
    if (last < first)
        last = first;
    for (int i = 1; i < first; i++)
        fputc((size_t)(i - 1) < n && line[i - 1] == '\t' ? '\t' : ' ', d->out);
    fputc('^', d->out);
    for (int i = first + 1; i <= last; i++)
        fputc('~', d->out);
    fputc('\n', d->out);
}

static void print_text(struct diag *d, struct diag_msg *m)
{
    if (m->kind == DIAG_HINT) {
        fprintf(d->out, "hint: %s\n", m->text);
        return;
    }
    if (m->loc.file >= 0 && m->loc.file < d->nfiles)
        fprintf(d->out, "%s:%d:%d: ", d->files[m->loc.file]->path, m->loc.first_line,
                m->loc.first_column);
    else
        fputs("mbxc: ", d->out);
    fprintf(d->out, "%s: %s", kind_name(m->kind), m->text);
    if (m->warn >= 0)
        fprintf(d->out, m->promoted ? " [-Werror=%s]" : " [-W%s]", warn_names[m->warn]);
    fputc('\n', d->out);
    print_excerpt(d, m->loc);
    for (struct diag_msg *s = m->sub; s; s = s->next)
        print_text(d, s);
}

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void print_json(struct diag *d, struct diag_msg *m)
{
    fputs("{\"kind\": ", d->out);
    json_str(d->out, kind_name(m->kind));
    if (m->loc.file >= 0 && m->loc.file < d->nfiles) {
        fputs(", \"file\": ", d->out);
        json_str(d->out, d->files[m->loc.file]->path);
        fprintf(d->out, ", \"line\": %d, \"column\": %d, \"end_line\": %d, \"end_column\": %d",
                m->loc.first_line, m->loc.first_column, m->loc.last_line, m->loc.last_column);
    }
    fputs(", \"message\": ", d->out);
    json_str(d->out, m->text);
    if (m->warn >= 0) {
        fputs(", \"option\": ", d->out);
        json_str(d->out, arena_printf(d->arena, "%s%s", m->promoted ? "-Werror=" : "-W",
                                      warn_names[m->warn]));
    }
    if (m->kind == DIAG_ERROR || m->kind == DIAG_WARNING) {
        fputs(", \"children\": [", d->out);
        for (struct diag_msg *s = m->sub; s; s = s->next) {
            print_json(d, s);
            if (s->next)
                fputs(", ", d->out);
        }
        fputc(']', d->out);
    }
    fputc('}', d->out);
}

void diag_flush(struct diag *d, bool final)
{
    if (d->json && d->printed_json == 0 && (d->first || final))
        fputc('[', d->out);
    for (struct diag_msg *m = d->first; m; m = m->next) {
        if (d->json) {
            if (d->printed_json++ > 0)
                fputs(",\n ", d->out);
            print_json(d, m);
        } else {
            print_text(d, m);
        }
    }
    d->first = d->last = NULL;
    if (final) {
        if (d->errors > d->max_errors) {
            struct loc nl = diag_noloc();
            struct diag_msg *m = ARENA_NEW(d->arena, struct diag_msg);
            m->kind = DIAG_ERROR;
            m->warn = -1;
            m->loc = nl;
            m->text = arena_printf(d->arena, "too many errors (%d); only the first %d are shown",
                                   d->errors, d->max_errors);
            if (d->json) {
                if (d->printed_json++ > 0)
                    fputs(",\n ", d->out);
                print_json(d, m);
            } else {
                print_text(d, m);
            }
        }
        if (d->json)
            fputs("]\n", d->out);
    }
    fflush(d->out);
}

_Noreturn void diag_internal(const char *file, int line, const char *msg)
{
    fprintf(stderr, "mbxc: internal compiler error at %s:%d: %s\n", file, line, msg);
    fputs("mbxc: please report this with the input that caused it\n", stderr);
    abort();
}
