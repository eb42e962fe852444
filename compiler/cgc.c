/*
 * cgc.c - the C back end: one C file per program, from the IR (ir.h).
 *
 * The file includes mbx.h (and mbx_http.h when the pipeline has std.http's
 * parser), then holds, in order: small inline helpers, the configs as
 * variables (--set writes them), the tables, the per-flow module state (one
 * mbx_flow_ext slot for all members), the payload structs of raised events,
 * the functions (handlers, derived-event filters, timers) and the static
 * registration table that mbx_main() (app.c) reads: modules, configs, tables,
 * externs, events, subscriptions in dispatch order, timers.  Every variable
 * the program writes while it runs (tables, event and subscription ids, the
 * flow slot, std.http's handle) is _Thread_local, one copy per worker thread;
 * g_vars gives mbx_main each thread's addresses (mbx_program.worker_vars).
 * Configs are shared: --set writes them before the workers start.
 * Expressions map one to one onto C expressions over mbx.h's types; every .mbx rule was
 * decided by the lowering, so this file only prints.  The output must compile
 * without warnings under -Wall -Wextra (tests/backend checks it).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "mbx.h"

struct cg {
    const struct ir_prog *p;  /* the program */
    FILE *o;                  /* output */
    const struct ir_func *fn; /* function being emitted, NULL: constant context */
    int tmp;                  /* unique temporaries */
    int failed;               /* an IR form with no C form (internal error) */
    bool bare;                /* the next comparison may omit its parentheses */
};

static void out(struct cg *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(struct cg *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(g->o, fmt, ap);
    va_end(ap);
}

static void fail(struct cg *g, const char *what)
{
    fprintf(stderr, "mbxc: internal compiler error: the C back end cannot emit %s\n", what);
    g->failed = 1;
}

/* A C string literal of n bytes (octal escapes keep it exact, NULs included). */
static void cstr(struct cg *g, const char *s, size_t n)
{
    fputc('"', g->o);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(g->o, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f || c == '?')
            fprintf(g->o, "\\%03o", c);
        else
            fputc(c, g->o);
    }
    fputc('"', g->o);
}

static const char *cty(enum ir_ty t)
{
    switch (t) {
    case IT_BOOL:
        return "bool";
    case IT_INT:
        return "int64_t";
    case IT_UINT:
    case IT_PORT:
    case IT_TIME:
    case IT_DURATION:
    case IT_STATE:
        return "uint64_t";
    case IT_STR:
    case IT_BYTES:
        return "struct mbx_str";
    case IT_ADDR:
        return "struct mbx_addr";
    case IT_ENDP:
    case IT_STREAM:
        return "struct g_endp";
    case IT_FLOW:
        return "mbx_flow *";
    case IT_UFLOW:
    case IT_REC:
        return "const void *";
    case IT_PKT:
        return "const struct mbx_pkt *";
    case IT_TABLE:
        return "mbx_table *";
    case IT_VOID:
    case IT_PREFIX:
        break;
    }
    return NULL;
}

static bool is_u64(enum ir_ty t)
{
    return t == IT_UINT || t == IT_PORT || t == IT_TIME || t == IT_DURATION || t == IT_STATE;
}

static const char *tkind(enum ir_ty t)
{
    switch (t) {
    case IT_INT:
        return "MBX_TK_INT";
    case IT_BOOL:
        return "MBX_TK_BOOL";
    case IT_UINT:
    case IT_PORT:
    case IT_TIME:
    case IT_DURATION:
    case IT_STATE:
        return "MBX_TK_UINT";
    case IT_ADDR:
        return "MBX_TK_ADDR";
    case IT_STR:
        return "MBX_TK_STR";
    case IT_BYTES:
        return "MBX_TK_BYTES";
    case IT_TABLE:
        return "MBX_TK_SET";
    default:
        return "MBX_TK_NONE";
    }
}

/* ---------------------------------------------------------------- expressions */

static void ex(struct cg *g, const struct ir_expr *x);

static const struct ir_event *root_of_fn(const struct ir_func *f)
{
    return f && f->event ? f->event->root : NULL;
}

/* The mbx_tkey of x (a key of kind t). */
static void key(struct cg *g, const struct ir_expr *x, enum ir_ty t)
{
    if (t == IT_ADDR) {
        out(g, "mbx_tkey_addr((struct mbx_addr[1]){");
        ex(g, x);
        out(g, "})");
    } else if (t == IT_STR || t == IT_BYTES) {
        out(g, "mbx_tkey_str(");
        ex(g, x);
        out(g, ")");
    } else {
        out(g, "mbx_tkey_u((uint64_t)(");
        ex(g, x);
        out(g, "))");
    }
}

static void ex_const(struct cg *g, const struct ir_expr *x)
{
    switch (x->ty) {
    case IT_BOOL:
        out(g, x->u.i ? "true" : "false");
        return;
    case IT_INT:
        out(g, "((int64_t)UINT64_C(%" PRIu64 "))", x->u.i);
        return;
    case IT_UINT:
    case IT_PORT:
    case IT_TIME:
    case IT_DURATION:
    case IT_STATE:
        out(g, "UINT64_C(%" PRIu64 ")", x->u.i);
        return;
    case IT_STR:
    case IT_BYTES:
        out(g, "((struct mbx_str){(const uint8_t *)");
        cstr(g, x->u.str.s, x->u.str.n);
        out(g, ", %zu})", x->u.str.n);
        return;
    case IT_ADDR:
    case IT_PREFIX:
        out(g, "((struct mbx_addr){{");
        for (int i = 0; i < 16; i++)
            out(g, "%s%u", i ? ", " : "", x->u.ip.b[i]);
        out(g, "}})");
        return;
    case IT_ENDP:
        out(g, "((struct g_endp){NULL, %d})", (int)x->u.i);
        return;
    default:
        break;
    }
    fail(g, "a constant of this type");
}

static void ex_evarg(struct cg *g, const struct ir_expr *x)
{
    const struct ir_event *root = root_of_fn(g->fn);
    switch (x->evarg) {
    case EA_FLOW:
        out(g, "ev->flow");
        return;
    case EA_SIDE:
        out(g, "((struct g_endp){ev->flow, (int)ev->side})");
        return;
    case EA_INCONS:
        out(g, "ev->inconsistent");
        return;
    case EA_LEN:
        out(g, "(%s)ev->len", cty(x->ty));
        return;
    case EA_PKT:
        out(g, "ev->pkt");
        return;
    case EA_PAYLOAD:
        out(g, "((const struct evp_%s *)ev->payload)->p%d", root->cname, x->index);
        return;
    case EA_EXTERN: {
        const char *n = root->name;
        if (strcmp(n, "http_request") == 0 || strcmp(n, "http_response") == 0) {
            if (x->index == 0) {
                out(g, "ev->payload");
                return;
            }
        } else if (strcmp(n, "file_data") == 0) {
            const char *fd = "((const struct mbx_http_file_data *)ev->payload)";
            switch (x->index) {
            case 0:
                out(g, "(const void *)%s->file->tx", fd);
                return;
            case 1:
                out(g, "(const void *)%s->file", fd);
                return;
            case 2:
                out(g, "((struct mbx_str){%s->data, %s->len})", fd, fd);
                return;
            case 3:
                out(g, "%s->offset", fd);
                return;
            default:
                break;
            }
        } else if (strcmp(n, "file_seen") == 0) {
            if (x->index == 0) {
                out(g, "(const void *)((const struct mbx_http_file_info *)ev->payload)->tx");
                return;
            }
            if (x->index == 1) {
                out(g, "ev->payload");
                return;
            }
        }
        fail(g, "a parameter of this std.http event (no C binding)");
        out(g, "0");
        return;
    }
    }
}

/* Arithmetic and comparisons, by the operand type. */
static void ex_binary(struct cg *g, const struct ir_expr *x)
{
    const struct ir_expr *a = x->a[0], *b = x->a[1];
    enum ir_ty t = a->ty;
    const char *cop = NULL;
    bool bare = g->bare; /* set by ex() only for this node */
    g->bare = false;
    switch (x->bop) {
    case OP_AND:
        cop = "&&";
        break;
    case OP_OR:
        cop = "||";
        break;
    case OP_EQ:
        cop = "==";
        break;
    case OP_NE:
        cop = "!=";
        break;
    case OP_LT:
        cop = "<";
        break;
    case OP_LE:
        cop = "<=";
        break;
    case OP_GT:
        cop = ">";
        break;
    case OP_GE:
        cop = ">=";
        break;
    default:
        break;
    }
    if (x->bop == OP_IN) {
        if (b->ty == IT_PREFIX) {
            out(g, "mbx_addr_in_prefix((struct mbx_addr[1]){");
            ex(g, a);
            out(g, "}, (struct mbx_addr[1]){");
            ex(g, b);
            out(g, "}, %d)", b->u.ip.plen);
        } else {
            out(g, "g_tcontains(");
            ex(g, b);
            out(g, ", ");
            key(g, a, b->table ? b->table->key : a->ty);
            out(g, ", now)");
        }
        return;
    }
    if (x->bop == OP_AND || x->bop == OP_OR) {
        out(g, "(");
        ex(g, a);
        out(g, " %s ", cop);
        ex(g, b);
        out(g, ")");
        return;
    }
    if (cop) { /* comparisons */
        if (t == IT_STR || t == IT_BYTES) {
            out(g, "(g_str_cmp(");
            ex(g, a);
            out(g, ", ");
            ex(g, b);
            out(g, ") %s 0)", cop);
        } else if (t == IT_ADDR) {
            out(g, "(g_addr_cmp(");
            ex(g, a);
            out(g, ", ");
            ex(g, b);
            out(g, ") %s 0)", cop);
        } else if (t == IT_ENDP || t == IT_STREAM) {
            out(g, "(%sg_endp_eq(", x->bop == OP_NE ? "!" : "");
            ex(g, a);
            out(g, ", ");
            ex(g, b);
            out(g, "))");
        } else {
            out(g, bare ? "" : "(");
            ex(g, a);
            out(g, " %s ", cop);
            ex(g, b);
            out(g, bare ? "" : ")");
        }
        return;
    }
    /* arithmetic */
    const char *aop = NULL;
    switch (x->bop) {
    case OP_ADD:
        aop = "+";
        break;
    case OP_SUB:
        aop = "-";
        break;
    case OP_MUL:
        aop = "*";
        break;
    case OP_BAND:
        aop = "&";
        break;
    case OP_BOR:
        aop = "|";
        break;
    case OP_BXOR:
        aop = "^";
        break;
    default:
        break;
    }
    bool sgn = t == IT_INT;
    if (aop) {
        out(g, sgn ? "((int64_t)((uint64_t)(" : "((uint64_t)(");
        ex(g, a);
        out(g, ") %s (uint64_t)(", aop);
        ex(g, b);
        out(g, sgn ? ")))" : "))");
        return;
    }
    if (x->bop == OP_SHL || x->bop == OP_SHR) {
        if (sgn && x->bop == OP_SHL)
            out(g, "((int64_t)((uint64_t)(");
        else
            out(g, "((%s)(", sgn ? "int64_t" : "uint64_t");
        ex(g, a);
        out(g, ") %s ((uint64_t)(", x->bop == OP_SHL ? "<<" : ">>");
        ex(g, b);
        out(g, sgn && x->bop == OP_SHL ? ") & 63)))" : ") & 63))");
        return;
    }
    if (x->bop == OP_DIV || x->bop == OP_MOD) {
        const char *f = x->bop == OP_DIV ? "div" : "mod";
        if (g->fn == NULL) { /* constant context: C's own (a config default) */
            out(g, "((");
            ex(g, a);
            out(g, ") %s (", x->bop == OP_DIV ? "/" : "%");
            ex(g, b);
            out(g, "))");
            return;
        }
        out(g, "mbx_%s_%s(e, ", f, sgn ? "i64" : "u64");
        ex(g, a);
        out(g, ", ");
        ex(g, b);
        out(g, ")");
        return;
    }
    fail(g, "this binary operator");
}

static void ex_method(struct cg *g, const struct ir_expr *x)
{
    const struct ir_expr *o = x->a[0];
    const struct ir_expr *a1 = x->na > 1 ? x->a[1] : NULL;
    const struct ir_expr *a2 = x->na > 2 ? x->a[2] : NULL;
    if (o->ty == IT_TABLE) {
        enum ir_ty kt = o->table ? o->table->key : (a1 ? a1->ty : IT_UINT);
        switch (x->method) {
        case M_LEN:
            out(g, "(int64_t)g_tlen(");
            ex(g, o);
            out(g, ", now)");
            return;
        case M_CONTAINS:
        case M_ADD:
        case M_REMOVE:
            out(g, x->method == M_CONTAINS ? "g_tcontains("
                   : x->method == M_ADD    ? "g_tadd("
                                           : "g_tremove(");
            ex(g, o);
            out(g, ", ");
            key(g, a1, kt);
            out(g, ", now)");
            return;
        default:
            break;
        }
    } else if (o->ty == IT_STREAM) {
        const char *args = "ev, (";
        switch (x->method) {
        case M_LEN:
            out(g, "mbx_gen_stream_len(%s", args);
            ex(g, o);
            out(g, ").f, (");
            ex(g, o);
            out(g, ").side)");
            return;
        case M_PEEK:
        case M_NEW_BYTES:
        case M_PEEK_AT:
        case M_STARTS_WITH:
            out(g, "g_stream_%s(ev, ",
                x->method == M_PEEK        ? "peek"
                : x->method == M_NEW_BYTES ? (g->p->stream_hist ? "new_bytes" : "take")
                : x->method == M_PEEK_AT   ? "peek_at"
                                           : "starts_with");
            ex(g, o);
            if (a1) {
                out(g, ", ");
                ex(g, a1);
            }
            if (a2) {
                out(g, ", ");
                ex(g, a2);
            }
            out(g, ")");
            return;
        case M_CONTAINS:
        case M_FIND:
            out(g, "(mbx_gen_stream_find(ev, (");
            ex(g, o);
            out(g, ").f, (");
            ex(g, o);
            out(g, ").side, ");
            ex(g, a1);
            out(g, x->method == M_FIND ? "))" : ") >= 0)");
            return;
        default:
            break;
        }
    } else if (o->ty == IT_PKT && x->method == M_LEN) { /* bytes on the wire */
        out(g, "g_pkt_len(");
        ex(g, o);
        out(g, ")");
        return;
    } else if (o->ty == IT_STR || o->ty == IT_BYTES) {
        static const struct {
            enum method m;
            const char *f;
        } sm[] = {
            {M_STARTS_WITH, "mbx_str_starts_with"},
            {M_ENDS_WITH, "mbx_str_ends_with"},
            {M_CONTAINS, "mbx_str_contains"},
            {M_FIND, "mbx_str_find"},
            {M_LOWER, "mbx_str_lower"},
            {M_LEN, "g_slen"},
        };
        for (size_t i = 0; i < sizeof(sm) / sizeof(sm[0]); i++)
            if (sm[i].m == x->method) {
                out(g, "%s(", sm[i].f);
                ex(g, o);
                if (a1) {
                    out(g, ", ");
                    ex(g, a1);
                }
                out(g, ")");
                return;
            }
    }
    fail(g, "this method call");
}

static void ex_cast(struct cg *g, const struct ir_expr *x)
{
    const struct ir_expr *a = x->a[0];
    enum ir_ty to = x->ty, from = a->ty;
    if (to == from || ((to == IT_STR || to == IT_BYTES) && (from == IT_STR || from == IT_BYTES))) {
        ex(g, a);
        return;
    }
    if (to == IT_BOOL) {
        out(g, "((");
        ex(g, a);
        out(g, ") != 0)");
        return;
    }
    if ((to == IT_INT || is_u64(to)) && (from == IT_INT || from == IT_BOOL || is_u64(from))) {
        out(g, "((%s)(", cty(to));
        ex(g, a);
        out(g, to == IT_PORT ? ") & 0xffff)" : "))");
        return;
    }
    fail(g, "this conversion");
}

static void ex(struct cg *g, const struct ir_expr *x)
{
    bool bare = g->bare; /* only a comparison directly under `if (` may drop its parentheses */
    g->bare = false;
    if (x == NULL) {
        fail(g, "a missing operand");
        return;
    }
    switch (x->op) {
    case X_CONST:
        ex_const(g, x);
        return;
    case X_LOCAL:
        out(g, "l%d", x->index);
        return;
    case X_CONFIG: {
        const struct ir_config *c = &g->p->configs[x->index];
        out(g, "cfg_%s_%s", c->module, c->name);
        return;
    }
    case X_TABLE: {
        const struct ir_table *t = g->p->tables[x->index];
        out(g, "tb_%s_%s", t->module, t->name);
        return;
    }
    case X_STATE:
        if (x->ty == IT_STR || x->ty == IT_BYTES) /* kept as a copy: see decl_state */
            out(g, "g_sf_get(&g_st_%s(ev->flow)->%s)", g->p->modules[g->fn->module].name,
                g->p->modules[g->fn->module].state[x->index].name);
        else
            out(g, "g_st_%s(ev->flow)->%s", g->p->modules[g->fn->module].name,
                g->p->modules[g->fn->module].state[x->index].name);
        return;
    case X_EVARG:
        ex_evarg(g, x);
        return;
    case X_ENDP:
        out(g, "((struct g_endp){");
        ex(g, x->a[0]);
        out(g, ", %d})", x->index);
        return;
    case X_FLOWF: {
        static const char *const ff[] = {"g_flow_start", "g_flow_last", "g_flow_id", "g_flow_cid",
                                         "g_flow_midstream"};
        out(g, "%s(", ff[x->index]);
        ex(g, x->a[0]);
        out(g, ")");
        return;
    }
    case X_ENDPF: {
        static const char *const ef[] = {"g_ep_ip",    "g_ep_port", "g_ep_state",  "g_ep_seq",
                                         "g_ep_bytes", "g_ep_pkts", "g_ep_rexmits"};
        out(g, "%s(", ef[x->index]);
        ex(g, x->a[0]);
        out(g, ")");
        return;
    }
    case X_STREAM:
        ex(g, x->a[0]);
        return;
    case X_UFIELD:
        out(g, "ux_%s(", x->name);
        ex(g, x->a[0]);
        out(g, ")");
        return;
    case X_UNARY:
        if (x->bop == OP_NOT) {
            out(g, "(!");
            ex(g, x->a[0]);
            out(g, ")");
        } else if (x->ty == IT_INT) {
            out(g, "((int64_t)(0 - (uint64_t)(");
            ex(g, x->a[0]);
            out(g, ")))");
        } else {
            out(g, "(0 - (uint64_t)(");
            ex(g, x->a[0]);
            out(g, "))");
        }
        return;
    case X_BINARY:
        g->bare = bare;
        ex_binary(g, x);
        return;
    case X_CAST:
        ex_cast(g, x);
        return;
    case X_TGET: {
        const struct ir_table *t = x->a[0]->table;
        enum ir_ty kt = t ? t->key : x->a[1]->ty;
        const char *f = "g_tget_u";
        if (t && t->val_is_set)
            f = "g_tget_set";
        else if (x->ty == IT_ADDR)
            f = "g_tget_addr";
        else if (x->ty == IT_STR || x->ty == IT_BYTES)
            f = "g_tget_str";
        if (x->ty == IT_INT)
            out(g, "(int64_t)");
        else if (x->ty == IT_BOOL)
            out(g, "0 != ");
        out(g, "%s(", f);
        ex(g, x->a[0]);
        out(g, ", ");
        key(g, x->a[1], kt);
        out(g, ", now)");
        return;
    }
    case X_TREF_SET: {
        const struct ir_table *t = x->a[0]->table;
        out(g, "g_tput_set(");
        ex(g, x->a[0]);
        out(g, ", ");
        key(g, x->a[1], t ? t->key : x->a[1]->ty);
        out(g, ", now)");
        return;
    }
    case X_METHOD:
        ex_method(g, x);
        return;
    case X_SLICE:
        out(g, "mbx_str_slice(");
        ex(g, x->a[0]);
        out(g, ", ");
        if (x->a[1])
            ex(g, x->a[1]);
        else
            out(g, "0");
        out(g, ", ");
        if (x->a[2])
            ex(g, x->a[2]);
        else
            out(g, "INT64_MAX");
        out(g, ")");
        return;
    case X_INDEX:
        out(g, "mbx_str_at(");
        ex(g, x->a[0]);
        out(g, ", ");
        ex(g, x->a[1]);
        out(g, ")");
        return;
    case X_CALLFN:
        out(g, "%s(", x->name);
        for (int i = 0; i < x->na; i++) {
            if (i)
                out(g, ", ");
            ex(g, x->a[i]);
        }
        out(g, ")");
        return;
    }
    fail(g, "this expression");
}

/* ---------------------------------------------------------------- statements */

static void ind(struct cg *g, int d)
{
    for (int i = 0; i < d; i++)
        out(g, "    ");
}

static void block(struct cg *g, const struct ir_stmt *s, int d);

/* One key = value member of an alert/log record. */
static void out_member(struct cg *g, const char *k, const struct ir_expr *v, int d)
{
    ind(g, d);
    switch (v->ty) {
    case IT_BOOL:
        out(g, "mbx_out_bool(o, \"%s\", ", k);
        break;
    case IT_INT:
        out(g, "mbx_out_int(o, \"%s\", ", k);
        break;
    case IT_UINT:
    case IT_PORT:
        out(g, "mbx_out_uint(o, \"%s\", ", k);
        break;
    case IT_TIME:
        out(g, "mbx_gen_out_time(o, \"%s\", ", k);
        break;
    case IT_DURATION:
        out(g, "mbx_gen_out_duration(o, \"%s\", ", k);
        break;
    case IT_STATE:
        out(g, "mbx_out_str(o, \"%s\", mbx_tcp_state_name((enum mbx_tcp_state)", k);
        ex(g, v);
        out(g, "));\n");
        return;
    case IT_STR:
        out(g, "g_out_str(o, \"%s\", ", k);
        break;
    case IT_BYTES:
        out(g, "g_out_hex(o, \"%s\", ", k);
        break;
    case IT_ADDR:
        out(g, "mbx_out_addr(o, \"%s\", (struct mbx_addr[1]){", k);
        ex(g, v);
        out(g, "});\n");
        return;
    case IT_ENDP:
    case IT_STREAM:
        out(g, "mbx_gen_out_side(o, \"%s\", (", k);
        ex(g, v);
        out(g, ").side);\n");
        return;
    case IT_FLOW:
        out(g, "mbx_out_uint(o, \"%s\", g_flow_id(", k);
        ex(g, v);
        out(g, "));\n");
        return;
    case IT_TABLE:
        out(g, "g_out_keys(");
        ex(g, v);
        out(g, ", o, \"%s\", now);\n", k);
        return;
    default:
        fail(g, "a value of this type in an alert or log");
        return;
    }
    ex(g, v);
    out(g, ");\n");
}

static void stmt_out(struct cg *g, const struct ir_stmt *s, int d)
{
    const char *mod = g->p->modules[g->fn->module].name;
    const char *flow = g->fn->kind == FN_TIMER ? "NULL" : "ev->flow";
    ind(g, d);
    out(g, "{\n");
    ind(g, d + 1);
    out(g, "struct mbx_out *o = mbx_engine_output(e);\n");
    ind(g, d + 1);
    out(g, "mbx_out_begin(o, now, \"%s\", %s);\n", s->op == Y_ALERT ? "alert" : "log", flow);
    ind(g, d + 1);
    if (s->op == Y_ALERT) {
        out(g, "mbx_out_object(o, \"alert\");\n");
        ind(g, d + 1);
        out(g, "mbx_out_str(o, \"signature\", ");
        cstr(g, s->name, strlen(s->name));
        out(g, ");\n");
    } else {
        out(g, "mbx_out_object(o, \"log\");\n");
        ind(g, d + 1);
        out(g, "g_out_str(o, \"message\", ");
        ex(g, s->a);
        out(g, ");\n");
    }
    ind(g, d + 1);
    out(g, "mbx_out_str(o, \"module\", \"%s\");\n", mod);
    ind(g, d + 1);
    out(g, "mbx_out_end_object(o);\n");
    if (s->nargs > 0) {
        ind(g, d + 1);
        out(g, "mbx_out_object(o, \"mbx\");\n");
        for (int i = 0; i < s->nargs; i++)
            out_member(g, s->keys[i], s->args[i], d + 1);
        ind(g, d + 1);
        out(g, "mbx_out_end_object(o);\n");
    }
    ind(g, d + 1);
    out(g, "mbx_out_end(o);\n");
    ind(g, d);
    out(g, "}\n");
}

static void store(struct cg *g, const struct ir_stmt *s, int d)
{
    const struct ir_expr *l = s->lhs;
    ind(g, d);
    if (l->op == X_TGET) {
        const struct ir_table *t = l->a[0]->table;
        enum ir_ty kt = t ? t->key : l->a[1]->ty;
        if (l->ty == IT_STR || l->ty == IT_BYTES) {
            out(g, "g_tput_str(");
        } else if (l->ty == IT_ADDR) {
            out(g, "g_tput_addr(");
        } else {
            out(g, "g_tput_u(");
        }
        ex(g, l->a[0]);
        out(g, ", ");
        key(g, l->a[1], kt);
        out(g, ", now, ");
        if (l->ty == IT_STR || l->ty == IT_BYTES || l->ty == IT_ADDR) {
            ex(g, s->a);
            out(g, ");\n");
        } else {
            out(g, "(uint64_t)(");
            ex(g, s->a);
            out(g, "), %d);\n", s->aop == OP_ADD ? 1 : s->aop == OP_SUB ? 2 : 0);
        }
        return;
    }
    if (l->op == X_STATE && (l->ty == IT_STR || l->ty == IT_BYTES)) {
        const struct ir_module *m = &g->p->modules[g->fn->module];
        out(g, "g_sf_set(&g_st_%s(ev->flow)->%s, ", m->name, m->state[l->index].name);
        ex(g, s->a);
        out(g, ");\n");
        return;
    }
    if (s->aop == OP_ADD || s->aop == OP_SUB) {
        const char *op = s->aop == OP_ADD ? "+" : "-";
        ex(g, l);
        if (l->ty == IT_INT) {
            out(g, " = (int64_t)((uint64_t)");
            ex(g, l);
            out(g, " %s (uint64_t)(", op);
            ex(g, s->a);
            out(g, "));\n");
        } else {
            out(g, " %s= ", op);
            ex(g, s->a);
            out(g, ";\n");
        }
        return;
    }
    ex(g, l);
    out(g, " = ");
    ex(g, s->a);
    out(g, ";\n");
}

static void stmt(struct cg *g, const struct ir_stmt *s, int d)
{
    const struct ir_prog *p = g->p;
    switch (s->op) {
    case Y_LET:
        ind(g, d);
        out(g, "l%d = ", s->index);
        ex(g, s->a);
        out(g, ";\n");
        return;
    case Y_STORE:
        store(g, s, d);
        return;
    case Y_EXPR:
        ind(g, d);
        out(g, "(void)");
        ex(g, s->a);
        out(g, ";\n");
        return;
    case Y_IF:
        ind(g, d);
        out(g, "if (");
        g->bare = true; /* no second pair of parentheses around a comparison */
        ex(g, s->a);
        g->bare = false;
        out(g, ") {\n");
        block(g, s->body, d + 1);
        ind(g, d);
        if (s->else_) {
            out(g, "} else {\n");
            block(g, s->else_, d + 1);
            ind(g, d);
        }
        out(g, "}\n");
        return;
    case Y_FOR_TABLE: {
        int t = ++g->tmp;
        const struct ir_table *tb = s->a->table;
        enum ir_ty kt = tb ? tb->key : IT_UINT;
        ind(g, d);
        out(g, "{\n");
        ind(g, d + 1);
        out(g, "mbx_table *t%d = ", t);
        ex(g, s->a);
        out(g, ";\n");
        ind(g, d + 1);
        out(g, "uint32_t it%d = 0;\n", t);
        ind(g, d + 1);
        out(g, "struct mbx_tkey k%d;\n", t);
        ind(g, d + 1);
        out(g, "const void *v%d;\n", t);
        ind(g, d + 1);
        out(g, "while (t%d && mbx_table_next(t%d, &it%d, now, &k%d, &v%d)) {\n", t, t, t, t, t);
        ind(g, d + 2);
        if (kt == IT_ADDR)
            out(g, "l%d = *(const struct mbx_addr *)k%d.p;\n", s->index, t);
        else if (kt == IT_STR || kt == IT_BYTES)
            out(g, "l%d = (struct mbx_str){(const uint8_t *)k%d.p, k%d.n};\n", s->index, t, t);
        else if (kt == IT_BOOL)
            out(g, "l%d = k%d.u != 0;\n", s->index, t);
        else
            out(g, "l%d = (%s)k%d.u;\n", s->index, cty(kt), t);
        if (s->index2 >= 0 && tb) {
            ind(g, d + 2);
            if (tb->val_is_set)
                out(g, "l%d = *(mbx_table *const *)v%d;\n", s->index2, t);
            else if (tb->val == IT_ADDR)
                out(g, "l%d = *(const struct mbx_addr *)v%d;\n", s->index2, t);
            else if (tb->val == IT_STR || tb->val == IT_BYTES)
                out(g, "l%d = *(const struct mbx_str *)v%d;\n", s->index2, t);
            else if (tb->val == IT_BOOL)
                out(g, "l%d = *(const uint64_t *)v%d != 0;\n", s->index2, t);
            else
                out(g, "l%d = (%s)*(const uint64_t *)v%d;\n", s->index2, cty(tb->val), t);
        }
        block(g, s->body, d + 2);
        ind(g, d + 1);
        out(g, "}\n");
        ind(g, d);
        out(g, "}\n");
        return;
    }
    case Y_FOR_BYTES: {
        int t = ++g->tmp;
        ind(g, d);
        out(g, "{\n");
        ind(g, d + 1);
        out(g, "struct mbx_str s%d = ", t);
        ex(g, s->a);
        out(g, ";\n");
        ind(g, d + 1);
        out(g, "for (size_t i%d = 0; i%d < s%d.n; i%d++) {\n", t, t, t, t);
        if (s->index >= 0) {
            ind(g, d + 2);
            out(g, "l%d = (int64_t)i%d;\n", s->index, t);
        }
        if (s->index2 >= 0) {
            ind(g, d + 2);
            out(g, "l%d = s%d.p[i%d];\n", s->index2, t, t);
        }
        block(g, s->body, d + 2);
        ind(g, d + 1);
        out(g, "}\n");
        ind(g, d);
        out(g, "}\n");
        return;
    }
    case Y_RETURN:
        ind(g, d);
        out(g, "return;\n");
        return;
    case Y_RAISE: {
        const struct ir_event *ev = s->event;
        int t = ++g->tmp;
        const char *flow = g->fn->kind == FN_TIMER ? "NULL" : "ev->flow";
        ind(g, d);
        out(g, "{\n");
        ind(g, d + 1);
        out(g, "struct evp_%s r%d;\n", ev->cname, t);
        ind(g, d + 1);
        out(g, "memset(&r%d, 0, sizeof(r%d));\n", t, t);
        int fl = -1;
        for (int i = 0; i < s->nargs && i < ev->nparams; i++) {
            ind(g, d + 1);
            out(g, "r%d.p%d = ", t, i);
            ex(g, s->args[i]);
            out(g, ";\n");
            if (fl < 0 && ev->ptys[i] == IT_FLOW)
                fl = i;
        }
        ind(g, d + 1);
        char fbuf[32];
        if (fl >= 0)
            snprintf(fbuf, sizeof(fbuf), "r%d.p%d", t, fl);
        const char *side = g->fn->kind == FN_TIMER ? "MBX_CLIENT" : "ev->side";
        if (ev->direct) /* statically known subscribers: called directly */
            out(g, "r_%s(ev, e, %s, %s, &r%d);\n", ev->cname, fl >= 0 ? fbuf : flow, side, t);
        else
            out(g, "mbx_raise(e, g_ev[%d], %s, %s, &r%d);\n", ev->slot, fl >= 0 ? fbuf : flow, side,
                t);
        ind(g, d);
        out(g, "}\n");
        return;
    }
    case Y_ALERT:
    case Y_LOG:
        stmt_out(g, s, d);
        return;
    case Y_DROP_PACKET:
        ind(g, d);
        out(g, "mbx_drop_packet(e);\n");
        return;
    case Y_DROP_FLOW:
        ind(g, d);
        out(g, "if (ev->flow)\n");
        ind(g, d + 1);
        out(g, "mbx_drop_flow(ev->flow);\n");
        return;
    case Y_STEER: {
        int t = ++g->tmp;
        ind(g, d);
        out(g, "{\n");
        ind(g, d + 1);
        if (s->a->ty == IT_FLOW) {
            out(g, "mbx_flow *sf%d = ", t);
            ex(g, s->a);
            out(g, ";\n");
        } else {
            out(g, "mbx_flow *sf%d = ev->flow; /* the root flow of the steered flow */\n", t);
        }
        for (int i = 0; i < p->nsubs; i++) {
            if (p->subs[i].module != s->index)
                continue;
            ind(g, d + 1);
            out(g, "if (sf%d)\n", t);
            ind(g, d + 2);
            if (p->subs[i].direct)
                out(g, "g_fs(sf%d)->on |= UINT64_C(1) << %d; /* %s, direct */\n", t, p->subs[i].bit,
                    p->subs[i].event->name);
            else
                out(g, "mbx_flow_subscribe(sf%d, g_sub[%d]); /* %s */\n", t, i,
                    p->subs[i].event->name);
        }
        ind(g, d);
        out(g, "}\n");
        return;
    }
    case Y_UNSUB:
        ind(g, d);
        out(g, "if (ev->flow)\n");
        ind(g, d + 1);
        if (p->subs[g->fn->sub].direct)
            out(g, "g_fs(ev->flow)->off |= UINT64_C(1) << %d; /* a direct subscription */\n",
                p->subs[g->fn->sub].bit);
        else
            out(g, "mbx_flow_unsubscribe(ev->flow, g_sub[%d]);\n", g->fn->sub);
        return;
    }
    fail(g, "this statement");
}

static void block(struct cg *g, const struct ir_stmt *s, int d)
{
    for (; s; s = s->next)
        stmt(g, s, d);
}

/* ---------------------------------------------------------------- functions */

static void locals(struct cg *g, const struct ir_func *f)
{
    for (int i = 0; i < f->nlocals; i++) {
        const struct ir_local *l = &f->locals[i];
        const char *t = cty(l->ty);
        if (t == NULL) {
            fail(g, "a local of this type");
            continue;
        }
        bool ptr = t[strlen(t) - 1] == '*';
        bool agg = l->ty == IT_STR || l->ty == IT_BYTES || l->ty == IT_ADDR || l->ty == IT_ENDP ||
                   l->ty == IT_STREAM;
        out(g, "    %s%sl%d = %s; /* %s */\n", t, ptr ? "" : " ", i,
            agg                ? "{0}"
            : ptr              ? "NULL"
            : l->ty == IT_BOOL ? "false"
                               : "0",
            l->name);
    }
    for (int i = 0; i < f->nlocals; i++)
        out(g, "    (void)l%d;\n", i);
}

static bool is_binding(const struct ir_stmt *s)
{
    return s->op == Y_LET && s->a && s->a->op == X_EVARG;
}

static void func(struct cg *g, const struct ir_func *f)
{
    g->fn = f;
    const struct ir_stmt *s = f->body;
    out(g, "\n");
    switch (f->kind) {
    case FN_HANDLER:
        out(g, "/* %s: on %s */\n", g->p->modules[f->module].name, f->event->name);
        out(g, "static void %s(const struct mbx_event *ev, void *ud)\n{\n", f->name);
        out(g, "    mbx_engine *const e = ev->engine;\n");
        break;
    case FN_FILTER:
        out(g, "/* event %s: its where-clause */\n", f->event->name);
        out(g, "static bool %s(const struct mbx_event *ev, void *ud)\n{\n", f->name);
        out(g, "    mbx_engine *const e = ev->engine;\n");
        break;
    case FN_TIMER:
        out(g, "/* %s: every */\n", g->p->modules[f->module].name);
        out(g, "static void %s(mbx_engine *e, void *ud)\n{\n", f->name);
        out(g, "    const struct mbx_event *const ev = NULL;\n");
        break;
    }
    out(g, "    const mbx_time now = mbx_engine_now(e);\n");
    locals(g, f);
    out(g, "    (void)ud;\n    (void)now;\n    (void)ev;\n");
    for (; s && is_binding(s); s = s->next)
        stmt(g, s, 1);
    if (f->kind == FN_FILTER) {
        out(g, "    return ");
        ex(g, f->where);
        out(g, ";\n}\n");
        return;
    }
    if (f->where) {
        out(g, "    if (!(");
        ex(g, f->where);
        out(g, "))\n        return;\n");
    }
    block(g, s, 1);
    out(g, "}\n");
}

/* ---------------------------------------------------------------- declarations */

/* Accessors and extern functions a program uses, found by walking every function. */
struct uses {
    const struct ir_expr **x; /* X_UFIELD / X_CALLFN nodes, one per name */
    int n, cap;
};

static void uses_add(struct uses *u, const struct ir_expr *x)
{
    for (int i = 0; i < u->n; i++)
        if (u->x[i]->op == x->op && strcmp(u->x[i]->name, x->name) == 0)
            return;
    if (u->n == u->cap) {
        u->cap = u->cap ? 2 * u->cap : 16;
        u->x = realloc(u->x, (size_t)u->cap * sizeof(*u->x));
        if (u->x == NULL)
            abort();
    }
    u->x[u->n++] = x;
}

static void uses_expr(struct uses *u, const struct ir_expr *x)
{
    if (x == NULL)
        return;
    if (x->op == X_UFIELD || x->op == X_CALLFN)
        uses_add(u, x);
    for (int i = 0; i < x->na; i++)
        uses_expr(u, x->a[i]);
}

static void uses_stmts(struct uses *u, const struct ir_stmt *s)
{
    for (; s; s = s->next) {
        uses_expr(u, s->lhs);
        uses_expr(u, s->a);
        for (int i = 0; i < s->nargs; i++)
            uses_expr(u, s->args[i]);
        uses_stmts(u, s->body);
        uses_stmts(u, s->else_);
    }
}

/* std.http's C binding of its flow and record fields. */
static const struct {
    const char *name; /* accessor */
    const char *body; /* C expression over x */
} http_fields[] = {
    {"http_session_method", "g_cstr(((const struct mbx_http_tx *)x)->method)"},
    {"http_session_uri", "g_cstr(((const struct mbx_http_tx *)x)->uri)"},
    {"http_session_host", "g_cstr(((const struct mbx_http_tx *)x)->host)"},
    {"http_session_user_agent", "g_cstr(((const struct mbx_http_tx *)x)->user_agent)"},
    {"http_session_protocol", "g_cstr(((const struct mbx_http_tx *)x)->protocol)"},
    {"http_session_content_type", "g_cstr(((const struct mbx_http_tx *)x)->content_type)"},
    {"http_session_status", "(int64_t)((const struct mbx_http_tx *)x)->status"},
    {"file_info_name", "g_cstr(((const struct mbx_http_file_info *)x)->name)"},
    {"file_info_mime", "g_cstr(((const struct mbx_http_file_info *)x)->side == MBX_SERVER"
                       " ? ((const struct mbx_http_file_info *)x)->tx->content_type"
                       " : ((const struct mbx_http_file_info *)x)->tx->req_content_type)"},
    {"file_info_size", "((const struct mbx_http_file_info *)x)->size"},
    {"file_info_sha256", "g_http_sha256((const struct mbx_http_file_info *)x)"},
    {"http_session_request_body_len", "((const struct mbx_http_tx *)x)->request_body_len"},
    {"http_session_response_body_len", "((const struct mbx_http_tx *)x)->response_body_len"},
    {"file_info_gaps", "((const struct mbx_http_file_info *)x)->gaps"},
    {"file_info_state",
     "g_cstr(((const struct mbx_http_file_info *)x)->gaps ? \"gap\""
     " : ((const struct mbx_http_file_info *)x)->state == MBX_HTTP_FILE_TRUNCATED"
     " ? \"truncated\""
     " : ((const struct mbx_http_file_info *)x)->state == MBX_HTTP_FILE_OPEN ? \"open\""
     " : \"complete\")"},
};

static int http_field(const char *name)
{
    for (size_t i = 0; i < sizeof(http_fields) / sizeof(http_fields[0]); i++)
        if (strcmp(http_fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

static void decl_uses(struct cg *g)
{
    const struct ir_prog *p = g->p;
    struct uses u = {0};
    for (int i = 0; i < p->nfuncs; i++) {
        uses_stmts(&u, p->funcs[i]->body);
        uses_expr(&u, p->funcs[i]->where);
    }
    if (u.n)
        out(g, "\n/* C bindings of extern flows, records and functions */\n");
    for (int i = 0; i < u.n; i++) {
        const struct ir_expr *x = u.x[i];
        if (x->op == X_UFIELD) {
            int h = p->uses_std_http ? http_field(x->name) : -1;
            if (h < 0 && p->uses_std_http &&
                (strncmp(x->name, "http_session_", 13) == 0 ||
                 strncmp(x->name, "file_info_", 10) == 0)) {
                fprintf(stderr,
                        "mbxc: internal compiler error: std.http field %s has no C "
                        "binding in the C back end\n",
                        x->name);
                g->failed = 1;
            } else if (h >= 0)
                out(g, "static %s ux_%s(const void *x)\n{\n    return %s;\n}\n", cty(x->ty),
                    x->name, http_fields[h].body);
            else
                out(g, "%s mbx_ext_%s(const void *x);\n#define ux_%s mbx_ext_%s\n", cty(x->ty),
                    x->name, x->name, x->name);
        } else if (strcmp(x->name, "mbx_fn_sha256_hex") != 0) {
            out(g, "%s %s(", x->ty == IT_VOID ? "void" : cty(x->ty), x->name);
            for (int k = 0; k < x->na; k++)
                out(g, "%s%s", k ? ", " : "", cty(x->a[k]->ty));
            out(g, "%s);\n", x->na ? "" : "void");
        }
    }
    free(u.x);
}

static void decl_configs(struct cg *g)
{
    const struct ir_prog *p = g->p;
    if (p->nconfigs)
        out(g, "\n/* configs (--set module.key=value) */\n");
    for (int i = 0; i < p->nconfigs; i++) {
        const struct ir_config *c = &p->configs[i];
        out(g, "static %s cfg_%s_%s = ", cty(c->ty), c->module, c->name);
        if (c->init) {
            ex(g, c->init);
        } else {
            bool agg = c->ty == IT_STR || c->ty == IT_BYTES || c->ty == IT_ADDR;
            out(g, agg ? "{0}" : c->ty == IT_BOOL ? "false" : "0");
        }
        out(g, ";\n");
    }
}

static const char *cfg_type(enum ir_ty t)
{
    switch (t) {
    case IT_INT:
        return "MBX_CFG_INT";
    case IT_BOOL:
        return "MBX_CFG_BOOL";
    case IT_STR:
        return "MBX_CFG_STR";
    case IT_BYTES:
        return "MBX_CFG_BYTES";
    case IT_ADDR:
        return "MBX_CFG_IP";
    case IT_PORT:
        return "MBX_CFG_PORT";
    case IT_DURATION:
        return "MBX_CFG_DURATION";
    case IT_TIME:
        return "MBX_CFG_TIME";
    default:
        return "MBX_CFG_UINT";
    }
}

/* A pointer to a period / expire / max value: a config, or a constant of its own. */
static void value_ref(struct cg *g, const struct ir_expr *x, const char *name, const char *cty_)
{
    if (x->op == X_CONFIG) {
        const struct ir_config *c = &g->p->configs[x->index];
        out(g, "static const %s *const %s = (const %s *)(const void *)&cfg_%s_%s;\n", cty_, name,
            cty_, c->module, c->name);
        return;
    }
    out(g, "static const %s %s_v = (%s)", cty_, name, cty_);
    ex(g, x);
    out(g, ";\nstatic const %s *const %s = &%s_v;\n", cty_, name, name);
}

static void decl_state(struct cg *g)
{
    const struct ir_prog *p = g->p;
    bool any = false;
    for (int i = 0; i < p->nmodules; i++) {
        const struct ir_module *m = &p->modules[i];
        if (m->nstate == 0)
            continue;
        if (!any)
            out(g, "\n/* per-flow module state (state per ...) */\n");
        any = true;
        out(g, "struct st_%s { /* state per %s */\n    bool init;\n", m->name, m->state_per);
        for (int k = 0; k < m->nstate; k++) {
            enum ir_ty t = m->state[k].ty;
            out(g, "    %s %s;\n", t == IT_STR || t == IT_BYTES ? "struct g_sfield" : cty(t),
                m->state[k].name);
        }
        out(g, "};\n");
    }
    if (!any && p->nbits == 0)
        return;
    out(g, "struct g_flowstate {\n");
    if (p->nbits)
        out(g, "    uint64_t off; /* direct subscriptions unsubscribed on this flow */\n"
               "    uint64_t on;  /* direct subscriptions of steered modules, steered here */\n");
    for (int i = 0; i < p->nmodules; i++)
        if (p->modules[i].nstate)
            out(g, "    struct st_%s %s;\n", p->modules[i].name, p->modules[i].name);
    out(g, "};\nstatic _Thread_local int g_flow_slot = -1;\n");
    if (p->nbits)
        out(g, "static struct g_flowstate *g_fs(mbx_flow *f)\n{\n"
               "    static _Thread_local struct g_flowstate none;\n"
               "    return f ? (struct g_flowstate *)mbx_flow_ext(f, g_flow_slot) : &none;\n}\n");
    for (int i = 0; i < p->nmodules; i++) {
        const struct ir_module *m = &p->modules[i];
        if (m->nstate == 0)
            continue;
        out(g, "static struct st_%s *g_st_%s(mbx_flow *f)\n{\n", m->name, m->name);
        out(g, "    static _Thread_local struct st_%s none;\n", m->name);
        out(g, "    struct g_flowstate *fs =\n"
               "        f ? (struct g_flowstate *)mbx_flow_ext(f, g_flow_slot) : NULL;\n");
        out(g, "    struct st_%s *s = fs ? &fs->%s : &none;\n", m->name, m->name);
        out(g, "    if (!s->init) {\n        s->init = true;\n");
        g->fn = NULL;
        for (int k = 0; k < m->nstate; k++) {
            if (m->state[k].init == NULL)
                continue;
            enum ir_ty t = m->state[k].ty;
            out(g, t == IT_STR || t == IT_BYTES ? "        g_sf_set(&s->%s, " : "        s->%s = ",
                m->state[k].name);
            ex(g, m->state[k].init);
            out(g, t == IT_STR || t == IT_BYTES ? ");\n" : ";\n");
        }
        out(g, "    }\n    return s;\n}\n");
    }
}

static void decl_payloads(struct cg *g)
{
    const struct ir_prog *p = g->p;
    for (int i = 0; i < p->nevents; i++) {
        const struct ir_event *ev = p->events[i];
        bool generic_ext = ev->kind == EV_EXTERN && !p->modules[ev->ext].is_std_http;
        if (ev->kind != EV_RAISED && !generic_ext)
            continue;
        out(g, "\n/* payload of event %s (mbx_event.payload) */\nstruct evp_%s {\n", ev->name,
            ev->cname);
        for (int k = 0; k < ev->nparams; k++)
            out(g, "    %s p%d; /* %s */\n", cty(ev->ptys[k]), k, ev->pnames[k]);
        if (ev->nparams == 0)
            out(g, "    int unused;\n");
        out(g, "};\n");
    }
}

static void decl_externs(struct cg *g)
{
    const struct ir_prog *p = g->p;
    if (p->uses_std_http)
        out(g, "\nstatic _Thread_local mbx_http *g_http; /* std.http's module, attached "
               "first */\n");
    for (int i = 0; i < p->nmodules; i++) {
        const struct ir_module *m = &p->modules[i];
        if (!m->is_extern)
            continue;
        if (m->is_std_http_eve) {
            out(g,
                "\n/* extern module %s: std.http's EVE writer, switched on in http_parser's "
                "options */\n",
                m->name);
            out(g,
                "static int mbx_ext_%s_attach(mbx_engine *e, int *ids)\n{\n"
                "    (void)e;\n    (void)ids;\n    return 0;\n}\n",
                m->name);
            out(g, "static void mbx_ext_%s_detach(void)\n{\n}\n", m->name);
            continue;
        }
        if (m->is_std_av) {
            out(g,
                "\n/* extern module %s: std.av's scanner over std.http's files "
                "(mbx_av_http.h) */\n",
                m->name);
            out(g,
                "static int mbx_ext_%s_attach(mbx_engine *e, int *ids)\n{\n"
                "    return mbx_av_http_attach(e, g_http, NULL, 0, &ids[0]);\n}\n",
                m->name);
            out(g, "static void mbx_ext_%s_detach(void)\n{\n    mbx_av_http_detach();\n}\n",
                m->name);
            continue;
        }
        if (!m->is_std_http) {
            out(g, "\n/* extern module %s: its C side */\n", m->name);
            out(g, "int mbx_ext_%s_attach(mbx_engine *e, int *ids);\n", m->name);
            out(g, "void mbx_ext_%s_detach(void);\n", m->name);
            continue;
        }
        bool files = false;
        for (int s = 0; s < p->nsubs; s++) {
            const char *n = p->subs[s].event->root->name;
            if (p->subs[s].event->root->kind == EV_EXTERN &&
                (strcmp(n, "file_data") == 0 || strcmp(n, "file_seen") == 0))
                files = true;
        }
        out(g, "\n/* extern module %s: std.http's C module (mbx_http.h) */\n", m->name);
        out(g, "static int mbx_ext_%s_attach(mbx_engine *e, int *ids)\n{\n", m->name);
        out(g, "    struct mbx_http_options opts;\n");
        out(g, "    memset(&opts, 0, sizeof(opts));\n");
        out(g, "    opts.bodies = %s;\n",
            files || p->http_eve || p->uses_std_av ? "true" : "false");
        if (p->http_eve)
            out(g, "    opts.eve_http = true;\n    opts.eve_fileinfo = true;\n");
        out(g, "    g_http = mbx_http_attach(e, &opts);\n");
        out(g, "    if (g_http == NULL)\n        return -(errno ? errno : ENOMEM);\n");
        for (int k = 0; k < m->nexports; k++) {
            const char *n = m->exports[k]->name;
            const char *f = strcmp(n, "http_request") == 0    ? "mbx_http_ev_request"
                            : strcmp(n, "http_response") == 0 ? "mbx_http_ev_response"
                            : strcmp(n, "file_data") == 0     ? "mbx_http_ev_file_data"
                            : strcmp(n, "file_seen") == 0     ? "mbx_http_ev_file_seen"
                                                              : NULL;
            if (f == NULL) {
                fail(g, "an std.http event with no C binding");
                continue;
            }
            out(g, "    ids[%d] = %s(g_http);\n", k, f);
        }
        out(g, "    return 0;\n}\n");
        out(g,
            "static void mbx_ext_%s_detach(void)\n{\n    mbx_http_detach(g_http);\n"
            "    g_http = NULL;\n}\n",
            m->name);
        out(g, "G_INLINE struct mbx_str g_http_sha256(const struct mbx_http_file_info *f)\n"
               "{\n"
               "    static const char hx[] = \"0123456789abcdef\";\n"
               "    char buf[65];\n"
               "    if (!f->has_sha256)\n"
               "        return (struct mbx_str){NULL, 0};\n"
               "    for (int i = 0; i < 32; i++) {\n"
               "        buf[2 * i] = hx[f->sha256[i] >> 4];\n"
               "        buf[2 * i + 1] = hx[f->sha256[i] & 15];\n"
               "    }\n"
               "    buf[64] = 0;\n"
               "    return mbx_str_dup(g_cstr(buf));\n"
               "}\n");
    }
}

static void protos(struct cg *g)
{
    const struct ir_prog *p = g->p;
    out(g, "\n");
    for (int i = 0; i < p->nfuncs; i++) {
        const struct ir_func *f = p->funcs[i];
        if (f->kind == FN_HANDLER)
            out(g, "static void %s(const struct mbx_event *ev, void *ud);\n", f->name);
        else if (f->kind == FN_FILTER)
            out(g, "static bool %s(const struct mbx_event *ev, void *ud);\n", f->name);
        else
            out(g, "static void %s(mbx_engine *e, void *ud);\n", f->name);
    }
    for (int i = 0; i < p->nevents; i++)
        if (p->events[i]->direct && p->events[i]->kind == EV_RAISED)
            out(g,
                "G_UNUSED static void r_%s(const struct mbx_event *cur, mbx_engine *e,\n"
                "                 mbx_flow *f, enum mbx_side side, const void *payload);\n",
                p->events[i]->cname);
}

/* The subscribers of ev and of the events derived from it, in dispatch order. */
static void dispatch_tree(struct cg *g, const struct ir_event *ev, int d)
{
    const struct ir_prog *p = g->p;
    ind(g, d);
    out(g, "ev.id = g_ev[%d]; /* %s */\n", ev->slot, ev->name);
    for (int i = 0; i < p->nsubs; i++) {
        const struct ir_sub *s = &p->subs[i];
        if (s->event != ev)
            continue;
        ind(g, d);
        if (s->bit >= 0 && (s->flags & MBX_SUB_PER_FLOW))
            out(g, "if ((fs->on & ~fs->off) & (UINT64_C(1) << %d))\n", s->bit);
        else if (s->bit >= 0)
            out(g, "if (!(fs->off & (UINT64_C(1) << %d)))\n", s->bit);
        if (s->bit >= 0)
            ind(g, d + 1);
        out(g, "%s(&ev, NULL); /* %s */\n", s->fn->name, p->modules[s->module].name);
    }
    for (int i = 0; i < p->nevents; i++) {
        const struct ir_event *k = p->events[i];
        if (k->kind != EV_DERIVED || k->base != ev)
            continue;
        ind(g, d);
        if (k->filter) {
            out(g, "ev.id = g_ev[%d];\n", k->slot);
            ind(g, d);
            out(g, "if (%s(&ev, NULL)) {\n", k->filter->name);
        } else {
            out(g, "{\n");
        }
        dispatch_tree(g, k, d + 1);
        ind(g, d);
        out(g, "}\n");
    }
}

static void dispatchers(struct cg *g)
{
    const struct ir_prog *p = g->p;
    for (int i = 0; i < p->nevents; i++) {
        const struct ir_event *ev = p->events[i];
        if (!ev->direct || ev->kind != EV_RAISED)
            continue;
        out(g, "\n/* raise %s: its subscribers are known, so they are called directly */\n",
            ev->name);
        out(g,
            "static void r_%s(const struct mbx_event *cur, mbx_engine *e, mbx_flow *f,\n"
            "                 enum mbx_side side, const void *payload)\n{\n",
            ev->cname);
        out(g, "    struct mbx_event ev;\n    memset(&ev, 0, sizeof(ev));\n");
        out(g, "    ev.engine = e;\n    ev.flow = f;\n    ev.pkt = cur ? cur->pkt : NULL;\n"
               "    ev.side = side;\n    ev.payload = payload;\n");
        if (p->nbits)
            out(g, "    const struct g_flowstate *fs = g_fs(f);\n    (void)fs;\n");
        dispatch_tree(g, ev, 1);
        out(g, "}\n");
    }
}

/* Whether some runtime subscriber of ev is turned on or off per flow. */
static bool sub_event_controlled(const struct ir_prog *p, const struct ir_event *ev)
{
    for (int i = 0; i < p->nsubs; i++)
        if (p->subs[i].event == ev && !p->subs[i].direct &&
            (p->subs[i].fn->unsub || (p->subs[i].flags & MBX_SUB_PER_FLOW)))
            return true;
    return false;
}

static void registration(struct cg *g)
{
    const struct ir_prog *p = g->p;
    out(g, "\n/* ---- the static registration table (mbx.h section 13) ---- */\n");
    out(g, "static const struct mbx_prog_module g_modules[] = {\n");
    for (int i = 0; i < p->nmodules; i++)
        out(g, "    {\"%s\", %s, %u},\n", p->modules[i].name,
            p->modules[i].is_extern ? "true" : "false", p->modules[i].reads);
    out(g, "};\n");
    if (p->nconfigs) {
        out(g, "static const struct mbx_prog_config g_configs[] = {\n");
        for (int i = 0; i < p->nconfigs; i++) {
            const struct ir_config *c = &p->configs[i];
            out(g, "    {\"%s\", \"%s\", %s, &cfg_%s_%s},\n", c->module, c->name, cfg_type(c->ty),
                c->module, c->name);
        }
        out(g, "};\n");
    }
    g->fn = NULL;
    for (int i = 0; i < p->ntables; i++) {
        const struct ir_table *t = p->tables[i];
        char nm[256];
        if (t->expire) {
            snprintf(nm, sizeof(nm), "g_expire_%d", i);
            value_ref(g, t->expire, nm, "mbx_time");
        }
        if (t->max) {
            snprintf(nm, sizeof(nm), "g_max_%d", i);
            value_ref(g, t->max, nm, "uint64_t");
        }
    }
    if (p->ntables) {
        out(g, "static const struct mbx_prog_table g_tables[] = {\n");
        for (int i = 0; i < p->ntables; i++) {
            const struct ir_table *t = p->tables[i];
            out(g, "    {NULL, {\"%s.%s\", %s, %s, %s, 0, 0}, ", t->module, t->name, tkind(t->key),
                t->val_is_set ? "MBX_TK_SET" : tkind(t->val),
                t->val_is_set ? tkind(t->elem) : "MBX_TK_NONE");
            if (t->expire)
                out(g, "g_expire_%d, ", i);
            else
                out(g, "NULL, ");
            if (t->max)
                out(g, "g_max_%d},\n", i);
            else
                out(g, "NULL},\n");
        }
        out(g, "};\n");
    }
    int next = 0;
    for (int i = 0; i < p->nmodules; i++) {
        const struct ir_module *m = &p->modules[i];
        if (!m->is_extern)
            continue;
        next++;
        if (m->nexports == 0)
            continue;
        out(g, "static const int g_slots_%s[] = {", m->name);
        for (int k = 0; k < m->nexports; k++)
            out(g, "%s%d", k ? ", " : "", m->exports[k]->slot);
        out(g, "};\n");
    }
    if (next) {
        /* std.http's parser first: std.av's scanner attaches to it */
        out(g, "static const struct mbx_prog_extern g_externs[] = {\n");
        for (int j = 0; j < 2 * p->nmodules; j++) {
            const struct ir_module *m = &p->modules[j % p->nmodules];
            if (!m->is_extern || m->is_std_http != (j < p->nmodules))
                continue;
            out(g, "    {\"%s\", mbx_ext_%s_attach, mbx_ext_%s_detach, ", m->name, m->name,
                m->name);
            if (m->nexports)
                out(g, "g_slots_%s, %d},\n", m->name, m->nexports);
            else
                out(g, "NULL, 0},\n");
        }
        out(g, "};\n");
    }
    int nev = 0;
    for (int i = 0; i < p->nevents; i++)
        if (p->events[i]->kind == EV_RAISED || p->events[i]->kind == EV_DERIVED)
            nev++;
    if (nev) {
        out(g, "static const struct mbx_prog_event g_events[] = {\n");
        for (int i = 0; i < p->nevents; i++) {
            const struct ir_event *ev = p->events[i];
            if (ev->kind == EV_RAISED)
                out(g, "    {\"%s\", %d, -1, NULL},\n", ev->name, ev->slot);
            else if (ev->kind == EV_DERIVED)
                out(g, "    {\"%s\", %d, %d, %s},\n", ev->name, ev->slot, ev->base->slot,
                    ev->filter ? ev->filter->name : "NULL");
        }
        out(g, "};\n");
    }
    int nrt = 0; /* subscriptions the runtime dispatches */
    for (int i = 0; i < p->nsubs; i++)
        nrt += !p->subs[i].direct;
    if (nrt) {
        /* The runtime turns subscriptions on and off per flow only below id 64: the
         * subscriptions of events that have such a subscriber (unsubscribe, steer
         * target) are registered first; each event keeps its subscribers' order. */
        out(g, "static const struct mbx_prog_sub g_subs[] = {\n");
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < p->nsubs; i++) {
                const struct ir_sub *s = &p->subs[i];
                if (s->direct || sub_event_controlled(p, s->event) != (pass == 0))
                    continue;
                out(g, "    {%d, %d, %s, 0x%x, NULL}, /* %s: %s */\n", s->module, s->event->slot,
                    s->fn->name, s->flags, p->modules[s->module].name, s->event->name);
            }
        out(g, "};\n");
    }
    for (int i = 0; i < p->ntimers; i++) {
        char nm[64];
        snprintf(nm, sizeof(nm), "g_period_%d", i);
        value_ref(g, p->timers[i].period, nm, "mbx_time");
    }
    if (p->ntimers) {
        out(g, "static const struct mbx_prog_timer g_timers[] = {\n");
        for (int i = 0; i < p->ntimers; i++)
            out(g, "    {%d, g_period_%d, %s},\n", p->timers[i].module, i, p->timers[i].fn->name);
        out(g, "};\n");
    }
    bool state = p->nbits > 0;
    for (int i = 0; i < p->nmodules; i++)
        state |= p->modules[i].nstate > 0;
    /* the thread-local variables, for each worker (mbx_program.worker_vars) */
    out(g, "static void g_vars(void **v)\n{\n    v[0] = g_ev;\n");
    if (state)
        out(g, "    v[1] = &g_flow_slot;\n");
    for (int i = 0; i < p->ntables; i++)
        out(g, "    v[%d] = &tb_%s_%s;\n", 2 + i, p->tables[i]->module, p->tables[i]->name);
    int k = 2 + p->ntables;
    for (int pass = 0; pass < 2; pass++) /* g_subs' order */
        for (int i = 0; i < p->nsubs; i++) {
            const struct ir_sub *s = &p->subs[i];
            if (s->direct || sub_event_controlled(p, s->event) != (pass == 0))
                continue;
            out(g, "    v[%d] = &g_sub[%d];\n", k++, i);
        }
    out(g, "}\n");
    out(g, "static const struct mbx_program g_prog = {\n");
    out(g, "    .name = \"%s\",\n", p->name);
    out(g, "    .modules = g_modules,\n    .nmodules = %d,\n", p->nmodules);
    if (p->nconfigs)
        out(g, "    .configs = g_configs,\n    .nconfigs = %d,\n", p->nconfigs);
    if (p->ntables)
        out(g, "    .tables = g_tables,\n    .ntables = %d,\n", p->ntables);
    if (next)
        out(g, "    .externs = g_externs,\n    .nexterns = %d,\n", next);
    if (nev)
        out(g, "    .events = g_events,\n    .nevents = %d,\n", nev);
    if (nrt)
        out(g, "    .subs = g_subs,\n    .nsubs = %d,\n", nrt);
    if (p->ntimers)
        out(g, "    .timers = g_timers,\n    .ntimers = %d,\n", p->ntimers);
    out(g, "    .nslots = %d,\n", p->nslots);
    if (state)
        out(g, "    .flow_state = sizeof(struct g_flowstate),\n");
    out(g, "    .worker_vars = g_vars,\n");
    out(g, "};\n\nint main(int argc, char **argv)\n{\n");
    out(g, "    return mbx_main(argc, argv, &g_prog);\n}\n");
}

static int cgc_emit(const struct ir_prog *p, FILE *o)
{
    struct cg g = {.p = p, .o = o};
    out(&g, "/* Generated by mbxc %s from %s (pipeline %s). Do not edit. */\n", MBXC_VERSION,
        p->source ? p->source : "?", p->name);
    out(&g, "#include <errno.h>\n#include <stdbool.h>\n#include <stdint.h>\n#include <string.h>\n\n"
            "#include \"mbx.h\"\n");
    if (p->uses_std_http)
        out(&g, "#include \"mbx_http.h\"\n");
    if (p->uses_std_av)
        out(&g, "#include \"mbx_av_http.h\"\n");
    out(&g, "#include \"mbx_gen.h\"\n\n");
    if (p->new_bytes && !p->stream_hist)
        out(&g,
            "/* new_bytes() where no stream method reads past bytes: what a tcp.data\n"
            " * handler reads is consumed, so that the runtime does not hold it (it\n"
            " * keeps up to 8 MiB of a stream nobody consumes, against stream_mem) */\n"
            "G_INLINE struct mbx_str g_stream_take(const struct mbx_event *ev, struct g_endp p)\n"
            "{\n"
            "    struct mbx_str r = mbx_gen_new_bytes(ev, p.f, p.side);\n"
            "    mbx_stream *s = r.n && ev->id == MBX_EV_TCP_DATA\n"
            "                        ? mbx_flow_stream(p.f, (enum mbx_side)p.side) : NULL;\n"
            "    if (s)\n"
            "        mbx_stream_consume(s, (size_t)(mbx_stream_end_off(s) - "
            "mbx_stream_read_off(s)));\n"
            "    return r;\n"
            "}\n");
    decl_configs(&g);
    if (p->ntables) {
        out(&g, "\n/* tables (made at start from g_tables, one per worker thread) */\n");
        for (int i = 0; i < p->ntables; i++)
            out(&g, "static _Thread_local mbx_table *tb_%s_%s;\n", p->tables[i]->module,
                p->tables[i]->name);
    }
    decl_state(&g);
    decl_payloads(&g);
    decl_externs(&g);
    decl_uses(&g);
    out(&g, "\nstatic _Thread_local int g_ev[%d];\n", p->nslots);
    if (p->nsubs)
        out(&g, "static _Thread_local int g_sub[%d];\n", p->nsubs);
    protos(&g);
    for (int i = 0; i < p->nfuncs; i++)
        func(&g, p->funcs[i]);
    dispatchers(&g);
    registration(&g);
    return g.failed ? -1 : 0;
}

const struct backend cgc_backend = {"c", ".c", cgc_emit};

const struct backend *backend_find(const char *name)
{
    if (name == NULL || strcmp(name, "c") == 0)
        return &cgc_backend;
    return NULL;
}
