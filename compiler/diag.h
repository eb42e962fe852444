/*
 * diag.h - diagnostics: source files, locations, errors, warnings, notes, hints.
 *
 * Every message a user sees goes through here, in GCC's form
 * `file:line:col: error: message`, then the source line with a caret range
 * under the culprit, then `note:` lines (with their own place) and `hint:`
 * lines.  Messages are queued so that notes and hints can be attached after
 * the main message is made; diag_flush() prints them (as text, or as one JSON
 * array with --json-diagnostics).  Warnings have names (-Wunused-handler ...),
 * can be disabled or turned into errors; the number of errors is capped.
 */
#ifndef MBXC_DIAG_H
#define MBXC_DIAG_H

#include <stdbool.h>
#include <stdio.h>

#include "arena.h"

/* A source range; also bison's YYLTYPE.  Columns are 1-based bytes; `last_*`
 * is the last character of the range (inclusive).  file < 0: no place. */
struct loc {
    int file;         /* index into diag.files, or -1 */
    int first_line;   /* 1-based line of the first character */
    int first_column; /* 1-based column of the first character */
    int last_line;    /* line of the last character */
    int last_column;  /* column of the last character */
};

struct src_file {
    const char *path;  /* as the user named it (or the search path found it) */
    const char *text;  /* whole contents, NUL-terminated (NULs inside kept) */
    size_t len;        /* bytes in text */
    size_t *line_off;  /* byte offset of the start of each line */
    int nlines;        /* entries in line_off */
};

enum diag_warn {
    W_UNUSED_HANDLER, /* a handler of an event its module can never receive */
    W_UNUSED_EXPORT,  /* a pipeline member exports a type no member imports */
    W_UNUSED_IMPORT,  /* a module imports a type it never uses */
    W_COUNT
};

enum diag_kind { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE, DIAG_HINT };

struct diag_msg {
    enum diag_kind kind;    /* severity (after -Werror) */
    int warn;               /* enum diag_warn, or -1 */
    bool promoted;          /* a warning made an error by -Werror */
    struct loc loc;         /* place (file < 0: none) */
    const char *text;       /* the message */
    struct diag_msg *sub;   /* first note/hint */
    struct diag_msg *next;  /* next message (or next note of the parent) */
};

struct diag {
    struct arena *arena;      /* owns messages and file texts */
    struct src_file **files;  /* every file read, index = loc.file */
    int nfiles, capfiles;     /* used and allocated entries of files */
    int errors, warnings;     /* counts so far (errors include promoted ones) */
    int max_errors;           /* cap: later errors are counted but not shown */
    bool json;                /* --json-diagnostics */
    bool werror_all;          /* -Werror */
    unsigned wdisabled;       /* bit per enum diag_warn: -Wno-NAME */
    unsigned werror;          /* bit per enum diag_warn: -Werror=NAME */
    FILE *out;                /* stderr, or a memory stream in the fuzzer */
    struct diag_msg *first;   /* queued messages, oldest first */
    struct diag_msg *last;    /* tail of the queue */
    struct diag_msg sink;     /* absorbs notes of suppressed messages */
    int printed_json;         /* JSON objects printed so far */
};

void diag_init(struct diag *d, struct arena *a, FILE *out);
/* Register a file's text (kept in the arena); returns its index. */
int diag_add_file(struct diag *d, const char *path, const char *text, size_t len);
struct loc diag_noloc(void);
/* Range from the first character of a to the last of b. */
struct loc loc_span(struct loc a, struct loc b);

struct diag_msg *diag_error(struct diag *d, struct loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
struct diag_msg *diag_warning(struct diag *d, enum diag_warn w, struct loc loc, const char *fmt,
                              ...) __attribute__((format(printf, 4, 5)));
void diag_note(struct diag *d, struct diag_msg *m, struct loc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void diag_hint(struct diag *d, struct diag_msg *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Print queued messages; with JSON, `final` closes the array. */
void diag_flush(struct diag *d, bool final);
/* Parse a warning name ("unused-handler"); -1 if unknown. */
int diag_warn_by_name(const char *name);
const char *diag_warn_name(int w);

/* Internal invariants: report an internal compiler error with the place. */
_Noreturn void diag_internal(const char *file, int line, const char *msg);
#define unreachable(msg) diag_internal(__FILE__, __LINE__, (msg))

#endif
