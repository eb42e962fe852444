/*
 * link.c - the link and analyse passes, and `mbxc graph`.
 *
 * link (LANGUAGE.md §6): builds the pipeline graph.  Members are listed;
 * each `import T` of a member is linked to the runtime (tcp, udp, packet), to
 * the member named by an explicit link `X.T -> M`, or to the one member that
 * exports T; with none, a module of a loaded unit that exports T is pulled in.
 * Errors: unknown members, zero or several exporters, links whose types do
 * not match, cycles.  Warnings: exports nobody imports, handlers of events
 * the linked exporter never raises.
 * analyse: which stream sides each module reads (a handler touching
 * `s.stream`, a filter of a derived event doing so, or a subscription to
 * tcp.rexmit) - the runtime turns reassembly on only for those.
 */
#include <string.h>

#include "front.h"

static struct ast_decl *find_decl(struct mbxc *mc, const char *name)
{
    return sema_tab_get(mc->globals, name);
}

static bool exports(struct ast_decl *mod, const char *tname)
{
    for (struct ast_item *it = mod->u.mod.items; it; it = it->next)
        if (it->kind == I_EXPORT)
            for (struct ast_name *n = it->u.names; n; n = n->next)
                if (strcmp(n->name, tname) == 0)
                    return true;
    return false;
}

static struct ast_name *export_name(struct ast_decl *mod, const char *tname)
{
    for (struct ast_item *it = mod->u.mod.items; it; it = it->next)
        if (it->kind == I_EXPORT)
            for (struct ast_name *n = it->u.names; n; n = n->next)
                if (strcmp(n->name, tname) == 0)
                    return n;
    return NULL;
}

static bool imports(struct ast_decl *mod, const char *tname)
{
    for (struct ast_item *it = mod->u.mod.items; it; it = it->next)
        if (it->kind == I_IMPORT)
            for (struct ast_name *n = it->u.names; n; n = n->next)
                if (strcmp(n->name, tname) == 0)
                    return true;
    return false;
}

static bool from_runtime(const char *tname)
{
    return strcmp(tname, "tcp") == 0 || strcmp(tname, "udp") == 0 ||
           strcmp(tname, "packet") == 0;
}

struct linker {
    struct mbxc *mc;         /* compilation */
    struct link_graph *g;    /* the graph being built */
    int capnodes, capedges;  /* allocated entries */
};

static struct link_node *node_of(struct linker *l, struct ast_decl *mod)
{
    for (int i = 0; i < l->g->nnodes; i++)
        if (l->g->nodes[i]->module == mod)
            return l->g->nodes[i];
    return NULL;
}

static struct link_node *add_node(struct linker *l, struct ast_decl *mod, struct loc loc,
                                  bool pulled)
{
    if (l->g->nnodes == l->capnodes) {
        int cap = l->capnodes ? l->capnodes * 2 : 8;
        struct link_node **nn = arena_alloc(&l->mc->arena, sizeof(*nn) * (size_t)cap);
        if (l->g->nnodes)
            memcpy(nn, l->g->nodes, sizeof(*nn) * (size_t)l->g->nnodes);
        l->g->nodes = nn;
        l->capnodes = cap;
    }
    struct link_node *n = ARENA_NEW(&l->mc->arena, struct link_node);
    n->module = mod;
    n->loc = loc;
    n->pulled = pulled;
    n->index = l->g->nnodes;
    l->g->nodes[l->g->nnodes++] = n;
    return n;
}

static void add_edge(struct linker *l, struct link_node *from, struct link_node *to,
                     struct ast_decl *type, bool explicit_, struct loc loc)
{
    if (l->g->nedges == l->capedges) {
        int cap = l->capedges ? l->capedges * 2 : 8;
        struct link_edge *ne = arena_alloc(&l->mc->arena, sizeof(*ne) * (size_t)cap);
        if (l->g->nedges)
            memcpy(ne, l->g->edges, sizeof(*ne) * (size_t)l->g->nedges);
        l->g->edges = ne;
        l->capedges = cap;
    }
    struct link_edge *e = &l->g->edges[l->g->nedges++];
    e->from = from;
    e->to = to;
    e->type = type;
    e->explicit_ = explicit_;
    e->loc = loc;
}

static struct ast_decl *member_module(struct linker *l, struct ast_name *n)
{
    struct ast_decl *d = find_decl(l->mc, n->name);
    if (d && d->kind == D_MODULE) {
        n->decl = d;
        return d;
    }
    struct diag_msg *m;
    if (d) {
        m = diag_error(&l->mc->diag, n->loc, "`%s` is a %s, not a module", n->name,
                       d->kind == D_FLOW ? "flow" : d->kind == D_EVENT ? "event" : "declaration");
        diag_note(&l->mc->diag, m, d->loc, "`%s` is declared here", n->name);
        return NULL;
    }
    if (sema_missing_use(l->mc, n->name, n->loc, "module"))
        return NULL;
    m = diag_error(&l->mc->diag, n->loc, "unknown module `%s`", n->name);
    const char *best = NULL;
    size_t bestlen = 0;
    for (struct unit *u = l->mc->units; u; u = u->next)
        for (struct ast_decl *x = u->decls; x; x = x->next)
            if (x->kind == D_MODULE) {
                size_t k = 0;
                while (x->name[k] && x->name[k] == n->name[k])
                    k++;
                if (k >= 3 && k > bestlen) {
                    best = x->name;
                    bestlen = k;
                }
            }
    if (best)
        diag_hint(&l->mc->diag, m, "did you mean `%s`?", best);
    return NULL;
}

static void link_imports(struct linker *l, struct link_node *node)
{
    struct mbxc *mc = l->mc;
    struct ast_decl *mod = node->module;
    for (struct ast_item *it = mod->u.mod.items; it; it = it->next) {
        if (it->kind != I_IMPORT)
            continue;
        for (struct ast_name *imp = it->u.names; imp; imp = imp->next) {
            const char *t = imp->name;
            struct ast_decl *tdecl = imp->decl;
            if (!tdecl && strcmp(t, "packet") != 0)
                continue; /* unknown flow, reported by resolve */
            bool done = false;
            for (int i = 0; i < l->g->nedges; i++)
                if (l->g->edges[i].to == node && l->g->edges[i].explicit_ &&
                    strcmp(l->g->edges[i].type ? l->g->edges[i].type->name : "packet", t) == 0)
                    done = true;
            if (done)
                continue;
            if (from_runtime(t) && (!tdecl || tdecl->unit->is_prelude)) {
                add_edge(l, NULL, node, tdecl, false, imp->loc);
                continue;
            }
            /* exporters among the members */
            struct link_node *found[8];
            int nfound = 0;
            for (int i = 0; i < l->g->nnodes; i++)
                if (l->g->nodes[i] != node && exports(l->g->nodes[i]->module, t)) {
                    if (nfound < 8)
                        found[nfound] = l->g->nodes[i];
                    nfound++;
                }
            if (nfound == 1) {
                add_edge(l, found[0], node, tdecl, false, imp->loc);
                continue;
            }
            if (nfound > 1) {
                struct diag_msg *m = diag_error(&mc->diag, imp->loc,
                                                "`%s` imports `%s`, which %d members export",
                                                mod->name, t, nfound);
                char *cands = arena_strdup(&mc->arena, "");
                for (int i = 0; i < nfound && i < 8; i++) {
                    struct ast_name *en = export_name(found[i]->module, t);
                    struct src_file *f = mc->diag.files[en->loc.file];
                    diag_note(&mc->diag, m, en->loc, "`%s` is exported by `%s`", t,
                              found[i]->module->name);
                    cands = arena_printf(&mc->arena, "%s%s`%s` (%s:%d:%d)", cands,
                                         i == 0 ? "" : i == nfound - 1 ? " and " : ", ",
                                         found[i]->module->name, f->path, en->loc.first_line,
                                         en->loc.first_column);
                }
                diag_hint(&mc->diag, m, "`%s` is exported by %s; write `%s.%s -> %s;` in the "
                                        "pipeline",
                          t, cands, found[0]->module->name, t, mod->name);
                continue;
            }
            /* none: pull one in from the loaded units */
            struct ast_decl *cand[8];
            int ncand = 0;
            for (struct unit *u = mc->units; u; u = u->next)
                for (struct ast_decl *d = u->decls; d; d = d->next)
                    if (d->kind == D_MODULE && d != mod && exports(d, t) && !node_of(l, d)) {
                        if (ncand < 8)
                            cand[ncand] = d;
                        ncand++;
                    }
            if (ncand == 1) {
                struct link_node *n = add_node(l, cand[0], imp->loc, true);
                add_edge(l, n, node, tdecl, false, imp->loc);
                continue;
            }
            if (ncand == 0) {
                struct diag_msg *m = diag_error(&mc->diag, imp->loc,
                                                "no module exports `%s`, which `%s` imports", t,
                                                mod->name);
                diag_hint(&mc->diag, m, "add a module that exports `%s` to pipeline `%s`, or "
                                        "`use` a unit that has one",
                          t, l->g->pipeline->name);
                continue;
            }
            struct diag_msg *m = diag_error(&mc->diag, imp->loc,
                                            "`%s` imports `%s`, which %d modules export and none "
                                            "is a member",
                                            mod->name, t, ncand);
            char *cands = arena_strdup(&mc->arena, "");
            for (int i = 0; i < ncand && i < 8; i++) {
                struct ast_name *en = export_name(cand[i], t);
                struct src_file *f = mc->diag.files[en->loc.file];
                diag_note(&mc->diag, m, en->loc, "`%s` is exported by `%s`", t, cand[i]->name);
                cands = arena_printf(&mc->arena, "%s%s`%s` (%s:%d:%d)", cands,
                                     i == 0 ? "" : i == ncand - 1 ? " and " : ", ",
                                     cand[i]->name, f->path, en->loc.first_line,
                                     en->loc.first_column);
            }
            diag_hint(&mc->diag, m, "`%s` is exported by %s; write `%s.%s -> %s;` in the "
                                    "pipeline",
                      t, cands, cand[0]->name, t, mod->name);
        }
    }
}

static void find_cycles(struct linker *l)
{
    struct link_graph *g = l->g;
    int *color = arena_alloc(&l->mc->arena, sizeof(int) * (size_t)(g->nnodes + 1));
    int *stack = arena_alloc(&l->mc->arena, sizeof(int) * (size_t)(g->nnodes + 1));
    int *edge_in = arena_alloc(&l->mc->arena, sizeof(int) * (size_t)(g->nnodes + 1));
    int *next = arena_alloc(&l->mc->arena, sizeof(int) * (size_t)(g->nnodes + 1));
    for (int s = 0; s < g->nnodes; s++) {
        if (color[s])
            continue;
        int sp = 0;
        stack[sp] = s;
        next[sp] = 0;
        edge_in[sp] = -1;
        sp++;
        color[s] = 1;
        while (sp > 0) {
            int cur = stack[sp - 1];
            int j = next[sp - 1]++;
            if (j >= g->nedges) {
                color[cur] = 2;
                sp--;
                continue;
            }
            struct link_edge *e = &g->edges[j];
            if (!e->from || e->from->index != cur)
                continue;
            int to = e->to->index;
            if (color[to] == 1) {
                int k = 0;
                while (stack[k] != to)
                    k++;
                char *path = arena_strdup(&l->mc->arena, g->nodes[to]->module->name);
                for (int i = k + 1; i < sp; i++)
                    path = arena_printf(&l->mc->arena, "%s -> %s", path,
                                        g->nodes[stack[i]]->module->name);
                path = arena_printf(&l->mc->arena, "%s -> %s", path, g->nodes[to]->module->name);
                struct diag_msg *m = diag_error(&l->mc->diag, e->loc,
                                                "the links of pipeline `%s` form a cycle: %s",
                                                g->pipeline->name, path);
                for (int i = k + 1; i < sp; i++)
                    diag_note(&l->mc->diag, m, g->edges[edge_in[i]].loc,
                              "`%s` is linked to `%s` here",
                              g->edges[edge_in[i]].from->module->name,
                              g->nodes[stack[i]]->module->name);
                diag_hint(&l->mc->diag, m, "data flows one way, from the runtime through the "
                                           "exporters to the importers");
                color[to] = 2; /* report once */
                continue;
            }
            if (color[to] == 0) {
                color[to] = 1;
                stack[sp] = to;
                next[sp] = 0;
                edge_in[sp] = j;
                sp++;
            }
        }
    }
}

/* The member a node receives `type` from (NULL: the runtime or nobody). */
static struct link_edge *edge_for(struct link_graph *g, struct link_node *n, const char *tname)
{
    for (int i = 0; i < g->nedges; i++)
        if (g->edges[i].to == n &&
            strcmp(g->edges[i].type ? g->edges[i].type->name : "packet", tname) == 0)
            return &g->edges[i];
    return NULL;
}

static void warn_unused(struct linker *l)
{
    struct mbxc *mc = l->mc;
    struct link_graph *g = l->g;
    for (int i = 0; i < g->nnodes; i++) {
        struct link_node *n = g->nodes[i];
        struct ast_decl *mod = n->module;
        /* exports nobody imports */
        if (!n->pulled) {
            for (struct ast_item *it = mod->u.mod.items; it; it = it->next) {
                if (it->kind != I_EXPORT)
                    continue;
                for (struct ast_name *x = it->u.names; x; x = x->next) {
                    if (!x->decl || x->decl->kind != D_FLOW)
                        continue;
                    bool used = false;
                    for (int k = 0; k < g->nedges; k++)
                        used |= g->edges[k].from == n && g->edges[k].type == x->decl;
                    if (!used)
                        diag_warning(&mc->diag, W_UNUSED_EXPORT, x->loc,
                                     "`%s` exports `%s`, but no member of pipeline `%s` imports "
                                     "it",
                                     mod->name, x->name, g->pipeline->name);
                }
            }
        }
        /* handlers of user events the linked exporter never raises */
        if (mod->u.mod.is_extern)
            continue;
        for (struct ast_item *it = mod->u.mod.items; it; it = it->next) {
            if (it->kind != I_ON || !it->u.on.event || !it->u.on.event->u.ev.root)
                continue;
            struct ast_decl *root = it->u.on.event->u.ev.root;
            if (root->u.ev.builtin_id >= 0 || !root->u.ev.owner_flow)
                continue;
            struct link_edge *e = edge_for(g, n, root->u.ev.owner_flow->name);
            if (!e || !e->from)
                continue;
            if (exports(e->from->module, root->name))
                continue;
            struct loc where = it->u.on.event_x->loc;
            for (struct ast_name *x = it->u.on.event_x; x; x = x->next)
                where = loc_span(where, x->loc);
            struct diag_msg *m = diag_warning(
                &mc->diag, W_UNUSED_HANDLER, where,
                "this handler never runs: `%s` gets `%s` from `%s`, which does not export `%s`",
                mod->name, root->u.ev.owner_flow->name, e->from->module->name, root->name);
            diag_note(&mc->diag, m, e->from->module->loc, "`%s` is declared here",
                      e->from->module->name);
        }
    }
}

void link_pipeline(struct mbxc *mc)
{
    struct ast_decl *p = mc->pipeline;
    if (!p)
        return;
    struct link_graph *g = ARENA_NEW(&mc->arena, struct link_graph);
    g->pipeline = p;
    struct linker l = {.mc = mc, .g = g};
    int errors_before = mc->diag.errors;
    /* members, in order */
    for (struct ast_pitem *it = p->u.pipe.items; it; it = it->next) {
        if (it->kind != P_MEMBER)
            continue;
        struct ast_decl *mod = member_module(&l, it->member);
        if (!mod)
            continue;
        struct link_node *old = node_of(&l, mod);
        if (old) {
            struct diag_msg *m = diag_error(&mc->diag, it->member->loc,
                                            "`%s` is listed twice in pipeline `%s`", mod->name,
                                            p->name);
            diag_note(&mc->diag, m, old->loc, "first listed here");
            continue;
        }
        add_node(&l, mod, it->member->loc, false);
    }
    /* explicit links: X.T -> M */
    for (struct ast_pitem *it = p->u.pipe.items; it; it = it->next) {
        if (it->kind != P_LINK)
            continue;
        struct ast_decl *from = member_module(&l, it->from);
        struct ast_decl *to = member_module(&l, it->to);
        if (!from || !to)
            continue;
        const char *t = it->type->name;
        struct ast_decl *td = find_decl(mc, t);
        if (strcmp(t, "packet") != 0 && (!td || td->kind != D_FLOW)) {
            diag_error(&mc->diag, it->type->loc, "`%s` is not a flow; a link carries a flow", t);
            continue;
        }
        if (strcmp(t, "packet") == 0)
            td = NULL;
        bool bad = false;
        if (!exports(from, t)) {
            struct diag_msg *m = diag_error(&mc->diag, it->type->loc,
                                            "`%s` does not export `%s`", from->name, t);
            diag_note(&mc->diag, m, from->loc, "`%s` is declared here", from->name);
            bad = true;
        }
        if (!imports(to, t)) {
            struct diag_msg *m = diag_error(&mc->diag, it->to->loc,
                                            "`%s` does not import `%s`, so it cannot be linked to "
                                            "`%s.%s`",
                                            to->name, t, from->name, t);
            diag_note(&mc->diag, m, to->loc, "`%s` is declared here", to->name);
            bad = true;
        }
        if (bad)
            continue;
        struct link_node *tn = node_of(&l, to);
        if (!tn) {
            struct diag_msg *m = diag_error(&mc->diag, it->to->loc,
                                            "`%s` is linked but is not a member of pipeline `%s`",
                                            to->name, p->name);
            diag_hint(&mc->diag, m, "list it: `%s;`", to->name);
            continue;
        }
        struct link_node *fn = node_of(&l, from);
        if (!fn)
            fn = add_node(&l, from, it->from->loc, true);
        struct link_edge *dup = edge_for(g, tn, t);
        if (dup) {
            struct diag_msg *m = diag_error(&mc->diag, it->loc, "`%s` gets `%s` from two links",
                                            to->name, t);
            diag_note(&mc->diag, m, dup->loc, "the first link is here");
            continue;
        }
        add_edge(&l, fn, tn, td, true, it->loc);
    }
    /* implicit links; pulled-in nodes are appended and linked in turn */
    for (int i = 0; i < g->nnodes; i++)
        link_imports(&l, g->nodes[i]);
    find_cycles(&l);
    mc->graph = g;
    if (mc->diag.errors == errors_before)
        warn_unused(&l); /* a broken graph would make these follow-on noise */
}

/* ---- analyse ---- */

/* Stream sides an expression reads: bit 0 client, bit 1 server.  A stream
 * reached through a side variable reads the sides the variable can be;
 * `c.client.stream` reads just that one. */
static unsigned expr_reads(const struct ast_expr *e, unsigned side_var)
{
    if (!e)
        return 0;
    unsigned r = 0;
    switch (e->kind) {
    case E_FIELD:
        if (e->type && e->type->kind == TY_STREAM) {
            const struct ast_expr *o = e->u.field.obj;
            if (o->kind == E_FIELD && o->u.field.obj->type &&
                o->u.field.obj->type->kind == TY_FLOW)
                r |= strcmp(o->u.field.name, "server") == 0 ? 2u : 1u;
            else if (o->kind == E_SIDE)
                r |= o->u.side ? 2u : 1u;
            else
                r |= side_var;
        }
        r |= expr_reads(e->u.field.obj, side_var);
        break;
    case E_INDEX:
        r |= expr_reads(e->u.index.obj, side_var) | expr_reads(e->u.index.idx, side_var);
        break;
    case E_SLICE:
        r |= expr_reads(e->u.slice.obj, side_var) | expr_reads(e->u.slice.lo, side_var) |
             expr_reads(e->u.slice.hi, side_var);
        break;
    case E_CALL:
        r |= expr_reads(e->u.call.callee, side_var);
        for (const struct ast_expr *a = e->u.call.args; a; a = a->next_arg)
            r |= expr_reads(a, side_var);
        break;
    case E_UNARY:
        r |= expr_reads(e->u.un.a, side_var);
        break;
    case E_BINARY:
        r |= expr_reads(e->u.bin.a, side_var) | expr_reads(e->u.bin.b, side_var);
        break;
    case E_AS:
        r |= expr_reads(e->u.as.a, side_var);
        break;
    default:
        break;
    }
    return r;
}

static unsigned stmts_reads(const struct ast_stmt *s, unsigned side_var)
{
    unsigned r = 0;
    for (; s; s = s->next) {
        switch (s->kind) {
        case S_LET:
            r |= expr_reads(s->u.let.init, side_var);
            break;
        case S_ASSIGN:
            r |= expr_reads(s->u.assign.lhs, side_var) | expr_reads(s->u.assign.rhs, side_var);
            break;
        case S_EXPR:
            r |= expr_reads(s->u.expr, side_var);
            break;
        case S_IF:
            r |= expr_reads(s->u.if_.cond, side_var) | stmts_reads(s->u.if_.then_, side_var) |
                 stmts_reads(s->u.if_.else_, side_var);
            break;
        case S_FOR:
            r |= expr_reads(s->u.for_.iter, side_var) | stmts_reads(s->u.for_.body, side_var);
            break;
        case S_RAISE:
            for (const struct ast_expr *a = s->u.raise.args; a; a = a->next_arg)
                r |= expr_reads(a, side_var);
            break;
        case S_ALERT:
        case S_LOG:
            for (const struct ast_arg *a = s->u.out.args; a; a = a->next)
                r |= expr_reads(a->value, side_var);
            break;
        default:
            break;
        }
    }
    return r;
}

/* `s == client` (or `client == s`) as a conjunct of a filter narrows s. */
static unsigned narrow(const struct ast_expr *f)
{
    if (!f || f->kind != E_BINARY)
        return 3;
    if (f->u.bin.op == OP_AND)
        return narrow(f->u.bin.a) & narrow(f->u.bin.b);
    if (f->u.bin.op != OP_EQ)
        return 3;
    const struct ast_expr *a = f->u.bin.a, *b = f->u.bin.b;
    if (a->kind == E_SIDE && b->kind == E_NAME)
        return a->u.side ? 2u : 1u;
    if (b->kind == E_SIDE && a->kind == E_NAME)
        return b->u.side ? 2u : 1u;
    return 3;
}

void link_analyse(struct mbxc *mc)
{
    for (struct unit *u = mc->units; u; u = u->next) {
        for (struct ast_decl *d = u->decls; d; d = d->next) {
            if (d->kind != D_MODULE)
                continue;
            d->u.mod.reads = 0;
            if (d->u.mod.is_extern) {
                /* C code: assume it reads both sides of the flows it imports */
                for (struct ast_item *it = d->u.mod.items; it; it = it->next)
                    if (it->kind == I_IMPORT)
                        for (struct ast_name *n = it->u.names; n; n = n->next)
                            if (strcmp(n->name, "packet") != 0)
                                d->u.mod.reads = 3;
                continue;
            }
            for (struct ast_item *it = d->u.mod.items; it; it = it->next) {
                if (it->kind == I_EVERY) {
                    d->u.mod.reads |= stmts_reads(it->u.every.body, 3);
                    continue;
                }
                if (it->kind != I_ON || !it->u.on.event || !it->u.on.event->u.ev.root)
                    continue;
                struct ast_decl *ev = it->u.on.event;
                unsigned sides = narrow(it->u.on.where);
                for (struct ast_decl *e = ev; e && e->u.ev.derived; e = e->u.ev.base)
                    sides &= narrow(e->u.ev.filter);
                unsigned r = expr_reads(it->u.on.where, sides) | stmts_reads(it->u.on.body, sides);
                for (struct ast_decl *e = ev; e && e->u.ev.derived; e = e->u.ev.base)
                    r |= expr_reads(e->u.ev.filter, sides & narrow(e->u.ev.filter));
                if (ev->u.ev.root->u.ev.builtin_id >= 0 &&
                    strcmp(ev->u.ev.root->name, "tcp.rexmit") == 0) {
                    d->u.mod.rexmit = true;
                    r |= sides; /* kept to compare retransmitted bytes */
                }
                it->u.on.reads = r;
                d->u.mod.reads |= r;
            }
        }
    }
}

/* ---- mbxc graph ---- */

static void dot_id(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

void link_print_dot(struct mbxc *mc, FILE *out)
{
    struct link_graph *g = mc->graph;
    fputs("digraph ", out);
    dot_id(out, g ? g->pipeline->name : "empty");
    fputs(" {\n    rankdir=LR;\n    node [shape=box, fontname=\"Helvetica\"];\n", out);
    fputs("    runtime [shape=ellipse, label=\"runtime\\n(tcp, udp, packet)\"];\n", out);
    if (g) {
        for (int i = 0; i < g->nnodes; i++) {
            struct link_node *n = g->nodes[i];
            fputs("    ", out);
            dot_id(out, n->module->name);
            fprintf(out, " [label=\"%s%s%s\"%s];\n", n->module->name,
                    n->module->u.mod.is_extern ? "\\n(extern)" : "", n->pulled ? "\\n(pulled in)" : "",
                    n->pulled ? ", style=dashed" : "");
        }
        for (int i = 0; i < g->nedges; i++) {
            struct link_edge *e = &g->edges[i];
            fputs("    ", out);
            if (e->from)
                dot_id(out, e->from->module->name);
            else
                fputs("runtime", out);
            fputs(" -> ", out);
            dot_id(out, e->to->module->name);
            fprintf(out, " [label=\"%s\"%s];\n", e->type ? e->type->name : "packet",
                    e->explicit_ ? ", style=bold" : "");
        }
    }
    fputs("}\n", out);
}
