/*
 * ast.c - AST builders (called by the grammar's actions), type names, and the
 * --dump-after printer that shows the program after each pass.
 */
#include "ast.h"

#include <inttypes.h>
#include <string.h>

#include "front.h"
#include "parse.h"

static const struct type builtin_types[TY_COUNT] = {
    [TY_ERROR] = {TY_ERROR, NULL, NULL, NULL},
    [TY_VOID] = {TY_VOID, NULL, NULL, NULL},
    [TY_BOOL] = {TY_BOOL, NULL, NULL, NULL},
    [TY_INT] = {TY_INT, NULL, NULL, NULL},
    [TY_UINT] = {TY_UINT, NULL, NULL, NULL},
    [TY_STR] = {TY_STR, NULL, NULL, NULL},
    [TY_BYTES] = {TY_BYTES, NULL, NULL, NULL},
    [TY_IP] = {TY_IP, NULL, NULL, NULL},
    [TY_PREFIX] = {TY_PREFIX, NULL, NULL, NULL},
    [TY_PORT] = {TY_PORT, NULL, NULL, NULL},
    [TY_TIME] = {TY_TIME, NULL, NULL, NULL},
    [TY_DURATION] = {TY_DURATION, NULL, NULL, NULL},
    [TY_SIDE] = {TY_SIDE, NULL, NULL, NULL},
    [TY_STREAM] = {TY_STREAM, NULL, NULL, NULL},
    [TY_PACKET] = {TY_PACKET, NULL, NULL, NULL},
    [TY_TCP_STATE] = {TY_TCP_STATE, NULL, NULL, NULL},
};

const struct type *ast_builtin_type(enum type_kind k)
{
    if (k >= TY_RECORD)
        unreachable("ast_builtin_type of a constructed type");
    return &builtin_types[k];
}

static const char *const scalar_names[] = {
    [TY_ERROR] = "<error>", [TY_VOID] = "void",   [TY_BOOL] = "bool",         [TY_INT] = "int",
    [TY_UINT] = "uint",     [TY_STR] = "str",     [TY_BYTES] = "bytes",       [TY_IP] = "ip",
    [TY_PREFIX] = "prefix", [TY_PORT] = "port",   [TY_TIME] = "time",   [TY_DURATION] = "duration",
    [TY_SIDE] = "side",     [TY_STREAM] = "stream", [TY_PACKET] = "packet",
    [TY_TCP_STATE] = "tcp_state",
};

/* The type as a user writes it: map<ip, set<port>>. */
const char *ast_type_name(const struct type *t, char *buf, size_t n)
{
    if (!t) {
        snprintf(buf, n, "?");
        return buf;
    }
    switch (t->kind) {
    case TY_RECORD:
    case TY_FLOW:
        snprintf(buf, n, "%s", t->decl ? t->decl->name : "state");
        break;
    case TY_MAP: {
        char k[128], v[128];
        snprintf(buf, n, "map<%s, %s>", ast_type_name(t->key, k, sizeof(k)),
                 ast_type_name(t->val, v, sizeof(v)));
        break;
    }
    case TY_SET: {
        char v[128];
        snprintf(buf, n, "set<%s>", ast_type_name(t->val, v, sizeof(v)));
        break;
    }
    default:
        snprintf(buf, n, "%s", t->kind < TY_RECORD ? scalar_names[t->kind] : "?");
        break;
    }
    return buf;
}

/* ---- builders ---- */

struct ast_name *ast_name_new(struct mbxc *mc, const char *name, struct loc loc)
{
    struct ast_name *n = ARENA_NEW(&mc->arena, struct ast_name);
    n->name = name;
    n->loc = loc;
    return n;
}

struct ast_name *ast_name_append(struct ast_name *list, struct ast_name *n)
{
    struct ast_name *p = list;
    while (p->next)
        p = p->next;
    p->next = n;
    return list;
}

const char *ast_dotted(struct mbxc *mc, struct ast_name *path)
{
    if (!path->next)
        return path->name;
    size_t len = 0;
    for (struct ast_name *p = path; p; p = p->next)
        len += strlen(p->name) + 1;
    char *s = arena_alloc(&mc->arena, len);
    size_t o = 0;
    for (struct ast_name *p = path; p; p = p->next) {
        size_t l = strlen(p->name);
        memcpy(s + o, p->name, l);
        o += l;
        s[o++] = p->next ? '.' : '\0';
    }
    return s;
}

struct ast_type *ast_type_new(struct mbxc *mc, const char *name, struct loc loc,
                              struct ast_type *args)
{
    struct ast_type *t = ARENA_NEW(&mc->arena, struct ast_type);
    t->name = name;
    t->loc = loc;
    t->args = args;
    return t;
}

struct ast_type *ast_type_append(struct ast_type *list, struct ast_type *t)
{
    struct ast_type *p = list;
    while (p->next)
        p = p->next;
    p->next = t;
    return list;
}

/* One field per name of `a, b: T [= init]`. */
struct ast_field *ast_fields_new(struct mbxc *mc, struct ast_name *names, struct ast_type *tyx,
                                 struct ast_expr *init)
{
    struct ast_field *head = NULL, **tail = &head;
    for (struct ast_name *n = names; n; n = n->next) {
        struct ast_field *f = ARENA_NEW(&mc->arena, struct ast_field);
        f->name = n->name;
        f->loc = n->loc;
        f->tyx = tyx;
        f->init = init;
        *tail = f;
        tail = &f->next;
    }
    return head;
}

struct ast_field *ast_field_append(struct ast_field *list, struct ast_field *f)
{
    if (!list)
        return f;
    struct ast_field *p = list;
    while (p->next)
        p = p->next;
    p->next = f;
    return list;
}

struct ast_expr *ast_expr_new(struct mbxc *mc, enum expr_kind k, struct loc loc)
{
    struct ast_expr *e = ARENA_NEW(&mc->arena, struct ast_expr);
    e->kind = k;
    e->loc = loc;
    return e;
}

struct ast_expr *ast_int(struct mbxc *mc, uint64_t v, struct loc loc, const struct type *t)
{
    struct ast_expr *e = ast_expr_new(mc, E_INT, loc);
    e->u.i = v;
    e->type = t; /* NULL: an untyped literal, typed by its context */
    return e;
}

struct ast_expr *ast_str(struct mbxc *mc, enum expr_kind k, const char *s, size_t n,
                         struct loc loc)
{
    struct ast_expr *e = ast_expr_new(mc, k, loc);
    e->u.str.s = s;
    e->u.str.n = n;
    return e;
}

/* Expressions deeper than this are refused, so that the recursive passes
 * cannot overflow the stack on a generated `1+1+...+1`. */
#define AST_MAX_DEPTH 1000

static bool too_deep(struct mbxc *mc, struct ast_expr *e, int depth)
{
    if (depth <= AST_MAX_DEPTH)
        return false;
    if (!mc->too_deep)
        diag_error(&mc->diag, e->loc, "expression nested too deeply (more than %d levels)",
                   AST_MAX_DEPTH);
    mc->too_deep = true;
    return true;
}

struct ast_expr *ast_unary(struct mbxc *mc, enum expr_op op, struct ast_expr *a, struct loc loc)
{
    if (too_deep(mc, a, a->depth + 1))
        return a;
    struct ast_expr *e = ast_expr_new(mc, E_UNARY, loc);
    e->u.un.op = op;
    e->u.un.a = a;
    e->depth = a->depth + 1;
    return e;
}

struct ast_expr *ast_binary(struct mbxc *mc, enum expr_op op, struct ast_expr *a,
                            struct ast_expr *b, struct loc op_loc)
{
    int depth = (a->depth > b->depth ? a->depth : b->depth) + 1;
    if (too_deep(mc, a, depth))
        return a;
    struct ast_expr *e = ast_expr_new(mc, E_BINARY, loc_span(a->loc, b->loc));
    e->depth = depth;
    e->u.bin.op = op;
    e->u.bin.a = a;
    e->u.bin.b = b;
    e->u.bin.op_loc = op_loc;
    return e;
}

struct ast_expr *ast_field_expr(struct mbxc *mc, struct ast_expr *obj, const char *name,
                                struct loc name_loc)
{
    if (too_deep(mc, obj, obj->depth + 1))
        return obj;
    struct ast_expr *e = ast_expr_new(mc, E_FIELD, loc_span(obj->loc, name_loc));
    e->depth = obj->depth + 1;
    e->u.field.obj = obj;
    e->u.field.name = name;
    e->u.field.name_loc = name_loc;
    return e;
}

struct ast_expr *ast_call(struct mbxc *mc, struct ast_expr *callee, struct ast_expr *args,
                          struct loc loc)
{
    int depth = callee->depth;
    for (struct ast_expr *a = args; a; a = a->next_arg)
        if (a->depth > depth)
            depth = a->depth;
    if (too_deep(mc, callee, depth + 1))
        return callee;
    struct ast_expr *e = ast_expr_new(mc, E_CALL, loc);
    e->u.call.callee = callee;
    e->u.call.args = args;
    e->depth = depth + 1;
    for (struct ast_expr *a = args; a; a = a->next_arg)
        e->u.call.nargs++;
    return e;
}

struct ast_expr *ast_index(struct mbxc *mc, enum expr_kind k, struct ast_expr *obj,
                           struct ast_expr *a, struct ast_expr *b, struct loc loc)
{
    int depth = obj->depth;
    if (a && a->depth > depth)
        depth = a->depth;
    if (b && b->depth > depth)
        depth = b->depth;
    if (too_deep(mc, obj, depth + 1))
        return obj;
    struct ast_expr *e = ast_expr_new(mc, k, loc);
    e->depth = depth + 1;
    if (k == E_INDEX) {
        e->u.index.obj = obj;
        e->u.index.idx = a;
    } else {
        e->u.slice.obj = obj;
        e->u.slice.lo = a;
        e->u.slice.hi = b;
    }
    return e;
}

struct ast_expr *ast_as(struct mbxc *mc, struct ast_expr *a, struct ast_type *tyx, struct loc loc)
{
    if (too_deep(mc, a, a->depth + 1))
        return a;
    struct ast_expr *e = ast_expr_new(mc, E_AS, loc);
    e->u.as.a = a;
    e->u.as.tyx = tyx;
    e->depth = a->depth + 1;
    return e;
}

struct ast_expr *ast_arg_append(struct ast_expr *list, struct ast_expr *e)
{
    struct ast_expr *p = list;
    while (p->next_arg)
        p = p->next_arg;
    p->next_arg = e;
    return list;
}

struct ast_stmt *ast_stmt_new(struct mbxc *mc, enum stmt_kind k, struct loc loc)
{
    struct ast_stmt *s = ARENA_NEW(&mc->arena, struct ast_stmt);
    s->kind = k;
    s->loc = loc;
    return s;
}

#define DEFINE_LIST(T, name)                                                                  \
    struct T *ast_##name##_prepend(struct T *rev, struct T *x)                                \
    {                                                                                         \
        if (!x)                                                                               \
            return rev;                                                                       \
        x->next = rev;                                                                        \
        return x;                                                                             \
    }                                                                                         \
    struct T *ast_##name##_reverse(struct T *rev)                                             \
    {                                                                                         \
        struct T *out = NULL;                                                                 \
        while (rev) {                                                                         \
            struct T *next = rev->next;                                                       \
            rev->next = out;                                                                  \
            out = rev;                                                                        \
            rev = next;                                                                       \
        }                                                                                     \
        return out;                                                                           \
    }
DEFINE_LIST(ast_stmt, stmt)
DEFINE_LIST(ast_item, item)
DEFINE_LIST(ast_decl, decl)
DEFINE_LIST(ast_pitem, pitem)

struct ast_arg *ast_kv_append(struct mbxc *mc, struct ast_arg *list, const char *key,
                              struct loc key_loc, struct ast_expr *value)
{
    struct ast_arg *a = ARENA_NEW(&mc->arena, struct ast_arg);
    a->key = key;
    a->key_loc = key_loc;
    a->value = value;
    if (!list)
        return a;
    struct ast_arg *p = list;
    while (p->next)
        p = p->next;
    p->next = a;
    return list;
}

struct ast_item *ast_item_new(struct mbxc *mc, enum item_kind k, struct loc loc)
{
    struct ast_item *it = ARENA_NEW(&mc->arena, struct ast_item);
    it->kind = k;
    it->loc = loc;
    return it;
}

struct ast_decl *ast_decl_new(struct parse_ctx *ctx, enum decl_kind k, const char *name,
                              struct loc loc)
{
    struct ast_decl *d = ARENA_NEW(&ctx->mc->arena, struct ast_decl);
    d->kind = k;
    d->name = name;
    d->loc = loc;
    d->unit = ctx->unit;
    d->u.ev.builtin_id = -1;
    return d;
}

struct ast_pitem *ast_pitem_new(struct mbxc *mc, enum pitem_kind k, struct loc loc)
{
    struct ast_pitem *p = ARENA_NEW(&mc->arena, struct ast_pitem);
    p->kind = k;
    p->loc = loc;
    return p;
}

/* ---- --dump-after ---- */

static const char *const op_names[] = {
    [OP_NEG] = "-",   [OP_NOT] = "not", [OP_ADD] = "+", [OP_SUB] = "-",  [OP_MUL] = "*",
    [OP_DIV] = "/",   [OP_MOD] = "%",   [OP_BAND] = "&", [OP_BOR] = "|", [OP_BXOR] = "^",
    [OP_SHL] = "<<",  [OP_SHR] = ">>",  [OP_EQ] = "==", [OP_NE] = "!=",  [OP_LT] = "<",
    [OP_LE] = "<=",   [OP_GT] = ">",    [OP_GE] = ">=", [OP_IN] = "in",  [OP_AND] = "and",
    [OP_OR] = "or",
};

static void dump_expr(FILE *out, const struct ast_expr *e, bool typed);

static void dump_type_suffix(FILE *out, const struct ast_expr *e, bool typed)
{
    char buf[256];
    if (typed && e->type)
        fprintf(out, ":%s", ast_type_name(e->type, buf, sizeof(buf)));
}

static void dump_expr(FILE *out, const struct ast_expr *e, bool typed)
{
    if (!e) {
        fputs("_", out);
        return;
    }
    switch (e->kind) {
    case E_INT:
        fprintf(out, "%" PRIu64, e->u.i);
        break;
    case E_DURATION:
        fprintf(out, "%" PRIu64 "ns", e->u.i);
        break;
    case E_STR:
    case E_BYTES:
        fprintf(out, "%s\"", e->kind == E_BYTES ? "b" : "");
        for (size_t i = 0; i < e->u.str.n; i++) {
            unsigned char c = (unsigned char)e->u.str.s[i];
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
                fputc(c, out);
            else
                fprintf(out, "\\x%02x", c);
        }
        fputc('"', out);
        break;
    case E_BOOL:
        fputs(e->u.b ? "true" : "false", out);
        break;
    case E_IP:
    case E_PREFIX:
        fputs(e->u.ip.v6 ? "<ip6>" : "<ip4>", out);
        if (!e->u.ip.v6)
            fprintf(out, "%u.%u.%u.%u", e->u.ip.a[0], e->u.ip.a[1], e->u.ip.a[2], e->u.ip.a[3]);
        if (e->kind == E_PREFIX)
            fprintf(out, "/%d", e->u.ip.plen);
        break;
    case E_SIDE:
        fputs(e->u.side ? "server" : "client", out);
        break;
    case E_NAME:
        fputs(e->u.name.name, out);
        if (typed && e->u.name.sym) {
            static const char *const k[] = {"bind", "let", "loop", "config", "table"};
            fprintf(out, "@%s", k[e->u.name.sym->kind]);
        }
        break;
    case E_STATE:
        fputs("state", out);
        break;
    case E_FIELD:
        dump_expr(out, e->u.field.obj, typed);
        fprintf(out, ".%s", e->u.field.name);
        break;
    case E_INDEX:
        dump_expr(out, e->u.index.obj, typed);
        fputc('[', out);
        dump_expr(out, e->u.index.idx, typed);
        fputc(']', out);
        break;
    case E_SLICE:
        dump_expr(out, e->u.slice.obj, typed);
        fputc('[', out);
        if (e->u.slice.lo)
            dump_expr(out, e->u.slice.lo, typed);
        fputc(':', out);
        if (e->u.slice.hi)
            dump_expr(out, e->u.slice.hi, typed);
        fputc(']', out);
        break;
    case E_CALL:
        dump_expr(out, e->u.call.callee, false);
        fputc('(', out);
        for (const struct ast_expr *a = e->u.call.args; a; a = a->next_arg) {
            dump_expr(out, a, typed);
            if (a->next_arg)
                fputs(", ", out);
        }
        fputc(')', out);
        break;
    case E_UNARY:
        fprintf(out, "(%s ", op_names[e->u.un.op]);
        dump_expr(out, e->u.un.a, typed);
        fputc(')', out);
        break;
    case E_BINARY:
        fputc('(', out);
        dump_expr(out, e->u.bin.a, typed);
        fprintf(out, " %s ", op_names[e->u.bin.op]);
        dump_expr(out, e->u.bin.b, typed);
        fputc(')', out);
        break;
    case E_AS:
        fputc('(', out);
        dump_expr(out, e->u.as.a, typed);
        fprintf(out, " as %s)", e->u.as.tyx->name);
        break;
    }
    dump_type_suffix(out, e, typed);
}

static void dump_stmts(FILE *out, const struct ast_stmt *s, int ind, bool typed)
{
    for (; s; s = s->next) {
        fprintf(out, "%*s", ind, "");
        switch (s->kind) {
        case S_LET:
            fprintf(out, "let %s = ", s->u.let.name);
            dump_expr(out, s->u.let.init, typed);
            break;
        case S_ASSIGN:
            dump_expr(out, s->u.assign.lhs, typed);
            fprintf(out, " %s= ", s->u.assign.compound ? op_names[s->u.assign.op] : "");
            dump_expr(out, s->u.assign.rhs, typed);
            break;
        case S_EXPR:
            dump_expr(out, s->u.expr, typed);
            break;
        case S_IF:
            fputs("if ", out);
            dump_expr(out, s->u.if_.cond, typed);
            fputs(" {\n", out);
            dump_stmts(out, s->u.if_.then_, ind + 4, typed);
            fprintf(out, "%*s}", ind, "");
            if (s->u.if_.else_) {
                fputs(" else {\n", out);
                dump_stmts(out, s->u.if_.else_, ind + 4, typed);
                fprintf(out, "%*s}", ind, "");
            }
            break;
        case S_FOR:
            fprintf(out, "for %s%s%s in ", s->u.for_.k, s->u.for_.v ? ", " : "",
                    s->u.for_.v ? s->u.for_.v : "");
            dump_expr(out, s->u.for_.iter, typed);
            fputs(" {\n", out);
            dump_stmts(out, s->u.for_.body, ind + 4, typed);
            fprintf(out, "%*s}", ind, "");
            break;
        case S_RETURN:
            fputs("return", out);
            break;
        case S_RAISE:
            fprintf(out, "raise %s(", s->u.raise.event ? s->u.raise.event->name
                                                       : s->u.raise.event_x->name);
            for (const struct ast_expr *a = s->u.raise.args; a; a = a->next_arg) {
                dump_expr(out, a, typed);
                if (a->next_arg)
                    fputs(", ", out);
            }
            fputc(')', out);
            break;
        case S_ALERT:
        case S_LOG:
            fputs(s->kind == S_ALERT ? "alert(" : "log(", out);
            dump_expr(out, s->u.out.name, typed);
            for (const struct ast_arg *a = s->u.out.args; a; a = a->next) {
                fprintf(out, ", %s = ", a->key);
                dump_expr(out, a->value, typed);
            }
            fputc(')', out);
            break;
        case S_DROP_PACKET:
            fputs("drop packet", out);
            break;
        case S_DROP_FLOW:
            fputs("drop flow", out);
            break;
        case S_STEER:
            fputs("steer ", out);
            dump_expr(out, s->u.steer.flow, typed);
            fprintf(out, " -> %s", s->u.steer.target->name);
            break;
        case S_UNSUBSCRIBE:
            fputs("unsubscribe", out);
            break;
        }
        fputs(";\n", out);
    }
}

static void dump_fields(FILE *out, const struct ast_field *f, bool typed)
{
    char buf[256];
    for (; f; f = f->next) {
        fprintf(out, "%s: %s", f->name,
                typed && f->type ? ast_type_name(f->type, buf, sizeof(buf))
                                 : f->tyx ? f->tyx->name : "?");
        if (f->next)
            fputs(", ", out);
    }
}

static void dump_module(FILE *out, const struct ast_decl *d, bool typed, bool analysed)
{
    char buf[256];
    fprintf(out, "%smodule %s {\n", d->u.mod.is_extern ? "extern " : "", d->name);
    if (analysed)
        fprintf(out, "    // reads streams: client=%s server=%s rexmit=%s steered=%s\n",
                d->u.mod.reads & 1 ? "yes" : "no", d->u.mod.reads & 2 ? "yes" : "no",
                d->u.mod.rexmit ? "yes" : "no", d->u.mod.steered ? "yes" : "no");
    for (const struct ast_item *it = d->u.mod.items; it; it = it->next) {
        switch (it->kind) {
        case I_IMPORT:
        case I_EXPORT:
            fputs(it->kind == I_IMPORT ? "    import " : "    export ", out);
            for (const struct ast_name *n = it->u.names; n; n = n->next)
                fprintf(out, "%s%s", n->name, n->next ? ", " : ";\n");
            break;
        case I_CONFIG:
            fprintf(out, "    config %s: %s = ", it->u.config.name,
                    typed ? ast_type_name(it->u.config.type, buf, sizeof(buf))
                          : it->u.config.tyx->name);
            dump_expr(out, it->u.config.init, typed);
            fputs(";\n", out);
            break;
        case I_TABLE:
            fprintf(out, "    table %s: %s", it->u.table.name,
                    typed ? ast_type_name(it->u.table.type, buf, sizeof(buf))
                          : it->u.table.tyx->name);
            if (it->u.table.expire) {
                fputs(" expire ", out);
                dump_expr(out, it->u.table.expire, typed);
            }
            if (it->u.table.max) {
                fputs(" max ", out);
                dump_expr(out, it->u.table.max, typed);
            }
            fputs(";\n", out);
            break;
        case I_STATE:
            fprintf(out, "    state per %s { ", it->u.state.per->name);
            dump_fields(out, it->u.state.fields, typed);
            fputs(" }\n", out);
            break;
        case I_ON:
            fprintf(out, "    on %s(", it->u.on.event ? it->u.on.event->name
                                                      : it->u.on.event_x->name);
            for (const struct ast_name *n = it->u.on.params; n; n = n->next)
                fprintf(out, "%s%s", n->name, n->next ? ", " : "");
            fputc(')', out);
            if (it->u.on.where) {
                fputs(" where ", out);
                dump_expr(out, it->u.on.where, typed);
            }
            if (analysed)
                fprintf(out, " /* packet=%s reads=%u */", it->u.on.carries_packet ? "yes" : "no",
                        it->u.on.reads);
            fputs(" {\n", out);
            dump_stmts(out, it->u.on.body, 8, typed);
            fputs("    }\n", out);
            break;
        case I_EVERY:
            fputs("    every ", out);
            dump_expr(out, it->u.every.period, typed);
            fputs(" {\n", out);
            dump_stmts(out, it->u.every.body, 8, typed);
            fputs("    }\n", out);
            break;
        }
    }
    fputs("}\n", out);
}

/* Print the program as the passes so far have made it: after parse the
 * syntax, after typecheck with a type on every expression, after link the
 * pipeline graph, after analyse the streams each module reads. */
void ast_dump(struct mbxc *mc, FILE *out, const char *pass)
{
    bool typed = strcmp(pass, "parse") != 0 && strcmp(pass, "resolve") != 0;
    bool analysed = strcmp(pass, "analyse") == 0;
    fprintf(out, "// after %s\n", pass);
    for (struct unit *u = mc->units; u; u = u->next) {
        if (u->is_prelude)
            continue;
        fprintf(out, "// unit %s\n", u->name);
        for (struct ast_decl *d = u->decls; d; d = d->next) {
            switch (d->kind) {
            case D_USE:
                fprintf(out, "use %s;\n", d->name);
                break;
            case D_RECORD:
            case D_FLOW:
                fprintf(out, "%s %s", d->kind == D_RECORD ? "record" : "flow", d->name);
                if (d->u.rec.over)
                    fprintf(out, " over %s", d->u.rec.over->name);
                fputs(" { ", out);
                dump_fields(out, d->u.rec.fields, typed);
                fputs(" }\n", out);
                break;
            case D_EVENT:
                fprintf(out, "event %s(", d->name);
                dump_fields(out, d->u.ev.params, typed);
                fputc(')', out);
                if (d->u.ev.derived)
                    fprintf(out, " = %s", d->u.ev.base ? d->u.ev.base->name : d->u.ev.base_x->name);
                if (d->u.ev.filter) {
                    fputs(" where ", out);
                    dump_expr(out, d->u.ev.filter, typed);
                }
                if (typed && d->u.ev.root)
                    fprintf(out, " /* root %s, owner %s */", d->u.ev.root->name,
                            d->u.ev.owner == OWN_PACKET ? "packet"
                            : d->u.ev.owner_flow        ? d->u.ev.owner_flow->name
                                                        : "?");
                fputs(";\n", out);
                break;
            case D_MODULE:
                dump_module(out, d, typed, analysed);
                break;
            case D_FN:
                fprintf(out, "extern fn %s(", d->name);
                dump_fields(out, d->u.fn.params, typed);
                fputs(");\n", out);
                break;
            case D_PIPELINE:
                fprintf(out, "pipeline %s { ... }\n", d->name);
                break;
            }
        }
    }
    struct link_graph *g = mc->graph;
    if (g && (strcmp(pass, "link") == 0 || analysed)) {
        fprintf(out, "// pipeline %s: %d members, %d links\n", g->pipeline->name, g->nnodes,
                g->nedges);
        for (int i = 0; i < g->nnodes; i++)
            fprintf(out, "//   member %d: %s%s\n", i, g->nodes[i]->module->name,
                    g->nodes[i]->pulled ? " (pulled in)" : "");
        for (int i = 0; i < g->nedges; i++)
            fprintf(out, "//   link %s.%s -> %s%s\n",
                    g->edges[i].from ? g->edges[i].from->module->name : "runtime",
                    g->edges[i].type ? g->edges[i].type->name : "packet",
                    g->edges[i].to->module->name, g->edges[i].explicit_ ? " (explicit)" : "");
    }
}
