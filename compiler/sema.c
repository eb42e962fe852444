/*
 * sema.c - the resolve and typecheck passes.
 *
 * resolve: enters every top-level declaration into one global table (the
 * prelude first), checks the prelude against runtime/include/mbx_events.def,
 * resolves written types, event bases, handler events and bindings, module
 * imports/exports/configs/tables, and every name in every body (each E_NAME
 * points at its struct sym).
 * typecheck: gives every expression its type (LANGUAGE.md §2, §8 "Values"),
 * checks statements against their context (a handler of an event that carries
 * a packet, an `every` block, ...), config and table declarations, raise
 * arguments and cycles of raises, and warns about unused imports.
 * Erroneous expressions get TY_ERROR, which no check reports again, so one
 * mistake gives one message.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"
#include "parse.h"

#define T(k) ast_builtin_type(k)

/* ---- name → pointer hash table ---- */

struct sema_tab {
    struct arena *arena;  /* where it grows */
    unsigned cap, n;      /* slots (power of two) and entries */
    const char **keys;    /* names, NULL = empty */
    void **vals;          /* values */
};

static unsigned hash_str(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

struct sema_tab *sema_tab_new(struct arena *a, unsigned cap)
{
    struct sema_tab *t = ARENA_NEW(a, struct sema_tab);
    unsigned c = 16;
    while (c < cap * 2)
        c *= 2;
    t->arena = a;
    t->cap = c;
    t->keys = arena_alloc(a, sizeof(*t->keys) * c);
    t->vals = arena_alloc(a, sizeof(*t->vals) * c);
    return t;
}

void *sema_tab_get(const struct sema_tab *t, const char *name)
{
    for (unsigned i = hash_str(name) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (!t->keys[i])
            return NULL;
        if (strcmp(t->keys[i], name) == 0)
            return t->vals[i];
    }
}

void *sema_tab_put(struct sema_tab *t, const char *name, void *val)
{
    if ((t->n + 1) * 2 > t->cap) {
        struct sema_tab *g = sema_tab_new(t->arena, t->cap);
        for (unsigned i = 0; i < t->cap; i++)
            if (t->keys[i])
                sema_tab_put(g, t->keys[i], t->vals[i]);
        *t = *g;
    }
    unsigned i = hash_str(name) & (t->cap - 1);
    for (; t->keys[i]; i = (i + 1) & (t->cap - 1))
        if (strcmp(t->keys[i], name) == 0)
            return t->vals[i];
    t->keys[i] = name;
    t->vals[i] = val;
    t->n++;
    return NULL;
}

/* ---- helpers ---- */

static const char *tn(struct mbxc *mc, const struct type *t)
{
    char buf[256];
    return arena_strdup(&mc->arena, ast_type_name(t, buf, sizeof(buf)));
}

static bool is_err(const struct type *t)
{
    return !t || t->kind == TY_ERROR;
}

static bool is_integer(const struct type *t)
{
    return t && (t->kind == TY_INT || t->kind == TY_UINT);
}

static bool type_eq(const struct type *a, const struct type *b)
{
    if (a == b)
        return true;
    if (!a || !b || a->kind != b->kind)
        return false;
    switch (a->kind) {
    case TY_RECORD:
    case TY_FLOW:
        return a->decl == b->decl;
    case TY_MAP:
        return type_eq(a->key, b->key) && type_eq(a->val, b->val);
    case TY_SET:
        return type_eq(a->val, b->val);
    default:
        return true;
    }
}

static bool is_scalar(const struct type *t)
{
    return t && t->kind >= TY_BOOL && t->kind <= TY_DURATION;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 99;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

/* Spelling suggestions: keep the closest candidate. */
struct suggest {
    const char *name; /* query */
    const char *best; /* closest so far */
    size_t dist;      /* its distance */
};

static void suggest_init(struct suggest *s, const char *name)
{
    s->name = name;
    s->best = NULL;
    s->dist = strlen(name) / 3 + 1;
    if (s->dist > 3)
        s->dist = 3;
    s->dist++;
}

static void suggest_add(struct suggest *s, const char *cand)
{
    size_t d = edit_distance(s->name, cand);
    if (d < s->dist && strcmp(s->name, cand) != 0) {
        s->dist = d;
        s->best = cand;
    }
}

static void suggest_hint(struct mbxc *mc, struct diag_msg *m, struct suggest *s)
{
    if (s->best)
        diag_hint(&mc->diag, m, "did you mean `%s`?", s->best);
}

bool sema_missing_use(struct mbxc *mc, const char *name, struct loc loc, const char *what)
{
    const char *unit = parse_std_unit_declaring(mc, name);
    if (!unit)
        return false;
    if (!mc->missing_units)
        mc->missing_units = sema_tab_new(&mc->arena, 4);
    if (sema_tab_put(mc->missing_units, unit, (void *)unit)) {
        mc->diag.errors++; /* the missing `use` is already reported */
        return true;
    }
    struct diag_msg *m = diag_error(&mc->diag, loc, "unknown %s `%s`", what, name);
    diag_hint(&mc->diag, m, "`%s` is declared in %s; add `use %s;` at the top", name, unit, unit);
    return true;
}

static void suggest_globals(struct mbxc *mc, struct suggest *s, enum decl_kind k)
{
    for (struct unit *u = mc->units; u; u = u->next)
        for (struct ast_decl *d = u->decls; d; d = d->next)
            if (d->kind == k)
                suggest_add(s, d->name);
}

static struct ast_decl *global(struct mbxc *mc, const char *name)
{
    return sema_tab_get(mc->globals, name);
}

static const char *decl_what(const struct ast_decl *d)
{
    static const char *const w[] = {"unit", "record", "flow", "event", "module", "function",
                                    "pipeline"};
    return w[d->kind];
}

/* ---- resolve: types ---- */

static const struct {
    const char *name;     /* as written */
    enum type_kind kind;  /* its type */
} scalar_types[] = {
    {"bool", TY_BOOL},         {"int", TY_INT},       {"uint", TY_UINT},
    {"str", TY_STR},           {"bytes", TY_BYTES},   {"ip", TY_IP},
    {"prefix", TY_PREFIX},     {"port", TY_PORT},     {"time", TY_TIME},
    {"duration", TY_DURATION}, {"side", TY_SIDE},     {"stream", TY_STREAM},
    {"packet", TY_PACKET},     {"tcp_state", TY_TCP_STATE},
};

static const struct type *new_type(struct mbxc *mc, enum type_kind k, const struct type *key,
                                   const struct type *val)
{
    struct type *t = ARENA_NEW(&mc->arena, struct type);
    t->kind = k;
    t->key = key;
    t->val = val;
    return t;
}

static const struct type *resolve_type(struct mbxc *mc, struct ast_type *x)
{
    if (!x)
        return T(TY_ERROR);
    int nargs = 0;
    for (struct ast_type *a = x->args; a; a = a->next)
        nargs++;
    if (strcmp(x->name, "map") == 0 || strcmp(x->name, "set") == 0) {
        int want = x->name[0] == 'm' ? 2 : 1;
        if (nargs != want) {
            diag_error(&mc->diag, x->loc, "`%s` takes %d type argument%s, not %d", x->name,
                       want, want == 1 ? "" : "s", nargs);
            return T(TY_ERROR);
        }
        const struct type *a0 = resolve_type(mc, x->args);
        if (want == 1)
            return is_err(a0) ? a0 : new_type(mc, TY_SET, NULL, a0);
        const struct type *a1 = resolve_type(mc, x->args->next);
        if (is_err(a0) || is_err(a1))
            return T(TY_ERROR);
        return new_type(mc, TY_MAP, a0, a1);
    }
    if (nargs) {
        diag_error(&mc->diag, x->loc, "`%s` takes no type arguments", x->name);
        return T(TY_ERROR);
    }
    for (size_t i = 0; i < sizeof(scalar_types) / sizeof(scalar_types[0]); i++)
        if (strcmp(x->name, scalar_types[i].name) == 0)
            return T(scalar_types[i].kind);
    struct ast_decl *d = global(mc, x->name);
    if (d && (d->kind == D_RECORD || d->kind == D_FLOW))
        return d->type;
    if (d) {
        struct diag_msg *m =
            diag_error(&mc->diag, x->loc, "`%s` is a %s, not a type", x->name, decl_what(d));
        diag_note(&mc->diag, m, d->loc, "`%s` is declared here", x->name);
        return T(TY_ERROR);
    }
    if (sema_missing_use(mc, x->name, x->loc, "type"))
        return T(TY_ERROR);
    struct diag_msg *m = diag_error(&mc->diag, x->loc, "unknown type `%s`", x->name);
    struct suggest s;
    suggest_init(&s, x->name);
    for (size_t i = 0; i < sizeof(scalar_types) / sizeof(scalar_types[0]); i++)
        suggest_add(&s, scalar_types[i].name);
    suggest_globals(mc, &s, D_RECORD);
    suggest_globals(mc, &s, D_FLOW);
    suggest_hint(mc, m, &s);
    return T(TY_ERROR);
}

static void resolve_fields(struct mbxc *mc, struct ast_field *fields, int *count,
                           const char *what)
{
    int n = 0;
    for (struct ast_field *f = fields; f; f = f->next) {
        f->index = n++;
        for (struct ast_field *g = fields; g != f; g = g->next) {
            if (strcmp(g->name, f->name) == 0 && strcmp(f->name, "_") != 0) {
                struct diag_msg *m = diag_error(&mc->diag, f->loc, "duplicate %s `%s`", what,
                                                f->name);
                diag_note(&mc->diag, m, g->loc, "`%s` is first declared here", f->name);
                break;
            }
        }
        if (f->tyx)
            f->type = resolve_type(mc, f->tyx);
    }
    if (count)
        *count = n;
}

/* ---- resolve: the prelude against mbx_events.def ---- */

static const struct {
    const char *name;  /* .mbx name */
    const char *owner; /* packet, tcp or udp */
    bool packet;       /* carries a packet */
} builtin_events[] = {
#define MBX_EVENT(ID, name, owner, pkt) {name, #owner, pkt},
#include "mbx_events.def"
#undef MBX_EVENT
};
#define NBUILTIN ((int)(sizeof(builtin_events) / sizeof(builtin_events[0])))

static void prelude_error(struct mbxc *mc, struct loc loc, const char *msg, const char *name)
{
    diag_error(&mc->diag, loc, "internal error: the prelude and mbx_events.def disagree: %s `%s`",
               msg, name);
    mc->internal_error = true;
}

/* ---- resolve: events ---- */

static void resolve_event(struct mbxc *mc, struct ast_decl *d, int depth);

static bool flow_or_packet(const struct type *t)
{
    return t && (t->kind == TY_FLOW || t->kind == TY_PACKET);
}

struct scope {
    struct sym **syms;       /* local symbols, innermost last */
    int n, cap;              /* used and allocated */
    int block_start;         /* first sym of the innermost block */
    struct ast_decl *module; /* enclosing module, or NULL (event filters) */
};

static void scope_push(struct mbxc *mc, struct scope *sc, struct sym *s)
{
    if (sc->n == sc->cap) {
        int cap = sc->cap ? sc->cap * 2 : 16;
        struct sym **ns = arena_alloc(&mc->arena, sizeof(*ns) * (size_t)cap);
        if (sc->n)
            memcpy(ns, sc->syms, sizeof(*ns) * (size_t)sc->n);
        sc->syms = ns;
        sc->cap = cap;
    }
    sc->syms[sc->n++] = s;
}

static struct sym *new_sym(struct mbxc *mc, enum sym_kind k, const char *name, struct loc loc)
{
    struct sym *s = ARENA_NEW(&mc->arena, struct sym);
    s->kind = k;
    s->name = name;
    s->loc = loc;
    return s;
}

/* Bind a handler's (or derived event's) names to the event's parameters. */
static struct sym **bind_params(struct mbxc *mc, struct ast_decl *ev, struct ast_name *names,
                                int nnames, struct loc where, struct scope *sc)
{
    if (!ev || ev->kind != D_EVENT)
        return NULL;
    int np = ev->u.ev.nparams;
    if (nnames != np) {
        char *sig = arena_strdup(&mc->arena, "");
        for (struct ast_field *p = ev->u.ev.params; p; p = p->next)
            sig = arena_printf(&mc->arena, "%s%s%s: %s", sig, p->index ? ", " : "", p->name,
                               tn(mc, p->type));
        struct diag_msg *m =
            diag_error(&mc->diag, where, "`%s` has %d parameter%s, but %d name%s bound", ev->name,
                       np, np == 1 ? "" : "s", nnames, nnames == 1 ? " is" : "s are");
        diag_note(&mc->diag, m, ev->loc, "`%s(%s)` is declared here", ev->name, sig);
        diag_hint(&mc->diag, m, "bind every parameter by position; `_` ignores one");
    }
    struct sym **binds = arena_alloc(&mc->arena, sizeof(*binds) * (size_t)(nnames + 1));
    struct ast_field *p = ev->u.ev.params;
    int i = 0;
    for (struct ast_name *n = names; n; n = n->next, i++) {
        const struct type *t = p ? p->type : T(TY_ERROR);
        if (p)
            p = p->next;
        if (strcmp(n->name, "_") == 0)
            continue;
        for (struct ast_name *o = names; o != n; o = o->next) {
            if (strcmp(o->name, n->name) == 0) {
                struct diag_msg *m =
                    diag_error(&mc->diag, n->loc, "`%s` is bound twice", n->name);
                diag_note(&mc->diag, m, o->loc, "first bound here");
                break;
            }
        }
        struct sym *s = new_sym(mc, SYM_BIND, n->name, n->loc);
        s->index = i;
        s->type = t ? t : T(TY_ERROR);
        binds[i] = s;
        scope_push(mc, sc, s);
    }
    return binds;
}

static void resolve_expr(struct mbxc *mc, struct scope *sc, struct ast_expr *e);

static void resolve_event(struct mbxc *mc, struct ast_decl *d, int depth)
{
    if (d->u.ev.rstate == 2 || (!d->u.ev.derived && d->u.ev.root))
        return;
    if (!d->u.ev.derived) {
        d->u.ev.root = d;
        resolve_fields(mc, d->u.ev.params, &d->u.ev.nparams, "parameter");
        for (struct ast_field *p = d->u.ev.params; p; p = p->next) {
            if (flow_or_packet(p->type)) {
                d->u.ev.owner = p->type->kind == TY_PACKET ? OWN_PACKET : OWN_FLOW;
                d->u.ev.owner_flow = p->type->kind == TY_FLOW ? p->type->decl : NULL;
                break;
            }
        }
        bool param_err = false;
        for (struct ast_field *p = d->u.ev.params; p; p = p->next)
            param_err |= is_err(p->type);
        if (d->u.ev.owner == OWN_NONE && !param_err) {
            struct diag_msg *m =
                diag_error(&mc->diag, d->loc, "event `%s` has no flow parameter", d->name);
            diag_hint(&mc->diag, m,
                      "an event belongs to the type of its first flow (or packet) parameter; "
                      "add one, e.g. `c: tcp`");
        }
        d->u.ev.carries_packet = true; /* refined for raised events by typecheck */
        if (strchr(d->name, '.') && !d->unit->is_prelude) {
            struct diag_msg *m = diag_error(&mc->diag, d->loc,
                                            "dotted event names are reserved for built-in "
                                            "events: `%s`",
                                            d->name);
            diag_hint(&mc->diag, m, "name it without a dot, e.g. `%s`",
                      strchr(d->name, '.') + 1);
        }
        return;
    }
    /* derived: event x = base(names) where filter */
    if (d->u.ev.rstate == 1) {
        diag_error(&mc->diag, d->u.ev.base_x->loc, "event `%s` is derived from itself", d->name);
        return;
    }
    d->u.ev.rstate = 1;
    const char *bname = ast_dotted(mc, d->u.ev.base_x);
    struct ast_decl *b = global(mc, bname);
    if (!b || b->kind != D_EVENT) {
        struct diag_msg *m;
        if (b) {
            m = diag_error(&mc->diag, d->u.ev.base_x->loc, "`%s` is a %s, not an event", bname,
                           decl_what(b));
        } else {
            if (sema_missing_use(mc, bname, d->u.ev.base_x->loc, "event")) {
                d->u.ev.rstate = 2;
                return;
            }
            m = diag_error(&mc->diag, d->u.ev.base_x->loc, "unknown event `%s`", bname);
            struct suggest s;
            suggest_init(&s, bname);
            suggest_globals(mc, &s, D_EVENT);
            suggest_hint(mc, m, &s);
        }
        d->u.ev.rstate = 2;
        return;
    }
    if (b->u.ev.derived && b->u.ev.rstate != 2)
        resolve_event(mc, b, depth + 1);
    if (!b->u.ev.root) {
        d->u.ev.rstate = 2; /* the base is in error (or in a cycle): already reported */
        return;
    }
    d->u.ev.base = b;
    d->u.ev.root = b->u.ev.root;
    d->u.ev.owner = b->u.ev.owner;
    d->u.ev.owner_flow = b->u.ev.owner_flow;
    d->u.ev.carries_packet = b->u.ev.carries_packet;
    /* parameters: base's types under this declaration's names */
    int n = 0;
    struct ast_field *bp = b->u.ev.params;
    for (struct ast_field *p = d->u.ev.params; p; p = p->next, n++) {
        p->index = n;
        p->type = bp ? bp->type : T(TY_ERROR);
        if (bp)
            bp = bp->next;
    }
    d->u.ev.nparams = n;
    struct ast_name *names = NULL, **tail = &names;
    for (struct ast_field *p = d->u.ev.params; p; p = p->next) {
        *tail = ast_name_new(mc, p->name, p->loc);
        tail = &(*tail)->next;
    }
    struct scope sc = {0};
    struct loc where = d->u.ev.base_x->loc;
    for (struct ast_name *x = d->u.ev.base_x; x; x = x->next)
        where = loc_span(where, x->loc);
    if (n != b->u.ev.nparams) {
        bind_params(mc, b, names, n, where, &sc);
        sc.n = 0;
    }
    /* bind against d itself: its parameters have the right count by construction */
    d->u.ev.binds = bind_params(mc, d, names, n, where, &sc);
    if (d->u.ev.filter)
        resolve_expr(mc, &sc, d->u.ev.filter);
    d->u.ev.rstate = 2;
}

/* ---- resolve: bodies ---- */

static struct sym *scope_find(struct scope *sc, const char *name)
{
    for (int i = sc->n - 1; i >= 0; i--)
        if (strcmp(sc->syms[i]->name, name) == 0)
            return sc->syms[i];
    if (sc->module && sc->module->u.mod.scope)
        return sema_tab_get(sc->module->u.mod.scope, name);
    return NULL;
}

static void unknown_name(struct mbxc *mc, struct scope *sc, const char *name, struct loc loc)
{
    struct ast_decl *g = global(mc, name);
    if (g) {
        struct diag_msg *m = diag_error(&mc->diag, loc, "`%s` is a %s, not a value", name,
                                        decl_what(g));
        diag_note(&mc->diag, m, g->loc, "`%s` is declared here", name);
        return;
    }
    struct diag_msg *m = diag_error(&mc->diag, loc, "unknown name `%s`", name);
    struct suggest s;
    suggest_init(&s, name);
    for (int i = 0; i < sc->n; i++)
        suggest_add(&s, sc->syms[i]->name);
    if (sc->module)
        for (struct ast_item *it = sc->module->u.mod.items; it; it = it->next) {
            if (it->kind == I_CONFIG)
                suggest_add(&s, it->u.config.name);
            if (it->kind == I_TABLE)
                suggest_add(&s, it->u.table.name);
        }
    suggest_hint(mc, m, &s);
}

static void resolve_expr(struct mbxc *mc, struct scope *sc, struct ast_expr *e)
{
    if (!e)
        return;
    switch (e->kind) {
    case E_NAME:
        e->u.name.sym = scope_find(sc, e->u.name.name);
        if (e->u.name.sym)
            e->u.name.sym->used = true;
        else
            unknown_name(mc, sc, e->u.name.name, e->loc);
        break;
    case E_FIELD:
        resolve_expr(mc, sc, e->u.field.obj);
        break;
    case E_INDEX:
        resolve_expr(mc, sc, e->u.index.obj);
        resolve_expr(mc, sc, e->u.index.idx);
        break;
    case E_SLICE:
        resolve_expr(mc, sc, e->u.slice.obj);
        resolve_expr(mc, sc, e->u.slice.lo);
        resolve_expr(mc, sc, e->u.slice.hi);
        break;
    case E_CALL: {
        struct ast_expr *c = e->u.call.callee;
        if (c->kind == E_NAME) {
            struct ast_decl *f = global(mc, c->u.name.name);
            if (f && f->kind == D_FN) {
                e->u.call.fn = f;
            } else if (scope_find(sc, c->u.name.name)) {
                diag_error(&mc->diag, c->loc, "`%s` is not a function", c->u.name.name);
                c->type = T(TY_ERROR);
            } else if (sema_missing_use(mc, c->u.name.name, c->loc, "function")) {
                c->type = T(TY_ERROR);
            } else {
                struct diag_msg *m =
                    diag_error(&mc->diag, c->loc, "unknown function `%s`", c->u.name.name);
                struct suggest s;
                suggest_init(&s, c->u.name.name);
                suggest_globals(mc, &s, D_FN);
                suggest_hint(mc, m, &s);
                c->type = T(TY_ERROR);
            }
        } else {
            resolve_expr(mc, sc, c);
        }
        for (struct ast_expr *a = e->u.call.args; a; a = a->next_arg)
            resolve_expr(mc, sc, a);
        break;
    }
    case E_UNARY:
        resolve_expr(mc, sc, e->u.un.a);
        break;
    case E_BINARY:
        resolve_expr(mc, sc, e->u.bin.a);
        resolve_expr(mc, sc, e->u.bin.b);
        break;
    case E_AS:
        resolve_expr(mc, sc, e->u.as.a);
        break;
    default:
        break;
    }
}

static void resolve_stmts(struct mbxc *mc, struct scope *sc, struct ast_stmt *s);

static void resolve_block(struct mbxc *mc, struct scope *sc, struct ast_stmt *body)
{
    int saved_n = sc->n, saved_start = sc->block_start;
    sc->block_start = sc->n;
    resolve_stmts(mc, sc, body);
    sc->n = saved_n;
    sc->block_start = saved_start;
}

static void declare_local(struct mbxc *mc, struct scope *sc, struct sym *s)
{
    for (int i = sc->block_start; i < sc->n; i++) {
        if (strcmp(sc->syms[i]->name, s->name) == 0) {
            struct diag_msg *m = diag_error(&mc->diag, s->loc, "redefinition of `%s`", s->name);
            diag_note(&mc->diag, m, sc->syms[i]->loc, "`%s` is first defined here", s->name);
            break;
        }
    }
    scope_push(mc, sc, s);
}

static struct ast_decl *lookup_event(struct mbxc *mc, struct ast_name *x)
{
    const char *name = ast_dotted(mc, x);
    struct loc loc = x->loc;
    for (struct ast_name *p = x; p; p = p->next)
        loc = loc_span(loc, p->loc);
    struct ast_decl *d = global(mc, name);
    if (d && d->kind == D_EVENT) {
        resolve_event(mc, d, 0);
        return d;
    }
    if (d) {
        struct diag_msg *m =
            diag_error(&mc->diag, loc, "`%s` is a %s, not an event", name, decl_what(d));
        diag_note(&mc->diag, m, d->loc, "`%s` is declared here", name);
        return NULL;
    }
    if (sema_missing_use(mc, name, loc, "event"))
        return NULL;
    struct diag_msg *m = diag_error(&mc->diag, loc, "unknown event `%s`", name);
    struct suggest s;
    suggest_init(&s, name);
    suggest_globals(mc, &s, D_EVENT);
    suggest_hint(mc, m, &s);
    return NULL;
}

static void resolve_stmts(struct mbxc *mc, struct scope *sc, struct ast_stmt *s)
{
    for (; s; s = s->next) {
        switch (s->kind) {
        case S_LET:
            resolve_expr(mc, sc, s->u.let.init);
            s->u.let.sym = new_sym(mc, SYM_LET, s->u.let.name, s->u.let.name_loc);
            declare_local(mc, sc, s->u.let.sym);
            break;
        case S_ASSIGN:
            resolve_expr(mc, sc, s->u.assign.lhs);
            resolve_expr(mc, sc, s->u.assign.rhs);
            break;
        case S_EXPR:
            resolve_expr(mc, sc, s->u.expr);
            break;
        case S_IF:
            resolve_expr(mc, sc, s->u.if_.cond);
            resolve_block(mc, sc, s->u.if_.then_);
            resolve_block(mc, sc, s->u.if_.else_);
            break;
        case S_FOR: {
            resolve_expr(mc, sc, s->u.for_.iter);
            int saved_n = sc->n, saved_start = sc->block_start;
            sc->block_start = sc->n;
            s->u.for_.ksym = new_sym(mc, SYM_LOOP, s->u.for_.k, s->u.for_.k_loc);
            declare_local(mc, sc, s->u.for_.ksym);
            if (s->u.for_.v) {
                s->u.for_.vsym = new_sym(mc, SYM_LOOP, s->u.for_.v, s->u.for_.v_loc);
                declare_local(mc, sc, s->u.for_.vsym);
            }
            resolve_block(mc, sc, s->u.for_.body);
            sc->n = saved_n;
            sc->block_start = saved_start;
            break;
        }
        case S_RAISE:
            s->u.raise.event = lookup_event(mc, s->u.raise.event_x);
            for (struct ast_expr *a = s->u.raise.args; a; a = a->next_arg) {
                resolve_expr(mc, sc, a);
                s->u.raise.nargs++;
            }
            break;
        case S_ALERT:
        case S_LOG:
            resolve_expr(mc, sc, s->u.out.name);
            for (struct ast_arg *a = s->u.out.args; a; a = a->next)
                resolve_expr(mc, sc, a->value);
            break;
        case S_STEER: {
            resolve_expr(mc, sc, s->u.steer.flow);
            struct ast_name *t = s->u.steer.target;
            struct ast_decl *m = global(mc, t->name);
            if (m && m->kind == D_MODULE) {
                t->decl = m;
                m->u.mod.steered = true;
            } else if (m) {
                diag_error(&mc->diag, t->loc, "`%s` is a %s, not a module", t->name,
                           decl_what(m));
            } else {
                struct diag_msg *msg = diag_error(&mc->diag, t->loc, "unknown module `%s`",
                                                  t->name);
                struct suggest sg;
                suggest_init(&sg, t->name);
                suggest_globals(mc, &sg, D_MODULE);
                suggest_hint(mc, msg, &sg);
            }
            break;
        }
        default:
            break;
        }
    }
}

/* Which flow a name in an import/export/state list denotes (packet: decl NULL). */
static bool resolve_flow_name(struct mbxc *mc, struct ast_name *n, bool events_ok,
                              const char *where)
{
    if (strcmp(n->name, "packet") == 0)
        return true;
    struct ast_decl *d = global(mc, n->name);
    if (d && (d->kind == D_FLOW || (events_ok && d->kind == D_EVENT))) {
        n->decl = d;
        if (d->kind == D_EVENT)
            resolve_event(mc, d, 0);
        return true;
    }
    if (d) {
        struct diag_msg *m = diag_error(&mc->diag, n->loc, "`%s` is a %s, not a flow%s", n->name,
                                        decl_what(d), events_ok ? " or an event" : "");
        diag_hint(&mc->diag, m, "%s", where);
        return false;
    }
    if (sema_missing_use(mc, n->name, n->loc, "flow"))
        return false;
    struct diag_msg *m = diag_error(&mc->diag, n->loc, "unknown flow `%s`", n->name);
    struct suggest s;
    suggest_init(&s, n->name);
    suggest_add(&s, "packet");
    suggest_globals(mc, &s, D_FLOW);
    if (events_ok)
        suggest_globals(mc, &s, D_EVENT);
    suggest_hint(mc, m, &s);
    return false;
}

static struct ast_name *find_import(struct ast_decl *mod, const char *name)
{
    for (struct ast_item *it = mod->u.mod.items; it; it = it->next)
        if (it->kind == I_IMPORT)
            for (struct ast_name *n = it->u.names; n; n = n->next)
                if (strcmp(n->name, name) == 0)
                    return n;
    return NULL;
}

static const char *owner_name(const struct ast_decl *ev)
{
    return ev->u.ev.owner == OWN_PACKET ? "packet"
           : ev->u.ev.owner_flow        ? ev->u.ev.owner_flow->name
                                        : NULL;
}

static void resolve_module(struct mbxc *mc, struct ast_decl *d)
{
    bool bad_import = false; /* an import in error: "does not import" would be noise */
    d->u.mod.scope = sema_tab_new(&mc->arena, 8);
    for (struct ast_item *it = d->u.mod.items; it; it = it->next) {
        if (d->u.mod.is_extern && it->kind != I_IMPORT && it->kind != I_EXPORT) {
            struct diag_msg *m = diag_error(&mc->diag, it->loc,
                                            "an extern module only declares imports and exports");
            diag_hint(&mc->diag, m, "its code is C, written against libmbx's API");
            continue;
        }
        switch (it->kind) {
        case I_IMPORT:
        case I_EXPORT:
            for (struct ast_name *n = it->u.names; n; n = n->next) {
                bool imp = it->kind == I_IMPORT;
                bool ok = resolve_flow_name(mc, n, !imp,
                                       imp ? "a module imports flows: tcp, udp, packet or a "
                                             "user-defined flow"
                                           : "a module exports flows and events");
                if (!ok) {
                    bad_import |= imp;
                    continue;
                }
                /* duplicates across all import (export) lists of the module */
                for (struct ast_item *jt = d->u.mod.items; jt; jt = jt->next) {
                    if (jt->kind != it->kind)
                        continue;
                    bool done = false;
                    for (struct ast_name *o = jt->u.names; o && !done; o = o->next) {
                        if (o == n) {
                            done = true;
                            break;
                        }
                        if (strcmp(o->name, n->name) == 0) {
                            struct diag_msg *m = diag_error(&mc->diag, n->loc, "`%s` is %s twice",
                                                            n->name,
                                                            imp ? "imported" : "exported");
                            diag_note(&mc->diag, m, o->loc, "first %s here",
                                      imp ? "imported" : "exported");
                            done = true;
                        }
                    }
                    if (done)
                        break;
                }
                if (!imp && (strcmp(n->name, "packet") == 0 ||
                             (n->decl && n->decl->unit->is_prelude))) {
                    struct diag_msg *m = diag_error(&mc->diag, n->loc,
                                                    "only the runtime exports `%s`", n->name);
                    diag_hint(&mc->diag, m, "the runtime exports tcp, udp and packet; import "
                                            "them instead");
                }
            }
            break;
        case I_CONFIG:
        case I_TABLE: {
            bool cfg = it->kind == I_CONFIG;
            const char *name = cfg ? it->u.config.name : it->u.table.name;
            struct loc loc = cfg ? it->u.config.name_loc : it->u.table.name_loc;
            struct sym *s = new_sym(mc, cfg ? SYM_CONFIG : SYM_TABLE, name, loc);
            s->item = it;
            if (cfg) {
                it->u.config.sym = s;
                it->u.config.type = resolve_type(mc, it->u.config.tyx);
                s->type = it->u.config.type;
            } else {
                it->u.table.sym = s;
                it->u.table.type = resolve_type(mc, it->u.table.tyx);
                s->type = it->u.table.type;
            }
            struct sym *old = sema_tab_put(d->u.mod.scope, name, s);
            if (old) {
                struct diag_msg *m =
                    diag_error(&mc->diag, loc, "redefinition of `%s` in module `%s`", name,
                               d->name);
                diag_note(&mc->diag, m, old->loc, "`%s` is first defined here", name);
            }
            break;
        }
        case I_STATE: {
            if (d->u.mod.state) {
                struct diag_msg *m = diag_error(&mc->diag, it->loc,
                                                "module `%s` has a second `state per`", d->name);
                diag_note(&mc->diag, m, d->u.mod.state->loc, "the first is here");
                break;
            }
            d->u.mod.state = it;
            struct ast_name *per = it->u.state.per;
            if (strcmp(per->name, "packet") == 0) {
                struct diag_msg *m = diag_error(&mc->diag, per->loc,
                                                "`state per packet`: state is kept per flow");
                diag_hint(&mc->diag, m, "use `state per tcp` (or udp, or a user flow); a "
                                        "table keyed by address outlives single packets");
            } else if (resolve_flow_name(mc, per, false, "`state per` names a flow")) {
                struct ast_name *imp = find_import(d, per->name);
                if (!imp && !bad_import) {
                    struct diag_msg *m = diag_error(
                        &mc->diag, per->loc, "`state per %s` in module `%s`, which does not "
                                             "import `%s`",
                        per->name, d->name, per->name);
                    diag_hint(&mc->diag, m, "add `import %s;` to `%s`", per->name, d->name);
                } else if (imp) {
                    imp->used = true;
                }
            }
            resolve_fields(mc, it->u.state.fields, NULL, "state field");
            struct ast_decl *rec = ARENA_NEW(&mc->arena, struct ast_decl);
            rec->kind = D_RECORD;
            rec->name = arena_printf(&mc->arena, "%s.state", d->name);
            rec->loc = it->loc;
            rec->unit = d->unit;
            rec->u.rec.fields = it->u.state.fields;
            struct type *t = ARENA_NEW(&mc->arena, struct type);
            t->kind = TY_RECORD;
            t->decl = rec;
            rec->type = t;
            it->u.state.type = t;
            break;
        }
        default:
            break;
        }
    }
    /* handlers and timers, now that configs and tables are known */
    for (struct ast_item *it = d->u.mod.items; it; it = it->next) {
        struct scope sc = {0};
        sc.module = d;
        if (d->u.mod.is_extern)
            continue;
        if (it->kind == I_EVERY) {
            resolve_expr(mc, &sc, it->u.every.period);
            resolve_block(mc, &sc, it->u.every.body);
        } else if (it->kind == I_STATE) {
            for (struct ast_field *f = it->u.state.fields; f; f = f->next)
                resolve_expr(mc, &sc, f->init);
        } else if (it->kind == I_CONFIG) {
            resolve_expr(mc, &sc, it->u.config.init);
        } else if (it->kind == I_TABLE) {
            resolve_expr(mc, &sc, it->u.table.expire);
            resolve_expr(mc, &sc, it->u.table.max);
        } else if (it->kind == I_ON) {
            struct ast_decl *ev = lookup_event(mc, it->u.on.event_x);
            it->u.on.event = ev;
            int n = 0;
            for (struct ast_name *p = it->u.on.params; p; p = p->next)
                n++;
            it->u.on.nparams = n;
            struct loc where = it->u.on.event_x->loc;
            for (struct ast_name *x = it->u.on.event_x; x; x = x->next)
                where = loc_span(where, x->loc);
            if (ev && ev->u.ev.root) {
                it->u.on.binds = bind_params(mc, ev, it->u.on.params, n, where, &sc);
                const char *own = owner_name(ev);
                struct ast_name *imp = own ? find_import(d, own) : NULL;
                if (own && !imp && !bad_import) {
                    struct diag_msg *m = diag_error(
                        &mc->diag, where,
                        "module `%s` handles `%s`, an event of `%s`, but does not import `%s`",
                        d->name, ev->name, own, own);
                    diag_hint(&mc->diag, m, "add `import %s;` to `%s`", own, d->name);
                } else if (imp) {
                    imp->used = true;
                }
            } else {
                /* keep the body's names resolvable without cascades */
                for (struct ast_name *p = it->u.on.params; p; p = p->next) {
                    struct sym *s = new_sym(mc, SYM_BIND, p->name, p->loc);
                    s->type = T(TY_ERROR);
                    scope_push(mc, &sc, s);
                }
            }
            resolve_expr(mc, &sc, it->u.on.where);
            sc.block_start = sc.n;
            resolve_stmts(mc, &sc, it->u.on.body);
        }
    }
}

void sema_resolve(struct mbxc *mc)
{
    unsigned n = 0;
    for (struct unit *u = mc->units; u; u = u->next)
        for (struct ast_decl *d = u->decls; d; d = d->next)
            n++;
    mc->globals = sema_tab_new(&mc->arena, n + 16);
    /* 1. every top-level name, and the types records and flows denote */
    for (struct unit *u = mc->units; u; u = u->next) {
        for (struct ast_decl *d = u->decls; d; d = d->next) {
            if (d->kind == D_USE)
                continue;
            if (d->kind == D_PIPELINE) {
                if (mc->pipeline) {
                    struct diag_msg *m = diag_error(&mc->diag, d->loc,
                                                    "a second pipeline `%s`; a program has one",
                                                    d->name);
                    diag_note(&mc->diag, m, mc->pipeline->loc, "the first is `%s`, here",
                              mc->pipeline->name);
                    continue;
                }
                mc->pipeline = d;
                continue;
            }
            if (d->kind == D_RECORD || d->kind == D_FLOW) {
                struct type *t = ARENA_NEW(&mc->arena, struct type);
                t->kind = d->kind == D_RECORD ? TY_RECORD : TY_FLOW;
                t->decl = d;
                d->type = t;
            }
            bool reserved = false;
            for (size_t i = 0; i < sizeof(scalar_types) / sizeof(scalar_types[0]); i++)
                if (strcmp(d->name, scalar_types[i].name) == 0)
                    reserved = true;
            if (reserved || strcmp(d->name, "map") == 0 || strcmp(d->name, "set") == 0) {
                diag_error(&mc->diag, d->loc, "`%s` is the name of a built-in type", d->name);
                continue;
            }
            struct ast_decl *old = sema_tab_put(mc->globals, d->name, d);
            if (old) {
                struct diag_msg *m = diag_error(&mc->diag, d->loc, "redefinition of `%s`",
                                                d->name);
                diag_note(&mc->diag, m, old->loc, "`%s` is first declared here (a %s)", d->name,
                          decl_what(old));
            }
        }
    }
    mc->prelude_tcp = global(mc, "tcp");
    mc->prelude_udp = global(mc, "udp");
    mc->prelude_endpoint = global(mc, "endpoint");
    if (!mc->prelude_endpoint || mc->prelude_endpoint->kind != D_RECORD ||
        !mc->prelude_endpoint->unit->is_prelude) {
        prelude_error(mc, diag_noloc(), "no prelude record", "endpoint");
        mc->prelude_endpoint = NULL;
    }
    /* 2. fields of records and flows; flows over flows */
    for (struct unit *u = mc->units; u; u = u->next) {
        for (struct ast_decl *d = u->decls; d; d = d->next) {
            if (d->kind != D_RECORD && d->kind != D_FLOW)
                continue;
            resolve_fields(mc, d->u.rec.fields, &d->u.rec.nfields, "field");
            struct ast_name *over = d->u.rec.over;
            if (over && resolve_flow_name(mc, over, false, "`over` names the flow this one "
                                                           "rides on: tcp, udp or a user flow")) {
                if (!over->decl) {
                    diag_error(&mc->diag, over->loc, "a flow cannot be over `packet`");
                    continue;
                }
                int depth = 0;
                for (struct ast_decl *p = over->decl; p && depth < 1000; depth++)
                    p = p->u.rec.over ? p->u.rec.over->decl : NULL;
                if (depth >= 1000 || over->decl == d)
                    diag_error(&mc->diag, over->loc, "flow `%s` is over itself", d->name);
            }
        }
    }
    /* 3. events, functions */
    for (struct unit *u = mc->units; u; u = u->next) {
        for (struct ast_decl *d = u->decls; d; d = d->next) {
            if (d->kind == D_EVENT && !d->u.ev.derived) {
                resolve_event(mc, d, 0);
            } else if (d->kind == D_FN) {
                resolve_fields(mc, d->u.fn.params, &d->u.fn.nparams, "parameter");
                d->u.fn.ret = d->u.fn.ret_x ? resolve_type(mc, d->u.fn.ret_x) : T(TY_VOID);
            }
        }
    }
    /* 4. the prelude's events against mbx_events.def, both ways */
    bool seen[NBUILTIN];
    memset(seen, 0, sizeof(seen));
    for (struct unit *u = mc->units; u; u = u->next) {
        if (!u->is_prelude)
            continue;
        for (struct ast_decl *d = u->decls; d; d = d->next) {
            if (d->kind != D_EVENT || d->u.ev.derived)
                continue;
            int id = -1;
            for (int i = 0; i < NBUILTIN; i++)
                if (strcmp(builtin_events[i].name, d->name) == 0)
                    id = i;
            if (id < 0) {
                prelude_error(mc, d->loc, "the prelude declares an event missing from "
                                          "mbx_events.def:",
                              d->name);
                continue;
            }
            seen[id] = true;
            d->u.ev.builtin_id = id;
            d->u.ev.carries_packet = builtin_events[id].packet;
            const char *own = owner_name(d);
            if (!own || strcmp(own, builtin_events[id].owner) != 0)
                prelude_error(mc, d->loc, "owner type differs for", d->name);
        }
    }
    for (int i = 0; i < NBUILTIN; i++)
        if (!seen[i])
            prelude_error(mc, diag_noloc(), "mbx_events.def has an event the prelude lacks:",
                          builtin_events[i].name);
    /* 5. derived events (they inherit carries_packet from their root) */
    for (struct unit *u = mc->units; u; u = u->next)
        for (struct ast_decl *d = u->decls; d; d = d->next)
            if (d->kind == D_EVENT && d->u.ev.derived)
                resolve_event(mc, d, 0);
    /* 6. modules */
    for (struct unit *u = mc->units; u; u = u->next)
        for (struct ast_decl *d = u->decls; d; d = d->next)
            if (d->kind == D_MODULE)
                resolve_module(mc, d);
}

/* ---- typecheck ---- */

struct tc {
    struct mbxc *mc;             /* compilation */
    struct ast_decl *module;     /* enclosing module, or NULL */
    struct ast_decl *event;      /* handler's event (or derived event's base), or NULL */
    struct ast_item *item;       /* enclosing on/every item, or NULL */
    bool in_every;               /* in an `every` block */
    struct sym *iterating[32];   /* tables being iterated by enclosing `for`s */
    int niterating;              /* entries used */
};

static const struct type *check_expr(struct tc *tc, struct ast_expr *e, const struct type *want);
static bool convertible(const struct type *from, const struct type *to);
static bool is_literal(const struct ast_expr *e);

static const struct type *set_type(struct ast_expr *e, const struct type *t)
{
    e->type = t ? t : T(TY_ERROR);
    return e->type;
}

static bool is_int_lit(const struct ast_expr *e)
{
    if (e->kind == E_INT)
        return !e->type;
    return e->kind == E_UNARY && e->u.un.op == OP_NEG && e->u.un.a->kind == E_INT &&
           !e->u.un.a->type;
}

/* Give an untyped integer literal the type t, if it fits. */
static const struct type *type_int_lit(struct tc *tc, struct ast_expr *e, const struct type *t)
{
    bool neg = e->kind == E_UNARY;
    uint64_t v = neg ? e->u.un.a->u.i : e->u.i;
    const char *range = NULL;
    if (t->kind == TY_INT && (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX))
        range = "-2^63 to 2^63-1";
    else if (t->kind == TY_UINT && neg && v)
        range = "0 to 2^64-1";
    else if (t->kind == TY_PORT && (neg ? v != 0 : v > 65535))
        range = "0 to 65535";
    if (range) {
        diag_error(&tc->mc->diag, e->loc, "integer literal %s%" PRIu64 " does not fit in `%s` (%s)",
                   neg ? "-" : "", v, tn(tc->mc, t), range);
        if (neg)
            set_type(e->u.un.a, T(TY_ERROR));
        return set_type(e, T(TY_ERROR));
    }
    if (neg)
        set_type(e->u.un.a, t);
    return set_type(e, t);
}

static bool int_like(const struct type *t)
{
    return t && (t->kind == TY_INT || t->kind == TY_UINT || t->kind == TY_PORT);
}

/* Can a value of expression e (already checked, type `have`) go where `want`
 * is expected?  Literals convert: integers to any integer type they fit,
 * strings and bytes to each other. */
static bool assignable(const struct type *want, const struct ast_expr *e)
{
    const struct type *have = e->type;
    if (is_err(want) || is_err(have))
        return true;
    if (type_eq(want, have))
        return true;
    if ((e->kind == E_STR || e->kind == E_BYTES) &&
        (want->kind == TY_STR || want->kind == TY_BYTES))
        return true;
    return false;
}

/* Check e against an expected type; report a mismatch with `what`. */
static void check_against(struct tc *tc, struct ast_expr *e, const struct type *want,
                          const char *what)
{
    const struct type *have;
    if (is_int_lit(e) && int_like(want))
        have = type_int_lit(tc, e, want);
    else
        have = check_expr(tc, e, want);
    if (!assignable(want, e)) {
        struct diag_msg *m = diag_error(&tc->mc->diag, e->loc, "%s has type `%s`, not `%s`", what,
                                        tn(tc->mc, have), tn(tc->mc, want));
        if (!is_err(have) && is_scalar(want) && convertible(have, want) && !is_literal(e))
            diag_hint(&tc->mc->diag, m, "convert it with `as %s`", tn(tc->mc, want));
    } else if ((e->kind == E_STR || e->kind == E_BYTES) && !is_err(want) &&
               (want->kind == TY_STR || want->kind == TY_BYTES)) {
        e->type = want;
    }
}

static struct ast_field *find_field(struct ast_field *f, const char *name)
{
    for (; f; f = f->next)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

/* Methods of built-in types. */
struct method_sig {
    const char *name;     /* method name */
    enum method m;        /* its id */
    int nargs;            /* argument count */
    const char *sig;      /* for messages */
};

static const struct method_sig str_methods[] = {
    {"len", M_LEN, 0, "len()"},
    {"starts_with", M_STARTS_WITH, 1, "starts_with(x: str)"},
    {"ends_with", M_ENDS_WITH, 1, "ends_with(x: str)"},
    {"contains", M_CONTAINS, 1, "contains(x: str)"},
    {"find", M_FIND, 1, "find(x: str)"},
    {"lower", M_LOWER, 0, "lower()"},
    {NULL, M_NONE, 0, NULL},
};
static const struct method_sig stream_methods[] = {
    {"len", M_LEN, 0, "len()"},
    {"peek", M_PEEK, 1, "peek(n: int)"},
    {"peek_at", M_PEEK_AT, 2, "peek_at(off: int, n: int)"},
    {"new_bytes", M_NEW_BYTES, 0, "new_bytes()"},
    {"starts_with", M_STARTS_WITH, 1, "starts_with(x: bytes)"},
    {"contains", M_CONTAINS, 1, "contains(x: bytes)"},
    {"find", M_FIND, 1, "find(x: bytes)"},
    {NULL, M_NONE, 0, NULL},
};
static const struct method_sig map_methods[] = {
    {"len", M_LEN, 0, "len()"},
    {"contains", M_CONTAINS, 1, "contains(key)"},
    {"remove", M_REMOVE, 1, "remove(key)"},
    {NULL, M_NONE, 0, NULL},
};
static const struct method_sig set_methods[] = {
    {"add", M_ADD, 1, "add(x)"},
    {"remove", M_REMOVE, 1, "remove(x)"},
    {"len", M_LEN, 0, "len()"},
    {"contains", M_CONTAINS, 1, "contains(x)"},
    {NULL, M_NONE, 0, NULL},
};
static const struct method_sig packet_methods[] = {
    {"len", M_LEN, 0, "len()"},
    {NULL, M_NONE, 0, NULL},
};

static const struct method_sig *methods_of(const struct type *t)
{
    switch (t->kind) {
    case TY_STR:
    case TY_BYTES:
        return str_methods;
    case TY_STREAM:
        return stream_methods;
    case TY_MAP:
        return map_methods;
    case TY_SET:
        return set_methods;
    case TY_PACKET:
        return packet_methods;
    default:
        return NULL;
    }
}

/* The table symbol an expression names directly (t, not t[k]), or NULL. */
static struct sym *table_of(const struct ast_expr *e)
{
    if (e->kind == E_NAME && e->u.name.sym && e->u.name.sym->kind == SYM_TABLE)
        return e->u.name.sym;
    if (e->kind == E_INDEX)
        return table_of(e->u.index.obj);
    return NULL;
}

static void check_not_iterating(struct tc *tc, const struct ast_expr *target, struct loc loc)
{
    struct sym *t = table_of(target);
    if (!t)
        return;
    for (int i = 0; i < tc->niterating; i++) {
        if (tc->iterating[i] == t) {
            struct diag_msg *m = diag_error(&tc->mc->diag, loc,
                                            "table `%s` is changed while a `for` iterates over it",
                                            t->name);
            diag_hint(&tc->mc->diag, m, "collect the keys first, then change the table after "
                                        "the loop");
            return;
        }
    }
}

static const struct type *check_method(struct tc *tc, struct ast_expr *e)
{
    struct ast_expr *callee = e->u.call.callee;
    struct ast_expr *obj = callee->u.field.obj;
    const char *name = callee->u.field.name;
    const struct type *ot = check_expr(tc, obj, NULL);
    set_type(callee, T(TY_VOID)); /* a method is not a value: the call has the type */
    if (is_err(ot)) {
        for (struct ast_expr *a = e->u.call.args; a; a = a->next_arg)
            check_expr(tc, a, NULL);
        return set_type(e, T(TY_ERROR));
    }
    const struct method_sig *ms = methods_of(ot), *sig = NULL;
    for (const struct method_sig *p = ms; p && p->name; p++)
        if (strcmp(p->name, name) == 0)
            sig = p;
    if (!sig) {
        struct diag_msg *m;
        if (ot->kind == TY_RECORD || ot->kind == TY_FLOW || ot->kind == TY_SIDE)
            m = diag_error(&tc->mc->diag, callee->u.field.name_loc,
                           "`%s` has no methods; `%s` is not callable", tn(tc->mc, ot), name);
        else
            m = diag_error(&tc->mc->diag, callee->u.field.name_loc, "`%s` has no method `%s`",
                           tn(tc->mc, ot), name);
        struct suggest s;
        suggest_init(&s, name);
        for (const struct method_sig *p = ms; p && p->name; p++)
            suggest_add(&s, p->name);
        suggest_hint(tc->mc, m, &s);
        for (struct ast_expr *a = e->u.call.args; a; a = a->next_arg)
            check_expr(tc, a, NULL);
        return set_type(e, T(TY_ERROR));
    }
    e->u.call.method = sig->m;
    if (e->u.call.nargs != sig->nargs) {
        diag_error(&tc->mc->diag, e->loc, "`%s` takes %d argument%s, but %d %s given: %s",
                   name, sig->nargs, sig->nargs == 1 ? "" : "s", e->u.call.nargs,
                   e->u.call.nargs == 1 ? "is" : "are", sig->sig);
        for (struct ast_expr *a = e->u.call.args; a; a = a->next_arg)
            check_expr(tc, a, NULL);
        return set_type(e, T(TY_ERROR));
    }
    struct ast_expr *a0 = e->u.call.args, *a1 = a0 ? a0->next_arg : NULL;
    switch (sig->m) {
    case M_LEN:
    case M_FIND:
        if (a0)
            check_against(tc, a0, ot->kind == TY_STR ? T(TY_STR) : T(TY_BYTES), "the argument");
        return set_type(e, T(TY_INT));
    case M_STARTS_WITH:
    case M_ENDS_WITH:
        check_against(tc, a0, ot->kind == TY_STR ? T(TY_STR) : T(TY_BYTES), "the argument");
        return set_type(e, T(TY_BOOL));
    case M_CONTAINS:
        if (ot->kind == TY_MAP)
            check_against(tc, a0, ot->key, "the key");
        else if (ot->kind == TY_SET)
            check_against(tc, a0, ot->val, "the element");
        else
            check_against(tc, a0, ot->kind == TY_STR ? T(TY_STR) : T(TY_BYTES), "the argument");
        return set_type(e, T(TY_BOOL));
    case M_LOWER:
        return set_type(e, ot);
    case M_PEEK:
        check_against(tc, a0, T(TY_INT), "the length");
        return set_type(e, T(TY_BYTES));
    case M_PEEK_AT:
        check_against(tc, a0, T(TY_INT), "the offset");
        check_against(tc, a1, T(TY_INT), "the length");
        return set_type(e, T(TY_BYTES));
    case M_NEW_BYTES:
        return set_type(e, T(TY_BYTES));
    case M_ADD:
    case M_REMOVE:
        check_against(tc, a0, ot->kind == TY_MAP ? ot->key : ot->val,
                      ot->kind == TY_MAP ? "the key" : "the element");
        check_not_iterating(tc, obj, e->loc);
        return set_type(e, T(TY_VOID));
    case M_NONE:
        break;
    }
    unreachable("method without a rule");
}

static const struct type *check_call(struct tc *tc, struct ast_expr *e)
{
    struct ast_expr *callee = e->u.call.callee;
    if (callee->kind == E_FIELD)
        return check_method(tc, e);
    struct ast_decl *f = e->u.call.fn;
    if (!f) {
        if (callee->kind != E_NAME || !callee->type)
            check_expr(tc, callee, NULL);
        if (!is_err(callee->type) && callee->kind != E_NAME)
            diag_error(&tc->mc->diag, callee->loc, "this expression is not a function");
        set_type(callee, T(TY_ERROR));
        for (struct ast_expr *a = e->u.call.args; a; a = a->next_arg)
            check_expr(tc, a, NULL);
        return set_type(e, T(TY_ERROR));
    }
    set_type(callee, T(TY_VOID));
    if (e->u.call.nargs != f->u.fn.nparams) {
        struct diag_msg *m = diag_error(&tc->mc->diag, e->loc,
                                        "`%s` takes %d argument%s, but %d %s given", f->name,
                                        f->u.fn.nparams, f->u.fn.nparams == 1 ? "" : "s",
                                        e->u.call.nargs, e->u.call.nargs == 1 ? "is" : "are");
        diag_note(&tc->mc->diag, m, f->loc, "`%s` is declared here", f->name);
        for (struct ast_expr *a = e->u.call.args; a; a = a->next_arg)
            check_expr(tc, a, NULL);
        return set_type(e, f->u.fn.ret);
    }
    struct ast_field *p = f->u.fn.params;
    for (struct ast_expr *a = e->u.call.args; a; a = a->next_arg, p = p->next)
        check_against(tc, a, p->type,
                      arena_printf(&tc->mc->arena, "argument `%s` of `%s`", p->name, f->name));
    return set_type(e, f->u.fn.ret);
}

static const struct type *check_field(struct tc *tc, struct ast_expr *e)
{
    const struct type *ot = check_expr(tc, e->u.field.obj, NULL);
    const char *name = e->u.field.name;
    if (is_err(ot))
        return set_type(e, T(TY_ERROR));
    struct ast_field *fields = NULL;
    struct ast_decl *decl = NULL;
    if (ot->kind == TY_RECORD || ot->kind == TY_FLOW) {
        decl = ot->decl;
        fields = decl->u.rec.fields;
    } else if (ot->kind == TY_SIDE && tc->mc->prelude_endpoint) {
        decl = tc->mc->prelude_endpoint;
        fields = decl->u.rec.fields;
    }
    struct ast_field *f = find_field(fields, name);
    if (f) {
        e->u.field.field = f;
        return set_type(e, f->type);
    }
    const struct method_sig *ms = methods_of(ot);
    for (const struct method_sig *p = ms; p && p->name; p++) {
        if (strcmp(p->name, name) == 0) {
            struct diag_msg *m = diag_error(&tc->mc->diag, e->u.field.name_loc,
                                            "`%s` is a method of `%s`; call it", name,
                                            tn(tc->mc, ot));
            diag_hint(&tc->mc->diag, m, "write `%s`", p->sig);
            return set_type(e, T(TY_ERROR));
        }
    }
    struct diag_msg *m;
    if (!decl) {
        m = diag_error(&tc->mc->diag, e->u.field.name_loc, "`%s` has no fields", tn(tc->mc, ot));
    } else {
        m = diag_error(&tc->mc->diag, e->u.field.name_loc, "`%s` has no field `%s`",
                       ot->kind == TY_SIDE ? "side" : decl->name, name);
        struct suggest s;
        suggest_init(&s, name);
        for (struct ast_field *g = fields; g; g = g->next)
            suggest_add(&s, g->name);
        if (s.best)
            suggest_hint(tc->mc, m, &s);
        else if (decl->loc.file >= 0 && ot->kind != TY_SIDE)
            diag_note(&tc->mc->diag, m, decl->loc, "`%s` is declared here", decl->name);
    }
    return set_type(e, T(TY_ERROR));
}

static const char *op_text(enum expr_op op)
{
    static const char *const t[] = {
        [OP_NEG] = "-",  [OP_NOT] = "not", [OP_ADD] = "+",  [OP_SUB] = "-",   [OP_MUL] = "*",
        [OP_DIV] = "/",  [OP_MOD] = "%",   [OP_BAND] = "&", [OP_BOR] = "|",   [OP_BXOR] = "^",
        [OP_SHL] = "<<", [OP_SHR] = ">>",  [OP_EQ] = "==",  [OP_NE] = "!=",   [OP_LT] = "<",
        [OP_LE] = "<=",  [OP_GT] = ">",    [OP_GE] = ">=",  [OP_IN] = "in",   [OP_AND] = "and",
        [OP_OR] = "or",
    };
    return t[op];
}

/* Check both operands; an untyped literal takes the other operand's type. */
static void check_operands(struct tc *tc, struct ast_expr *e, const struct type **ta,
                           const struct type **tb)
{
    struct ast_expr *a = e->u.bin.a, *b = e->u.bin.b;
    bool la = is_int_lit(a), lb = is_int_lit(b);
    if (la && !lb) {
        *tb = check_expr(tc, b, NULL);
        *ta = int_like(*tb) ? type_int_lit(tc, a, *tb) : check_expr(tc, a, NULL);
    } else if (lb && !la) {
        *ta = check_expr(tc, a, NULL);
        *tb = int_like(*ta) ? type_int_lit(tc, b, *ta) : check_expr(tc, b, NULL);
    } else {
        *ta = check_expr(tc, a, NULL);
        *tb = check_expr(tc, b, NULL);
    }
    /* string literals take the other side's str/bytes */
    if ((a->kind == E_STR || a->kind == E_BYTES) && (*tb)->kind <= TY_BYTES &&
        ((*tb)->kind == TY_STR || (*tb)->kind == TY_BYTES))
        *ta = a->type = *tb;
    if ((b->kind == E_STR || b->kind == E_BYTES) &&
        ((*ta)->kind == TY_STR || (*ta)->kind == TY_BYTES))
        *tb = b->type = *ta;
}

static const struct type *mismatch(struct tc *tc, struct ast_expr *e, const struct type *ta,
                                   const struct type *tb)
{
    struct diag_msg *m =
        diag_error(&tc->mc->diag, e->u.bin.op_loc, "operands of '%s' have different types: `%s` "
                                                   "and `%s`",
                   op_text(e->u.bin.op), tn(tc->mc, ta), tn(tc->mc, tb));
    if (int_like(ta) && int_like(tb))
        diag_hint(&tc->mc->diag, m, "convert one side: `as %s` or `as %s`", tn(tc->mc, ta),
                  tn(tc->mc, tb));
    return set_type(e, T(TY_ERROR));
}

static const struct type *check_binary(struct tc *tc, struct ast_expr *e)
{
    enum expr_op op = e->u.bin.op;
    const struct type *ta, *tb;
    if (op == OP_AND || op == OP_OR) {
        check_against(tc, e->u.bin.a, T(TY_BOOL),
                      arena_printf(&tc->mc->arena, "the left operand of '%s'", op_text(op)));
        check_against(tc, e->u.bin.b, T(TY_BOOL),
                      arena_printf(&tc->mc->arena, "the right operand of '%s'", op_text(op)));
        return set_type(e, T(TY_BOOL));
    }
    if (op == OP_IN) {
        tb = check_expr(tc, e->u.bin.b, NULL);
        if (is_err(tb)) {
            check_expr(tc, e->u.bin.a, NULL);
            return set_type(e, T(TY_ERROR));
        }
        if (tb->kind == TY_SET)
            check_against(tc, e->u.bin.a, tb->val, "the element tested by 'in'");
        else if (tb->kind == TY_MAP)
            check_against(tc, e->u.bin.a, tb->key, "the key tested by 'in'");
        else if (tb->kind == TY_PREFIX)
            check_against(tc, e->u.bin.a, T(TY_IP), "the address tested by 'in'");
        else {
            check_expr(tc, e->u.bin.a, NULL);
            diag_error(&tc->mc->diag, e->u.bin.b->loc,
                       "'in' needs a set, a map or a prefix on its right, not `%s`",
                       tn(tc->mc, tb));
            return set_type(e, T(TY_ERROR));
        }
        return set_type(e, T(TY_BOOL));
    }
    check_operands(tc, e, &ta, &tb);
    if (is_err(ta) || is_err(tb))
        return set_type(e, T(TY_ERROR));
    switch (op) {
    case OP_EQ:
    case OP_NE:
        if (!type_eq(ta, tb))
            return mismatch(tc, e, ta, tb);
        if (!is_scalar(ta) && ta->kind != TY_SIDE && ta->kind != TY_TCP_STATE) {
            diag_error(&tc->mc->diag, e->u.bin.op_loc, "values of type `%s` cannot be compared",
                       tn(tc->mc, ta));
            return set_type(e, T(TY_ERROR));
        }
        return set_type(e, T(TY_BOOL));
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE:
        if (!type_eq(ta, tb))
            return mismatch(tc, e, ta, tb);
        if (!int_like(ta) && ta->kind != TY_TIME && ta->kind != TY_DURATION) {
            diag_error(&tc->mc->diag, e->u.bin.op_loc, "'%s' cannot order values of type `%s`",
                       op_text(op), tn(tc->mc, ta));
            return set_type(e, T(TY_ERROR));
        }
        return set_type(e, T(TY_BOOL));
    case OP_ADD:
    case OP_SUB:
        if (ta->kind == TY_TIME && tb->kind == TY_DURATION)
            return set_type(e, ta);
        if (op == OP_SUB && ta->kind == TY_TIME && tb->kind == TY_TIME)
            return set_type(e, T(TY_DURATION));
        if (ta->kind == TY_DURATION && tb->kind == TY_DURATION)
            return set_type(e, ta);
        /* fall through */
    case OP_MUL:
    case OP_DIV:
    case OP_MOD:
    case OP_BAND:
    case OP_BOR:
    case OP_BXOR:
    case OP_SHL:
    case OP_SHR:
        if (ta->kind == TY_PORT || tb->kind == TY_PORT) {
            struct diag_msg *m =
                diag_error(&tc->mc->diag, e->u.bin.op_loc, "arithmetic on `port` needs `as`");
            diag_hint(&tc->mc->diag, m, "convert the port first: `p as int`");
            return set_type(e, T(TY_ERROR));
        }
        if (!is_integer(ta) || !is_integer(tb)) {
            diag_error(&tc->mc->diag, e->u.bin.op_loc, "'%s' needs `int` or `uint` operands, not "
                                                       "`%s`",
                       op_text(op), tn(tc->mc, is_integer(ta) ? tb : ta));
            return set_type(e, T(TY_ERROR));
        }
        if (!type_eq(ta, tb))
            return mismatch(tc, e, ta, tb);
        return set_type(e, ta);
    default:
        break;
    }
    unreachable("binary operator without a rule");
}

static bool convertible(const struct type *from, const struct type *to)
{
    if (type_eq(from, to))
        return true;
    bool fi = int_like(from), ti = int_like(to);
    if (fi && ti)
        return true;
    if ((from->kind == TY_STR || from->kind == TY_BYTES) &&
        (to->kind == TY_STR || to->kind == TY_BYTES))
        return true;
    if ((from->kind == TY_DURATION || from->kind == TY_TIME) && is_integer(to))
        return true;
    if (is_integer(from) && to->kind == TY_DURATION)
        return true;
    return false;
}

static const struct type *check_expr(struct tc *tc, struct ast_expr *e, const struct type *want)
{
    switch (e->kind) {
    case E_INT:
        if (e->type)
            return e->type; /* a size literal (uint), or typed before */
        if (want && int_like(want))
            return type_int_lit(tc, e, want);
        return type_int_lit(tc, e, T(TY_INT));
    case E_DURATION:
        return set_type(e, T(TY_DURATION));
    case E_STR:
        return set_type(e, want && want->kind == TY_BYTES ? want : T(TY_STR));
    case E_BYTES:
        return set_type(e, want && want->kind == TY_STR ? want : T(TY_BYTES));
    case E_BOOL:
        return set_type(e, T(TY_BOOL));
    case E_IP:
        return set_type(e, T(TY_IP));
    case E_PREFIX:
        return set_type(e, T(TY_PREFIX));
    case E_SIDE:
        return set_type(e, T(TY_SIDE));
    case E_NAME: {
        struct sym *s = e->u.name.sym;
        if (!s)
            return set_type(e, T(TY_ERROR));
        return set_type(e, s->type);
    }
    case E_STATE: {
        struct ast_decl *m = tc->module;
        if (!m) {
            diag_error(&tc->mc->diag, e->loc, "`state` outside a module");
            return set_type(e, T(TY_ERROR));
        }
        struct ast_item *st = m->u.mod.state;
        if (!st) {
            struct diag_msg *msg = diag_error(&tc->mc->diag, e->loc,
                                              "module `%s` has no `state per` declaration",
                                              m->name);
            diag_hint(&tc->mc->diag, msg, "declare one, e.g. `state per tcp { n: int = 0; }`");
            return set_type(e, T(TY_ERROR));
        }
        if (tc->in_every) {
            diag_error(&tc->mc->diag, e->loc,
                       "`state` is per flow, and an `every` block has no flow");
            return set_type(e, T(TY_ERROR));
        }
        struct ast_decl *per = st->u.state.per->decl;
        if (!tc->event || (!per && strcmp(st->u.state.per->name, "packet") != 0))
            return set_type(e, T(TY_ERROR)); /* the event or the flow is in error */
        struct ast_decl *own = tc->event->u.ev.owner_flow;
        bool ok = false;
        for (struct ast_decl *p = own; p && !ok; p = p->u.rec.over ? p->u.rec.over->decl : NULL)
            ok = p == per;
        if (!ok && per && tc->event->u.ev.root) {
            struct diag_msg *msg = diag_error(
                &tc->mc->diag, e->loc, "`state` is per `%s`, but `%s` is an event of `%s`",
                per->name, tc->event->name, owner_name(tc->event) ? owner_name(tc->event) : "?");
            diag_note(&tc->mc->diag, msg, st->loc, "the state is declared here");
            return set_type(e, T(TY_ERROR));
        }
        return set_type(e, st->u.state.type);
    }
    case E_FIELD:
        return check_field(tc, e);
    case E_INDEX: {
        const struct type *ot = check_expr(tc, e->u.index.obj, NULL);
        if (is_err(ot)) {
            check_expr(tc, e->u.index.idx, NULL);
            return set_type(e, T(TY_ERROR));
        }
        if (ot->kind == TY_MAP) {
            check_against(tc, e->u.index.idx, ot->key, "the key");
            return set_type(e, ot->val);
        }
        if (ot->kind == TY_STR || ot->kind == TY_BYTES) {
            check_against(tc, e->u.index.idx, T(TY_INT), "the index");
            return set_type(e, T(TY_UINT));
        }
        check_expr(tc, e->u.index.idx, NULL);
        struct diag_msg *m = diag_error(&tc->mc->diag, e->u.index.obj->loc,
                                        "`%s` cannot be indexed", tn(tc->mc, ot));
        if (ot->kind == TY_SET)
            diag_hint(&tc->mc->diag, m, "test membership with `x in s`");
        return set_type(e, T(TY_ERROR));
    }
    case E_SLICE: {
        const struct type *ot = check_expr(tc, e->u.slice.obj, NULL);
        if (e->u.slice.lo)
            check_against(tc, e->u.slice.lo, T(TY_INT), "the slice start");
        if (e->u.slice.hi)
            check_against(tc, e->u.slice.hi, T(TY_INT), "the slice end");
        if (is_err(ot))
            return set_type(e, T(TY_ERROR));
        if (ot->kind != TY_STR && ot->kind != TY_BYTES) {
            diag_error(&tc->mc->diag, e->u.slice.obj->loc,
                       "only `str` and `bytes` can be sliced, not `%s`", tn(tc->mc, ot));
            return set_type(e, T(TY_ERROR));
        }
        return set_type(e, ot);
    }
    case E_CALL:
        return check_call(tc, e);
    case E_UNARY:
        if (e->u.un.op == OP_NOT) {
            check_against(tc, e->u.un.a, T(TY_BOOL), "the operand of 'not'");
            return set_type(e, T(TY_BOOL));
        } else {
            if (e->u.un.a->kind == E_INT && !e->u.un.a->type)
                return type_int_lit(tc, e, want && int_like(want) ? want : T(TY_INT));
            const struct type *t = check_expr(tc, e->u.un.a, NULL);
            if (is_err(t))
                return set_type(e, t);
            if (t->kind != TY_INT && t->kind != TY_DURATION) {
                diag_error(&tc->mc->diag, e->loc, "unary '-' needs an `int`, not `%s`",
                           tn(tc->mc, t));
                return set_type(e, T(TY_ERROR));
            }
            return set_type(e, t);
        }
    case E_BINARY:
        return check_binary(tc, e);
    case E_AS: {
        const struct type *to = resolve_type(tc->mc, e->u.as.tyx);
        const struct type *from = check_expr(tc, e->u.as.a, is_err(to) ? NULL : to);
        if (is_err(to) || is_err(from))
            return set_type(e, T(TY_ERROR));
        if (!is_scalar(to)) {
            diag_error(&tc->mc->diag, e->u.as.tyx->loc, "`as` converts to scalar types only, "
                                                        "not `%s`",
                       tn(tc->mc, to));
            return set_type(e, T(TY_ERROR));
        }
        if (!convertible(from, to)) {
            diag_error(&tc->mc->diag, e->loc, "cannot convert `%s` to `%s`", tn(tc->mc, from),
                       tn(tc->mc, to));
            return set_type(e, T(TY_ERROR));
        }
        return set_type(e, to);
    }
    }
    unreachable("expression kind without a rule");
}

/* ---- typecheck: statements ---- */

static bool is_lvalue(struct tc *tc, struct ast_expr *e, bool report)
{
    const char *why = NULL;
    switch (e->kind) {
    case E_NAME:
        if (!e->u.name.sym)
            return true;
        switch (e->u.name.sym->kind) {
        case SYM_LET:
            return true;
        case SYM_CONFIG:
            why = "a config; set it with --set MODULE.NAME=VALUE";
            break;
        case SYM_TABLE:
            why = "a table; assign to an entry, `t[k] = v`";
            break;
        case SYM_BIND:
            why = "an event parameter";
            break;
        case SYM_LOOP:
            why = "a loop variable";
            break;
        }
        break;
    case E_INDEX:
        if (table_of(e->u.index.obj) && e->u.index.obj->type &&
            e->u.index.obj->type->kind == TY_MAP)
            return true;
        why = "not a table entry";
        break;
    case E_FIELD:
        if (e->u.field.obj->kind == E_STATE)
            return true;
        why = "a field of a flow or record; only `state` fields, variables and table entries "
              "can be assigned";
        break;
    default:
        why = "not a variable";
        break;
    }
    if (report)
        diag_error(&tc->mc->diag, e->loc, "cannot assign to this: %s", why);
    return false;
}

static bool output_type_ok(const struct type *t)
{
    if (is_err(t))
        return true;
    if (t->kind == TY_SET)
        return is_scalar(t->val) || t->val->kind == TY_SIDE;
    return is_scalar(t) || t->kind == TY_SIDE || t->kind == TY_TCP_STATE;
}

static void check_stmts(struct tc *tc, struct ast_stmt *s);

static void check_output(struct tc *tc, struct ast_stmt *s)
{
    bool alert = s->kind == S_ALERT;
    struct ast_expr *name = s->u.out.name;
    if (alert && name->kind != E_STR) {
        check_expr(tc, name, NULL);
        struct diag_msg *m = diag_error(&tc->mc->diag, name->loc,
                                        "the name of an alert must be a string literal");
        diag_hint(&tc->mc->diag, m, "alert(\"module.signature\", key = value, ...)");
    } else {
        check_against(tc, name, T(TY_STR), alert ? "the alert name" : "the log message");
    }
    for (struct ast_arg *a = s->u.out.args; a; a = a->next) {
        for (struct ast_arg *b = s->u.out.args; b != a; b = b->next) {
            if (strcmp(a->key, b->key) == 0) {
                struct diag_msg *m =
                    diag_error(&tc->mc->diag, a->key_loc, "duplicate key `%s`", a->key);
                diag_note(&tc->mc->diag, m, b->key_loc, "first given here");
                break;
            }
        }
        const struct type *t = check_expr(tc, a->value, NULL);
        if (!output_type_ok(t))
            diag_error(&tc->mc->diag, a->value->loc, "a value of type `%s` cannot be written in %s",
                       tn(tc->mc, t), alert ? "an alert" : "a log line");
    }
}

static void check_stmt(struct tc *tc, struct ast_stmt *s)
{
    struct mbxc *mc = tc->mc;
    switch (s->kind) {
    case S_LET: {
        const struct type *t;
        if (s->u.let.tyx) {
            t = resolve_type(mc, s->u.let.tyx);
            check_against(tc, s->u.let.init, t,
                          arena_printf(&mc->arena, "the value of `%s`", s->u.let.name));
        } else {
            t = check_expr(tc, s->u.let.init, NULL);
            if (t->kind == TY_VOID) {
                diag_error(&mc->diag, s->u.let.init->loc, "this call has no value");
                t = T(TY_ERROR);
            }
        }
        s->u.let.sym->type = t;
        break;
    }
    case S_ASSIGN: {
        struct ast_expr *lhs = s->u.assign.lhs;
        const struct type *t = check_expr(tc, lhs, NULL);
        bool ok = is_lvalue(tc, lhs, !is_err(t));
        if (!ok || is_err(t)) {
            check_expr(tc, s->u.assign.rhs, NULL);
            break;
        }
        check_not_iterating(tc, lhs, s->loc);
        if (s->u.assign.compound && !is_integer(t) && t->kind != TY_DURATION) {
            diag_error(&mc->diag, lhs->loc, "'%s=' needs an `int`, `uint` or `duration`, not "
                                            "`%s`",
                       op_text(s->u.assign.op), tn(mc, t));
            check_expr(tc, s->u.assign.rhs, NULL);
            break;
        }
        check_against(tc, s->u.assign.rhs, t, "the value assigned");
        break;
    }
    case S_EXPR: {
        struct ast_expr *e = s->u.expr;
        check_expr(tc, e, NULL);
        if (e->kind != E_CALL && !is_err(e->type)) {
            struct diag_msg *m = diag_error(&mc->diag, e->loc,
                                            "this expression does nothing: its value is unused");
            if (e->kind == E_BINARY && e->u.bin.op == OP_EQ)
                diag_hint(&mc->diag, m, "to assign, write `=`, not `==`");
        }
        break;
    }
    case S_IF:
        check_against(tc, s->u.if_.cond, T(TY_BOOL), "the condition");
        check_stmts(tc, s->u.if_.then_);
        check_stmts(tc, s->u.if_.else_);
        break;
    case S_FOR: {
        const struct type *t = check_expr(tc, s->u.for_.iter, NULL);
        const struct type *kt = T(TY_ERROR), *vt = T(TY_ERROR);
        bool two = s->u.for_.v != NULL;
        if (!is_err(t)) {
            if (t->kind == TY_MAP) {
                kt = t->key;
                vt = t->val;
            } else if (t->kind == TY_SET) {
                kt = t->val;
                if (two)
                    diag_error(&mc->diag, s->u.for_.v_loc,
                               "a set gives one value per element; `for x in s`");
            } else if (t->kind == TY_STR || t->kind == TY_BYTES) {
                if (two) {
                    kt = T(TY_INT);
                    vt = T(TY_UINT);
                } else {
                    kt = T(TY_UINT);
                }
            } else {
                diag_error(&mc->diag, s->u.for_.iter->loc,
                           "`for` walks a map, a set, a str or bytes, not `%s`", tn(mc, t));
            }
        }
        s->u.for_.ksym->type = kt;
        if (s->u.for_.vsym)
            s->u.for_.vsym->type = vt;
        struct sym *tab = table_of(s->u.for_.iter);
        bool pushed = false;
        if (tab && s->u.for_.iter->kind == E_NAME &&
            tc->niterating < (int)(sizeof(tc->iterating) / sizeof(tc->iterating[0]))) {
            tc->iterating[tc->niterating++] = tab;
            pushed = true;
        }
        check_stmts(tc, s->u.for_.body);
        if (pushed)
            tc->niterating--;
        break;
    }
    case S_RETURN:
        break;
    case S_RAISE: {
        struct ast_decl *ev = s->u.raise.event;
        if (!ev) {
            for (struct ast_expr *a = s->u.raise.args; a; a = a->next_arg)
                check_expr(tc, a, NULL);
            break;
        }
        struct diag_msg *m = NULL;
        if (ev->u.ev.builtin_id >= 0) {
            m = diag_error(&mc->diag, s->loc, "cannot raise `%s`: built-in events are raised by "
                                              "the runtime",
                           ev->name);
        } else if (ev->u.ev.derived) {
            m = diag_error(&mc->diag, s->loc, "cannot raise `%s`: a derived event fires when "
                                              "its base event passes its filter",
                           ev->name);
        } else if (tc->module) {
            bool exported = false;
            for (struct ast_item *it = tc->module->u.mod.items; it; it = it->next)
                if (it->kind == I_EXPORT)
                    for (struct ast_name *n = it->u.names; n; n = n->next)
                        exported |= n->decl == ev;
            if (!exported) {
                m = diag_error(&mc->diag, s->loc, "module `%s` raises `%s` but does not export it",
                               tc->module->name, ev->name);
                diag_hint(&mc->diag, m, "add `export %s;` to `%s`", ev->name, tc->module->name);
            }
        }
        if (s->u.raise.nargs != ev->u.ev.nparams) {
            struct diag_msg *m2 = diag_error(&mc->diag, s->loc,
                                             "`%s` takes %d argument%s, but %d %s given",
                                             ev->name, ev->u.ev.nparams,
                                             ev->u.ev.nparams == 1 ? "" : "s", s->u.raise.nargs,
                                             s->u.raise.nargs == 1 ? "is" : "are");
            diag_note(&mc->diag, m2, ev->loc, "`%s` is declared here", ev->name);
            for (struct ast_expr *a = s->u.raise.args; a; a = a->next_arg)
                check_expr(tc, a, NULL);
            break;
        }
        (void)m;
        struct ast_field *p = ev->u.ev.params;
        for (struct ast_expr *a = s->u.raise.args; a; a = a->next_arg, p = p->next)
            check_against(tc, a, p->type,
                          arena_printf(&mc->arena, "argument `%s` of `%s`", p->name, ev->name));
        break;
    }
    case S_ALERT:
    case S_LOG:
        check_output(tc, s);
        break;
    case S_DROP_PACKET:
        if (tc->in_every) {
            struct diag_msg *m = diag_error(&mc->diag, s->loc,
                                            "`drop packet` in an `every` block: no packet is "
                                            "being processed there");
            diag_hint(&mc->diag, m, "`drop flow` drops a flow; timers have neither");
        } else if (tc->event && !tc->event->u.ev.carries_packet) {
            struct diag_msg *m =
                diag_error(&mc->diag, s->loc, "`drop packet` in a handler of `%s`, which fires "
                                              "without a packet",
                           tc->event->name);
            diag_hint(&mc->diag, m, "use `drop flow` to drop the rest of the flow");
        }
        break;
    case S_DROP_FLOW:
        if (tc->in_every)
            diag_error(&mc->diag, s->loc, "`drop flow` in an `every` block: there is no flow here");
        break;
    case S_STEER: {
        const struct type *t = check_expr(tc, s->u.steer.flow, NULL);
        struct ast_decl *target = s->u.steer.target->decl;
        if (is_err(t))
            break;
        if (t->kind != TY_FLOW) {
            diag_error(&mc->diag, s->u.steer.flow->loc, "`steer` hands over a flow, not a `%s`",
                       tn(mc, t));
            break;
        }
        if (target && !find_import(target, t->decl->name)) {
            struct diag_msg *m =
                diag_error(&mc->diag, s->u.steer.target->loc,
                           "cannot steer a `%s` to `%s`, which does not import `%s`",
                           t->decl->name, target->name, t->decl->name);
            diag_note(&mc->diag, m, target->loc, "`%s` is declared here", target->name);
        }
        break;
    }
    case S_UNSUBSCRIBE:
        if (tc->in_every)
            diag_error(&mc->diag, s->loc, "`unsubscribe` in an `every` block: only a handler "
                                          "can unsubscribe");
        else if (tc->item)
            tc->item->u.on.unsub = true;
        break;
    }
}

static void check_stmts(struct tc *tc, struct ast_stmt *s)
{
    for (; s; s = s->next)
        check_stmt(tc, s);
}

static bool is_literal(const struct ast_expr *e)
{
    switch (e->kind) {
    case E_INT:
    case E_DURATION:
    case E_STR:
    case E_BYTES:
    case E_BOOL:
    case E_IP:
    case E_PREFIX:
        return true;
    case E_UNARY:
        return e->u.un.op == OP_NEG && e->u.un.a->kind == E_INT;
    default:
        return false;
    }
}

static bool settable(const struct type *t)
{
    switch (t->kind) {
    case TY_BOOL:
    case TY_INT:
    case TY_UINT:
    case TY_STR:
    case TY_BYTES:
    case TY_IP:
    case TY_PREFIX:
    case TY_PORT:
    case TY_DURATION:
        return true;
    default:
        return false;
    }
}

static bool hashable(const struct type *t)
{
    return is_scalar(t) || t->kind == TY_SIDE;
}

static bool storable(const struct type *t)
{
    if (t->kind == TY_SET)
        return hashable(t->val);
    if (t->kind == TY_MAP)
        return false;
    return is_scalar(t) || t->kind == TY_SIDE || t->kind == TY_TCP_STATE;
}

static void check_module(struct mbxc *mc, struct ast_decl *d)
{
    struct tc tc = {.mc = mc, .module = d};
    for (struct ast_item *it = d->u.mod.items; it; it = it->next) {
        switch (it->kind) {
        case I_CONFIG: {
            const struct type *t = it->u.config.type;
            if (!is_err(t) && !settable(t)) {
                struct diag_msg *m = diag_error(&mc->diag, it->u.config.tyx->loc,
                                                "config `%s` has type `%s`, which --set cannot "
                                                "give",
                                                it->u.config.name, tn(mc, t));
                diag_hint(&mc->diag, m, "a config is a bool, int, uint, str, bytes, ip, prefix, "
                                        "port or duration");
                check_expr(&tc, it->u.config.init, NULL);
                break;
            }
            if (!is_literal(it->u.config.init)) {
                check_expr(&tc, it->u.config.init, NULL);
                diag_error(&mc->diag, it->u.config.init->loc,
                           "the default of config `%s` must be a literal", it->u.config.name);
                break;
            }
            check_against(&tc, it->u.config.init, t,
                          arena_printf(&mc->arena, "the default of `%s`", it->u.config.name));
            break;
        }
        case I_TABLE: {
            const struct type *t = it->u.table.type;
            if (!is_err(t)) {
                if (t->kind != TY_MAP && t->kind != TY_SET) {
                    diag_error(&mc->diag, it->u.table.tyx->loc,
                               "table `%s` must be a map or a set, not `%s`", it->u.table.name,
                               tn(mc, t));
                } else {
                    const struct type *k = t->kind == TY_MAP ? t->key : t->val;
                    if (!hashable(k))
                        diag_error(&mc->diag, it->u.table.tyx->loc,
                                   "`%s` cannot be a table key: keys are scalar values",
                                   tn(mc, k));
                    else if (t->kind == TY_MAP && !storable(t->val))
                        diag_error(&mc->diag, it->u.table.tyx->loc,
                                   "`%s` cannot be a table value: values are scalars or sets "
                                   "of scalars",
                                   tn(mc, t->val));
                }
            }
            if (it->u.table.expire)
                check_against(&tc, it->u.table.expire, T(TY_DURATION), "the expiry");
            if (it->u.table.max) {
                check_against(&tc, it->u.table.max, T(TY_UINT), "the maximum size");
                if (it->u.table.max->kind != E_INT)
                    diag_error(&mc->diag, it->u.table.max->loc,
                               "the maximum size of a table must be an integer literal");
                else if (it->u.table.max->u.i == 0)
                    diag_error(&mc->diag, it->u.table.max->loc,
                               "the maximum size of a table must be at least 1");
            }
            break;
        }
        case I_STATE:
            for (struct ast_field *f = it->u.state.fields; f; f = f->next) {
                if (!is_err(f->type) && !storable(f->type))
                    diag_error(&mc->diag, f->tyx->loc, "`%s` cannot be kept in `state`",
                               tn(mc, f->type));
                if (!f->init)
                    continue;
                if (!is_literal(f->init)) {
                    check_expr(&tc, f->init, NULL);
                    diag_error(&mc->diag, f->init->loc,
                               "the initial value of `state.%s` must be a literal", f->name);
                    continue;
                }
                check_against(&tc, f->init, f->type,
                              arena_printf(&mc->arena, "the initial value of `%s`", f->name));
            }
            break;
        case I_ON: {
            struct tc h = tc;
            h.event = it->u.on.event && it->u.on.event->u.ev.root ? it->u.on.event : NULL;
            h.item = it;
            it->u.on.carries_packet = h.event && h.event->u.ev.carries_packet;
            if (it->u.on.where)
                check_against(&h, it->u.on.where, T(TY_BOOL), "the filter");
            check_stmts(&h, it->u.on.body);
            break;
        }
        case I_EVERY: {
            struct tc h = tc;
            h.in_every = true;
            h.item = it;
            check_against(&h, it->u.every.period, T(TY_DURATION), "the period of `every`");
            if (it->u.every.period->kind == E_DURATION && it->u.every.period->u.i == 0)
                diag_error(&mc->diag, it->u.every.period->loc,
                           "the period of `every` must be longer than 0");
            else if (!is_literal(it->u.every.period) &&
                     !(it->u.every.period->kind == E_NAME && it->u.every.period->u.name.sym &&
                       it->u.every.period->u.name.sym->kind == SYM_CONFIG))
                diag_error(&mc->diag, it->u.every.period->loc,
                           "the period of `every` must be a duration literal or a config");
            check_stmts(&h, it->u.every.body);
            break;
        }
        default:
            break;
        }
    }
}

/* Which user events can fire without a packet: raised from an `every` block
 * or from a handler of such an event (a fixed point over raise sites). */
static bool raises_into(struct ast_stmt *s, bool (*fn)(struct ast_decl *, void *), void *arg)
{
    bool changed = false;
    for (; s; s = s->next) {
        if (s->kind == S_RAISE && s->u.raise.event)
            changed |= fn(s->u.raise.event, arg);
        else if (s->kind == S_IF) {
            bool a = raises_into(s->u.if_.then_, fn, arg);
            bool b = raises_into(s->u.if_.else_, fn, arg);
            changed |= a || b;
        }
        else if (s->kind == S_FOR)
            changed |= raises_into(s->u.for_.body, fn, arg);
    }
    return changed;
}

static bool clear_packet(struct ast_decl *ev, void *arg)
{
    (void)arg;
    if (ev->u.ev.builtin_id < 0 && !ev->u.ev.derived && ev->u.ev.carries_packet) {
        ev->u.ev.carries_packet = false;
        return true;
    }
    return false;
}

static void infer_packets(struct mbxc *mc)
{
    bool changed = true;
    while (changed) {
        changed = false;
        for (struct unit *u = mc->units; u; u = u->next)
            for (struct ast_decl *d = u->decls; d; d = d->next) {
                if (d->kind != D_MODULE)
                    continue;
                for (struct ast_item *it = d->u.mod.items; it; it = it->next) {
                    if (it->kind == I_EVERY)
                        changed |= raises_into(it->u.every.body, clear_packet, NULL);
                    else if (it->kind == I_ON && it->u.on.event &&
                             it->u.on.event->u.ev.root &&
                             !it->u.on.event->u.ev.root->u.ev.carries_packet)
                        changed |= raises_into(it->u.on.body, clear_packet, NULL);
                }
            }
    }
    for (struct unit *u = mc->units; u; u = u->next)
        for (struct ast_decl *d = u->decls; d; d = d->next)
            if (d->kind == D_EVENT && d->u.ev.derived && d->u.ev.root)
                d->u.ev.carries_packet = d->u.ev.root->u.ev.carries_packet;
}

/* A cycle of raises: handlers of A raise B, handlers of B raise ... A. */
struct raise_edge {
    struct ast_decl *from, *to; /* handled event → raised event (roots) */
    struct loc at;              /* the raise statement */
};

struct raise_graph {
    struct raise_edge *e; /* edges */
    int n, cap;           /* used, allocated */
    struct mbxc *mc;      /* for allocation */
    struct ast_decl *cur; /* handled event while collecting */
};

static void collect_raises(struct raise_graph *g, struct ast_stmt *s)
{
    for (; s; s = s->next) {
        if (s->kind == S_RAISE && s->u.raise.event && !s->u.raise.event->u.ev.derived &&
            s->u.raise.event->u.ev.builtin_id < 0) {
            if (g->n == g->cap) {
                int cap = g->cap ? g->cap * 2 : 16;
                struct raise_edge *ne = arena_alloc(&g->mc->arena, sizeof(*ne) * (size_t)cap);
                if (g->n)
                    memcpy(ne, g->e, sizeof(*ne) * (size_t)g->n);
                g->e = ne;
                g->cap = cap;
            }
            g->e[g->n].from = g->cur;
            g->e[g->n].to = s->u.raise.event;
            g->e[g->n].at = s->loc;
            g->n++;
        } else if (s->kind == S_IF) {
            collect_raises(g, s->u.if_.then_);
            collect_raises(g, s->u.if_.else_);
        } else if (s->kind == S_FOR) {
            collect_raises(g, s->u.for_.body);
        }
    }
}

/* Handlers of a derived event run when its root fires: edges start at roots,
 * and a raise of E reaches the handlers of E and of events derived from E. */
static struct ast_decl *event_root(struct ast_decl *ev)
{
    return ev && ev->u.ev.root ? ev->u.ev.root : ev;
}

static void find_raise_cycles(struct mbxc *mc)
{
    struct raise_graph g = {.mc = mc};
    for (struct unit *u = mc->units; u; u = u->next)
        for (struct ast_decl *d = u->decls; d; d = d->next)
            if (d->kind == D_MODULE)
                for (struct ast_item *it = d->u.mod.items; it; it = it->next)
                    if (it->kind == I_ON && it->u.on.event) {
                        g.cur = event_root(it->u.on.event);
                        collect_raises(&g, it->u.on.body);
                    }
    if (!g.n)
        return;
    /* DFS from each edge's source over events; report each cycle once */
    int *state = arena_alloc(&mc->arena, sizeof(int) * (size_t)g.n); /* per edge: 0,1,2 */
    int *stack = arena_alloc(&mc->arena, sizeof(int) * (size_t)g.n);
    int *next = arena_alloc(&mc->arena, sizeof(int) * (size_t)g.n);
    for (int start = 0; start < g.n; start++) {
        if (state[start])
            continue;
        int sp = 0;
        stack[sp] = start;
        next[sp] = 0;
        state[start] = 1;
        sp++;
        while (sp > 0) {
            int cur = stack[sp - 1];
            int j = next[sp - 1]++;
            if (j >= g.n) {
                state[cur] = 2;
                sp--;
                continue;
            }
            if (g.e[j].from != event_root(g.e[cur].to))
                continue;
            if (state[j] == 1) {
                /* cycle: edges from the one at j up to cur */
                int k = 0;
                while (stack[k] != j)
                    k++;
                char *path = arena_strdup(&mc->arena, g.e[j].from->name);
                for (int i = k; i < sp; i++)
                    path = arena_printf(&mc->arena, "%s -> %s", path, g.e[stack[i]].to->name);
                struct diag_msg *m = diag_error(&mc->diag, g.e[cur].at,
                                                "this raise closes a cycle of raises: %s", path);
                for (int i = k; i < sp - 1; i++)
                    diag_note(&mc->diag, m, g.e[stack[i]].at, "`%s` is raised here",
                              g.e[stack[i]].to->name);
                diag_hint(&mc->diag, m, "`raise` calls the handlers at once, so a cycle never "
                                        "ends");
                state[j] = 2; /* report it once */
                continue;
            }
            if (state[j] == 0) {
                state[j] = 1;
                stack[sp] = j;
                next[sp] = 0;
                sp++;
            }
        }
    }
}

static void warn_unused_imports(struct mbxc *mc, struct ast_decl *d)
{
    for (struct ast_item *it = d->u.mod.items; it; it = it->next) {
        if (it->kind != I_IMPORT)
            continue;
        for (struct ast_name *n = it->u.names; n; n = n->next) {
            if (n->used || find_import(d, n->name) != n)
                continue; /* used, or a duplicate (reported) */
            if (!n->decl && strcmp(n->name, "packet") != 0)
                continue; /* not a flow (reported) */
            /* exporting a flow over it, or being steered to, uses it too */
            bool used = false;
            for (struct ast_item *jt = d->u.mod.items; jt; jt = jt->next)
                if (jt->kind == I_EXPORT)
                    for (struct ast_name *x = jt->u.names; x; x = x->next)
                        if (x->decl && x->decl->kind == D_FLOW && x->decl->u.rec.over &&
                            strcmp(x->decl->u.rec.over->name, n->name) == 0)
                            used = true;
            if (used || d->u.mod.steered)
                continue;
            struct diag_msg *m = diag_warning(&mc->diag, W_UNUSED_IMPORT, n->loc,
                                              "module `%s` imports `%s` but handles none of its "
                                              "events",
                                              d->name, n->name);
            /* an event of that type, with its parameter names, as the example */
            struct ast_decl *ex = NULL;
            for (struct unit *u = mc->units; u && !ex; u = u->next)
                for (struct ast_decl *e = u->decls; e && !ex; e = e->next)
                    if (e->kind == D_EVENT && !e->u.ev.derived && e->u.ev.root &&
                        ((e->u.ev.owner == OWN_PACKET && !n->decl) ||
                         (n->decl && e->u.ev.owner_flow == n->decl)) &&
                        (!n->decl || !n->decl->unit->is_prelude ||
                         strcmp(e->name, strcmp(n->name, "tcp") == 0 ? "tcp.data"
                                                                    : "udp.data") == 0))
                        ex = e;
            if (!ex) {
                diag_hint(&mc->diag, m, "remove the import");
                continue;
            }
            char *params = arena_strdup(&mc->arena, "");
            for (struct ast_field *p = ex->u.ev.params; p; p = p->next)
                params = arena_printf(&mc->arena, "%s%s%s", params, p->index ? ", " : "", p->name);
            diag_hint(&mc->diag, m, "remove the import, or add a handler such as `on %s(%s) { }`",
                      ex->name, params);
        }
    }
}

void sema_typecheck(struct mbxc *mc)
{
    infer_packets(mc);
    for (struct unit *u = mc->units; u; u = u->next) {
        for (struct ast_decl *d = u->decls; d; d = d->next) {
            if (d->kind == D_EVENT && d->u.ev.derived && d->u.ev.filter && d->u.ev.base) {
                struct tc tc = {.mc = mc, .event = d->u.ev.root ? d : NULL};
                check_against(&tc, d->u.ev.filter, T(TY_BOOL), "the filter");
            } else if (d->kind == D_MODULE && !d->u.mod.is_extern) {
                check_module(mc, d);
                if (u->is_main)
                    warn_unused_imports(mc, d);
            } else if (d->kind == D_RECORD || d->kind == D_FLOW) {
                for (struct ast_field *f = d->u.rec.fields; f; f = f->next)
                    if (f->init)
                        diag_error(&mc->diag, f->init->loc,
                                   "fields of a %s have no defaults; only `state` fields do",
                                   d->kind == D_RECORD ? "record" : "flow");
            }
        }
    }
    find_raise_cycles(mc);
}
