/*
 * parse.h - what the lexer (grammar/mbx.l) and the parser (grammar/mbx.y)
 * share with the rest of the front end: the per-file parse context and the
 * AST builders the grammar actions call.
 */
#ifndef MBXC_PARSE_H
#define MBXC_PARSE_H

#include "front.h"

struct parse_ctx {
    struct mbxc *mc;          /* the compilation */
    struct unit *unit;        /* the unit being parsed */
    int file;                 /* its diag file index */
    int line, col;            /* lexer position */
    struct loc prev;          /* range of the token before the lookahead */
    struct loc cur;           /* range of the lookahead token */
    struct loc comment_start; /* where an open block comment began */
    void *scanner;            /* the flex scanner */
    int syntax_errors;        /* reported so far in this file */
    int ntok;                 /* tokens handed to the parser so far */
    const char *last_ident;   /* text of the last name token, for hints */
    int lex_err_tok;          /* ntok when the lexer last reported an error, or -9 */
};

struct diag_msg *parse_lex_error(struct parse_ctx *ctx, struct loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *parse_intern(struct parse_ctx *ctx, const char *s, size_t n);
/* `table t: T max N;` - the only option word is `max`. */
void parse_table_option(struct parse_ctx *ctx, const char *word, struct loc loc);

/* AST builders (ast.c): the grammar's actions only call these. */
struct ast_name *ast_name_new(struct mbxc *mc, const char *name, struct loc loc);
struct ast_name *ast_name_append(struct ast_name *list, struct ast_name *n);
struct ast_type *ast_type_new(struct mbxc *mc, const char *name, struct loc loc,
                              struct ast_type *args);
struct ast_type *ast_type_append(struct ast_type *list, struct ast_type *t);
struct ast_field *ast_fields_new(struct mbxc *mc, struct ast_name *names, struct ast_type *tyx,
                                 struct ast_expr *init);
struct ast_field *ast_field_append(struct ast_field *list, struct ast_field *f);
struct ast_expr *ast_expr_new(struct mbxc *mc, enum expr_kind k, struct loc loc);
struct ast_expr *ast_int(struct mbxc *mc, uint64_t v, struct loc loc, const struct type *t);
struct ast_expr *ast_str(struct mbxc *mc, enum expr_kind k, const char *s, size_t n,
                         struct loc loc);
struct ast_expr *ast_unary(struct mbxc *mc, enum expr_op op, struct ast_expr *a, struct loc loc);
struct ast_expr *ast_binary(struct mbxc *mc, enum expr_op op, struct ast_expr *a,
                            struct ast_expr *b, struct loc op_loc);
struct ast_expr *ast_field_expr(struct mbxc *mc, struct ast_expr *obj, const char *name,
                                struct loc name_loc);
struct ast_expr *ast_call(struct mbxc *mc, struct ast_expr *callee, struct ast_expr *args,
                          struct loc loc);
struct ast_expr *ast_index(struct mbxc *mc, enum expr_kind k, struct ast_expr *obj,
                           struct ast_expr *a, struct ast_expr *b, struct loc loc);
struct ast_expr *ast_as(struct mbxc *mc, struct ast_expr *a, struct ast_type *tyx, struct loc loc);
struct ast_expr *ast_arg_append(struct ast_expr *list, struct ast_expr *e);
struct ast_stmt *ast_stmt_new(struct mbxc *mc, enum stmt_kind k, struct loc loc);
struct ast_stmt *ast_stmt_prepend(struct ast_stmt *rev, struct ast_stmt *s);
struct ast_stmt *ast_stmt_reverse(struct ast_stmt *rev);
struct ast_arg *ast_kv_append(struct mbxc *mc, struct ast_arg *list, const char *key,
                              struct loc key_loc, struct ast_expr *value);
struct ast_item *ast_item_new(struct mbxc *mc, enum item_kind k, struct loc loc);
struct ast_item *ast_item_prepend(struct ast_item *rev, struct ast_item *it);
struct ast_item *ast_item_reverse(struct ast_item *rev);
struct ast_decl *ast_decl_new(struct parse_ctx *ctx, enum decl_kind k, const char *name,
                              struct loc loc);
struct ast_decl *ast_decl_prepend(struct ast_decl *rev, struct ast_decl *d);
struct ast_decl *ast_decl_reverse(struct ast_decl *rev);
const char *ast_dotted(struct mbxc *mc, struct ast_name *path);
struct ast_pitem *ast_pitem_new(struct mbxc *mc, enum pitem_kind k, struct loc loc);
struct ast_pitem *ast_pitem_prepend(struct ast_pitem *rev, struct ast_pitem *p);
struct ast_pitem *ast_pitem_reverse(struct ast_pitem *rev);

#endif
