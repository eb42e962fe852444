/*
 * test_cgl.c - the LLVM back end (compiler/cgl.c) on IR it cannot translate.
 *
 * No program the front end accepts reaches an IR form cgl.c has no
 * translation for, so these tests lower a real program (front end + lower.c)
 * and then damage its IR the way a newer lowering might: an operation or a
 * statement kind cgl.c does not know, a constant or a local of a type with no
 * LLVM form, operands of types that do not fit the operation.  Each time emit must return -1 after
 * one message naming the construct ("the LLVM back end does not support ..."), write nothing, and
 * not crash; the undamaged program must give a module with main().  Writing an object file into a
 * missing directory must fail with a message, too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend.h"
#include "front.h"

static const char prog[] = "module m {\n"
                           "    import tcp;\n"
                           "    on tcp.open(c) where c.server.port == 80 {\n"
                           "        log(\"open\", n = 5, who = c.client.ip);\n"
                           "    }\n"
                           "}\n"
                           "pipeline p { m; }\n";

struct fx {
    struct mbxc mc;
    struct ir_prog *p;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    mbxc_init(&f->mc, stderr);
    mbxc_add_default_paths(&f->mc);
    assert_int_equal(parse_prelude(&f->mc), 0);
    parse_text(&f->mc, "t.mbx", "t.mbx", prog, strlen(prog), true);
    parse_uses(&f->mc);
    assert_int_equal(mbxc_check(&f->mc), 0);
    f->p = lower_program(&f->mc);
    assert_non_null(f->p);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    mbxc_fini(&f->mc);
    free(f);
    return 0;
}

/* The first handler's log statement (log("open", n = 5, ...)). */
static struct ir_stmt *the_log(struct ir_prog *p)
{
    for (int i = 0; i < p->nfuncs; i++)
        for (struct ir_stmt *s = p->funcs[i]->body; s; s = s->next)
            if (s->op == Y_LOG)
                return s;
    fail_msg("no log statement in the lowered program");
    return NULL;
}

/* Emit p; the return value, with what went to the output and to stderr. */
static int emit(const struct ir_prog *p, char **out, char **err)
{
    size_t on = 0, en = 0;
    FILE *o = open_memstream(out, &on);
    assert_non_null(o);
    fflush(stderr);
    char path[] = "/tmp/test_cgl.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    int saved = dup(2);
    dup2(fd, 2);
    int rc = cgl_backend.emit(p, o);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(o);
    FILE *e = fopen(path, "r");
    assert_non_null(e);
    *err = calloc(1, 4096);
    assert_non_null(*err);
    en = fread(*err, 1, 4095, e);
    (void)en;
    fclose(e);
    close(fd);
    unlink(path);
    return rc;
}

static void expect_refusal(const struct ir_prog *p, const char *what)
{
    char *out = NULL, *err = NULL;
    assert_int_equal(emit(p, &out, &err), -1);
    assert_string_equal(out, ""); /* no partial module */
    assert_non_null(strstr(err, "the LLVM back end does not support"));
    assert_non_null(strstr(err, what));
    const char *nl = strchr(err, '\n');
    assert_non_null(nl);
    assert_int_equal(nl[1], '\0'); /* exactly one line */
    free(out);
    free(err);
}

static void test_valid(void **state)
{
    struct fx *f = *state;
    char *out = NULL, *err = NULL;
    assert_int_equal(emit(f->p, &out, &err), 0);
    assert_non_null(strstr(out, "define i32 @main("));
    assert_non_null(strstr(out, "call void @mbx_out_int("));
    assert_string_equal(err, "");
    free(out);
    free(err);
}

static void test_constant_type(void **state)
{
    struct fx *f = *state;
    struct ir_stmt *s = the_log(f->p);
    assert_true(s->nargs >= 1 && s->args[0]->op == X_CONST);
    s->args[0]->ty = IT_PKT; /* a packet constant has no form */
    expect_refusal(f->p, "a constant of this type");
}

static void test_expression(void **state)
{
    struct fx *f = *state;
    struct ir_stmt *s = the_log(f->p);
    s->args[0]->op = (enum ir_op)99;
    expect_refusal(f->p, "this expression");
}

static void test_statement(void **state)
{
    struct fx *f = *state;
    the_log(f->p)->op = (enum ir_sop)99;
    expect_refusal(f->p, "this statement");
}

static void test_mixed_comparison(void **state)
{
    struct fx *f = *state;
    struct ir_expr *w = NULL;
    for (int i = 0; i < f->p->nfuncs && !w; i++)
        w = f->p->funcs[i]->where;
    assert_non_null(w); /* c.server.port == 80 */
    assert_true(w->op == X_BINARY && w->a[1]->op == X_CONST);
    w->a[1]->ty = IT_BOOL; /* port == true: no such comparison */
    expect_refusal(f->p, "a comparison of mixed types");
}

static void test_message_type(void **state)
{
    struct fx *f = *state;
    struct ir_stmt *s = the_log(f->p);
    s->a = s->args[0]; /* the message becomes the int 5 */
    expect_refusal(f->p, "a str or endpoint operation on a value of another type");
}

static void test_local(void **state)
{
    struct fx *f = *state;
    struct ir_func *fn = NULL;
    for (int i = 0; i < f->p->nfuncs && !fn; i++)
        if (f->p->funcs[i]->nlocals > 0)
            fn = f->p->funcs[i];
    assert_non_null(fn);
    fn->locals[0].ty = IT_VOID;
    expect_refusal(f->p, "a local of this type");
}

static void test_object_path(void **state)
{
    struct fx *f = *state;
    fflush(stderr);
    int saved = dup(2);
    FILE *null = fopen("/dev/null", "w");
    assert_non_null(null);
    dup2(fileno(null), 2);
    int rc = cgl_emit_object(f->p, "/nonexistent-dir/x/program.o");
    dup2(saved, 2);
    close(saved);
    fclose(null);
    assert_int_equal(rc, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_constant_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expression, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mixed_comparison, setup, teardown),
        cmocka_unit_test_setup_teardown(test_message_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_path, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
