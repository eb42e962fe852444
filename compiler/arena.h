/*
 * arena.h - the compiler's one allocator.
 *
 * Every object of a compilation (source text, tokens' strings, AST, types,
 * symbol tables, diagnostics) lives in one arena that is freed once when the
 * compilation ends, as in QBE: no pass frees anything on its own, so no pass
 * can leave a dangling pointer into another pass's data.
 */
#ifndef MBXC_ARENA_H
#define MBXC_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
    struct arena_block *head; /* newest block; older ones chained behind */
    size_t total;             /* bytes handed out, for --dump statistics */
};

void arena_init(struct arena *a);
void arena_free(struct arena *a);
/* Zeroed memory aligned for any object; aborts on out-of-memory (a compiler
 * that cannot allocate has nothing useful left to say). */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ARENA_NEW(a, T) ((T *)arena_alloc((a), sizeof(T)))

#endif
