/*
 * mbx.y - the mbx grammar (pure bison parser with locations).
 *
 * LANGUAGE.md §1-§8 in LALR(1) form, with %expect 0.  Actions only call the
 * AST builders of parse.h; lists are built in reverse by left recursion (so
 * the parser stack stays flat on 50,000-line programs) and reversed once when
 * they close.  Syntax errors go through yyreport_syntax_error() below, which
 * says in words what was expected and after what ("expected ';' after the
 * import list"), and error productions resynchronise at ';' and '}' so that
 * one mistake gives one message.
 */
%define api.pure full
%define api.prefix {mbx_yy}
%define api.location.type {struct loc}
%define parse.error custom
%locations
%expect 0
%param {void *scanner}
%parse-param {struct parse_ctx *ctx}

%code requires {
#include "parse.h"
}

%code provides {
int mbx_yylex(MBX_YYSTYPE *lval, struct loc *lloc, void *scanner);
int mbx_yyparse(void *scanner, struct parse_ctx *ctx);
}

%code {
#include <stdio.h>
#include <string.h>
#define MC (ctx->mc)
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                                           \
    do {                                                                                      \
        if (N) {                                                                              \
            (Cur) = YYRHSLOC(Rhs, 1);                                                         \
            (Cur).last_line = YYRHSLOC(Rhs, N).last_line;                                     \
            (Cur).last_column = YYRHSLOC(Rhs, N).last_column;                                 \
        } else {                                                                              \
            (Cur) = YYRHSLOC(Rhs, 0);                                                         \
            (Cur).first_line = (Cur).last_line;                                               \
            (Cur).first_column = (Cur).last_column + 1;                                       \
        }                                                                                     \
    } while (0)
static void mbx_yyerror(struct loc *loc, void *scanner, struct parse_ctx *ctx, const char *msg);
static int lex_next(MBX_YYSTYPE *lval, struct loc *lloc, void *scanner, struct parse_ctx *ctx);
#define mbx_yylex(lval, lloc, scanner) lex_next(lval, lloc, scanner, ctx)
}

%union {
    struct { const char *s; size_t n; } str;
    uint64_t u;
    struct { uint8_t a[16]; int v6; int plen; } ip;
    struct ast_expr *expr;
    struct ast_stmt *stmt;
    struct ast_decl *decl;
    struct ast_item *item;
    struct ast_name *name;
    struct ast_type *type;
    struct ast_field *field;
    struct ast_arg *arg;
    struct ast_pitem *pitem;
}

%token <str> IDENT "name" STRING "string literal" BYTES "bytes literal"
%token <u> INT "integer literal" DURATION "duration literal" SIZE "size literal"
%token <ip> IPADDR "address literal" PREFIX "prefix literal"
%token USE "use" FLOW "flow" RECORD "record" EVENT "event" MODULE "module" EXTERN "extern"
%token IMPORT "import" EXPORT "export" CONFIG "config" TABLE "table" STATE "state" PER "per"
%token ON "on" WHERE "where" LET "let" IF "if" ELSE "else" FOR "for" IN "in"
%token RETURN "return" RAISE "raise" ALERT "alert" LOG "log" DROP "drop" STEER "steer"
%token UNSUBSCRIBE "unsubscribe" PIPELINE "pipeline" EVERY "every" OVER "over"
%token EXPIRE "expire" AS "as" TRUE "true" FALSE "false" AND "and" OR "or" NOT "not"
%token FN "fn" CLIENT "client" SERVER "server" PACKET "packet"
%token EQ "==" NE "!=" LE "<=" GE ">=" SHL "<<" SHR ">>" ARROW "->" PLUSEQ "+=" MINUSEQ "-="

%type <decl> decl decls
%type <name> dotted namelist fnames bindnames bindnames_opt
%type <str> fname tname
%type <type> type tlist tlist_o topen ret_opt
%type <field> field fields params params_opt
%type <item> item items
%type <stmt> stmt stmts block else_opt if_stmt
%type <expr> expr postfix primary args args_opt where_opt expr_opt
%type <arg> kvargs
%type <pitem> pitem pitems

%left OR
%left AND
%precedence NOT
%nonassoc EQ NE '<' '>' LE GE IN
%left '+' '-'
%left '*' '/' '%' '&' '|' '^' SHL SHR
%precedence UMINUS
%precedence AS

%%

program
    : decls                     { ctx->unit->decls = ast_decl_reverse($1); }
    ;

decls
    : %empty                    { $$ = NULL; }
    | decls decl                { $$ = ast_decl_prepend($1, $2); }
    ;

decl
    : USE dotted ';'            { $$ = ast_decl_new(ctx, D_USE, ast_dotted(MC, $2), @2);
                                  $$->u.use.path = $2; }
    | RECORD IDENT '{' fields '}'
                                { $$ = ast_decl_new(ctx, D_RECORD, $2.s, @2);
                                  $$->u.rec.fields = $4; }
    | FLOW IDENT '{' fields '}' { $$ = ast_decl_new(ctx, D_FLOW, $2.s, @2);
                                  $$->u.rec.fields = $4; }
    | FLOW IDENT OVER fname '{' fields '}'
                                { $$ = ast_decl_new(ctx, D_FLOW, $2.s, @2);
                                  $$->u.rec.over = ast_name_new(MC, $4.s, @4);
                                  $$->u.rec.fields = $6; }
    | EVENT dotted '(' params_opt ')' ';'
                                { $$ = ast_decl_new(ctx, D_EVENT, ast_dotted(MC, $2), @2);
                                  $$->u.ev.params = $4; }
    | EVENT IDENT '=' dotted '(' bindnames_opt ')' where_opt ';'
                                { $$ = ast_decl_new(ctx, D_EVENT, $2.s, @2);
                                  $$->u.ev.derived = true;
                                  $$->u.ev.base_x = $4;
                                  $$->u.ev.params = ast_fields_new(MC, $6, NULL, NULL);
                                  $$->u.ev.filter = $8; }
    | MODULE IDENT '{' items '}'
                                { $$ = ast_decl_new(ctx, D_MODULE, $2.s, @2);
                                  $$->u.mod.items = ast_item_reverse($4); }
    | MODULE IDENT '{' items error '}'
                                { $$ = ast_decl_new(ctx, D_MODULE, $2.s, @2);
                                  $$->u.mod.items = ast_item_reverse($4); }
    | EXTERN MODULE IDENT '{' items '}'
                                { $$ = ast_decl_new(ctx, D_MODULE, $3.s, @3);
                                  $$->u.mod.is_extern = true;
                                  $$->u.mod.items = ast_item_reverse($5); }
    | EXTERN FN IDENT '(' params_opt ')' ret_opt ';'
                                { $$ = ast_decl_new(ctx, D_FN, $3.s, @3);
                                  $$->u.fn.params = $5;
                                  $$->u.fn.ret_x = $7; }
    | PIPELINE IDENT '{' pitems '}'
                                { $$ = ast_decl_new(ctx, D_PIPELINE, $2.s, @2);
                                  $$->u.pipe.items = ast_pitem_reverse($4); }
    | PIPELINE IDENT '{' pitems error '}'
                                { $$ = ast_decl_new(ctx, D_PIPELINE, $2.s, @2);
                                  $$->u.pipe.items = ast_pitem_reverse($4); }
    | error ';'                 { $$ = NULL; }
    | error '}'                 { $$ = NULL; }
    ;

dotted
    : IDENT                     { $$ = ast_name_new(MC, $1.s, @1); }
    | dotted '.' fname          { $$ = ast_name_append($1, ast_name_new(MC, $3.s, @3)); }
    ;

fname
    : IDENT | CLIENT { $$.s = "client"; $$.n = 6; } | SERVER { $$.s = "server"; $$.n = 6; }
    | STATE { $$.s = "state"; $$.n = 5; } | PACKET { $$.s = "packet"; $$.n = 6; }
    | FLOW { $$.s = "flow"; $$.n = 4; }
    ;

tname
    : IDENT | PACKET { $$.s = "packet"; $$.n = 6; }
    ;

/* Types.  `>>` closes two argument lists: tlist_o is a list whose last
 * element is a generic still missing its '>'. */
type
    : tname                     { $$ = ast_type_new(MC, $1.s, @1, NULL); }
    | tname '<' tlist '>'       { $$ = ast_type_new(MC, $1.s, @$, $3); }
    | tname '<' tlist_o SHR     { $$ = ast_type_new(MC, $1.s, @$, $3); }
    ;

tlist
    : type                      { $$ = $1; }
    | tlist ',' type            { $$ = ast_type_append($1, $3); }
    ;

tlist_o
    : topen                     { $$ = $1; }
    | tlist ',' topen           { $$ = ast_type_append($1, $3); }
    ;

topen
    : tname '<' tlist           { $$ = ast_type_new(MC, $1.s, @$, $3); }
    ;

fields
    : %empty                    { $$ = NULL; }
    | fields field              { $$ = ast_field_append($1, $2); }
    ;

field
    : fnames ':' type ';'       { $$ = ast_fields_new(MC, $1, $3, NULL); }
    | fnames ':' type '=' expr ';'
                                { $$ = ast_fields_new(MC, $1, $3, $5); }
    | error ';'                 { $$ = NULL; }
    ;

fnames
    : fname                     { $$ = ast_name_new(MC, $1.s, @1); }
    | fnames ',' fname          { $$ = ast_name_append($1, ast_name_new(MC, $3.s, @3)); }
    ;

params_opt
    : %empty                    { $$ = NULL; }
    | params                    { $$ = $1; }
    ;

params
    : fname ':' type            { $$ = ast_fields_new(MC, ast_name_new(MC, $1.s, @1), $3, NULL); }
    | params ',' fname ':' type { $$ = ast_field_append($1,
                                      ast_fields_new(MC, ast_name_new(MC, $3.s, @3), $5, NULL)); }
    ;

ret_opt
    : %empty                    { $$ = NULL; }
    | ARROW type                { $$ = $2; }
    ;

bindnames_opt
    : %empty                    { $$ = NULL; }
    | bindnames                 { $$ = $1; }
    ;

bindnames
    : IDENT                     { $$ = ast_name_new(MC, $1.s, @1); }
    | bindnames ',' IDENT       { $$ = ast_name_append($1, ast_name_new(MC, $3.s, @3)); }
    ;

where_opt
    : %empty                    { $$ = NULL; }
    | WHERE expr                { $$ = $2; }
    ;

namelist
    : tname                     { $$ = ast_name_new(MC, $1.s, @1); }
    | namelist ',' tname        { $$ = ast_name_append($1, ast_name_new(MC, $3.s, @3)); }
    ;

items
    : %empty                    { $$ = NULL; }
    | items item                { $$ = ast_item_prepend($1, $2); }
    ;

item
    : IMPORT namelist ';'       { $$ = ast_item_new(MC, I_IMPORT, @$); $$->u.names = $2; }
    | EXPORT namelist ';'       { $$ = ast_item_new(MC, I_EXPORT, @$); $$->u.names = $2; }
    | CONFIG fname ':' type '=' expr ';'
                                { $$ = ast_item_new(MC, I_CONFIG, @$);
                                  $$->u.config.name = $2.s; $$->u.config.name_loc = @2;
                                  $$->u.config.tyx = $4; $$->u.config.init = $6; }
    | TABLE fname ':' type ';'  { $$ = ast_item_new(MC, I_TABLE, @$);
                                  $$->u.table.name = $2.s; $$->u.table.name_loc = @2;
                                  $$->u.table.tyx = $4; }
    | TABLE fname ':' type EXPIRE expr ';'
                                { $$ = ast_item_new(MC, I_TABLE, @$);
                                  $$->u.table.name = $2.s; $$->u.table.name_loc = @2;
                                  $$->u.table.tyx = $4; $$->u.table.expire = $6; }
    | TABLE fname ':' type EXPIRE expr IDENT expr ';'
                                { $$ = ast_item_new(MC, I_TABLE, @$);
                                  $$->u.table.name = $2.s; $$->u.table.name_loc = @2;
                                  $$->u.table.tyx = $4; $$->u.table.expire = $6;
                                  $$->u.table.max = $8;
                                  parse_table_option(ctx, $7.s, @7); }
    | TABLE fname ':' type IDENT expr ';'
                                { $$ = ast_item_new(MC, I_TABLE, @$);
                                  $$->u.table.name = $2.s; $$->u.table.name_loc = @2;
                                  $$->u.table.tyx = $4; $$->u.table.max = $6;
                                  parse_table_option(ctx, $5.s, @5); }
    | STATE PER tname '{' fields '}'
                                { $$ = ast_item_new(MC, I_STATE, @$);
                                  $$->u.state.per = ast_name_new(MC, $3.s, @3);
                                  $$->u.state.fields = $5; }
    | ON dotted '(' bindnames_opt ')' where_opt block
                                { $$ = ast_item_new(MC, I_ON, loc_span(@1, @5));
                                  $$->u.on.event_x = $2; $$->u.on.params = $4;
                                  $$->u.on.where = $6; $$->u.on.body = $7; }
    | EVERY expr block          { $$ = ast_item_new(MC, I_EVERY, loc_span(@1, @2));
                                  $$->u.every.period = $2; $$->u.every.body = $3; }
    | error ';'                 { $$ = NULL; }
    | error block               { $$ = NULL; }
    ;

block
    : '{' stmts '}'             { $$ = ast_stmt_reverse($2); }
    | '{' stmts error '}'       { $$ = ast_stmt_reverse($2); }
    ;

stmts
    : %empty                    { $$ = NULL; }
    | stmts stmt                { $$ = ast_stmt_prepend($1, $2); }
    ;

stmt
    : LET IDENT '=' expr ';'    { $$ = ast_stmt_new(MC, S_LET, @$); $$->u.let.name = $2.s;
                                  $$->u.let.name_loc = @2; $$->u.let.init = $4; }
    | LET IDENT ':' type '=' expr ';'
                                { $$ = ast_stmt_new(MC, S_LET, @$); $$->u.let.name = $2.s;
                                  $$->u.let.name_loc = @2; $$->u.let.tyx = $4;
                                  $$->u.let.init = $6; }
    | expr '=' expr ';'         { $$ = ast_stmt_new(MC, S_ASSIGN, loc_span(@1, @3));
                                  $$->u.assign.lhs = $1; $$->u.assign.rhs = $3; }
    | expr PLUSEQ expr ';'      { $$ = ast_stmt_new(MC, S_ASSIGN, loc_span(@1, @3));
                                  $$->u.assign.lhs = $1; $$->u.assign.rhs = $3;
                                  $$->u.assign.op = OP_ADD; $$->u.assign.compound = true; }
    | expr MINUSEQ expr ';'     { $$ = ast_stmt_new(MC, S_ASSIGN, loc_span(@1, @3));
                                  $$->u.assign.lhs = $1; $$->u.assign.rhs = $3;
                                  $$->u.assign.op = OP_SUB; $$->u.assign.compound = true; }
    | expr ';'                  { $$ = ast_stmt_new(MC, S_EXPR, @1); $$->u.expr = $1; }
    | if_stmt                   { $$ = $1; }
    | FOR IDENT IN expr block   { $$ = ast_stmt_new(MC, S_FOR, loc_span(@1, @4));
                                  $$->u.for_.k = $2.s; $$->u.for_.k_loc = @2;
                                  $$->u.for_.iter = $4; $$->u.for_.body = $5; }
    | FOR IDENT ',' IDENT IN expr block
                                { $$ = ast_stmt_new(MC, S_FOR, loc_span(@1, @6));
                                  $$->u.for_.k = $2.s; $$->u.for_.k_loc = @2;
                                  $$->u.for_.v = $4.s; $$->u.for_.v_loc = @4;
                                  $$->u.for_.iter = $6; $$->u.for_.body = $7; }
    | RETURN ';'                { $$ = ast_stmt_new(MC, S_RETURN, @1); }
    | RAISE dotted '(' args_opt ')' ';'
                                { $$ = ast_stmt_new(MC, S_RAISE, loc_span(@1, @5));
                                  $$->u.raise.event_x = $2; $$->u.raise.args = $4; }
    | ALERT '(' expr kvargs ')' ';'
                                { $$ = ast_stmt_new(MC, S_ALERT, loc_span(@1, @5));
                                  $$->u.out.name = $3; $$->u.out.args = $4; }
    | LOG '(' expr kvargs ')' ';'
                                { $$ = ast_stmt_new(MC, S_LOG, loc_span(@1, @5));
                                  $$->u.out.name = $3; $$->u.out.args = $4; }
    | DROP PACKET ';'           { $$ = ast_stmt_new(MC, S_DROP_PACKET, loc_span(@1, @2)); }
    | DROP FLOW ';'             { $$ = ast_stmt_new(MC, S_DROP_FLOW, loc_span(@1, @2)); }
    | STEER expr ARROW IDENT ';'
                                { $$ = ast_stmt_new(MC, S_STEER, loc_span(@1, @4));
                                  $$->u.steer.flow = $2;
                                  $$->u.steer.target = ast_name_new(MC, $4.s, @4); }
    | UNSUBSCRIBE ';'           { $$ = ast_stmt_new(MC, S_UNSUBSCRIBE, @1); }
    | error ';'                 { $$ = NULL; }
    | error block               { $$ = NULL; }
    ;

if_stmt
    : IF expr block else_opt    { $$ = ast_stmt_new(MC, S_IF, loc_span(@1, @2));
                                  $$->u.if_.cond = $2; $$->u.if_.then_ = $3;
                                  $$->u.if_.else_ = $4; }
    ;

else_opt
    : %empty                    { $$ = NULL; }
    | ELSE block                { $$ = $2; }
    | ELSE if_stmt              { $$ = $2; }
    ;

kvargs
    : %empty                    { $$ = NULL; }
    | kvargs ',' fname '=' expr { $$ = ast_kv_append(MC, $1, $3.s, @3, $5); }
    ;

args_opt
    : %empty                    { $$ = NULL; }
    | args                      { $$ = $1; }
    ;

args
    : expr                      { $$ = $1; }
    | args ',' expr             { $$ = ast_arg_append($1, $3); }
    ;

expr
    : postfix                   { $$ = $1; }
    | expr OR expr              { $$ = ast_binary(MC, OP_OR, $1, $3, @2); }
    | expr AND expr             { $$ = ast_binary(MC, OP_AND, $1, $3, @2); }
    | NOT expr                  { $$ = ast_unary(MC, OP_NOT, $2, @$); }
    | expr EQ expr              { $$ = ast_binary(MC, OP_EQ, $1, $3, @2); }
    | expr NE expr              { $$ = ast_binary(MC, OP_NE, $1, $3, @2); }
    | expr '<' expr             { $$ = ast_binary(MC, OP_LT, $1, $3, @2); }
    | expr '>' expr             { $$ = ast_binary(MC, OP_GT, $1, $3, @2); }
    | expr LE expr              { $$ = ast_binary(MC, OP_LE, $1, $3, @2); }
    | expr GE expr              { $$ = ast_binary(MC, OP_GE, $1, $3, @2); }
    | expr IN expr              { $$ = ast_binary(MC, OP_IN, $1, $3, @2); }
    | expr '+' expr             { $$ = ast_binary(MC, OP_ADD, $1, $3, @2); }
    | expr '-' expr             { $$ = ast_binary(MC, OP_SUB, $1, $3, @2); }
    | expr '*' expr             { $$ = ast_binary(MC, OP_MUL, $1, $3, @2); }
    | expr '/' expr             { $$ = ast_binary(MC, OP_DIV, $1, $3, @2); }
    | expr '%' expr             { $$ = ast_binary(MC, OP_MOD, $1, $3, @2); }
    | expr '&' expr             { $$ = ast_binary(MC, OP_BAND, $1, $3, @2); }
    | expr '|' expr             { $$ = ast_binary(MC, OP_BOR, $1, $3, @2); }
    | expr '^' expr             { $$ = ast_binary(MC, OP_BXOR, $1, $3, @2); }
    | expr SHL expr             { $$ = ast_binary(MC, OP_SHL, $1, $3, @2); }
    | expr SHR expr             { $$ = ast_binary(MC, OP_SHR, $1, $3, @2); }
    | '-' expr %prec UMINUS     { $$ = ast_unary(MC, OP_NEG, $2, @$); }
    | expr AS tname             { $$ = ast_as(MC, $1, ast_type_new(MC, $3.s, @3, NULL), @$); }
    ;

postfix
    : primary                   { $$ = $1; }
    | postfix '.' fname         { $$ = ast_field_expr(MC, $1, $3.s, @3); }
    | postfix '[' expr ']'      { $$ = ast_index(MC, E_INDEX, $1, $3, NULL, @$); }
    | postfix '[' expr_opt ':' expr_opt ']'
                                { $$ = ast_index(MC, E_SLICE, $1, $3, $5, @$); }
    | postfix '(' args_opt ')'  { $$ = ast_call(MC, $1, $3, @$); }
    ;

expr_opt
    : %empty                    { $$ = NULL; }
    | expr                      { $$ = $1; }
    ;

primary
    : INT                       { $$ = ast_int(MC, $1, @1, NULL); }
    | SIZE                      { $$ = ast_int(MC, $1, @1, ast_builtin_type(TY_UINT)); }
    | DURATION                  { $$ = ast_expr_new(MC, E_DURATION, @1); $$->u.i = $1; }
    | STRING                    { $$ = ast_str(MC, E_STR, $1.s, $1.n, @1); }
    | BYTES                     { $$ = ast_str(MC, E_BYTES, $1.s, $1.n, @1); }
    | IPADDR                    { $$ = ast_expr_new(MC, E_IP, @1);
                                  memcpy(&$$->u.ip, &$1, sizeof($1)); }
    | PREFIX                    { $$ = ast_expr_new(MC, E_PREFIX, @1);
                                  memcpy(&$$->u.ip, &$1, sizeof($1)); }
    | TRUE                      { $$ = ast_expr_new(MC, E_BOOL, @1); $$->u.b = true; }
    | FALSE                     { $$ = ast_expr_new(MC, E_BOOL, @1); $$->u.b = false; }
    | IDENT                     { $$ = ast_expr_new(MC, E_NAME, @1); $$->u.name.name = $1.s; }
    | CLIENT                    { $$ = ast_expr_new(MC, E_SIDE, @1); $$->u.side = 0; }
    | SERVER                    { $$ = ast_expr_new(MC, E_SIDE, @1); $$->u.side = 1; }
    | STATE                     { $$ = ast_expr_new(MC, E_STATE, @1); }
    | '(' expr ')'              { $$ = $2; $$->paren = true; }
    ;

pitems
    : %empty                    { $$ = NULL; }
    | pitems pitem              { $$ = ast_pitem_prepend($1, $2); }
    ;

pitem
    : IDENT ';'                 { $$ = ast_pitem_new(MC, P_MEMBER, @1);
                                  $$->member = ast_name_new(MC, $1.s, @1); }
    | IDENT '.' tname ARROW IDENT ';'
                                { $$ = ast_pitem_new(MC, P_LINK, loc_span(@1, @5));
                                  $$->from = ast_name_new(MC, $1.s, @1);
                                  $$->type = ast_name_new(MC, $3.s, @3);
                                  $$->to = ast_name_new(MC, $5.s, @5); }
    | error ';'                 { $$ = NULL; }
    ;

%%


/* The parser's view of the lexer: remember the last two tokens' ranges so a
 * missing ';' can be shown right after the token it should follow. */
static int lex_next(MBX_YYSTYPE *lval, struct loc *lloc, void *scanner, struct parse_ctx *ctx)
{
    int tok = (mbx_yylex)(lval, lloc, scanner);
    ctx->ntok++;
    ctx->prev = ctx->cur;
    ctx->cur = *lloc;
    if (tok == 0) {
        /* end of file: a one-column range after the last character */
        lloc->first_line = lloc->last_line = ctx->line;
        lloc->first_column = lloc->last_column = ctx->col;
        lloc->file = ctx->file;
        ctx->cur = *lloc;
    }
    return tok;
}

static void mbx_yyerror(struct loc *loc, void *scanner, struct parse_ctx *ctx, const char *msg)
{
    (void)scanner;
    ctx->syntax_errors++;
    if (strcmp(msg, "memory exhausted") == 0)
        diag_error(&ctx->mc->diag, *loc, "blocks nested too deeply for the parser");
    else
        diag_error(&ctx->mc->diag, *loc, "%s", msg);
}

/* A token as a user would name it: 'import', ';', a name. */
static const char *tok_phrase(yysymbol_kind_t t)
{
    switch (t) {
    case YYSYMBOL_IDENT: return "a name";
    case YYSYMBOL_STRING: return "a string literal";
    case YYSYMBOL_BYTES: return "a bytes literal";
    case YYSYMBOL_INT: return "an integer";
    case YYSYMBOL_DURATION: return "a duration";
    case YYSYMBOL_SIZE: return "a size";
    case YYSYMBOL_IPADDR: return "an address";
    case YYSYMBOL_PREFIX: return "a prefix";
    case YYSYMBOL_YYEOF: return "the end of the file";
    default: break;
    }
    if (t < 0 || t >= YYNTOKENS)
        return "this";
    static char buf[YYNTOKENS][24];
    const char *n = yysymbol_name(t);
    size_t len = strlen(n);
    if (len >= 2 && n[0] == '"')
        n++, len -= 2;
    else if (len >= 2 && n[0] == '\'')
        n++, len -= 2;
    if (len > 16)
        len = 16;
    snprintf(buf[t], sizeof(buf[t]), "'%.*s'", (int)len, n);
    return buf[t];
}

static bool has(const yysymbol_kind_t *e, int n, yysymbol_kind_t t)
{
    for (int i = 0; i < n; i++)
        if (e[i] == t)
            return true;
    return false;
}

/* Tokens that could continue an expression: not worth listing. */
static bool is_operator(yysymbol_kind_t t)
{
    static const char *const ops[] = {"or", "and", "==", "!=", "<=", ">=", "in", "<<", ">>", "as",
                                      "'<'", "'>'", "'+'", "'-'", "'*'", "'/'", "'%'", "'&'",
                                      "'|'", "'^'", "'.'", "'['", "'('", "+=", "-=", "'='"};
    const char *n = yysymbol_name(t);
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(n, ops[i]) == 0)
            return true;
    return false;
}

/* What the parser was in the middle of, from the symbols on its stack. */
static const char *context_phrase(const yypcontext_t *yyctx)
{
    yysymbol_kind_t sym[4] = {YYSYMBOL_YYEMPTY, YYSYMBOL_YYEMPTY, YYSYMBOL_YYEMPTY,
                              YYSYMBOL_YYEMPTY};
    int n = 0;
    for (const yy_state_t *p = yyctx->yyssp; *p != 0 && n < 4; p--)
        sym[n++] = YY_ACCESSING_SYMBOL(*p);
    switch (sym[0]) {
    case YYSYMBOL_namelist:
        return sym[1] == YYSYMBOL_IMPORT ? "after the import list" : "after the export list";
    case YYSYMBOL_dotted:
        if (sym[1] == YYSYMBOL_USE)
            return "after the unit name";
        return "after the event name";
    case YYSYMBOL_tname:
        return "after the type name";
    case YYSYMBOL_type:
    case YYSYMBOL_tlist:
        return "after the type";
    case YYSYMBOL_expr:
    case YYSYMBOL_postfix:
    case YYSYMBOL_primary:
        if (sym[1] == YYSYMBOL_WHERE)
            return "after the filter";
        if (sym[1] == YYSYMBOL_IF)
            return "after the condition";
        if (sym[1] == YYSYMBOL_EVERY)
            return "after the period";
        return "after the expression";
    case YYSYMBOL_decls:
        return "at the top level";
    case YYSYMBOL_items:
        return "in the module body";
    case YYSYMBOL_stmts:
        return "in the block";
    case YYSYMBOL_pitems:
        return "in the pipeline";
    case YYSYMBOL_fields:
        return "in the field list";
    case YYSYMBOL_params_opt:
    case YYSYMBOL_params:
        return "after the parameters";
    case YYSYMBOL_bindnames:
    case YYSYMBOL_bindnames_opt:
        return "after the parameter names";
    case YYSYMBOL_fnames:
        return "after the field name";
    case YYSYMBOL_fname:
        return "after the name";
    case YYSYMBOL_kvargs:
        return "in the argument list";
    case YYSYMBOL_args:
    case YYSYMBOL_args_opt:
        return "after the arguments";
    case YYSYMBOL_block:
        return "after the block";
    case YYSYMBOL_IDENT:
        if (sym[1] == YYSYMBOL_MODULE)
            return "after the module name";
        if (sym[1] == YYSYMBOL_RECORD || sym[1] == YYSYMBOL_FLOW)
            return "after the type name";
        if (sym[1] == YYSYMBOL_PIPELINE)
            return "after the pipeline name";
        if (sym[1] == YYSYMBOL_LET)
            return "after the variable name";
        if (sym[1] == YYSYMBOL_pitems)
            return "after the member name";
        break;
    case YYSYMBOL_YYEMPTY:
        return "at the start of the file";
    default:
        break;
    }
    if (sym[0] >= YYNTOKENS)
        return "here";
    static char buf[48];
    snprintf(buf, sizeof(buf), "after %s", tok_phrase(sym[0]));
    return buf;
}

/* "expected X after Y": the expected tokens in words, grouped when many. */
static int yyreport_syntax_error(const yypcontext_t *yyctx, void *scanner, struct parse_ctx *ctx)
{
    (void)scanner;
    /* a malformed token was just reported by the lexer: that is the mistake */
    if (ctx->ntok - ctx->lex_err_tok <= 2)
        return 0;
    yysymbol_kind_t exp[YYNTOKENS];
    int n = yypcontext_expected_tokens(yyctx, exp, YYNTOKENS);
    if (n < 0)
        n = 0;
    static const yysymbol_kind_t expr_start[] = {
        YYSYMBOL_INT, YYSYMBOL_STRING, YYSYMBOL_DURATION, YYSYMBOL_TRUE, YYSYMBOL_NOT,
        YYSYMBOL_CLIENT, YYSYMBOL_STATE, YYSYMBOL_IPADDR};
    static const yysymbol_kind_t decl_start[] = {YYSYMBOL_USE, YYSYMBOL_RECORD, YYSYMBOL_MODULE,
                                                 YYSYMBOL_PIPELINE};
    static const yysymbol_kind_t item_start[] = {YYSYMBOL_IMPORT, YYSYMBOL_CONFIG, YYSYMBOL_ON,
                                                 YYSYMBOL_EVERY};
    static const yysymbol_kind_t stmt_start[] = {YYSYMBOL_LET, YYSYMBOL_RAISE, YYSYMBOL_ALERT,
                                                 YYSYMBOL_DROP};
    const char *group = NULL;
    bool all = true;
#define ALL_OF(arr)                                                                           \
    (all = true, ({                                                                           \
         for (size_t i_ = 0; i_ < sizeof(arr) / sizeof(arr[0]); i_++)                         \
             if (!has(exp, n, arr[i_]))                                                        \
                 all = false;                                                                  \
     }),                                                                                      \
     all)
    if (ALL_OF(decl_start))
        group = "a declaration (use, record, flow, event, module, extern fn, pipeline)";
    else if (ALL_OF(item_start))
        group = "a module item (import, export, config, table, state, on, every) or '}'";
    else if (ALL_OF(stmt_start))
        group = "a statement or '}'";
    else if (ALL_OF(expr_start))
        group = "an expression";
#undef ALL_OF
    char msg[256];
    size_t len = 0;
    msg[0] = '\0';
    if (group) {
        len = (size_t)snprintf(msg, sizeof(msg), "expected %s", group);
    } else {
        /* list the expected tokens, but not the operators that could continue
         * an expression: "expected ';' after the expression", not "'+', '-', ..." */
        const char *words[8];
        int nw = 0;
        bool in_expr = has(exp, n, YYSYMBOL_OR) && has(exp, n, YYSYMBOL_AND);
        bool name_ok = has(exp, n, YYSYMBOL_IDENT);
        for (int i = 0; i < n && nw < 8; i++) {
            yysymbol_kind_t t = exp[i];
            if (name_ok && (t == YYSYMBOL_CLIENT || t == YYSYMBOL_SERVER || t == YYSYMBOL_STATE ||
                            t == YYSYMBOL_PACKET || t == YYSYMBOL_FLOW))
                continue; /* keywords allowed as names: "a name" says it */
            if (in_expr && is_operator(t))
                continue;
            words[nw++] = tok_phrase(t);
        }
        /* a missing ';' is by far the likeliest mistake: say just that */
        for (int i = 0; i < nw; i++)
            if (strcmp(words[i], "';'") == 0) {
                words[0] = words[i];
                nw = 1;
            }
        if (nw > 4)
            nw = 4;
        len = (size_t)snprintf(msg, sizeof(msg), "expected ");
        for (int i = 0; i < nw && len < sizeof(msg); i++)
            len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s%s",
                                    i == 0 ? "" : i == nw - 1 ? " or " : ", ", words[i]);
        if (nw == 0)
            len = (size_t)snprintf(msg, sizeof(msg), "unexpected %s",
                                   tok_phrase(yypcontext_token(yyctx)));
    }
    if (len < sizeof(msg))
        len += (size_t)snprintf(msg + len, sizeof(msg) - len, " %s", context_phrase(yyctx));
    yysymbol_kind_t tok = yypcontext_token(yyctx);
    if (len < sizeof(msg) && has(exp, n, YYSYMBOL_IDENT) && tok >= YYSYMBOL_USE &&
        tok <= YYSYMBOL_PACKET)
        snprintf(msg + len, sizeof(msg) - len, "; %s is a keyword", tok_phrase(tok));
    /* Point at the culprit: the unexpected token, or just after the previous
     * token when the unexpected one is on a later line (a missing ';'). */
    struct loc at = *yypcontext_location(yyctx);
    if (ctx->prev.file >= 0 && ctx->prev.last_line > 0 && at.first_line > ctx->prev.last_line) {
        at = ctx->prev;
        at.first_line = at.last_line;
        at.first_column = at.last_column + 1;
        at.last_column = at.first_column;
    }
    ctx->syntax_errors++;
    struct diag_msg *m = diag_error(&ctx->mc->diag, at, "%s", msg);
    yysymbol_kind_t found = yypcontext_token(yyctx);
    const char *fname = found >= 0 && found < YYNTOKENS ? yysymbol_name(found) : "";
    yysymbol_kind_t top = YY_ACCESSING_SYMBOL(*yyctx->yyssp);
    if (strcmp(fname, "'='") == 0 && strstr(msg, "after the condition"))
        diag_hint(&ctx->mc->diag, m, "to compare, write `==`");
    else if (top == YYSYMBOL_fname && yyctx->yyssp[-1] != 0 &&
             strcmp(yysymbol_name(YY_ACCESSING_SYMBOL(yyctx->yyssp[-1])), "','") == 0 &&
             yyctx->yyssp[-2] != 0 && YY_ACCESSING_SYMBOL(yyctx->yyssp[-2]) == YYSYMBOL_kvargs)
        diag_hint(&ctx->mc->diag, m, "the values of alert and log are named: `key = value`");
    else if (ctx->last_ident && strstr(msg, "after the expression") &&
             (strcmp(ctx->last_ident, "while") == 0 || strcmp(ctx->last_ident, "loop") == 0 ||
              strcmp(ctx->last_ident, "do") == 0))
        diag_hint(&ctx->mc->diag, m, "mbx has no unbounded loops; `for k, v in t { }` walks a "
                                     "table or bytes");
    if (found != YYSYMBOL_YYEMPTY && (at.first_line != yypcontext_location(yyctx)->first_line ||
                                      at.first_column != yypcontext_location(yyctx)->first_column))
        diag_note(&ctx->mc->diag, m, *yypcontext_location(yyctx), "found %s here",
                  tok_phrase(found));
    return 0;
}
