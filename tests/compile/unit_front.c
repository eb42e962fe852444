/*
 * unit_front.c - cmocka tests of the front end through its API (front.h):
 * what a back end relies on after a clean check.
 *   - literals decode to the values LANGUAGE.md §1/§8 define (10s = 10^10 ns,
 *     64KiB = 65,536 bytes; addresses as inet_pton(3) reads RFC 4291 text),
 *   - after typecheck every expression of every body has a type, none TY_ERROR,
 *   - handlers know their event and bindings (by position, `_` unbound),
 *   - the pipeline graph of LANGUAGE.md §6's guard program has the members,
 *     the pulled-in exporter and the four links the text describes,
 *   - analyse marks the reader of tcp.rexmit (LANGUAGE.md §8 "Streams").
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "front.h"

#ifndef MBX_SOURCE_DIR
#error "MBX_SOURCE_DIR must be defined"
#endif

static FILE *devnull;

/* Check `src` (a main file) with the source tree's stdlib; NULL graph if none. */
static int check_text(struct mbxc *mc, const char *src)
{
    mbxc_init(mc, devnull);
    mc->stdlib_dirs[0] = mc->stdlib_dirs[1] = MBX_SOURCE_DIR "/stdlib";
    mbxc_add_default_paths(mc);
    assert_int_equal(parse_prelude(mc), 0);
    parse_text(mc, "t.mbx", "t.mbx", src, strlen(src), true);
    parse_uses(mc);
    return mbxc_check(mc);
}

static struct ast_decl *find(struct mbxc *mc, enum decl_kind k, const char *name)
{
    for (struct unit *u = mc->units; u; u = u->next)
        for (struct ast_decl *d = u->decls; d; d = d->next)
            if (d->kind == k && strcmp(d->name, name) == 0)
                return d;
    return NULL;
}

static struct ast_item *config(struct ast_decl *m, const char *name)
{
    for (struct ast_item *it = m->u.mod.items; it; it = it->next)
        if (it->kind == I_CONFIG && strcmp(it->u.config.name, name) == 0)
            return it;
    return NULL;
}

static void test_literals(void **state)
{
    (void)state;
    struct mbxc mc;
    int errors = check_text(&mc, "module m {\n"
                                 "    import tcp;\n"
                                 "    config d1: duration = 10s;\n"
                                 "    config d2: duration = 500ms;\n"
                                 "    config d3: duration = 1h;\n"
                                 "    config s1: uint = 64KiB;\n"
                                 "    config s2: uint = 1MiB;\n"
                                 "    config h: int = 0x2a;\n"
                                 "    config a6: ip = 2001:db8::1;\n"
                                 "    config a4: ip = 10.0.0.1;\n"
                                 "    config p6: prefix = 2001:db8::/32;\n"
                                 "    config str: str = \"GET \\r\\n\\x41\";\n"
                                 "    on tcp.syn(c) { }\n"
                                 "}\n");
    assert_int_equal(errors, 0);
    struct ast_decl *m = find(&mc, D_MODULE, "m");
    assert_non_null(m);
    assert_int_equal(config(m, "d1")->u.config.init->u.i, UINT64_C(10000000000));
    assert_int_equal(config(m, "d2")->u.config.init->u.i, UINT64_C(500000000));
    assert_int_equal(config(m, "d3")->u.config.init->u.i, UINT64_C(3600000000000));
    assert_int_equal(config(m, "s1")->u.config.init->u.i, 65536);
    assert_int_equal(config(m, "s2")->u.config.init->u.i, 1048576);
    assert_int_equal(config(m, "h")->u.config.init->u.i, 42);
    assert_int_equal(config(m, "h")->u.config.init->type->kind, TY_INT);
    uint8_t want6[16], want4[4];
    assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", want6), 1);
    assert_int_equal(inet_pton(AF_INET, "10.0.0.1", want4), 1);
    assert_memory_equal(config(m, "a6")->u.config.init->u.ip.a, want6, 16);
    assert_memory_equal(config(m, "a4")->u.config.init->u.ip.a, want4, 4);
    assert_int_equal(config(m, "p6")->u.config.init->u.ip.plen, 32);
    struct ast_expr *s = config(m, "str")->u.config.init;
    assert_int_equal(s->u.str.n, 7);
    assert_memory_equal(s->u.str.s, "GET \r\nA", 7);
    mbxc_fini(&mc);
}

static int untyped;

static void walk_expr(const struct ast_expr *e)
{
    if (!e)
        return;
    if (!e->type || e->type->kind == TY_ERROR)
        untyped++;
    switch (e->kind) {
    case E_FIELD:
        walk_expr(e->u.field.obj);
        break;
    case E_INDEX:
        walk_expr(e->u.index.obj);
        walk_expr(e->u.index.idx);
        break;
    case E_SLICE:
        walk_expr(e->u.slice.obj);
        walk_expr(e->u.slice.lo);
        walk_expr(e->u.slice.hi);
        break;
    case E_CALL:
        for (const struct ast_expr *a = e->u.call.args; a; a = a->next_arg)
            walk_expr(a);
        break;
    case E_UNARY:
        walk_expr(e->u.un.a);
        break;
    case E_BINARY:
        walk_expr(e->u.bin.a);
        walk_expr(e->u.bin.b);
        break;
    case E_AS:
        walk_expr(e->u.as.a);
        break;
    default:
        break;
    }
}

static void walk_stmts(const struct ast_stmt *s)
{
    for (; s; s = s->next) {
        switch (s->kind) {
        case S_LET:
            walk_expr(s->u.let.init);
            break;
        case S_ASSIGN:
            walk_expr(s->u.assign.lhs);
            walk_expr(s->u.assign.rhs);
            break;
        case S_EXPR:
            walk_expr(s->u.expr);
            break;
        case S_IF:
            walk_expr(s->u.if_.cond);
            walk_stmts(s->u.if_.then_);
            walk_stmts(s->u.if_.else_);
            break;
        case S_FOR:
            walk_expr(s->u.for_.iter);
            walk_stmts(s->u.for_.body);
            break;
        case S_ALERT:
        case S_LOG:
            walk_expr(s->u.out.name);
            for (const struct ast_arg *a = s->u.out.args; a; a = a->next)
                walk_expr(a->value);
            break;
        case S_RAISE:
            for (const struct ast_expr *a = s->u.raise.args; a; a = a->next_arg)
                walk_expr(a);
            break;
        default:
            break;
        }
    }
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

static void test_every_expression_typed(void **state)
{
    (void)state;
    const char *files[] = {"guard.mbx", "statements.mbx", "expressions.mbx", "tables.mbx",
                           "literals.mbx", "derived_events.mbx"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/tests/compile/pass/%s", MBX_SOURCE_DIR, files[i]);
        struct mbxc mc;
        assert_int_equal(check_text(&mc, slurp(path)), 0);
        untyped = 0;
        for (struct unit *u = mc.units; u; u = u->next)
            for (struct ast_decl *d = u->decls; d; d = d->next) {
                if (d->kind == D_EVENT)
                    walk_expr(d->u.ev.filter);
                if (d->kind != D_MODULE)
                    continue;
                for (struct ast_item *it = d->u.mod.items; it; it = it->next) {
                    if (it->kind == I_ON) {
                        walk_expr(it->u.on.where);
                        walk_stmts(it->u.on.body);
                    } else if (it->kind == I_EVERY) {
                        walk_expr(it->u.every.period);
                        walk_stmts(it->u.every.body);
                    }
                }
            }
        if (untyped)
            fail_msg("%s: %d expressions without a type", files[i], untyped);
        mbxc_fini(&mc);
    }
}

static void test_guard_graph(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/tests/compile/pass/guard.mbx", MBX_SOURCE_DIR);
    struct mbxc mc;
    assert_int_equal(check_text(&mc, slurp(path)), 0);
    struct link_graph *g = mc.graph;
    assert_non_null(g);
    /* LANGUAGE.md §6: three members; `web_firewall` alone pulls in http_parser */
    assert_int_equal(g->nnodes, 4);
    assert_string_equal(g->nodes[0]->module->name, "portscan");
    assert_string_equal(g->nodes[1]->module->name, "web_firewall");
    assert_string_equal(g->nodes[2]->module->name, "rexmit_guard");
    assert_string_equal(g->nodes[3]->module->name, "http_parser");
    assert_true(g->nodes[3]->pulled);
    assert_false(g->nodes[0]->pulled);
    /* the runtime exports tcp to three importers; http_parser feeds web_firewall */
    assert_int_equal(g->nedges, 4);
    int runtime_tcp = 0, explicit_http = 0;
    for (int i = 0; i < g->nedges; i++) {
        struct link_edge *e = &g->edges[i];
        if (!e->from && e->type == mc.prelude_tcp)
            runtime_tcp++;
        if (e->from == g->nodes[3] && e->to == g->nodes[1] && e->explicit_ &&
            strcmp(e->type->name, "http_session") == 0)
            explicit_http++;
    }
    assert_int_equal(runtime_tcp, 3);
    assert_int_equal(explicit_http, 1);
    /* handlers know their events and bindings */
    struct ast_decl *rg = g->nodes[2]->module;
    struct ast_item *on = NULL;
    for (struct ast_item *it = rg->u.mod.items; it; it = it->next)
        if (it->kind == I_ON)
            on = it;
    assert_non_null(on);
    assert_string_equal(on->u.on.event->name, "tcp.rexmit");
    assert_int_equal(on->u.on.nparams, 3);
    assert_int_equal(on->u.on.binds[2]->index, 2);
    assert_int_equal(on->u.on.binds[2]->type->kind, TY_BOOL);
    assert_int_equal(on->u.on.where->kind, E_NAME);
    assert_ptr_equal(on->u.on.where->u.name.sym, on->u.on.binds[2]);
    /* analyse: a subscriber of tcp.rexmit reads both streams */
    assert_true(rg->u.mod.rexmit);
    assert_int_equal(rg->u.mod.reads, 3);
    assert_int_equal(g->nodes[0]->module->u.mod.reads, 0);
    /* derived events: root, owner, packet */
    struct ast_decl *slow = find(&mc, D_EVENT, "slow_get");
    assert_non_null(slow);
    assert_string_equal(slow->u.ev.root->name, "tcp.data");
    assert_ptr_equal(slow->u.ev.owner_flow, mc.prelude_tcp);
    assert_true(slow->u.ev.carries_packet);
    mbxc_fini(&mc);
}

static void test_errors_counted(void **state)
{
    (void)state;
    struct mbxc mc;
    /* one mistake, one error (the cascade rule) */
    assert_int_equal(check_text(&mc, "module m {\n    import tcp;\n    on tcp.syn(c) {\n"
                                     "        let x = nosuch + 1;\n        let y = x * 2;\n"
                                     "        if y > x { log(\"a\", x = x); }\n    }\n}\n"),
                     1);
    mbxc_fini(&mc);
}

int main(void)
{
    devnull = fopen("/dev/null", "w");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_every_expression_typed),
        cmocka_unit_test(test_guard_graph),
        cmocka_unit_test(test_errors_counted),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fclose(devnull);
    return rc;
}
