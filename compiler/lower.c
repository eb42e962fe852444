/*
 * lower.c - the one lowering: checked AST (ast.h, after mbxc_check) -> IR (ir.h).
 *
 * Walks the linked pipeline (mc->graph) in member order and turns each member
 * into IR: its configs (with their defaults), tables (kinds, expire, max), the
 * fields of its per-flow state, one function per `on` clause (its event's data
 * bound to locals, its where-clause, its body) and per `every` timer.  Events
 * are collected as they are met: built-in, exported by an extern member,
 * declared and raised by modules, or derived (base + filter, the filter a
 * function of its own); each gets a slot in the program's event table, bases
 * before the events derived from them.  Every .mbx rule that needs a decision
 * (which endpoint `c.client` is, what a map read of a missing key gives, which
 * stream sides a handler reads) is decided here, so a back end only prints.
 */
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "mbx.h"

struct lw {
    struct mbxc *mc;        /* the compilation */
    struct arena *A;        /* its arena */
    struct ir_prog *p;      /* the program being built */
    struct ir_func *fn;     /* function being lowered, or NULL (constant context) */
    int module;             /* member being lowered */
    struct ast_decl *mdecl; /* its declaration */
    struct sym **syms;      /* locals of fn: sym -> local index */
    int *symloc;
    int nsyms, capsyms;
    struct ast_item **items; /* config/table items -> program index */
    int *itemidx;
    int nitems, capitems;
    int nfuncs_cap, nevents_cap, nsubs_cap, ntimers_cap, nconfigs_cap, ntables_cap;
    int counter;                               /* unique function names */
    struct ir_event *builtin[MBX_EV_NBUILTIN]; /* built-in events met so far */
    bool failed;                               /* a diagnostic was given */
};

static void *lw_grow(struct lw *w, void *old, int n, int *cap, size_t elem)
{
    if (n < *cap)
        return old;
    int ncap = *cap ? *cap * 2 : 8;
    void *p = arena_alloc(w->A, (size_t)ncap * elem);
    if (old)
        memcpy(p, old, (size_t)n * elem);
    *cap = ncap;
    return p;
}

static void lw_error(struct lw *w, struct loc loc, const char *msg, const char *arg)
{
    diag_error(&w->mc->diag, loc, "%s%s%s", msg, arg ? arg : "", arg ? "'" : "");
    w->failed = true;
}

const char *ir_ty_name(enum ir_ty t)
{
    static const char *const names[] = {
        "void",      "bool",      "int",    "uint",   "port",   "time",     "duration",
        "tcp_state", "str",       "bytes",  "ip",     "prefix", "endpoint", "stream",
        "flow",      "user flow", "record", "packet", "table",
    };
    return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

/* ---------------------------------------------------------------- types */

static bool is_root_flow(struct lw *w, const struct ast_decl *d)
{
    return d && (d == w->mc->prelude_tcp || d == w->mc->prelude_udp);
}

static enum ir_ty lower_ty(struct lw *w, const struct type *t)
{
    if (t == NULL)
        return IT_VOID;
    switch (t->kind) {
    case TY_BOOL:
        return IT_BOOL;
    case TY_INT:
        return IT_INT;
    case TY_UINT:
        return IT_UINT;
    case TY_STR:
        return IT_STR;
    case TY_BYTES:
        return IT_BYTES;
    case TY_IP:
        return IT_ADDR;
    case TY_PREFIX:
        return IT_PREFIX;
    case TY_PORT:
        return IT_PORT;
    case TY_TIME:
        return IT_TIME;
    case TY_DURATION:
        return IT_DURATION;
    case TY_SIDE:
        return IT_ENDP;
    case TY_STREAM:
        return IT_STREAM;
    case TY_PACKET:
        return IT_PKT;
    case TY_TCP_STATE:
        return IT_STATE;
    case TY_RECORD:
        return t->decl == w->mc->prelude_endpoint ? IT_ENDP : IT_REC;
    case TY_FLOW:
        return is_root_flow(w, t->decl) ? IT_FLOW : IT_UFLOW;
    case TY_MAP:
    case TY_SET:
        return IT_TABLE;
    case TY_VOID:
        return IT_VOID;
    case TY_ERROR:
    case TY_COUNT:
        break;
    }
    unreachable("lower: an erroneous type reached the lowering");
}

static bool table_key_ok(enum ir_ty t)
{
    switch (t) {
    case IT_BOOL:
    case IT_INT:
    case IT_UINT:
    case IT_PORT:
    case IT_TIME:
    case IT_DURATION:
    case IT_STATE:
    case IT_STR:
    case IT_BYTES:
    case IT_ADDR:
        return true;
    default:
        return false;
    }
}

/* The kinds of a table type (map<K,V> or set<T>); NULL with a diagnostic. */
static struct ir_table *table_kinds(struct lw *w, const struct type *t, struct loc loc)
{
    struct ir_table *tb = ARENA_NEW(w->A, struct ir_table);
    tb->index = -1;
    if (t->kind == TY_SET) {
        tb->key = lower_ty(w, t->val);
        tb->val = IT_VOID;
    } else {
        tb->key = lower_ty(w, t->key);
        if (t->val->kind == TY_SET) {
            tb->val = IT_TABLE;
            tb->val_is_set = true;
            tb->elem = lower_ty(w, t->val->val);
            if (!table_key_ok(tb->elem))
                lw_error(w, loc, "unsupported set element type in a table value", NULL);
        } else {
            tb->val = lower_ty(w, t->val);
            if (!table_key_ok(tb->val))
                lw_error(w, loc,
                         "unsupported table value type (maps hold scalars, str, ip "
                         "or sets)",
                         NULL);
        }
    }
    if (!table_key_ok(tb->key))
        lw_error(w, loc, "unsupported table key type", NULL);
    return tb;
}

/* ---------------------------------------------------------------- expressions */

static struct ir_expr *mk(struct lw *w, enum ir_op op, enum ir_ty ty, int na)
{
    struct ir_expr *e = ARENA_NEW(w->A, struct ir_expr);
    e->op = op;
    e->ty = ty;
    e->na = na;
    if (na)
        e->a = arena_alloc(w->A, (size_t)na * sizeof(*e->a));
    return e;
}

static struct ir_expr *mk_int(struct lw *w, enum ir_ty ty, uint64_t v)
{
    struct ir_expr *e = mk(w, X_CONST, ty, 0);
    e->u.i = v;
    return e;
}

static int local_new(struct lw *w, const char *name, enum ir_ty ty, const struct ir_table *tb)
{
    struct ir_func *f = w->fn;
    f->locals = lw_grow(w, f->locals, f->nlocals, &f->caplocals, sizeof(*f->locals));
    f->locals[f->nlocals].name = name;
    f->locals[f->nlocals].ty = ty;
    f->locals[f->nlocals].table = tb;
    return f->nlocals++;
}

static void sym_bind(struct lw *w, struct sym *s, int local)
{
    if (w->nsyms == w->capsyms) {
        int ncap = w->capsyms ? 2 * w->capsyms : 16;
        struct sym **ns = arena_alloc(w->A, (size_t)ncap * sizeof(*ns));
        int *nl = arena_alloc(w->A, (size_t)ncap * sizeof(*nl));
        if (w->nsyms) {
            memcpy(ns, w->syms, (size_t)w->nsyms * sizeof(*ns));
            memcpy(nl, w->symloc, (size_t)w->nsyms * sizeof(*nl));
        }
        w->syms = ns;
        w->symloc = nl;
        w->capsyms = ncap;
    }
    w->syms[w->nsyms] = s;
    w->symloc[w->nsyms++] = local;
}

static int sym_local(struct lw *w, const struct sym *s)
{
    for (int i = w->nsyms - 1; i >= 0; i--)
        if (w->syms[i] == s)
            return w->symloc[i];
    return -1;
}

static void item_index_put(struct lw *w, struct ast_item *it, int idx)
{
    if (w->nitems == w->capitems) {
        int ncap = w->capitems ? 2 * w->capitems : 16;
        struct ast_item **ni = arena_alloc(w->A, (size_t)ncap * sizeof(*ni));
        int *nx = arena_alloc(w->A, (size_t)ncap * sizeof(*nx));
        if (w->nitems) {
            memcpy(ni, w->items, (size_t)w->nitems * sizeof(*ni));
            memcpy(nx, w->itemidx, (size_t)w->nitems * sizeof(*nx));
        }
        w->items = ni;
        w->itemidx = nx;
        w->capitems = ncap;
    }
    w->items[w->nitems] = it;
    w->itemidx[w->nitems++] = idx;
}

static int item_index(struct lw *w, const struct ast_item *it)
{
    for (int i = 0; i < w->nitems; i++)
        if (w->items[i] == it)
            return w->itemidx[i];
    return -1;
}

static struct ir_expr *lower_expr(struct lw *w, struct ast_expr *x);

/* An address literal: IPv4 kept as ::ffff:a.b.c.d, as struct mbx_addr does. */
static void lower_addr(const struct ast_expr *x, uint8_t out[16], int *plen)
{
    memset(out, 0, 16);
    *plen = x->u.ip.plen;
    if (x->u.ip.v6) {
        memcpy(out, x->u.ip.a, 16);
        return;
    }
    const uint8_t *a = x->u.ip.a;
    bool mapped = a[10] == 0xff && a[11] == 0xff;
    out[10] = out[11] = 0xff;
    memcpy(out + 12, mapped ? a + 12 : a, 4);
    if (*plen >= 0)
        *plen += 96;
}

static const char *field_of(const struct ast_expr *x)
{
    return x->u.field.name;
}

static int state_field_index(struct lw *w, const char *name)
{
    struct ir_module *m = &w->p->modules[w->module];
    for (int i = 0; i < m->nstate; i++)
        if (strcmp(m->state[i].name, name) == 0)
            return i;
    return -1;
}

static struct ir_expr *lower_field(struct lw *w, struct ast_expr *x)
{
    const char *name = field_of(x);
    struct ast_expr *obj = x->u.field.obj;
    enum ir_ty rty = lower_ty(w, x->type);
    if (obj->kind == E_STATE) {
        int i = state_field_index(w, name);
        if (i < 0) {
            lw_error(w, x->loc, "internal: no state field '", name);
            return mk_int(w, rty, 0);
        }
        struct ir_expr *e = mk(w, X_STATE, rty, 0);
        e->index = i;
        return e;
    }
    struct ir_expr *o = lower_expr(w, obj);
    if (o->ty == IT_FLOW) {
        static const struct {
            const char *n;
            int ff;
        } ffs[] = {
            {"start", FF_START},      {"last", FF_LAST},           {"id", FF_ID},
            {"community_id", FF_CID}, {"midstream", FF_MIDSTREAM},
        };
        if (strcmp(name, "client") == 0 || strcmp(name, "server") == 0) {
            struct ir_expr *e = mk(w, X_ENDP, IT_ENDP, 1);
            e->a[0] = o;
            e->index = name[0] == 's';
            return e;
        }
        for (size_t i = 0; i < sizeof(ffs) / sizeof(ffs[0]); i++)
            if (strcmp(name, ffs[i].n) == 0) {
                struct ir_expr *e = mk(w, X_FLOWF, rty, 1);
                e->a[0] = o;
                e->index = ffs[i].ff;
                return e;
            }
        lw_error(w, x->loc, "unsupported field of a built-in flow: '", name);
        return mk_int(w, rty, 0);
    }
    if (o->ty == IT_ENDP) {
        static const struct {
            const char *n;
            int ef;
        } efs[] = {
            {"ip", EF_IP},       {"port", EF_PORT}, {"state", EF_STATE},     {"seq", EF_SEQ},
            {"bytes", EF_BYTES}, {"pkts", EF_PKTS}, {"rexmits", EF_REXMITS},
        };
        if (strcmp(name, "stream") == 0) {
            struct ir_expr *e = mk(w, X_STREAM, IT_STREAM, 1);
            e->a[0] = o;
            return e;
        }
        for (size_t i = 0; i < sizeof(efs) / sizeof(efs[0]); i++)
            if (strcmp(name, efs[i].n) == 0) {
                struct ir_expr *e = mk(w, X_ENDPF, rty, 1);
                e->a[0] = o;
                e->index = efs[i].ef;
                return e;
            }
        lw_error(w, x->loc, "unsupported field of an endpoint: '", name);
        return mk_int(w, rty, 0);
    }
    if (o->ty == IT_UFLOW || o->ty == IT_REC) {
        const struct type *ot = obj->type;
        const char *tname = ot && ot->decl ? ot->decl->name : "record";
        struct ir_expr *e = mk(w, X_UFIELD, rty, 1);
        e->a[0] = o;
        e->name = arena_printf(w->A, "%s_%s", tname, name);
        return e;
    }
    lw_error(w, x->loc, "unsupported field access: '", name);
    return mk_int(w, rty, 0);
}

/* A map element or set used as the object of add/remove: the nested set, created
 * for add (a write), looked up for remove. */
static struct ir_expr *lower_set_target(struct lw *w, struct ast_expr *obj, bool create)
{
    if (obj->kind == E_INDEX && obj->u.index.obj->type->kind == TY_MAP) {
        struct ir_expr *t = lower_expr(w, obj->u.index.obj);
        struct ir_expr *e = mk(w, create ? X_TREF_SET : X_TGET, IT_TABLE, 2);
        e->a[0] = t;
        e->a[1] = lower_expr(w, obj->u.index.idx);
        e->table = table_kinds(w, obj->type, obj->loc);
        return e;
    }
    return lower_expr(w, obj);
}

static struct ir_expr *lower_call(struct lw *w, struct ast_expr *x)
{
    enum ir_ty rty = lower_ty(w, x->type);
    struct ast_expr *callee = x->u.call.callee;
    if (x->u.call.method != M_NONE) {
        if (callee->kind != E_FIELD)
            unreachable("lower: a method call without an object");
        enum method m = x->u.call.method;
        struct ast_expr *obj = callee->u.field.obj;
        struct ir_expr *e = mk(w, X_METHOD, rty, 1 + x->u.call.nargs);
        e->method = m;
        if (m == M_ADD || m == M_REMOVE)
            e->a[0] = lower_set_target(w, obj, m == M_ADD);
        else
            e->a[0] = lower_expr(w, obj);
        if (e->a[0]->ty == IT_STREAM && m != M_NEW_BYTES && m != M_LEN)
            w->p->stream_hist = true;
        if (e->a[0]->ty == IT_STREAM && m == M_NEW_BYTES)
            w->p->new_bytes = true;
        int i = 1;
        for (struct ast_expr *a = x->u.call.args; a; a = a->next_arg)
            e->a[i++] = lower_expr(w, a);
        return e;
    }
    if (x->u.call.fn == NULL) {
        lw_error(w, x->loc, "unsupported call", NULL);
        return mk_int(w, rty, 0);
    }
    struct ir_expr *e = mk(w, X_CALLFN, rty, x->u.call.nargs);
    e->name = arena_printf(w->A, "mbx_fn_%s", x->u.call.fn->name);
    int i = 0;
    for (struct ast_expr *a = x->u.call.args; a; a = a->next_arg)
        e->a[i++] = lower_expr(w, a);
    return e;
}

static struct ir_expr *lower_name(struct lw *w, struct ast_expr *x)
{
    struct sym *s = x->u.name.sym;
    enum ir_ty ty = lower_ty(w, x->type);
    if (s == NULL)
        unreachable("lower: an unresolved name");
    switch (s->kind) {
    case SYM_BIND:
    case SYM_LET:
    case SYM_LOOP: {
        int l = sym_local(w, s);
        if (l < 0)
            unreachable("lower: a local used outside its function");
        struct ir_expr *e = mk(w, X_LOCAL, ty, 0);
        e->index = l;
        if (ty == IT_TABLE)
            e->table = w->fn->locals[l].table;
        return e;
    }
    case SYM_CONFIG:
    case SYM_TABLE: {
        int i = item_index(w, s->item);
        if (i < 0)
            unreachable("lower: a config or table of another module");
        struct ir_expr *e = mk(w, s->kind == SYM_CONFIG ? X_CONFIG : X_TABLE, ty, 0);
        e->index = i;
        if (s->kind == SYM_TABLE)
            e->table = w->p->tables[i];
        return e;
    }
    }
    unreachable("lower: unknown symbol kind");
}

static struct ir_expr *lower_expr(struct lw *w, struct ast_expr *x)
{
    enum ir_ty ty = lower_ty(w, x->type);
    struct ir_expr *e;
    switch (x->kind) {
    case E_INT:
    case E_DURATION:
        return mk_int(w, ty, x->u.i);
    case E_BOOL:
        return mk_int(w, IT_BOOL, x->u.b);
    case E_SIDE:
        return mk_int(w, IT_ENDP, (uint64_t)x->u.side);
    case E_STR:
    case E_BYTES:
        e = mk(w, X_CONST, ty == IT_BYTES ? IT_BYTES : IT_STR, 0);
        e->u.str.s = x->u.str.s;
        e->u.str.n = x->u.str.n;
        return e;
    case E_IP:
    case E_PREFIX:
        e = mk(w, X_CONST, x->kind == E_IP ? IT_ADDR : IT_PREFIX, 0);
        lower_addr(x, e->u.ip.b, &e->u.ip.plen);
        return e;
    case E_NAME:
        return lower_name(w, x);
    case E_STATE:
        lw_error(w, x->loc, "'state' can only be used through its fields", NULL);
        return mk_int(w, IT_INT, 0);
    case E_FIELD:
        return lower_field(w, x);
    case E_INDEX: {
        struct ir_expr *o = lower_expr(w, x->u.index.obj);
        if (o->ty == IT_TABLE) {
            e = mk(w, X_TGET, ty, 2);
            if (ty == IT_TABLE)
                e->table = table_kinds(w, x->type, x->loc);
        } else {
            e = mk(w, X_INDEX, ty, 2);
        }
        e->a[0] = o;
        e->a[1] = lower_expr(w, x->u.index.idx);
        return e;
    }
    case E_SLICE:
        e = mk(w, X_SLICE, ty, 3);
        e->a[0] = lower_expr(w, x->u.slice.obj);
        e->a[1] = x->u.slice.lo ? lower_expr(w, x->u.slice.lo) : NULL;
        e->a[2] = x->u.slice.hi ? lower_expr(w, x->u.slice.hi) : NULL;
        return e;
    case E_CALL:
        return lower_call(w, x);
    case E_UNARY:
        e = mk(w, X_UNARY, ty, 1);
        e->bop = x->u.un.op;
        e->a[0] = lower_expr(w, x->u.un.a);
        return e;
    case E_BINARY:
        e = mk(w, X_BINARY, ty, 2);
        e->bop = x->u.bin.op;
        e->a[0] = lower_expr(w, x->u.bin.a);
        e->a[1] = lower_expr(w, x->u.bin.b);
        return e;
    case E_AS:
        e = mk(w, X_CAST, ty, 1);
        e->a[0] = lower_expr(w, x->u.as.a);
        return e;
    }
    unreachable("lower: unknown expression kind");
}

/* ---------------------------------------------------------------- events */

static struct ir_module *extern_exporting(struct lw *w, const struct ast_decl *ev, int *pos)
{
    for (int i = 0; i < w->p->nmodules; i++) {
        struct ir_module *m = &w->p->modules[i];
        if (!m->is_extern)
            continue;
        int k = 0;
        for (struct ast_item *it = m->decl->u.mod.items; it; it = it->next) {
            if (it->kind != I_EXPORT)
                continue;
            for (struct ast_name *n = it->u.names; n; n = n->next) {
                if (n->decl == NULL || n->decl->kind != D_EVENT)
                    continue;
                if (n->decl == ev) {
                    *pos = k;
                    return m;
                }
                k++;
            }
        }
    }
    return NULL;
}

static const char *cname_of(struct lw *w, const char *name)
{
    char *s = arena_strdup(w->A, name);
    for (char *c = s; *c; c++)
        if (*c == '.')
            *c = '_';
    return s;
}

static struct ir_event *event_of(struct lw *w, struct ast_decl *d);

static void event_add(struct lw *w, struct ir_event *ev)
{
    struct ir_prog *p = w->p;
    p->events = lw_grow(w, p->events, p->nevents, &w->nevents_cap, sizeof(*p->events));
    ev->slot = MBX_EV_NBUILTIN + p->nevents;
    p->events[p->nevents++] = ev;
    p->nslots = MBX_EV_NBUILTIN + p->nevents;
}

static void bind_params(struct lw *w, struct ir_func *fn, struct ir_event *ev, struct sym **binds,
                        int n);

/* The IR event of an event declaration, made (with its base chain) on first use. */
static struct ir_event *event_of(struct lw *w, struct ast_decl *d)
{
    struct ir_prog *p = w->p;
    int bid = d->u.ev.derived ? -1 : d->u.ev.builtin_id;
    if (bid >= MBX_EV_NBUILTIN)
        unreachable("lower: a built-in event id out of range");
    if (bid >= 0 && w->builtin[bid])
        return w->builtin[bid];
    for (int i = 0; i < p->nevents; i++)
        if (p->events[i]->decl == d)
            return p->events[i];
    struct ir_event *ev = ARENA_NEW(w->A, struct ir_event);
    ev->decl = d;
    ev->name = d->name;
    ev->cname = cname_of(w, d->name);
    ev->nparams = d->u.ev.nparams;
    ev->ptys = arena_alloc(w->A, (size_t)(ev->nparams + 1) * sizeof(*ev->ptys));
    ev->pnames = arena_alloc(w->A, (size_t)(ev->nparams + 1) * sizeof(*ev->pnames));
    int i = 0;
    for (struct ast_field *f = d->u.ev.params; f && i < ev->nparams; f = f->next, i++) {
        ev->ptys[i] = lower_ty(w, f->type);
        ev->pnames[i] = f->name;
    }
    ev->root = ev;
    if (d->u.ev.derived) {
        ev->kind = EV_DERIVED;
        ev->base = event_of(w, d->u.ev.base);
        ev->root = ev->base->root;
        if (d->u.ev.filter) {
            struct ir_func *saved = w->fn;
            int sn = w->nsyms;
            struct ir_func *f = ARENA_NEW(w->A, struct ir_func);
            f->kind = FN_FILTER;
            f->module = -1;
            f->event = ev;
            f->name = arena_printf(w->A, "f_%s", ev->cname);
            f->loc = d->loc;
            f->carries_packet = d->u.ev.carries_packet;
            w->fn = f;
            bind_params(w, f, ev, d->u.ev.binds, ev->nparams);
            f->where = lower_expr(w, d->u.ev.filter);
            w->fn = saved;
            w->nsyms = sn;
            ev->filter = f;
            p->funcs = lw_grow(w, p->funcs, p->nfuncs, &w->nfuncs_cap, sizeof(*p->funcs));
            p->funcs[p->nfuncs++] = f;
        }
        event_add(w, ev);
        return ev;
    }
    if (d->u.ev.builtin_id >= 0) {
        ev->kind = EV_BUILTIN;
        ev->builtin_id = d->u.ev.builtin_id;
        ev->slot = ev->builtin_id;
        w->builtin[bid] = ev;
        return ev;
    }
    int pos = 0;
    struct ir_module *m = extern_exporting(w, d, &pos);
    if (m) {
        ev->kind = EV_EXTERN;
        ev->ext = (int)(m - p->modules);
        ev->pos = pos;
    } else {
        ev->kind = EV_RAISED;
    }
    event_add(w, ev);
    return ev;
}

/* Locals for the event's parameters, each set from the event being handled. */
static void bind_params(struct lw *w, struct ir_func *fn, struct ir_event *ev, struct sym **binds,
                        int n)
{
    struct ir_event *root = ev->root;
    struct ir_stmt **tail = &fn->body;
    while (*tail)
        tail = &(*tail)->next;
    for (int i = 0; i < n && i < root->nparams; i++) {
        if (binds == NULL || binds[i] == NULL)
            continue;
        enum ir_ty ty = ev->ptys[i];
        struct ir_expr *val = mk(w, X_EVARG, ty, 0);
        val->index = i;
        switch (root->kind) {
        case EV_BUILTIN:
            if (ty == IT_FLOW)
                val->evarg = EA_FLOW;
            else if (ty == IT_ENDP)
                val->evarg = EA_SIDE;
            else if (ty == IT_PKT)
                val->evarg = EA_PKT;
            else if (ty == IT_BOOL)
                val->evarg = EA_INCONS;
            else
                val->evarg = EA_LEN;
            break;
        case EV_EXTERN:
            val->evarg = w->p->modules[root->ext].is_std_http ? EA_EXTERN : EA_PAYLOAD;
            break;
        case EV_RAISED:
            val->evarg = EA_PAYLOAD;
            break;
        case EV_DERIVED:
            unreachable("lower: a derived event as a root");
        }
        int l = local_new(w, binds[i]->name, ty, NULL);
        sym_bind(w, binds[i], l);
        struct ir_stmt *s = ARENA_NEW(w->A, struct ir_stmt);
        s->op = Y_LET;
        s->index = l;
        s->a = val;
        s->loc = binds[i]->loc;
        *tail = s;
        tail = &s->next;
    }
}

/* ---------------------------------------------------------------- statements */

static struct ir_stmt *lower_block(struct lw *w, struct ast_stmt *s);

static struct ir_stmt *stmt_new(struct lw *w, enum ir_sop op, struct loc loc)
{
    struct ir_stmt *s = ARENA_NEW(w->A, struct ir_stmt);
    s->op = op;
    s->loc = loc;
    s->index = s->index2 = -1;
    return s;
}

static int module_index(struct lw *w, const struct ast_decl *d)
{
    for (int i = 0; i < w->p->nmodules; i++)
        if (w->p->modules[i].decl == d)
            return i;
    return -1;
}

static void lower_out_args(struct lw *w, struct ir_stmt *s, struct ast_arg *args)
{
    int n = 0;
    for (struct ast_arg *a = args; a; a = a->next)
        n++;
    s->nargs = n;
    s->keys = arena_alloc(w->A, (size_t)(n + 1) * sizeof(*s->keys));
    s->args = arena_alloc(w->A, (size_t)(n + 1) * sizeof(*s->args));
    int i = 0;
    for (struct ast_arg *a = args; a; a = a->next, i++) {
        s->keys[i] = a->key;
        s->args[i] = lower_expr(w, a->value);
    }
}

static struct ir_stmt *lower_stmt(struct lw *w, struct ast_stmt *x)
{
    struct ir_stmt *s;
    switch (x->kind) {
    case S_LET: {
        struct ir_expr *v = lower_expr(w, x->u.let.init);
        s = stmt_new(w, Y_LET, x->loc);
        s->index = local_new(w, x->u.let.name, v->ty, v->table);
        if (x->u.let.sym)
            sym_bind(w, x->u.let.sym, s->index);
        s->a = v;
        return s;
    }
    case S_ASSIGN:
        s = stmt_new(w, Y_STORE, x->loc);
        s->lhs = lower_expr(w, x->u.assign.lhs);
        s->a = lower_expr(w, x->u.assign.rhs);
        s->aop = x->u.assign.compound ? x->u.assign.op : OP_EQ;
        if (s->lhs->op != X_LOCAL && s->lhs->op != X_STATE && s->lhs->op != X_CONFIG &&
            s->lhs->op != X_TGET)
            lw_error(w, x->loc, "unsupported assignment target", NULL);
        if (s->lhs->op == X_TGET && s->lhs->ty == IT_TABLE)
            lw_error(w, x->loc, "assigning a whole set to a map element is not supported", NULL);
        return s;
    case S_EXPR:
        s = stmt_new(w, Y_EXPR, x->loc);
        s->a = lower_expr(w, x->u.expr);
        return s;
    case S_IF:
        s = stmt_new(w, Y_IF, x->loc);
        s->a = lower_expr(w, x->u.if_.cond);
        s->body = lower_block(w, x->u.if_.then_);
        s->else_ = lower_block(w, x->u.if_.else_);
        return s;
    case S_FOR: {
        struct ir_expr *it = lower_expr(w, x->u.for_.iter);
        bool two = x->u.for_.v != NULL;
        if (it->ty == IT_TABLE) {
            const struct ir_table *tb = it->table;
            s = stmt_new(w, Y_FOR_TABLE, x->loc);
            s->a = it;
            s->index = local_new(w, x->u.for_.k, tb->key, NULL);
            if (x->u.for_.ksym)
                sym_bind(w, x->u.for_.ksym, s->index);
            if (two) {
                struct ir_table *nested = NULL;
                if (tb->val_is_set) {
                    nested = ARENA_NEW(w->A, struct ir_table);
                    nested->key = tb->elem;
                    nested->val = IT_VOID;
                    nested->index = -1;
                }
                s->index2 = local_new(w, x->u.for_.v, tb->val_is_set ? IT_TABLE : tb->val, nested);
                if (x->u.for_.vsym)
                    sym_bind(w, x->u.for_.vsym, s->index2);
            }
        } else if (it->ty == IT_STR || it->ty == IT_BYTES) {
            s = stmt_new(w, Y_FOR_BYTES, x->loc);
            s->a = it;
            if (two) {
                s->index = local_new(w, x->u.for_.k, IT_INT, NULL);
                if (x->u.for_.ksym)
                    sym_bind(w, x->u.for_.ksym, s->index);
                s->index2 = local_new(w, x->u.for_.v, IT_UINT, NULL);
                if (x->u.for_.vsym)
                    sym_bind(w, x->u.for_.vsym, s->index2);
            } else {
                s->index2 = local_new(w, x->u.for_.k, IT_UINT, NULL);
                if (x->u.for_.ksym)
                    sym_bind(w, x->u.for_.ksym, s->index2);
            }
        } else {
            lw_error(w, x->loc, "unsupported for loop over a ", ir_ty_name(it->ty));
            return NULL;
        }
        s->body = lower_block(w, x->u.for_.body);
        return s;
    }
    case S_RETURN:
        return stmt_new(w, Y_RETURN, x->loc);
    case S_RAISE: {
        s = stmt_new(w, Y_RAISE, x->loc);
        s->event = event_of(w, x->u.raise.event);
        if (s->event->kind != EV_RAISED) {
            lw_error(w, x->loc, "only events declared with parameters can be raised: '",
                     s->event->name);
            return NULL;
        }
        s->nargs = x->u.raise.nargs;
        s->args = arena_alloc(w->A, (size_t)(s->nargs + 1) * sizeof(*s->args));
        int i = 0;
        for (struct ast_expr *a = x->u.raise.args; a; a = a->next_arg)
            s->args[i++] = lower_expr(w, a);
        return s;
    }
    case S_ALERT:
        s = stmt_new(w, Y_ALERT, x->loc);
        if (x->u.out.name->kind != E_STR) {
            lw_error(w, x->loc, "an alert's name must be a string literal", NULL);
            return NULL;
        }
        s->name = arena_strndup(w->A, x->u.out.name->u.str.s, x->u.out.name->u.str.n);
        lower_out_args(w, s, x->u.out.args);
        return s;
    case S_LOG:
        s = stmt_new(w, Y_LOG, x->loc);
        s->a = lower_expr(w, x->u.out.name);
        lower_out_args(w, s, x->u.out.args);
        return s;
    case S_DROP_PACKET:
        return stmt_new(w, Y_DROP_PACKET, x->loc);
    case S_DROP_FLOW:
        return stmt_new(w, Y_DROP_FLOW, x->loc);
    case S_STEER:
        s = stmt_new(w, Y_STEER, x->loc);
        s->a = lower_expr(w, x->u.steer.flow);
        s->index = module_index(w, x->u.steer.target ? x->u.steer.target->decl : NULL);
        if (s->index < 0) {
            lw_error(w, x->loc, "steer target is not a pipeline member", NULL);
            return NULL;
        }
        return s;
    case S_UNSUBSCRIBE:
        return stmt_new(w, Y_UNSUB, x->loc);
    }
    unreachable("lower: unknown statement kind");
}

static struct ir_stmt *lower_block(struct lw *w, struct ast_stmt *s)
{
    struct ir_stmt *head = NULL, **tail = &head;
    for (; s; s = s->next) {
        struct ir_stmt *y = lower_stmt(w, s);
        if (y == NULL)
            continue;
        *tail = y;
        tail = &y->next;
    }
    return head;
}

/* ---------------------------------------------------------------- reuse of set lookups */

/* `t[k].add(x)` followed by reads of `t[k]` (portscan's pattern: add, then test
 * the set's size, then write it out) would look the same key up again and
 * again.  After such an add, the nested set it returned is kept in a local and
 * later reads of t[k] in the same block use it, until something may change t
 * (a write to t, t.len() which sweeps t, a raise, a loop) or a local of k. */
struct cse_ent {
    int table;           /* program table index */
    struct ir_expr *key; /* the key expression */
    int local;           /* local holding the nested set */
};

struct cse {
    struct cse_ent e[8];
    int n;
};

static bool ir_eq(const struct ir_expr *a, const struct ir_expr *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (a->op != b->op || a->ty != b->ty || a->index != b->index || a->na != b->na ||
        a->evarg != b->evarg || a->bop != b->bop || a->method != b->method)
        return false;
    if ((a->name || b->name) && (!a->name || !b->name || strcmp(a->name, b->name) != 0))
        return false;
    if (a->op == X_CONST) {
        if (a->ty == IT_STR || a->ty == IT_BYTES)
            return a->u.str.n == b->u.str.n && memcmp(a->u.str.s, b->u.str.s, a->u.str.n) == 0;
        if (a->ty == IT_ADDR || a->ty == IT_PREFIX)
            return memcmp(a->u.ip.b, b->u.ip.b, 16) == 0 && a->u.ip.plen == b->u.ip.plen;
        return a->u.i == b->u.i;
    }
    for (int i = 0; i < a->na; i++)
        if (!ir_eq(a->a[i], b->a[i]))
            return false;
    return true;
}

/* A key that reads nothing a handler can change but locals (tracked). */
static bool cse_pure(const struct ir_expr *x)
{
    if (x == NULL)
        return true;
    switch (x->op) {
    case X_CONST:
    case X_LOCAL:
    case X_EVARG:
    case X_ENDP:
    case X_FLOWF:
    case X_ENDPF:
    case X_UFIELD:
    case X_UNARY:
    case X_BINARY:
    case X_CAST:
        break;
    default:
        return false;
    }
    if (x->op == X_BINARY && (x->bop == OP_IN || x->bop == OP_DIV || x->bop == OP_MOD))
        return false;
    for (int i = 0; i < x->na; i++)
        if (!cse_pure(x->a[i]))
            return false;
    return true;
}

static bool uses_local(const struct ir_expr *x, int l)
{
    if (x == NULL)
        return false;
    if (x->op == X_LOCAL && x->index == l)
        return true;
    for (int i = 0; i < x->na; i++)
        if (uses_local(x->a[i], l))
            return true;
    return false;
}

static void cse_kill(struct cse *c, int table, int local)
{
    int k = 0;
    for (int i = 0; i < c->n; i++)
        if (!(table >= 0 && c->e[i].table == table) &&
            !(local >= 0 && uses_local(c->e[i].key, local)))
            c->e[k++] = c->e[i];
    c->n = k;
}

/* Replace reads t[k] (set-valued) with the local holding them. */
static struct ir_expr *cse_subst(struct lw *w, struct ir_expr *x, const struct cse *c)
{
    if (x == NULL)
        return NULL;
    for (int i = 0; i < x->na; i++)
        x->a[i] = cse_subst(w, x->a[i], c);
    if (x->op != X_TGET || x->ty != IT_TABLE || x->a[0]->op != X_TABLE)
        return x;
    for (int i = 0; i < c->n; i++)
        if (c->e[i].table == x->a[0]->index && ir_eq(c->e[i].key, x->a[1])) {
            struct ir_expr *l = mk(w, X_LOCAL, IT_TABLE, 0);
            l->index = c->e[i].local;
            l->table = x->table;
            return l;
        }
    return x;
}

/* What evaluating x may change: tables written or swept. */
static void cse_effects(struct cse *c, const struct ir_expr *x)
{
    if (x == NULL)
        return;
    for (int i = 0; i < x->na; i++)
        cse_effects(c, x->a[i]);
    if (x->op == X_TREF_SET && x->a[0]->op == X_TABLE)
        cse_kill(c, x->a[0]->index, -1);
    if (x->op == X_METHOD && x->a[0]->op == X_TABLE &&
        (x->method == M_ADD || x->method == M_REMOVE || x->method == M_LEN))
        cse_kill(c, x->a[0]->index, -1);
    if (x->op == X_CALLFN)
        c->n = 0;
}

static void cse_block(struct lw *w, struct ir_stmt **pp, struct cse *c)
{
    for (; *pp; pp = &(*pp)->next) {
        struct ir_stmt *s = *pp;
        s->a = cse_subst(w, s->a, c);
        for (int i = 0; i < s->nargs; i++)
            s->args[i] = cse_subst(w, s->args[i], c);
        if (s->lhs && s->lhs->op == X_TGET)
            s->lhs->a[1] = cse_subst(w, s->lhs->a[1], c);
        cse_effects(c, s->a);
        for (int i = 0; i < s->nargs; i++)
            cse_effects(c, s->args[i]);
        switch (s->op) {
        case Y_IF: {
            struct cse a = *c, b = *c;
            cse_block(w, &s->body, &a);
            cse_block(w, &s->else_, &b);
            int k = 0; /* what both branches left */
            for (int i = 0; i < c->n; i++) {
                bool in_a = false, in_b = false;
                for (int j = 0; j < a.n; j++)
                    in_a |= a.e[j].local == c->e[i].local;
                for (int j = 0; j < b.n; j++)
                    in_b |= b.e[j].local == c->e[i].local;
                if (in_a && in_b)
                    c->e[k++] = c->e[i];
            }
            c->n = k;
            break;
        }
        case Y_FOR_TABLE:
        case Y_FOR_BYTES: {
            struct cse none = {.n = 0};
            cse_block(w, &s->body, &none);
            c->n = 0;
            break;
        }
        case Y_STORE:
            if (s->lhs->op == X_TGET && s->lhs->a[0]->op == X_TABLE)
                cse_kill(c, s->lhs->a[0]->index, -1);
            else if (s->lhs->op == X_LOCAL)
                cse_kill(c, -1, s->lhs->index);
            else
                c->n = 0;
            break;
        case Y_LET:
            cse_kill(c, -1, s->index);
            break;
        case Y_RAISE:
            c->n = 0;
            break;
        default:
            break;
        }
        /* a new reuse: t[k].add(x) with k pure */
        struct ir_expr *m = s->a;
        if (s->op == Y_EXPR && m && m->op == X_METHOD && m->method == M_ADD &&
            m->a[0]->op == X_TREF_SET && m->a[0]->a[0]->op == X_TABLE && cse_pure(m->a[0]->a[1]) &&
            c->n < (int)(sizeof(c->e) / sizeof(c->e[0]))) {
            struct ir_expr *ref = m->a[0];
            struct ir_stmt *let = stmt_new(w, Y_LET, s->loc);
            let->index = local_new(w, "set", IT_TABLE, ref->table);
            let->a = ref;
            struct ir_expr *l = mk(w, X_LOCAL, IT_TABLE, 0);
            l->index = let->index;
            l->table = ref->table;
            m->a[0] = l;
            let->next = s;
            *pp = let;
            pp = &let->next;
            c->e[c->n].table = ref->a[0]->index;
            c->e[c->n].key = ref->a[1];
            c->e[c->n].local = let->index;
            c->n++;
        }
    }
}

/* ---------------------------------------------------------------- modules */

/* Whether an expression or statement list reads a stream (fallback when the
 * front end's analyse pass left no marks). */
static bool expr_reads_stream(const struct ast_expr *x)
{
    if (x == NULL)
        return false;
    if (x->type && x->type->kind == TY_STREAM)
        return true;
    switch (x->kind) {
    case E_FIELD:
        return expr_reads_stream(x->u.field.obj);
    case E_INDEX:
        return expr_reads_stream(x->u.index.obj) || expr_reads_stream(x->u.index.idx);
    case E_SLICE:
        return expr_reads_stream(x->u.slice.obj) || expr_reads_stream(x->u.slice.lo) ||
               expr_reads_stream(x->u.slice.hi);
    case E_CALL: {
        if (expr_reads_stream(x->u.call.callee))
            return true;
        for (const struct ast_expr *a = x->u.call.args; a; a = a->next_arg)
            if (expr_reads_stream(a))
                return true;
        return false;
    }
    case E_UNARY:
        return expr_reads_stream(x->u.un.a);
    case E_BINARY:
        return expr_reads_stream(x->u.bin.a) || expr_reads_stream(x->u.bin.b);
    case E_AS:
        return expr_reads_stream(x->u.as.a);
    default:
        return false;
    }
}

static bool stmts_read_stream(const struct ast_stmt *s)
{
    for (; s; s = s->next) {
        switch (s->kind) {
        case S_LET:
            if (expr_reads_stream(s->u.let.init))
                return true;
            break;
        case S_ASSIGN:
            if (expr_reads_stream(s->u.assign.lhs) || expr_reads_stream(s->u.assign.rhs))
                return true;
            break;
        case S_EXPR:
            if (expr_reads_stream(s->u.expr))
                return true;
            break;
        case S_IF:
            if (expr_reads_stream(s->u.if_.cond) || stmts_read_stream(s->u.if_.then_) ||
                stmts_read_stream(s->u.if_.else_))
                return true;
            break;
        case S_FOR:
            if (expr_reads_stream(s->u.for_.iter) || stmts_read_stream(s->u.for_.body))
                return true;
            break;
        case S_RAISE:
            for (const struct ast_expr *a = s->u.raise.args; a; a = a->next_arg)
                if (expr_reads_stream(a))
                    return true;
            break;
        case S_ALERT:
        case S_LOG:
            for (const struct ast_arg *a = s->u.out.args; a; a = a->next)
                if (expr_reads_stream(a->value))
                    return true;
            if (expr_reads_stream(s->u.out.name))
                return true;
            break;
        default:
            break;
        }
    }
    return false;
}

/* Stream sides a handler reads: the analyse pass's marks, plus what this pass can
 * see for itself (a tcp.rexmit subscriber keeps both sides' recent bytes; a
 * derived event's filter that reads a stream reads it for its subscribers). */
static unsigned handler_reads(struct ast_item *it)
{
    unsigned r = it->u.on.reads & 3u;
    struct ast_decl *ev = it->u.on.event;
    if (ev && ev->u.ev.root && ev->u.ev.root->u.ev.builtin_id == MBX_EV_TCP_REXMIT)
        r |= 3u;
    if (r == 0 && (expr_reads_stream(it->u.on.where) || stmts_read_stream(it->u.on.body)))
        r = 3u;
    for (struct ast_decl *d = ev; r != 3u && d && d->u.ev.derived; d = d->u.ev.base)
        if (expr_reads_stream(d->u.ev.filter))
            r = 3u;
    return r;
}

static struct ir_func *func_new(struct lw *w, enum ir_fkind k, const char *prefix, struct loc loc)
{
    struct ir_func *f = ARENA_NEW(w->A, struct ir_func);
    f->kind = k;
    f->module = w->module;
    f->loc = loc;
    f->name = arena_printf(w->A, "%s_%s_%d", prefix, w->p->modules[w->module].name, ++w->counter);
    f->sub = -1;
    struct ir_prog *p = w->p;
    p->funcs = lw_grow(w, p->funcs, p->nfuncs, &w->nfuncs_cap, sizeof(*p->funcs));
    p->funcs[p->nfuncs++] = f;
    return f;
}

/* Constant context (config defaults, expire, max, every periods): no function. */
static struct ir_expr *lower_const_expr(struct lw *w, struct ast_expr *x)
{
    struct ir_func *saved = w->fn;
    w->fn = NULL;
    struct ir_expr *e = lower_expr(w, x);
    w->fn = saved;
    if (e->op != X_CONST && e->op != X_CONFIG && e->op != X_UNARY && e->op != X_BINARY)
        lw_error(w, x->loc, "this expression must be a constant or a config", NULL);
    return e;
}

static void lower_module_decls(struct lw *w, struct ir_module *m)
{
    struct ir_prog *p = w->p;
    for (struct ast_item *it = m->decl->u.mod.items; it; it = it->next) {
        if (it->kind == I_CONFIG) {
            p->configs = lw_grow(w, p->configs, p->nconfigs, &w->nconfigs_cap, sizeof(*p->configs));
            struct ir_config *c = &p->configs[p->nconfigs];
            c->module = m->name;
            c->name = it->u.config.name;
            c->ty = lower_ty(w, it->u.config.type);
            item_index_put(w, it, p->nconfigs++);
            c->init = it->u.config.init ? lower_const_expr(w, it->u.config.init) : NULL;
        } else if (it->kind == I_TABLE) {
            struct ir_table *tb = table_kinds(w, it->u.table.type, it->loc);
            tb->module = m->name;
            tb->name = it->u.table.name;
            p->tables = lw_grow(w, p->tables, p->ntables, &w->ntables_cap, sizeof(*p->tables));
            tb->index = p->ntables;
            p->tables[p->ntables] = tb;
            item_index_put(w, it, p->ntables++);
            tb->expire = it->u.table.expire ? lower_const_expr(w, it->u.table.expire) : NULL;
            tb->max = it->u.table.max ? lower_const_expr(w, it->u.table.max) : NULL;
        } else if (it->kind == I_STATE) {
            int n = 0;
            for (struct ast_field *f = it->u.state.fields; f; f = f->next)
                n++;
            m->state = arena_alloc(w->A, (size_t)(n + 1) * sizeof(*m->state));
            m->nstate = n;
            m->state_per = it->u.state.per ? it->u.state.per->name : "tcp";
            int i = 0;
            for (struct ast_field *f = it->u.state.fields; f; f = f->next, i++) {
                m->state[i].name = f->name;
                m->state[i].ty = lower_ty(w, f->type);
                m->state[i].init = f->init ? lower_const_expr(w, f->init) : NULL;
                if (m->state[i].ty == IT_TABLE)
                    lw_error(w, f->loc, "tables in per-flow state are not supported", NULL);
            }
        }
    }
}

static void lower_module_code(struct lw *w, struct ir_module *m)
{
    struct ir_prog *p = w->p;
    for (struct ast_item *it = m->decl->u.mod.items; it; it = it->next) {
        if (it->kind == I_ON) {
            if (it->u.on.event == NULL)
                unreachable("lower: a handler of an unresolved event");
            struct ir_event *ev = event_of(w, it->u.on.event);
            struct ir_func *f = func_new(w, FN_HANDLER, "h", it->loc);
            f->event = ev;
            f->carries_packet = it->u.on.carries_packet;
            f->unsub = it->u.on.unsub;
            w->fn = f;
            w->nsyms = 0;
            bind_params(w, f, ev, it->u.on.binds, it->u.on.nparams);
            if (it->u.on.where)
                f->where = lower_expr(w, it->u.on.where);
            struct ir_stmt **tail = &f->body;
            while (*tail)
                tail = &(*tail)->next;
            *tail = lower_block(w, it->u.on.body);
            struct cse c = {.n = 0};
            cse_block(w, tail, &c);
            w->fn = NULL;
            p->subs = lw_grow(w, p->subs, p->nsubs, &w->nsubs_cap, sizeof(*p->subs));
            struct ir_sub *s = &p->subs[p->nsubs];
            s->module = w->module;
            s->event = ev;
            s->fn = f;
            unsigned r = handler_reads(it);
            s->flags = (r & 1u ? MBX_SUB_READ_CLIENT : 0) | (r & 2u ? MBX_SUB_READ_SERVER : 0);
            if (m->steered && ev->root->kind != EV_BUILTIN)
                s->flags |= MBX_SUB_PER_FLOW;
            else if (m->steered && ev->root->builtin_id != MBX_EV_PKT_IN)
                s->flags |= MBX_SUB_PER_FLOW;
            m->reads |= s->flags & (MBX_SUB_READ_CLIENT | MBX_SUB_READ_SERVER);
            s->bit = -1;
            f->sub = p->nsubs++;
        } else if (it->kind == I_EVERY) {
            struct ir_func *f = func_new(w, FN_TIMER, "t", it->loc);
            w->fn = f;
            w->nsyms = 0;
            f->body = lower_block(w, it->u.every.body);
            struct cse c = {.n = 0};
            cse_block(w, &f->body, &c);
            w->fn = NULL;
            p->timers = lw_grow(w, p->timers, p->ntimers, &w->ntimers_cap, sizeof(*p->timers));
            p->timers[p->ntimers].module = w->module;
            p->timers[p->ntimers].fn = f;
            p->timers[p->ntimers].period = lower_const_expr(w, it->u.every.period);
            p->ntimers++;
        }
    }
}

/* Events raised only by .mbx modules have statically known subscribers: the
 * raise calls them directly (in dispatch order, derived events' filters
 * inline).  A direct subscription that can be turned off per flow (its handler
 * unsubscribes) or on (its module is steered to) gets a bit of the per-flow
 * masks; past 64 such bits the rest stay with the runtime's dispatcher. */
static void lower_direct(struct ir_prog *p)
{
    for (int i = 0; i < p->nevents; i++) {
        struct ir_event *ev = p->events[i];
        ev->direct = ev->root->kind == EV_RAISED;
    }
    for (int i = 0; i < p->nevents; i++) { /* every subscription of a tree, or none */
        struct ir_event *root = p->events[i];
        if (!root->direct || root->kind != EV_RAISED)
            continue;
        int need = 0;
        for (int k = 0; k < p->nsubs; k++)
            if (p->subs[k].event->root == root &&
                (p->subs[k].fn->unsub || (p->subs[k].flags & MBX_SUB_PER_FLOW)))
                need++;
        bool fits = p->nbits + need <= 64;
        for (int k = 0; k < p->nevents; k++)
            if (p->events[k]->root == root)
                p->events[k]->direct = fits;
        if (!fits)
            continue;
        for (int k = 0; k < p->nsubs; k++) {
            struct ir_sub *s = &p->subs[k];
            if (s->event->root != root)
                continue;
            s->direct = true;
            if (s->fn->unsub || (s->flags & MBX_SUB_PER_FLOW))
                s->bit = p->nbits++;
        }
    }
}

struct ir_prog *lower_program(struct mbxc *mc)
{
    struct lw w = {.mc = mc, .A = &mc->arena};
    struct link_graph *g = mc->graph;
    if (g == NULL || g->nnodes == 0) {
        diag_error(&mc->diag, diag_noloc(),
                   "nothing to build: the program has no pipeline (or it has no members)");
        diag_flush(&mc->diag, true);
        return NULL;
    }
    struct ir_prog *p = ARENA_NEW(w.A, struct ir_prog);
    w.p = p;
    p->name = g->pipeline ? g->pipeline->name : "main";
    p->nslots = MBX_EV_NBUILTIN;
    p->nmodules = g->nnodes;
    p->modules = arena_alloc(w.A, (size_t)g->nnodes * sizeof(*p->modules));
    for (int i = 0; i < g->nnodes; i++) {
        struct ir_module *m = &p->modules[i];
        struct ast_decl *d = g->nodes[i]->module;
        m->decl = d;
        m->name = d->name;
        m->is_extern = d->u.mod.is_extern;
        m->steered = d->u.mod.steered;
        if (m->is_extern && strcmp(d->name, "http_parser") == 0 && d->unit &&
            strcmp(d->unit->name, "std.http") == 0) {
            m->is_std_http = true;
            p->uses_std_http = true;
        }
        if (m->is_extern && strcmp(d->name, "http_eve") == 0 && d->unit &&
            strcmp(d->unit->name, "std.http") == 0)
            m->is_std_http_eve = p->http_eve = true;
        if (m->is_extern && strcmp(d->name, "av_scanner") == 0 && d->unit &&
            strcmp(d->unit->name, "std.av") == 0)
            m->is_std_av = p->uses_std_av = true;
    }
    /* configs and tables first: handlers of any member may only name their own, but
     * item indexes must exist before any body is lowered */
    for (int i = 0; i < p->nmodules; i++) {
        w.module = i;
        if (!p->modules[i].is_extern)
            lower_module_decls(&w, &p->modules[i]);
    }
    /* extern exports get their slots first, in member and export order */
    for (int i = 0; i < p->nmodules; i++) {
        struct ir_module *m = &p->modules[i];
        if (!m->is_extern)
            continue;
        int n = 0, cap = 0;
        for (struct ast_item *it = m->decl->u.mod.items; it; it = it->next)
            if (it->kind == I_EXPORT)
                for (struct ast_name *nm = it->u.names; nm; nm = nm->next)
                    if (nm->decl && nm->decl->kind == D_EVENT) {
                        m->exports = lw_grow(&w, m->exports, n, &cap, sizeof(*m->exports));
                        m->exports[n++] = event_of(&w, nm->decl);
                    }
        m->nexports = n;
    }
    for (int i = 0; i < p->nmodules; i++) {
        w.module = i;
        w.mdecl = p->modules[i].decl;
        if (!p->modules[i].is_extern)
            lower_module_code(&w, &p->modules[i]);
    }
    if (w.failed) {
        diag_flush(&mc->diag, true);
        return NULL;
    }
    lower_direct(p);
    return p;
}

/* ---------------------------------------------------------------- dump */

static const char *const op_names[] = {
    "neg", "not", "add", "sub", "mul", "div", "mod", "band", "bor", "bxor", "shl",
    "shr", "eq",  "ne",  "lt",  "le",  "gt",  "ge",  "in",   "and", "or",
};

static const char *const method_names[] = {
    "none",  "len",  "starts_with", "ends_with", "contains", "find",
    "lower", "peek", "peek_at",     "new_bytes", "add",      "remove",
};

static void dump_expr(FILE *o, const struct ir_prog *p, const struct ir_expr *x)
{
    static const char *const evargs[] = {"flow", "side",    "inconsistent", "len",
                                         "pkt",  "payload", "extern"};
    static const char *const ffs[] = {"start", "last", "id", "community_id", "midstream"};
    static const char *const efs[] = {"ip", "port", "state", "seq", "bytes", "pkts", "rexmits"};
    if (x == NULL) {
        fputs("-", o);
        return;
    }
    switch (x->op) {
    case X_CONST:
        if (x->ty == IT_STR || x->ty == IT_BYTES)
            fprintf(o, "%s(%zu bytes)", ir_ty_name(x->ty), x->u.str.n);
        else if (x->ty == IT_ADDR || x->ty == IT_PREFIX)
            fprintf(o, "%s(..%u.%u.%u.%u/%d)", ir_ty_name(x->ty), x->u.ip.b[12], x->u.ip.b[13],
                    x->u.ip.b[14], x->u.ip.b[15], x->u.ip.plen);
        else
            fprintf(o, "%s(%llu)", ir_ty_name(x->ty), (unsigned long long)x->u.i);
        return;
    case X_LOCAL:
        fprintf(o, "l%d", x->index);
        return;
    case X_CONFIG:
        fprintf(o, "config(%s.%s)", p->configs[x->index].module, p->configs[x->index].name);
        return;
    case X_TABLE:
        fprintf(o, "table(%s.%s)", p->tables[x->index]->module, p->tables[x->index]->name);
        return;
    case X_STATE:
        fprintf(o, "state.%d", x->index);
        return;
    case X_EVARG:
        fprintf(o, "ev.%s(%d)", evargs[x->evarg], x->index);
        return;
    case X_ENDP:
        fputs("endp(", o);
        break;
    case X_FLOWF:
        fprintf(o, "flow.%s(", ffs[x->index]);
        break;
    case X_ENDPF:
        fprintf(o, "endp.%s(", efs[x->index]);
        break;
    case X_STREAM:
        fputs("stream(", o);
        break;
    case X_UFIELD:
        fprintf(o, "field.%s(", x->name);
        break;
    case X_UNARY:
    case X_BINARY:
        fprintf(o, "%s(", op_names[x->bop]);
        break;
    case X_CAST:
        fprintf(o, "as.%s(", ir_ty_name(x->ty));
        break;
    case X_TGET:
        fputs("tget(", o);
        break;
    case X_TREF_SET:
        fputs("tref_set(", o);
        break;
    case X_METHOD:
        fprintf(o, "%s(", method_names[x->method]);
        break;
    case X_SLICE:
        fputs("slice(", o);
        break;
    case X_INDEX:
        fputs("index(", o);
        break;
    case X_CALLFN:
        fprintf(o, "%s(", x->name);
        break;
    }
    for (int i = 0; i < x->na; i++) {
        if (i)
            fputs(", ", o);
        dump_expr(o, p, x->a[i]);
    }
    if (x->op == X_ENDP)
        fprintf(o, ", %s", x->index ? "server" : "client");
    fprintf(o, "):%s", ir_ty_name(x->ty));
}

static void dump_stmts(FILE *o, const struct ir_prog *p, const struct ir_stmt *s, int d)
{
    static const char *const names[] = {
        "let",   "store", "expr", "if",          "for_table", "for_bytes", "return",
        "raise", "alert", "log",  "drop_packet", "drop_flow", "steer",     "unsubscribe"};
    for (; s; s = s->next) {
        fprintf(o, "%*s%s", 2 * d, "", names[s->op]);
        if (s->op == Y_LET)
            fprintf(o, " l%d =", s->index);
        if (s->op == Y_FOR_TABLE || s->op == Y_FOR_BYTES)
            fprintf(o, " l%d l%d in", s->index, s->index2);
        if (s->op == Y_STEER)
            fprintf(o, " -> %s", p->modules[s->index].name);
        if (s->op == Y_RAISE)
            fprintf(o, " %s", s->event->name);
        if (s->op == Y_ALERT)
            fprintf(o, " \"%s\"", s->name);
        if (s->lhs) {
            fputs(" ", o);
            dump_expr(o, p, s->lhs);
            fprintf(o, " %s=", s->aop == OP_EQ ? "" : op_names[s->aop]);
        }
        if (s->a) {
            fputs(" ", o);
            dump_expr(o, p, s->a);
        }
        for (int i = 0; i < s->nargs; i++) {
            fprintf(o, "%s%s", i ? ", " : " [", s->keys ? s->keys[i] : "");
            if (s->keys)
                fputs(" = ", o);
            dump_expr(o, p, s->args[i]);
            if (i == s->nargs - 1)
                fputs("]", o);
        }
        fputs("\n", o);
        dump_stmts(o, p, s->body, d + 1);
        if (s->else_) {
            fprintf(o, "%*selse\n", 2 * d, "");
            dump_stmts(o, p, s->else_, d + 1);
        }
    }
}

void ir_dump(const struct ir_prog *p, FILE *o)
{
    static const char *const evk[] = {"builtin", "extern", "raised", "derived"};
    fprintf(o, "program %s (%s), %d event slots, %d per-flow bits\n", p->name,
            p->source ? p->source : "?", p->nslots, p->nbits);
    for (int i = 0; i < p->nmodules; i++) {
        const struct ir_module *m = &p->modules[i];
        fprintf(o, "module %d %s%s%s reads %u\n", i, m->name, m->is_extern ? " extern" : "",
                m->steered ? " steered" : "", m->reads);
        for (int k = 0; k < m->nstate; k++)
            fprintf(o, "  state per %s: %s %s\n", m->state_per, m->state[k].name,
                    ir_ty_name(m->state[k].ty));
    }
    for (int i = 0; i < p->nconfigs; i++)
        fprintf(o, "config %s.%s: %s\n", p->configs[i].module, p->configs[i].name,
                ir_ty_name(p->configs[i].ty));
    for (int i = 0; i < p->ntables; i++) {
        const struct ir_table *t = p->tables[i];
        fprintf(o, "table %s.%s: key %s val %s%s%s\n", t->module, t->name, ir_ty_name(t->key),
                t->val_is_set ? "set of " : "", ir_ty_name(t->val_is_set ? t->elem : t->val),
                t->expire ? " expire" : "");
    }
    for (int i = 0; i < p->nevents; i++) {
        const struct ir_event *e = p->events[i];
        fprintf(o, "event %s: slot %d %s%s%s%s\n", e->name, e->slot, evk[e->kind],
                e->base ? " on " : "", e->base ? e->base->name : "", e->direct ? " direct" : "");
    }
    for (int i = 0; i < p->nsubs; i++) {
        const struct ir_sub *s = &p->subs[i];
        fprintf(o, "sub %d: %s on %s -> %s flags 0x%x%s bit %d\n", i, p->modules[s->module].name,
                s->event->name, s->fn->name, s->flags, s->direct ? " direct" : "", s->bit);
    }
    for (int i = 0; i < p->ntimers; i++) {
        fprintf(o, "timer %s every ", p->timers[i].fn->name);
        dump_expr(o, p, p->timers[i].period);
        fputs("\n", o);
    }
    for (int i = 0; i < p->nfuncs; i++) {
        const struct ir_func *f = p->funcs[i];
        fprintf(o, "func %s", f->name);
        if (f->event)
            fprintf(o, " (%s)", f->event->name);
        fputs("\n", o);
        for (int k = 0; k < f->nlocals; k++)
            fprintf(o, "  local l%d %s: %s\n", k, f->locals[k].name, ir_ty_name(f->locals[k].ty));
        if (f->where) {
            fputs("  where ", o);
            dump_expr(o, p, f->where);
            fputs("\n", o);
        }
        dump_stmts(o, p, f->body, 1);
    }
}
