/*
 * ir.h - the typed IR between the checked AST and the back ends.
 *
 * lower.c builds it once from a clean check (front.h); every back end (the C
 * back end cgc.c, the LLVM back end later) reads only this, so the two cannot
 * drift apart.  It is a small structured IR: per program the configs, tables,
 * per-flow module state, events (built-in, exported by externs, raised,
 * derived with a filter), subscriptions and timers, and per function a list
 * of typed statements over typed expressions whose operations are explicit
 * (a flow field, a table lookup with its default, a method of a stream ...):
 * no name resolution, type question or .mbx rule is left for a back end.
 * Everything lives in the compilation's arena.
 */
#ifndef MBXC_IR_H
#define MBXC_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "front.h"

/* Value types: what a back end must represent. */
enum ir_ty {
    IT_VOID,
    IT_BOOL,     /* bool */
    IT_INT,      /* int64_t, wrapping */
    IT_UINT,     /* uint64_t */
    IT_PORT,     /* uint64_t holding 0..65535 */
    IT_TIME,     /* uint64_t ns since the epoch */
    IT_DURATION, /* uint64_t ns */
    IT_STATE,    /* uint64_t holding an enum mbx_tcp_state */
    IT_STR,      /* struct mbx_str */
    IT_BYTES,    /* struct mbx_str, hex in JSON */
    IT_ADDR,     /* struct mbx_addr */
    IT_PREFIX,   /* a prefix constant: address + length */
    IT_ENDP,     /* an endpoint: a root flow and a side (side, c.client) */
    IT_STREAM,   /* an endpoint's byte stream (same representation as IT_ENDP) */
    IT_FLOW,     /* mbx_flow * of a tcp or udp flow */
    IT_UFLOW,    /* const void *: an instance of a user-defined flow (extern's) */
    IT_REC,      /* const void *: a record exported by an extern (file_info) */
    IT_PKT,      /* const struct mbx_pkt * */
    IT_TABLE,    /* mbx_table * (map or set; ir_expr.table says which) */
};

/* Runtime-provided data of the event being handled. */
enum ir_evarg {
    EA_FLOW,    /* ev->flow */
    EA_SIDE,    /* endpoint (ev->flow, ev->side) */
    EA_INCONS,  /* ev->inconsistent */
    EA_LEN,     /* ev->len */
    EA_PKT,     /* ev->pkt */
    EA_PAYLOAD, /* field `index` of the raised event's payload struct */
    EA_EXTERN,  /* parameter `index` of an extern's event, through its C binding */
};

enum ir_flowf { FF_START, FF_LAST, FF_ID, FF_CID, FF_MIDSTREAM };
enum ir_endpf { EF_IP, EF_PORT, EF_STATE, EF_SEQ, EF_BYTES, EF_PKTS, EF_REXMITS };

enum ir_op {
    X_CONST,    /* ty and u: literal */
    X_LOCAL,    /* index: local of the function */
    X_CONFIG,   /* index: program config */
    X_TABLE,    /* index: program table */
    X_STATE,    /* index: field of the enclosing module's per-flow state */
    X_EVARG,    /* evarg (+ index): data of the event being handled */
    X_ENDP,     /* a[0] flow, index: side constant (c.client) */
    X_FLOWF,    /* a[0] flow, index: enum ir_flowf */
    X_ENDPF,    /* a[0] endpoint, index: enum ir_endpf */
    X_STREAM,   /* a[0] endpoint: its stream */
    X_UFIELD,   /* a[0] user flow or record, name: "<type>_<field>" accessor */
    X_UNARY,    /* bop: OP_NEG OP_NOT; a[0] */
    X_BINARY,   /* bop; a[0] a[1]; semantics from their types (a[0]'s, or a[1]'s for
                 * OP_IN) */
    X_CAST,     /* a[0] converted to ty */
    X_TGET,     /* a[0] table, a[1] key: value or its default; a set-valued map gives
                 * the nested set or NULL (read only) */
    X_TREF_SET, /* a[0] table, a[1] key: the nested set, inserted if missing */
    X_METHOD,   /* method; a[0] object, a[1..] arguments */
    X_SLICE,    /* a[0] str, a[1] lo, a[2] hi (either may be NULL) */
    X_INDEX,    /* a[0] str, a[1] index: byte as uint */
    X_CALLFN,   /* name: extern fn; a[] arguments */
};

struct ir_table;

struct ir_expr {
    enum ir_op op;                /* operation */
    enum ir_ty ty;                /* result type */
    int index;                    /* X_LOCAL X_CONFIG X_TABLE X_STATE X_EVARG X_ENDP X_FLOWF ... */
    enum ir_evarg evarg;          /* X_EVARG */
    enum expr_op bop;             /* X_UNARY, X_BINARY */
    enum method method;           /* X_METHOD */
    const char *name;             /* X_UFIELD accessor, X_CALLFN function */
    const struct ir_table *table; /* IT_TABLE values: the table's kinds */
    struct ir_expr **a;           /* operands */
    int na;                       /* their number */
    union {
        uint64_t i; /* BOOL INT UINT ... constants */
        struct {
            const char *s;
            size_t n;
        } str; /* STR BYTES constants */
        struct {
            uint8_t b[16];
            int plen;
        } ip; /* ADDR PREFIX constants */
    } u;
};

enum ir_sop {
    Y_LET,       /* local index = a */
    Y_STORE,     /* lhs (X_LOCAL, X_STATE, X_CONFIG, X_TGET map element) op= a; op is
                  * OP_ADD / OP_SUB for += -=, else plain */
    Y_EXPR,      /* a, for its effect (set add/remove, map remove) */
    Y_IF,        /* a cond; body then; else_ */
    Y_FOR_TABLE, /* a table; locals index (key) and index2 (value, -1: none) */
    Y_FOR_BYTES, /* a str; locals index (position) and index2 (byte, -1: none) */
    Y_RETURN,
    Y_RAISE, /* event; args */
    Y_ALERT, /* name; keys/args */
    Y_LOG,   /* name (message expr in a); keys/args */
    Y_DROP_PACKET,
    Y_DROP_FLOW,
    Y_STEER, /* a flow; index: target module */
    Y_UNSUB, /* the enclosing handler's subscription */
};

struct ir_event;

struct ir_stmt {
    enum ir_sop op;        /* operation */
    struct loc loc;        /* source place (comments in generated code) */
    struct ir_expr *lhs;   /* Y_STORE */
    struct ir_expr *a;     /* value, condition, iterated object, log message */
    enum expr_op aop;      /* Y_STORE: OP_ADD, OP_SUB, or OP_EQ for plain = */
    int index, index2;     /* locals, steer target */
    struct ir_stmt *body;  /* Y_IF then, loops */
    struct ir_stmt *else_; /* Y_IF */
    const char *name;      /* Y_ALERT signature, Y_LOG: NULL (message in a) */
    const char **keys;     /* Y_ALERT Y_LOG keys */
    struct ir_expr **args; /* Y_ALERT Y_LOG values, Y_RAISE arguments */
    int nargs;
    struct ir_event *event; /* Y_RAISE */
    struct ir_stmt *next;   /* next statement */
};

struct ir_local {
    const char *name;             /* source name (or a made-up one) */
    enum ir_ty ty;                /* its type */
    const struct ir_table *table; /* IT_TABLE locals: kinds */
};

enum ir_fkind { FN_HANDLER, FN_FILTER, FN_TIMER };

struct ir_func {
    enum ir_fkind kind;      /* handler, filter of a derived event, timer */
    const char *name;        /* C-level name, unique */
    int module;              /* index in ir_prog.modules (-1: a derived event's filter) */
    struct ir_event *event;  /* handler/filter: the event (whose data it binds) */
    struct ir_local *locals; /* locals (bindings first) */
    int nlocals, caplocals;
    struct ir_stmt *body;  /* statements (bindings as Y_LET first) */
    struct ir_expr *where; /* handler: where-clause (after bindings) or NULL */
    int sub;               /* handler: index in ir_prog.subs */
    bool carries_packet;   /* handler: a packet is being processed */
    bool unsub;            /* handler: contains `unsubscribe` */
    struct loc loc;        /* source place */
};

enum ir_evkind {
    EV_BUILTIN, /* id: enum mbx_event_id */
    EV_EXTERN,  /* exported by extern module `ext`, position `pos` in its export list */
    EV_RAISED,  /* declared in .mbx, raised by modules, payload = params */
    EV_DERIVED, /* base + filter */
};

struct ir_event {
    enum ir_evkind kind;    /* what it is */
    const char *name;       /* .mbx name */
    const char *cname;      /* C-level identifier part */
    int slot;               /* ev_ids slot */
    int builtin_id;         /* EV_BUILTIN */
    int ext, pos;           /* EV_EXTERN */
    struct ir_event *base;  /* EV_DERIVED */
    struct ir_event *root;  /* the root (itself if not derived) */
    struct ir_func *filter; /* EV_DERIVED: NULL when no where-clause */
    enum ir_ty *ptys;       /* parameter types (of the root) */
    const char **pnames;    /* parameter names as declared */
    int nparams;
    struct ast_decl *decl; /* the declaration */
    bool direct;           /* raised by modules only (or derived from such an event):
                            * its subscribers are called directly, not dispatched */
};

struct ir_config {
    const char *module, *name; /* module and key */
    enum ir_ty ty;             /* type */
    struct ir_expr *init;      /* default (constant) */
};

struct ir_table {
    const char *module, *name; /* module and name */
    enum ir_ty key;            /* key type */
    enum ir_ty val;            /* value type; IT_VOID: a set */
    enum ir_ty elem;           /* set-valued maps: element type */
    bool val_is_set;           /* map<K, set<T>> */
    struct ir_expr *expire;    /* duration expression (constant or config) or NULL */
    struct ir_expr *max;       /* uint expression or NULL */
    int index;                 /* in ir_prog.tables; -1: a nested set's kinds */
};

struct ir_state_field {
    const char *name;     /* field */
    enum ir_ty ty;        /* type */
    struct ir_expr *init; /* default or NULL (zero) */
};

struct ir_module {
    const char *name;             /* module name */
    bool is_extern;               /* written in C */
    bool steered;                 /* target of a steer: per-flow subscriptions */
    unsigned reads;               /* MBX_SUB_READ_* bits over its handlers */
    struct ir_state_field *state; /* `state per X` fields, or NULL */
    int nstate;
    const char *state_per; /* X */
    struct ast_decl *decl;
    /* externs */
    struct ir_event **exports; /* events it exports, in export order */
    int nexports;
    bool is_std_http;     /* std.http's http_parser (C binding mbx_http_*) */
    bool is_std_http_eve; /* std.http's http_eve: http_parser writes its EVE records */
    bool is_std_av;       /* std.av's av_scanner (C binding mbx_av_http_*) */
};

struct ir_sub {
    int module;             /* subscriber */
    struct ir_event *event; /* event subscribed */
    struct ir_func *fn;     /* handler */
    unsigned flags;         /* MBX_SUB_* bits */
    bool direct;            /* called directly by the raise (event->direct) */
    int bit;                /* direct and unsubscribable or steered: its bit in the
                             * per-flow off/on masks; -1: none */
};

struct ir_timer {
    int module;             /* owner */
    struct ir_expr *period; /* duration (constant or config) */
    struct ir_func *fn;     /* body */
};

struct ir_prog {
    const char *name;          /* pipeline name */
    const char *source;        /* main file path */
    struct ir_module *modules; /* pipeline members in order */
    int nmodules;
    struct ir_config *configs; /* every config of every member */
    int nconfigs;
    struct ir_table **tables; /* every table */
    int ntables;
    struct ir_event **events; /* non-builtin events in slot order */
    int nevents;
    int nslots;          /* MBX_EV_NBUILTIN + nevents */
    struct ir_sub *subs; /* subscriptions in dispatch order */
    int nsubs;
    struct ir_timer *timers;
    int ntimers;
    struct ir_func **funcs; /* every function, in emission order */
    int nfuncs;
    int nbits;          /* per-flow bits used by direct subscriptions (<= 64) */
    bool uses_std_http; /* link mbxstd_http */
    bool uses_std_av;   /* link mbxstd_av and Hyperscan */
    bool http_eve;      /* http_eve is a member: http_parser writes EVE http/fileinfo */
    bool stream_hist;   /* a stream method reads past bytes (peek, peek_at, starts_with,
                         * find, contains): unread bytes must stay held */
    bool new_bytes;     /* some stream's new_bytes() is read */
};

/* Build the IR of a checked program (mc after mbxc_check with 0 errors).
 * Returns NULL with a diagnostic when the program has no pipeline or uses a
 * form this lowering does not support yet. */
struct ir_prog *lower_program(struct mbxc *mc);
const char *ir_ty_name(enum ir_ty t);
/* The IR as text (mbxc emit-c --dump-after=lower). */
void ir_dump(const struct ir_prog *p, FILE *out);

#endif
