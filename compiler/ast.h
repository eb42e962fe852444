/*
 * ast.h - the syntax tree and the checked program, one representation.
 *
 * The parser builds these nodes (with source ranges) through the ast_*
 * builders; resolve fills in what each name denotes (decl / sym pointers),
 * typecheck the type of every expression, link the pipeline graph, analyse the
 * stream sides each module reads.  After a clean check a lowering can be
 * written from this alone: every expression has `type`, names point at their
 * declarations, handlers know their event and parameter bindings, and the
 * pipeline is a graph of nodes and typed edges (struct link_graph).
 * All nodes live in the compilation's arena.
 */
#ifndef MBXC_AST_H
#define MBXC_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct ast_decl;
struct sym;

/* ---- types ---- */
enum type_kind {
    TY_ERROR,    /* result of an erroneous expression; absorbs further errors */
    TY_VOID,     /* methods and calls without a value */
    TY_BOOL,
    TY_INT,      /* i64 */
    TY_UINT,     /* u64 */
    TY_STR,
    TY_BYTES,
    TY_IP,
    TY_PREFIX,   /* an address prefix literal (10.0.0.0/8) */
    TY_PORT,
    TY_TIME,
    TY_DURATION,
    TY_SIDE,     /* client or server: an endpoint of a flow */
    TY_STREAM,   /* a side's reassembled byte stream */
    TY_PACKET,
    TY_TCP_STATE,
    TY_RECORD,   /* decl: D_RECORD (or a module's synthesized state record) */
    TY_FLOW,     /* decl: D_FLOW */
    TY_MAP,      /* key, val */
    TY_SET,      /* val = element */
    TY_COUNT
};

struct type {
    enum type_kind kind;     /* what it is */
    struct ast_decl *decl;   /* TY_RECORD, TY_FLOW: the declaration */
    const struct type *key;  /* TY_MAP: key type */
    const struct type *val;  /* TY_MAP: value type; TY_SET: element type */
};

/* ---- names and lists ---- */
struct ast_name {
    const char *name;        /* identifier text */
    struct loc loc;          /* where it is written */
    struct ast_decl *decl;   /* resolve: what it names (flow, event, module), or NULL */
    bool used;               /* import lists: some use of it was seen (-Wunused-import) */
    struct ast_name *next;   /* next in a list or a dotted path */
};

struct ast_type {            /* a written type: name or name<args> */
    const char *name;        /* "map", "ip", "http_session" ... */
    struct loc loc;          /* whole written type */
    struct ast_type *args;   /* generic arguments */
    struct ast_type *next;   /* next argument */
};

struct ast_field {           /* record/flow field, event/fn parameter, state field */
    const char *name;        /* field name; "_" for an ignored binding */
    struct loc loc;          /* name's place */
    struct ast_type *tyx;    /* written type (NULL for bindings of derived events) */
    const struct type *type; /* resolve: its type */
    struct ast_expr *init;   /* state fields: default value, else NULL */
    int index;               /* position, 0-based */
    struct ast_field *next;  /* next field */
};

/* ---- expressions ---- */
enum expr_kind {
    E_INT,      /* u.i: value; is_lit; type adapts to context */
    E_DURATION, /* u.i: nanoseconds */
    E_STR,      /* u.str; str and bytes literals convert to each other */
    E_BYTES,    /* u.str */
    E_BOOL,     /* u.b */
    E_IP,       /* u.ip (plen < 0) */
    E_PREFIX,   /* u.ip */
    E_SIDE,     /* u.side: 0 client, 1 server */
    E_NAME,     /* u.name: resolved to sym */
    E_STATE,    /* the module's per-flow state record */
    E_FIELD,    /* u.field: obj.name */
    E_INDEX,    /* u.index: obj[idx] (map lookup, byte of a str) */
    E_SLICE,    /* u.slice: obj[lo:hi] */
    E_CALL,     /* u.call: fn(args) or obj.method(args) */
    E_UNARY,    /* u.un */
    E_BINARY,   /* u.bin */
    E_AS,       /* u.as: a as T */
};

enum expr_op {
    OP_NEG, OP_NOT, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_BAND, OP_BOR, OP_BXOR, OP_SHL,
    OP_SHR, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_AND, OP_OR,
};

/* Methods of built-in types, chosen by typecheck for E_CALL on obj.name. */
enum method {
    M_NONE,
    M_LEN, M_STARTS_WITH, M_ENDS_WITH, M_CONTAINS, M_FIND, M_LOWER,      /* str/bytes */
    M_PEEK, M_PEEK_AT, M_NEW_BYTES,                                      /* stream (+len..) */
    M_ADD, M_REMOVE,                                                     /* set/map */
};

struct ast_expr {
    enum expr_kind kind;      /* node kind */
    struct loc loc;           /* whole expression */
    const struct type *type;  /* typecheck: resolved type (never NULL after it) */
    bool paren;               /* written in parentheses */
    int depth;                /* nesting depth of the tree below (parse limits it) */
    union {
        uint64_t i;                                     /* E_INT, E_DURATION */
        bool b;                                         /* E_BOOL */
        int side;                                       /* E_SIDE */
        struct { const char *s; size_t n; } str;        /* E_STR, E_BYTES */
        struct { uint8_t a[16]; int v6; int plen; } ip; /* E_IP, E_PREFIX */
        struct { const char *name; struct sym *sym; } name;
        struct {
            struct ast_expr *obj;     /* left of the dot */
            const char *name;         /* right of the dot */
            struct loc name_loc;      /* its place */
            struct ast_field *field;  /* typecheck: the record/flow/endpoint field */
        } field;
        struct { struct ast_expr *obj, *idx; } index;
        struct { struct ast_expr *obj, *lo, *hi; } slice;
        struct {
            struct ast_expr *callee;  /* E_NAME (function) or E_FIELD (method) */
            struct ast_expr *args;    /* arguments, chained by next_arg */
            int nargs;                /* their number */
            struct ast_decl *fn;      /* typecheck: extern fn called, or NULL */
            enum method method;       /* typecheck: method called, or M_NONE */
        } call;
        struct { enum expr_op op; struct ast_expr *a; } un;
        struct { enum expr_op op; struct ast_expr *a, *b; struct loc op_loc; } bin;
        struct { struct ast_expr *a; struct ast_type *tyx; } as;
    } u;
    struct ast_expr *next_arg; /* next argument of a call */
};

/* ---- statements ---- */
enum stmt_kind {
    S_LET, S_ASSIGN, S_EXPR, S_IF, S_FOR, S_RETURN, S_RAISE, S_ALERT, S_LOG, S_DROP_PACKET,
    S_DROP_FLOW, S_STEER, S_UNSUBSCRIBE,
};

struct ast_arg {               /* key = value of alert/log */
    const char *key;           /* key name */
    struct loc key_loc;        /* its place */
    struct ast_expr *value;    /* value */
    struct ast_arg *next;      /* next key */
};

struct ast_stmt {
    enum stmt_kind kind;       /* node kind */
    struct loc loc;            /* whole statement */
    struct ast_stmt *next;     /* next statement of the block */
    union {
        struct {
            const char *name; struct loc name_loc; struct ast_type *tyx;
            struct ast_expr *init; struct sym *sym;
        } let;
        struct { struct ast_expr *lhs, *rhs; enum expr_op op; bool compound; } assign;
        struct ast_expr *expr;
        struct { struct ast_expr *cond; struct ast_stmt *then_, *else_; } if_;
        struct {
            const char *k, *v; struct loc k_loc, v_loc; /* v NULL: one variable */
            struct ast_expr *iter; struct ast_stmt *body;
            struct sym *ksym, *vsym;
        } for_;
        struct { struct ast_name *event_x; struct ast_decl *event; struct ast_expr *args; int nargs; } raise;
        struct { struct ast_expr *name; struct ast_arg *args; } out; /* S_ALERT, S_LOG */
        struct { struct ast_expr *flow; struct ast_name *target; } steer;
    } u;
};

/* ---- symbols of bodies ---- */
enum sym_kind { SYM_BIND, SYM_LET, SYM_LOOP, SYM_CONFIG, SYM_TABLE };

struct sym {
    enum sym_kind kind;        /* what introduced it */
    const char *name;          /* its name */
    struct loc loc;            /* where it was introduced */
    const struct type *type;   /* typecheck: its type */
    struct ast_item *item;     /* SYM_CONFIG, SYM_TABLE: the module item */
    int index;                 /* SYM_BIND: event parameter position */
    bool used;                 /* read somewhere */
};

/* ---- module items ---- */
enum item_kind { I_IMPORT, I_EXPORT, I_CONFIG, I_TABLE, I_STATE, I_ON, I_EVERY };

struct ast_item {
    enum item_kind kind;       /* node kind */
    struct loc loc;            /* the item's head (keyword to name) */
    struct ast_item *next;     /* next item of the module */
    union {
        struct ast_name *names;                          /* I_IMPORT, I_EXPORT */
        struct {
            const char *name; struct loc name_loc; struct ast_type *tyx;
            const struct type *type; struct ast_expr *init; struct sym *sym;
        } config;
        struct {
            const char *name; struct loc name_loc; struct ast_type *tyx;
            const struct type *type; struct ast_expr *expire, *max; struct sym *sym;
        } table;
        struct {
            struct ast_name *per;         /* the flow type; per->decl after resolve */
            struct ast_field *fields;     /* fields with defaults */
            const struct type *type;      /* a record type of these fields */
        } state;
        struct {
            struct ast_name *event_x;     /* dotted event name */
            struct ast_decl *event;       /* resolve: the event */
            struct ast_name *params;      /* binding names ("_" ignores one) */
            int nparams;                  /* their number */
            struct sym **binds;           /* one sym per event parameter (NULL for "_") */
            struct ast_expr *where;       /* filter or NULL */
            struct ast_stmt *body;        /* statements */
            bool carries_packet;          /* `drop packet` allowed */
            unsigned reads;               /* analyse: bit 0 client stream, bit 1 server */
            bool unsub;                   /* contains `unsubscribe` */
        } on;
        struct { struct ast_expr *period; struct ast_stmt *body; } every;
    } u;
};

/* ---- declarations ---- */
enum decl_kind { D_USE, D_RECORD, D_FLOW, D_EVENT, D_MODULE, D_FN, D_PIPELINE };

enum owner_kind { OWN_NONE, OWN_PACKET, OWN_FLOW };

enum pitem_kind { P_MEMBER, P_LINK };

struct ast_pitem {             /* pipeline item */
    enum pitem_kind kind;      /* member or explicit link */
    struct loc loc;            /* whole item */
    struct ast_name *member;   /* P_MEMBER: module name */
    struct ast_name *from, *type, *to; /* P_LINK: from.type -> to */
    struct ast_pitem *next;    /* next item */
};

struct ast_decl {
    enum decl_kind kind;       /* node kind */
    const char *name;          /* declared name ("tcp.data" for dotted events) */
    struct loc loc;            /* the name's place */
    struct unit *unit;         /* the unit that declares it */
    struct ast_decl *next;     /* next declaration of the unit */
    const struct type *type;   /* D_RECORD, D_FLOW: the type */
    union {
        struct { struct ast_name *path; struct unit *target; } use;
        struct {
            struct ast_field *fields; int nfields;
            struct ast_name *over;     /* D_FLOW: `over P`, decl after resolve */
        } rec;                         /* D_RECORD, D_FLOW */
        struct {
            struct ast_field *params; int nparams; /* declared (or bound) parameters */
            struct ast_name *base_x;   /* derived: base event name */
            struct ast_decl *base;     /* derived: resolved base */
            struct ast_expr *filter;   /* derived: where-clause or NULL */
            struct sym **binds;        /* derived: one sym per parameter */
            struct ast_decl *root;     /* root event (itself when not derived) */
            enum owner_kind owner;     /* type it belongs to */
            struct ast_decl *owner_flow; /* OWN_FLOW: the flow */
            int builtin_id;            /* index in mbx_events.def, or -1 */
            bool carries_packet;       /* a packet is being processed when it fires */
            bool derived;              /* `event x = base(...) where ...` */
            int rstate;                /* resolve: 0 new, 1 in progress, 2 done */
        } ev;
        struct {
            bool is_extern;            /* implemented in C */
            struct ast_item *items;    /* items in source order */
            struct ast_item *state;    /* its `state per` item or NULL */
            struct sema_tab *scope;    /* resolve: configs and tables by name */
            unsigned reads;            /* analyse: bit 0 client stream, bit 1 server */
            bool rexmit;               /* analyse: subscribes to tcp.rexmit */
            bool steered;              /* link: the target of some `steer` */
        } mod;
        struct { struct ast_field *params; int nparams; struct ast_type *ret_x; const struct type *ret; } fn;
        struct { struct ast_pitem *items; } pipe;
    } u;
};

struct unit {
    const char *name;          /* "prelude", "std.http", or the path of a FILE */
    int file;                  /* diag file index */
    struct ast_decl *decls;    /* declarations in source order */
    bool is_prelude;           /* the built-in declarations */
    bool is_main;              /* named on the command line */
    struct unit *next;         /* next unit loaded */
};

/* ---- the linked pipeline (link pass) ---- */
struct link_node {
    struct ast_decl *module;   /* the module */
    struct loc loc;            /* where it became a member (or was pulled in from) */
    bool pulled;               /* not listed: pulled in to export a needed type */
    int index;                 /* member order: handlers run in this order */
};

struct link_edge {
    struct link_node *from;    /* exporter, NULL = the runtime */
    struct link_node *to;      /* importer */
    struct ast_decl *type;     /* the flow linked, NULL = packet */
    bool explicit_;            /* written as a link in the pipeline */
    struct loc loc;            /* the explicit link, or the import */
};

struct link_graph {
    struct ast_decl *pipeline; /* its declaration */
    struct link_node **nodes;  /* members in order */
    int nnodes;
    struct link_edge *edges;   /* links */
    int nedges;
};

/* builders used by the parser actions (ast.c) */
struct mbxc;
const char *ast_type_name(const struct type *t, char *buf, size_t n);
const struct type *ast_builtin_type(enum type_kind k);
void ast_dump(struct mbxc *mc, FILE *out, const char *pass);

#endif
