/*
 * cgl.c - the LLVM back end: one LLVM module per program, from the IR (ir.h).
 *
 * It reads the same IR as the C back end (cgc.c) and gives the same program:
 * handlers, derived-event filters and timers become LLVM functions; the
 * runtime's structs (mbx_event, mbx_half_info, the registration table of
 * mbx.h section 13, std.http's records) are addressed by the byte offsets
 * this file is compiled with (offsetof over mbx.h, so they cannot disagree);
 * the registration table itself is filled by the generated main() before it
 * calls mbx_main().  The variables the program writes while it runs (tables,
 * event and subscription ids, the flow slot, std.http's handle) are
 * thread-local, one copy per worker thread, and g_vars gives mbx_main each
 * thread's addresses (mbx_program.worker_vars), as in cgc.c.  Values: bool i1, the integer types
 * i64, str/bytes {ptr, i64} (struct mbx_str), ip i128 (struct mbx_addr's 16 bytes; order
 * comparisons byte-swap), endpoints {ptr, i32} (flow, side), everything else
 * ptr.  Runtime functions taking structs by value follow the x86-64 SysV C
 * ABI (mbx_str as two registers, mbx_tkey byval), so only x86-64 hosts are
 * supported.  `mbxc emit-llvm` prints the verified module; `mbxc build
 * --backend=llvm` optimises it (default<O2>) and writes an object file that
 * build.c links exactly like the C back end's.  An IR form this file has no
 * translation for is reported by name (exit 1), never emitted wrongly.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "backend.h"
#include "mbx.h"
#include "mbx_http.h"

#define FSIZE(T, m) sizeof(((T *)0)->m)

struct gl {
    const struct ir_prog *p; /* the program */
    LLVMContextRef c;        /* context */
    LLVMModuleRef m;         /* the module */
    LLVMBuilderRef b;        /* code */
    LLVMBuilderRef ab;       /* allocas (end of the entry block) */
    LLVMTypeRef i1, i8, i16, i32, i64, i128, ptr, str, endp, vt, tkey;
    const struct ir_func *fn; /* function being built, NULL: main or a state init */
    LLVMValueRef fv;          /* its LLVM function */
    LLVMBasicBlockRef body;   /* first block after the allocas */
    LLVMValueRef ev, e, now;  /* event, engine, mbx_engine_now() */
    LLVMValueRef *loc;        /* allocas of the function's locals */
    LLVMValueRef *cfg;        /* configs */
    LLVMValueRef *tbl;        /* table variables */
    LLVMValueRef *fns;        /* p->funcs */
    LLVMValueRef *raisers;    /* direct raise functions by event index, or NULL */
    LLVMValueRef *stget;      /* per module: its state accessor, or NULL */
    size_t *stoff;            /* per module: offset of its state in the flow state */
    size_t fs_size;           /* bytes of per-flow state (0: none) */
    LLVMValueRef g_ev, g_sub, g_slot, g_fsfn, g_http;
    LLVMValueRef vars;             /* g_vars: this thread's variables (mbx_program.worker_vars) */
    LLVMValueRef http_at, http_de; /* std.http's attach and detach */
    LLVMValueRef *ext_at, *ext_de; /* per module: std.av's and http_eve's */
    int nstr;                      /* string constants */
    struct gstr {
        char *s; /* a copy of its bytes */
        size_t n;
        LLVMValueRef v; /* its global */
    } * strs;           /* one global per distinct string */
    int failed;         /* an IR form with no translation */
};

static void fail(struct gl *g, const char *what)
{
    if (!g->failed)
        fprintf(stderr, "mbxc: the LLVM back end does not support %s yet (use --backend=c)\n",
                what);
    g->failed = 1;
}

/* ---------------------------------------------------------------- small helpers */

static LLVMValueRef ci(LLVMTypeRef t, uint64_t v)
{
    return LLVMConstInt(t, v, 0);
}

static LLVMValueRef c64(struct gl *g, uint64_t v)
{
    return ci(g->i64, v);
}

static LLVMValueRef nullp(struct gl *g)
{
    return LLVMConstNull(g->ptr);
}

static LLVMTypeRef vty(struct gl *g, enum ir_ty t)
{
    switch (t) {
    case IT_BOOL:
        return g->i1;
    case IT_INT:
    case IT_UINT:
    case IT_PORT:
    case IT_TIME:
    case IT_DURATION:
    case IT_STATE:
        return g->i64;
    case IT_STR:
    case IT_BYTES:
        return g->str;
    case IT_ADDR:
    case IT_PREFIX:
        return g->i128;
    case IT_ENDP:
    case IT_STREAM:
        return g->endp;
    case IT_FLOW:
    case IT_UFLOW:
    case IT_REC:
    case IT_PKT:
    case IT_TABLE:
        return g->ptr;
    case IT_VOID:
        break;
    }
    return g->vt;
}

static bool is_int(enum ir_ty t)
{
    return t == IT_INT || t == IT_UINT || t == IT_PORT || t == IT_TIME || t == IT_DURATION ||
           t == IT_STATE;
}

/* Size and alignment of a value in C memory (payload structs, per-flow state). */
static void mlay(enum ir_ty t, bool state, size_t *sz, size_t *al)
{
    *sz = 8;
    *al = 8;
    if (t == IT_BOOL)
        *sz = *al = 1;
    else if (t == IT_STR || t == IT_BYTES)
        *sz = state ? 8 + MBX_TABLE_STR_MAX : 16;
    else if (t == IT_ADDR) {
        *sz = 16;
        *al = 1;
    } else if (t == IT_ENDP || t == IT_STREAM)
        *sz = 16;
}

static size_t align_up(size_t v, size_t a)
{
    return (v + a - 1) / a * a;
}

static LLVMValueRef gep(struct gl *g, LLVMValueRef base, size_t off)
{
    if (off == 0)
        return base;
    LLVMValueRef i = c64(g, off);
    return LLVMBuildGEP2(g->b, g->i8, base, &i, 1, "");
}

static LLVMValueRef gepv(struct gl *g, LLVMValueRef base, LLVMValueRef off)
{
    return LLVMBuildGEP2(g->b, g->i8, base, &off, 1, "");
}

static LLVMValueRef ld(struct gl *g, LLVMTypeRef t, LLVMValueRef p, unsigned align)
{
    LLVMValueRef v = LLVMBuildLoad2(g->b, t, p, "");
    LLVMSetAlignment(v, align);
    return v;
}

static void st(struct gl *g, LLVMValueRef v, LLVMValueRef p, unsigned align)
{
    LLVMSetAlignment(LLVMBuildStore(g->b, v, p), align);
}

/* An unsigned integer field of n bytes at p, as i64. */
static LLVMValueRef ld_uint(struct gl *g, LLVMValueRef p, size_t n)
{
    LLVMTypeRef t = n == 1 ? g->i8 : n == 2 ? g->i16 : n == 4 ? g->i32 : g->i64;
    LLVMValueRef v = ld(g, t, p, (unsigned)n);
    return n == 8 ? v : LLVMBuildZExt(g->b, v, g->i64, "");
}

/* A value of type t kept in C memory at p. */
static LLVMValueRef mload(struct gl *g, enum ir_ty t, LLVMValueRef p)
{
    if (t == IT_BOOL)
        return LLVMBuildICmp(g->b, LLVMIntNE, ld(g, g->i8, p, 1), ci(g->i8, 0), "");
    if (t == IT_ADDR)
        return ld(g, g->i128, p, 1);
    return ld(g, vty(g, t), p, 8);
}

static void mstore(struct gl *g, enum ir_ty t, LLVMValueRef v, LLVMValueRef p)
{
    if (t == IT_BOOL)
        st(g, LLVMBuildZExt(g->b, v, g->i8, ""), p, 1);
    else if (t == IT_ADDR)
        st(g, v, p, 1);
    else
        st(g, v, p, 8);
}

static LLVMValueRef alloca_bytes(struct gl *g, size_t n, const char *name)
{
    LLVMValueRef a = LLVMBuildAlloca(g->ab, LLVMArrayType2(g->i8, n), name);
    LLVMSetAlignment(a, 16);
    return a;
}

static LLVMValueRef alloca_ty(struct gl *g, LLVMTypeRef t, const char *name)
{
    LLVMValueRef a = LLVMBuildAlloca(g->ab, t, name);
    LLVMSetAlignment(a, 16);
    return a;
}

static void zero(struct gl *g, LLVMValueRef p, size_t n)
{
    LLVMBuildMemSet(g->b, p, ci(g->i8, 0), c64(g, n), 8);
}

static LLVMBasicBlockRef newbb(struct gl *g, const char *name)
{
    return LLVMAppendBasicBlockInContext(g->c, g->fv, name);
}

static bool terminated(struct gl *g)
{
    return LLVMGetBasicBlockTerminator(LLVMGetInsertBlock(g->b)) != NULL;
}

static void br(struct gl *g, LLVMBasicBlockRef to)
{
    if (!terminated(g))
        LLVMBuildBr(g->b, to);
}

static LLVMValueRef phi2(struct gl *g, LLVMTypeRef t, LLVMValueRef a, LLVMBasicBlockRef ab,
                         LLVMValueRef b, LLVMBasicBlockRef bb)
{
    LLVMValueRef ph = LLVMBuildPhi(g->b, t, "");
    LLVMValueRef v[2] = {a, b};
    LLVMBasicBlockRef bl[2] = {ab, bb};
    LLVMAddIncoming(ph, v, bl, 2);
    return ph;
}

/* A private constant C string (NUL-terminated, n bytes before it). */
static LLVMValueRef cstrn(struct gl *g, const char *s, size_t n)
{
    for (int i = 0; i < g->nstr; i++)
        if (g->strs[i].n == n && memcmp(g->strs[i].s, s, n) == 0)
            return g->strs[i].v;
    if ((g->nstr & (g->nstr - 1)) == 0) { /* 0, 1, 2, 4 ...: grow */
        struct gstr *t = realloc(g->strs, (size_t)(g->nstr ? 2 * g->nstr : 1) * sizeof(*t));
        if (t == NULL)
            abort();
        g->strs = t;
    }
    char name[32];
    snprintf(name, sizeof(name), ".s%d", g->nstr++);
    LLVMValueRef init = LLVMConstStringInContext(g->c, s, (unsigned)n, 0);
    LLVMValueRef v = LLVMAddGlobal(g->m, LLVMTypeOf(init), name);
    LLVMSetInitializer(v, init);
    LLVMSetGlobalConstant(v, 1);
    LLVMSetLinkage(v, LLVMPrivateLinkage);
    LLVMSetUnnamedAddress(v, LLVMGlobalUnnamedAddr);
    LLVMSetAlignment(v, 1);
    char *copy = malloc(n + 1);
    if (copy == NULL)
        abort();
    memcpy(copy, s, n);
    g->strs[g->nstr - 1] = (struct gstr){copy, n, v};
    return v;
}

static LLVMValueRef cstr(struct gl *g, const char *s)
{
    return cstrn(g, s, strlen(s));
}

static LLVMValueRef mkstr(struct gl *g, LLVMValueRef p, LLVMValueRef n)
{
    LLVMValueRef v = LLVMGetUndef(g->str);
    v = LLVMBuildInsertValue(g->b, v, p, 0, "");
    return LLVMBuildInsertValue(g->b, v, n, 1, "");
}

/* Member i of a str ({ptr, i64}) or endpoint ({ptr, i32}) value. */
static LLVMValueRef xv(struct gl *g, LLVMValueRef agg, unsigned i)
{
    if (LLVMGetTypeKind(LLVMTypeOf(agg)) != LLVMStructTypeKind) {
        fail(g, "a str or endpoint operation on a value of another type");
        return LLVMGetUndef(i ? g->i64 : g->ptr);
    }
    return LLVMBuildExtractValue(g->b, agg, i, "");
}

static LLVMValueRef global(struct gl *g, LLVMTypeRef t, const char *name, LLVMValueRef init)
{
    LLVMValueRef v = LLVMAddGlobal(g->m, t, name);
    LLVMSetInitializer(v, init ? init : LLVMConstNull(t));
    LLVMSetLinkage(v, LLVMInternalLinkage);
    LLVMSetAlignment(v, 16);
    return v;
}

/* A variable of each worker thread (mbx_program.worker_vars). */
static LLVMValueRef tls_global(struct gl *g, LLVMTypeRef t, const char *name, LLVMValueRef init)
{
    LLVMValueRef v = global(g, t, name, init);
    LLVMSetThreadLocal(v, 1);
    return v;
}

/* ---------------------------------------------------------------- C functions */

/* A C function by a signature string "R:PP..": v void, b bool, i int, h uint16_t
 * (return), l 64-bit integer, p pointer, s struct mbx_str (two registers),
 * a struct mbx_addr (two registers; returned as i128), K struct mbx_tkey (byval). */
static LLVMValueRef fdecl(struct gl *g, const char *name, const char *sig)
{
    LLVMValueRef f = LLVMGetNamedFunction(g->m, name);
    if (f)
        return f;
    LLVMTypeRef ps[32];
    unsigned n = 0;
    for (const char *c = sig + 2; *c && n < 30; c++) {
        switch (*c) {
        case 'b':
            ps[n++] = g->i1;
            break;
        case 'i':
            ps[n++] = g->i32;
            break;
        case 'l':
            ps[n++] = g->i64;
            break;
        case 's':
            ps[n++] = g->ptr;
            ps[n++] = g->i64;
            break;
        case 'a':
            ps[n++] = g->i64;
            ps[n++] = g->i64;
            break;
        default:
            ps[n++] = g->ptr;
            break;
        }
    }
    LLVMTypeRef r = sig[0] == 'v'   ? g->vt
                    : sig[0] == 'b' ? g->i1
                    : sig[0] == 'i' ? g->i32
                    : sig[0] == 'h' ? g->i16
                    : sig[0] == 'l' ? g->i64
                    : sig[0] == 's' ? g->str
                    : sig[0] == 'a' ? g->i128
                                    : g->ptr;
    f = LLVMAddFunction(g->m, name, LLVMFunctionType(r, ps, n, 0));
    unsigned zext = LLVMGetEnumAttributeKindForName("zeroext", 7);
    unsigned byval = LLVMGetEnumAttributeKindForName("byval", 5);
    if (sig[0] == 'b' || sig[0] == 'h')
        LLVMAddAttributeAtIndex(f, LLVMAttributeReturnIndex,
                                LLVMCreateEnumAttribute(g->c, zext, 0));
    unsigned k = 1;
    for (const char *c = sig + 2; *c; c++) {
        if (*c == 'b')
            LLVMAddAttributeAtIndex(f, k, LLVMCreateEnumAttribute(g->c, zext, 0));
        if (*c == 'K') {
            LLVMAddAttributeAtIndex(f, k, LLVMCreateTypeAttribute(g->c, byval, g->tkey));
            LLVMSetParamAlignment(LLVMGetParam(f, k - 1), 8);
        }
        k += (*c == 's' || *c == 'a') ? 2 : 1;
    }
    return f;
}

/* Call C function name (declared from sig) with one value per signature letter. */
static LLVMValueRef fcall(struct gl *g, const char *name, const char *sig, const LLVMValueRef *a)
{
    LLVMValueRef f = fdecl(g, name, sig);
    LLVMTypeRef fty = LLVMGlobalGetValueType(f);
    LLVMTypeRef want[32];
    unsigned np = LLVMCountParamTypes(fty), n = 0;
    int i = 0;
    if (np <= 32)
        LLVMGetParamTypes(fty, want);
    for (const char *c = sig + 2; *c; c++, i++) { /* values of the types the C function takes */
        LLVMTypeRef t = LLVMTypeOf(a[i]);
        bool ok = np <= 32 && (*c == 's'   ? t == g->str
                               : *c == 'a' ? t == g->i128
                                           : n < np && t == want[n]);
        n += (*c == 's' || *c == 'a') ? 2 : 1;
        if (!ok || n > np || (c[1] == 0 && n != np)) {
            char what[300];
            snprintf(what, sizeof(what), "a call of %s with arguments of other C types", name);
            fail(g, what);
            LLVMTypeRef r = LLVMGetReturnType(fty);
            return LLVMGetTypeKind(r) == LLVMVoidTypeKind ? NULL : LLVMGetUndef(r);
        }
    }
    LLVMValueRef args[32];
    n = 0;
    i = 0;
    for (const char *c = sig + 2; *c && n < 30; c++, i++) {
        if (*c == 's') {
            args[n++] = xv(g, a[i], 0);
            args[n++] = xv(g, a[i], 1);
        } else if (*c == 'a') {
            args[n++] = LLVMBuildTrunc(g->b, a[i], g->i64, "");
            args[n++] =
                LLVMBuildTrunc(g->b, LLVMBuildLShr(g->b, a[i], ci(g->i128, 64), ""), g->i64, "");
        } else {
            args[n++] = a[i];
        }
    }
    LLVMValueRef v = LLVMBuildCall2(g->b, LLVMGlobalGetValueType(f), f, args, n, "");
    unsigned k = 1;
    for (const char *c = sig + 2; *c; c++) {
        if (*c == 'K')
            LLVMAddCallSiteAttribute(
                v, k,
                LLVMCreateTypeAttribute(g->c, LLVMGetEnumAttributeKindForName("byval", 5),
                                        g->tkey));
        k += (*c == 's' || *c == 'a') ? 2 : 1;
    }
    return v;
}

#define CALL(g, name, sig, ...) fcall(g, name, sig, (const LLVMValueRef[]){__VA_ARGS__})

/* cond ? name(args) : fallback, the call made only when cond holds. */
static LLVMValueRef call_if(struct gl *g, LLVMValueRef cond, const char *name, const char *sig,
                            const LLVMValueRef *a, LLVMValueRef fallback)
{
    LLVMBasicBlockRef from = LLVMGetInsertBlock(g->b), yes = newbb(g, ""), join = newbb(g, "");
    LLVMBuildCondBr(g->b, cond, yes, join);
    LLVMPositionBuilderAtEnd(g->b, yes);
    LLVMValueRef r = fcall(g, name, sig, a);
    LLVMBasicBlockRef yend = LLVMGetInsertBlock(g->b);
    LLVMBuildBr(g->b, join);
    LLVMPositionBuilderAtEnd(g->b, join);
    if (fallback == NULL)
        return NULL;
    return phi2(g, LLVMTypeOf(fallback), fallback, from, r, yend);
}

static LLVMValueRef nonnull(struct gl *g, LLVMValueRef p)
{
    return LLVMBuildICmp(g->b, LLVMIntNE, p, nullp(g), "");
}

/* ---------------------------------------------------------------- expressions */

static LLVMValueRef ex(struct gl *g, const struct ir_expr *x);

/* The mbx_tkey of x (a key of kind t), in a fresh stack slot. */
static LLVMValueRef key(struct gl *g, const struct ir_expr *x, enum ir_ty t)
{
    LLVMValueRef k = alloca_ty(g, g->tkey, "key");
    LLVMValueRef v = ex(g, x);
    zero(g, k, sizeof(struct mbx_tkey));
    if (t == IT_ADDR) {
        LLVMValueRef a = alloca_ty(g, g->i128, "addr");
        st(g, v, a, 16);
        st(g, a, gep(g, k, offsetof(struct mbx_tkey, p)), 8);
        st(g, c64(g, sizeof(struct mbx_addr)), gep(g, k, offsetof(struct mbx_tkey, n)), 8);
    } else if (t == IT_STR || t == IT_BYTES) {
        LLVMValueRef sp = xv(g, v, 0), sn = xv(g, v, 1);
        st(g, sp, gep(g, k, offsetof(struct mbx_tkey, p)), 8);
        st(g, sn, gep(g, k, offsetof(struct mbx_tkey, n)), 8);
    } else {
        if (LLVMTypeOf(v) == g->i1)
            v = LLVMBuildZExt(g->b, v, g->i64, "");
        st(g, v, gep(g, k, offsetof(struct mbx_tkey, u)), 8);
    }
    return k;
}

static LLVMValueRef ex_const(struct gl *g, const struct ir_expr *x)
{
    switch (x->ty) {
    case IT_BOOL:
        return ci(g->i1, x->u.i != 0);
    case IT_INT:
    case IT_UINT:
    case IT_PORT:
    case IT_TIME:
    case IT_DURATION:
    case IT_STATE:
        return c64(g, x->u.i);
    case IT_STR:
    case IT_BYTES: {
        LLVMValueRef f[2] = {cstrn(g, x->u.str.s, x->u.str.n), c64(g, x->u.str.n)};
        return LLVMConstStructInContext(g->c, f, 2, 0);
    }
    case IT_ADDR:
    case IT_PREFIX: {
        uint64_t w[2] = {0, 0}; /* little endian: byte 0 is the lowest */
        for (int i = 0; i < 16; i++)
            w[i / 8] |= (uint64_t)x->u.ip.b[i] << (8 * (i % 8));
        return LLVMConstIntOfArbitraryPrecision(g->i128, 2, w);
    }
    case IT_ENDP: {
        LLVMValueRef f[2] = {nullp(g), ci(g->i32, x->u.i)};
        return LLVMConstStructInContext(g->c, f, 2, 0);
    }
    default:
        break;
    }
    fail(g, "a constant of this type");
    return LLVMGetUndef(vty(g, x->ty));
}

/* Offset and type of parameter i of a payload struct (C layout of cgc.c's evp_). */
static size_t payload_off(const struct ir_event *root, int idx, size_t *total)
{
    size_t off = 0, maxal = 4, at = 0;
    for (int k = 0; k < root->nparams; k++) {
        size_t sz, al;
        mlay(root->ptys[k], false, &sz, &al);
        off = align_up(off, al);
        if (k == idx)
            at = off;
        off += sz;
        if (al > maxal)
            maxal = al;
    }
    if (root->nparams == 0)
        off = 4;
    if (total)
        *total = align_up(off, maxal);
    return at;
}

static LLVMValueRef ev_field(struct gl *g, size_t off)
{
    return gep(g, g->ev, off);
}

static LLVMValueRef ev_flow(struct gl *g)
{
    if (g->fn == NULL || g->fn->kind == FN_TIMER)
        return nullp(g);
    return ld(g, g->ptr, ev_field(g, offsetof(struct mbx_event, flow)), 8);
}

static LLVMValueRef ev_side(struct gl *g)
{
    if (g->fn == NULL || g->fn->kind == FN_TIMER)
        return ci(g->i32, MBX_CLIENT);
    return ld(g, g->i32, ev_field(g, offsetof(struct mbx_event, side)), 4);
}

static LLVMValueRef ev_payload(struct gl *g)
{
    return ld(g, g->ptr, ev_field(g, offsetof(struct mbx_event, payload)), 8);
}

static LLVMValueRef ptr_to_str(struct gl *g, LLVMValueRef s) /* g_cstr: s may be NULL */
{
    LLVMValueRef n = call_if(g, nonnull(g, s), "strlen", "l:p", (LLVMValueRef[]){s}, c64(g, 0));
    return mkstr(g, s, n);
}

static LLVMValueRef ex_evarg(struct gl *g, const struct ir_expr *x)
{
    const struct ir_event *root = g->fn && g->fn->event ? g->fn->event->root : NULL;
    if (g->fn == NULL || g->fn->kind == FN_TIMER || root == NULL) {
        fail(g, "event data outside a handler");
        return LLVMGetUndef(vty(g, x->ty));
    }
    switch (x->evarg) {
    case EA_FLOW:
        return ev_flow(g);
    case EA_SIDE: {
        LLVMValueRef v = LLVMGetUndef(g->endp);
        v = LLVMBuildInsertValue(g->b, v, ev_flow(g), 0, "");
        return LLVMBuildInsertValue(g->b, v, ev_side(g), 1, "");
    }
    case EA_INCONS:
        return LLVMBuildICmp(g->b, LLVMIntNE,
                             ld(g, g->i8, ev_field(g, offsetof(struct mbx_event, inconsistent)), 1),
                             ci(g->i8, 0), "");
    case EA_LEN:
        return ld(g, g->i64, ev_field(g, offsetof(struct mbx_event, len)), 8);
    case EA_PKT:
        return ld(g, g->ptr, ev_field(g, offsetof(struct mbx_event, pkt)), 8);
    case EA_PAYLOAD:
        return mload(g, x->ty, gep(g, ev_payload(g), payload_off(root, x->index, NULL)));
    case EA_EXTERN: {
        const char *n = root->name;
        LLVMValueRef pl = ev_payload(g);
        if ((strcmp(n, "http_request") == 0 || strcmp(n, "http_response") == 0) && x->index == 0)
            return pl;
        if (strcmp(n, "file_data") == 0) {
            LLVMValueRef file =
                ld(g, g->ptr, gep(g, pl, offsetof(struct mbx_http_file_data, file)), 8);
            switch (x->index) {
            case 0:
                return ld(g, g->ptr, gep(g, file, offsetof(struct mbx_http_file_info, tx)), 8);
            case 1:
                return file;
            case 2: {
                LLVMValueRef d =
                    ld(g, g->ptr, gep(g, pl, offsetof(struct mbx_http_file_data, data)), 8);
                LLVMValueRef len =
                    ld(g, g->i64, gep(g, pl, offsetof(struct mbx_http_file_data, len)), 8);
                return mkstr(g, d, len);
            }
            case 3:
                return ld(g, g->i64, gep(g, pl, offsetof(struct mbx_http_file_data, offset)), 8);
            default:
                break;
            }
        } else if (strcmp(n, "file_seen") == 0) {
            if (x->index == 0)
                return ld(g, g->ptr, gep(g, pl, offsetof(struct mbx_http_file_info, tx)), 8);
            if (x->index == 1)
                return pl;
        }
        fail(g, "a parameter of this std.http event");
        return LLVMGetUndef(vty(g, x->ty));
    }
    }
    return LLVMGetUndef(vty(g, x->ty));
}

/* g_str_cmp(a, b): memcmp over the shorter, then the lengths; an i32 <0, 0, >0. */
static LLVMValueRef str_cmp(struct gl *g, LLVMValueRef a, LLVMValueRef b)
{
    LLVMValueRef an = xv(g, a, 1), bn = xv(g, b, 1);
    LLVMValueRef n = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntULT, an, bn, ""), an, bn, "");
    LLVMValueRef ap = xv(g, a, 0), bp = xv(g, b, 0);
    LLVMValueRef c = CALL(g, "memcmp", "i:ppl", ap, bp, n);
    LLVMValueRef gt = LLVMBuildZExt(g->b, LLVMBuildICmp(g->b, LLVMIntUGT, an, bn, ""), g->i32, "");
    LLVMValueRef lt = LLVMBuildZExt(g->b, LLVMBuildICmp(g->b, LLVMIntULT, an, bn, ""), g->i32, "");
    LLVMValueRef byn = LLVMBuildSub(g->b, gt, lt, "");
    return LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntNE, c, ci(g->i32, 0), ""), c, byn, "");
}

static LLVMValueRef bswap(struct gl *g, LLVMValueRef v)
{
    unsigned id = LLVMLookupIntrinsicID("llvm.bswap", 10);
    LLVMTypeRef t = g->i128;
    LLVMValueRef f = LLVMGetIntrinsicDeclaration(g->m, id, &t, 1);
    return LLVMBuildCall2(g->b, LLVMIntrinsicGetType(g->c, id, &t, 1), f, &v, 1, "");
}

static LLVMIntPredicate pred(enum expr_op op, bool sgn)
{
    switch (op) {
    case OP_EQ:
        return LLVMIntEQ;
    case OP_NE:
        return LLVMIntNE;
    case OP_LT:
        return sgn ? LLVMIntSLT : LLVMIntULT;
    case OP_LE:
        return sgn ? LLVMIntSLE : LLVMIntULE;
    case OP_GT:
        return sgn ? LLVMIntSGT : LLVMIntUGT;
    default:
        return sgn ? LLVMIntSGE : LLVMIntUGE;
    }
}

/* a / b or a % b as mbx_div_i64 & co.: 0 (counted) on b == 0; INT by -1 wraps. */
static LLVMValueRef divmod(struct gl *g, LLVMValueRef a, LLVMValueRef b, bool sgn, bool div)
{
    LLVMBasicBlockRef from = LLVMGetInsertBlock(g->b), zb = newbb(g, "div0"), nb = newbb(g, "div"),
                      join = newbb(g, "");
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, b, c64(g, 0), ""), zb, nb);
    LLVMPositionBuilderAtEnd(g->b, zb);
    if (g->fn)
        CALL(g, "mbx_count_div0", "v:p", g->e);
    LLVMBuildBr(g->b, join);
    LLVMPositionBuilderAtEnd(g->b, nb);
    LLVMValueRef r;
    if (sgn) {
        /* b == -1: 0 - a (div) or 0 (mod); the divisor becomes 1 so sdiv cannot trap */
        LLVMValueRef m1 = LLVMBuildICmp(g->b, LLVMIntEQ, b, c64(g, UINT64_MAX), "");
        LLVMValueRef bb = LLVMBuildSelect(g->b, m1, c64(g, 1), b, "");
        LLVMValueRef q = div ? LLVMBuildSDiv(g->b, a, bb, "") : LLVMBuildSRem(g->b, a, bb, "");
        LLVMValueRef alt = div ? LLVMBuildSub(g->b, c64(g, 0), a, "") : c64(g, 0);
        r = LLVMBuildSelect(g->b, m1, alt, q, "");
    } else {
        r = div ? LLVMBuildUDiv(g->b, a, b, "") : LLVMBuildURem(g->b, a, b, "");
    }
    LLVMBuildBr(g->b, join);
    LLVMPositionBuilderAtEnd(g->b, join);
    (void)from;
    return phi2(g, g->i64, c64(g, 0), zb, r, nb);
}

static LLVMValueRef tcontains(struct gl *g, LLVMValueRef t, LLVMValueRef k)
{
    return call_if(g, nonnull(g, t), "mbx_table_contains", "b:pKl", (LLVMValueRef[]){t, k, g->now},
                   ci(g->i1, 0));
}

static LLVMValueRef ex_binary(struct gl *g, const struct ir_expr *x)
{
    const struct ir_expr *a = x->a[0], *b = x->a[1];
    enum ir_ty t = a->ty;
    if (x->bop == OP_IN) {
        if (b->ty == IT_PREFIX) {
            LLVMValueRef pa = alloca_ty(g, g->i128, "a"), pn = alloca_ty(g, g->i128, "net");
            st(g, ex(g, a), pa, 16);
            st(g, ex(g, b), pn, 16);
            return CALL(g, "mbx_addr_in_prefix", "b:ppi", pa, pn,
                        ci(g->i32, (uint64_t)b->u.ip.plen));
        }
        LLVMValueRef tv = ex(g, b);
        return tcontains(g, tv, key(g, a, b->table ? b->table->key : a->ty));
    }
    if (x->bop == OP_AND || x->bop == OP_OR) {
        LLVMValueRef l = ex(g, a);
        LLVMBasicBlockRef from = LLVMGetInsertBlock(g->b), rb = newbb(g, "rhs"),
                          join = newbb(g, "");
        if (x->bop == OP_AND)
            LLVMBuildCondBr(g->b, l, rb, join);
        else
            LLVMBuildCondBr(g->b, l, join, rb);
        LLVMPositionBuilderAtEnd(g->b, rb);
        LLVMValueRef r = ex(g, b);
        LLVMBasicBlockRef rend = LLVMGetInsertBlock(g->b);
        LLVMBuildBr(g->b, join);
        LLVMPositionBuilderAtEnd(g->b, join);
        return phi2(g, g->i1, ci(g->i1, x->bop == OP_OR), from, r, rend);
    }
    switch (x->bop) {
    case OP_EQ:
    case OP_NE:
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE: {
        LLVMValueRef l = ex(g, a), r = ex(g, b);
        if (t == IT_STR || t == IT_BYTES)
            return LLVMBuildICmp(g->b, pred(x->bop, true), str_cmp(g, l, r), ci(g->i32, 0), "");
        if (t == IT_ADDR) {
            if (x->bop != OP_EQ && x->bop != OP_NE) {
                l = bswap(g, l);
                r = bswap(g, r);
            }
            return LLVMBuildICmp(g->b, pred(x->bop, false), l, r, "");
        }
        if (t == IT_ENDP || t == IT_STREAM) {
            LLVMValueRef lf = xv(g, l, 0), rf = xv(g, r, 0);
            LLVMValueRef ls = xv(g, l, 1), rs = xv(g, r, 1);
            LLVMValueRef same = LLVMBuildICmp(g->b, LLVMIntEQ, ls, rs, "");
            LLVMValueRef e1 = LLVMBuildICmp(g->b, LLVMIntEQ, lf, rf, "");
            LLVMValueRef e2 = LLVMBuildICmp(g->b, LLVMIntEQ, lf, nullp(g), "");
            LLVMValueRef e3 = LLVMBuildICmp(g->b, LLVMIntEQ, rf, nullp(g), "");
            LLVMValueRef fl = LLVMBuildOr(g->b, e1, LLVMBuildOr(g->b, e2, e3, ""), "");
            LLVMValueRef eq = LLVMBuildAnd(g->b, same, fl, "");
            return x->bop == OP_NE ? LLVMBuildNot(g->b, eq, "") : eq;
        }
        if (LLVMTypeOf(l) != LLVMTypeOf(r)) {
            fail(g, "a comparison of mixed types");
            return ci(g->i1, 0);
        }
        return LLVMBuildICmp(g->b, pred(x->bop, t == IT_INT), l, r, "");
    }
    default:
        break;
    }
    if (!is_int(t) && t != IT_BOOL) {
        fail(g, "arithmetic on this type");
        return LLVMGetUndef(vty(g, x->ty));
    }
    LLVMValueRef l = ex(g, a), r = ex(g, b);
    if (LLVMTypeOf(l) == g->i1)
        l = LLVMBuildZExt(g->b, l, g->i64, "");
    if (LLVMTypeOf(r) == g->i1)
        r = LLVMBuildZExt(g->b, r, g->i64, "");
    bool sgn = t == IT_INT;
    switch (x->bop) {
    case OP_ADD:
        return LLVMBuildAdd(g->b, l, r, "");
    case OP_SUB:
        return LLVMBuildSub(g->b, l, r, "");
    case OP_MUL:
        return LLVMBuildMul(g->b, l, r, "");
    case OP_BAND:
        return LLVMBuildAnd(g->b, l, r, "");
    case OP_BOR:
        return LLVMBuildOr(g->b, l, r, "");
    case OP_BXOR:
        return LLVMBuildXor(g->b, l, r, "");
    case OP_SHL:
    case OP_SHR: {
        LLVMValueRef n = LLVMBuildAnd(g->b, r, c64(g, 63), "");
        if (x->bop == OP_SHL)
            return LLVMBuildShl(g->b, l, n, "");
        return sgn ? LLVMBuildAShr(g->b, l, n, "") : LLVMBuildLShr(g->b, l, n, "");
    }
    case OP_DIV:
    case OP_MOD:
        return divmod(g, l, r, sgn, x->bop == OP_DIV);
    default:
        break;
    }
    fail(g, "this binary operator");
    return LLVMGetUndef(vty(g, x->ty));
}

static LLVMValueRef endp_f(struct gl *g, LLVMValueRef ep)
{
    return xv(g, ep, 0);
}

static LLVMValueRef endp_s(struct gl *g, LLVMValueRef ep)
{
    return xv(g, ep, 1);
}

/* starts_with / ends_with of two str values, as mbx.h's inline helpers. */
static LLVMValueRef str_affix(struct gl *g, LLVMValueRef s, LLVMValueRef x, bool end)
{
    LLVMValueRef sn = xv(g, s, 1), xn = xv(g, x, 1);
    LLVMValueRef fits = LLVMBuildICmp(g->b, LLVMIntUGE, sn, xn, "");
    LLVMValueRef n = LLVMBuildSelect(g->b, fits, xn, c64(g, 0), "");
    LLVMValueRef at =
        end ? LLVMBuildSelect(g->b, fits, LLVMBuildSub(g->b, sn, xn, ""), c64(g, 0), "")
            : c64(g, 0);
    LLVMValueRef sp = gepv(g, xv(g, s, 0), at);
    LLVMValueRef xp = xv(g, x, 0);
    LLVMValueRef c = CALL(g, "memcmp", "i:ppl", sp, xp, n);
    return LLVMBuildAnd(g->b, fits, LLVMBuildICmp(g->b, LLVMIntEQ, c, ci(g->i32, 0), ""), "");
}

static LLVMValueRef ex_method(struct gl *g, const struct ir_expr *x)
{
    const struct ir_expr *o = x->a[0];
    const struct ir_expr *a1 = x->na > 1 ? x->a[1] : NULL;
    const struct ir_expr *a2 = x->na > 2 ? x->a[2] : NULL;
    if (o->ty == IT_TABLE) {
        enum ir_ty kt = o->table ? o->table->key : (a1 ? a1->ty : IT_UINT);
        LLVMValueRef t = ex(g, o);
        switch (x->method) {
        case M_LEN:
            return call_if(g, nonnull(g, t), "mbx_table_len", "l:pl", (LLVMValueRef[]){t, g->now},
                           c64(g, 0));
        case M_CONTAINS:
            return tcontains(g, t, key(g, a1, kt));
        case M_ADD: {
            LLVMValueRef k = key(g, a1, kt);
            LLVMValueRef r = call_if(g, nonnull(g, t), "mbx_table_put", "p:pKl",
                                     (LLVMValueRef[]){t, k, g->now}, nullp(g));
            return nonnull(g, r);
        }
        case M_REMOVE: {
            LLVMValueRef k = key(g, a1, kt);
            return call_if(g, nonnull(g, t), "mbx_table_remove", "b:pK", (LLVMValueRef[]){t, k},
                           ci(g->i1, 0));
        }
        default:
            break;
        }
    } else if (o->ty == IT_STREAM) {
        LLVMValueRef s = ex(g, o);
        LLVMValueRef ev = g->fn && g->fn->kind != FN_TIMER ? g->ev : nullp(g);
        LLVMValueRef f = endp_f(g, s), side = endp_s(g, s);
        switch (x->method) {
        case M_LEN:
            return CALL(g, "mbx_gen_stream_len", "l:ppi", ev, f, side);
        case M_PEEK:
            return CALL(g, "mbx_gen_peek", "s:ppil", ev, f, side, ex(g, a1));
        case M_NEW_BYTES:
            return CALL(g, "mbx_gen_new_bytes", "s:ppi", ev, f, side);
        case M_PEEK_AT: {
            LLVMValueRef off = ex(g, a1);
            return CALL(g, "mbx_gen_peek_at", "s:ppill", ev, f, side, off, ex(g, a2));
        }
        case M_STARTS_WITH:
            return CALL(g, "mbx_gen_stream_starts_with", "b:ppis", ev, f, side, ex(g, a1));
        case M_CONTAINS:
        case M_FIND: {
            LLVMValueRef r = CALL(g, "mbx_gen_stream_find", "l:ppis", ev, f, side, ex(g, a1));
            if (x->method == M_FIND)
                return r;
            return LLVMBuildICmp(g->b, LLVMIntSGE, r, c64(g, 0), "");
        }
        default:
            break;
        }
    } else if (o->ty == IT_PKT && x->method == M_LEN) {
        LLVMValueRef pk = ex(g, o);
        LLVMBasicBlockRef from = LLVMGetInsertBlock(g->b), yes = newbb(g, ""), join = newbb(g, "");
        LLVMBuildCondBr(g->b, nonnull(g, pk), yes, join);
        LLVMPositionBuilderAtEnd(g->b, yes);
        LLVMValueRef w = ld_uint(g, gep(g, pk, offsetof(struct mbx_pkt, wirelen)),
                                 FSIZE(struct mbx_pkt, wirelen));
        LLVMBuildBr(g->b, join);
        LLVMPositionBuilderAtEnd(g->b, join);
        return phi2(g, g->i64, c64(g, 0), from, w, yes);
    } else if (o->ty == IT_STR || o->ty == IT_BYTES) {
        LLVMValueRef s = ex(g, o);
        switch (x->method) {
        case M_LEN:
            return xv(g, s, 1);
        case M_STARTS_WITH:
        case M_ENDS_WITH:
            return str_affix(g, s, ex(g, a1), x->method == M_ENDS_WITH);
        case M_CONTAINS:
            return LLVMBuildICmp(g->b, LLVMIntSGE, CALL(g, "mbx_str_find", "l:ss", s, ex(g, a1)),
                                 c64(g, 0), "");
        case M_FIND:
            return CALL(g, "mbx_str_find", "l:ss", s, ex(g, a1));
        case M_LOWER:
            return CALL(g, "mbx_str_lower", "s:s", s);
        default:
            break;
        }
    }
    fail(g, "this method call");
    return LLVMGetUndef(vty(g, x->ty));
}

static LLVMValueRef ex_cast(struct gl *g, const struct ir_expr *x)
{
    const struct ir_expr *a = x->a[0];
    enum ir_ty to = x->ty, from = a->ty;
    LLVMValueRef v = ex(g, a);
    if (to == from || ((to == IT_STR || to == IT_BYTES) && (from == IT_STR || from == IT_BYTES)))
        return v;
    if (to == IT_BOOL && (is_int(from) || from == IT_BOOL))
        return LLVMBuildICmp(g->b, LLVMIntNE, v, LLVMConstNull(LLVMTypeOf(v)), "");
    if (is_int(to) && (is_int(from) || from == IT_BOOL)) {
        if (from == IT_BOOL)
            v = LLVMBuildZExt(g->b, v, g->i64, "");
        if (to == IT_PORT)
            v = LLVMBuildAnd(g->b, v, c64(g, 0xffff), "");
        return v;
    }
    fail(g, "this conversion");
    return LLVMGetUndef(vty(g, x->ty));
}

/* The per-flow state of module mod on the event's flow (g_st_ of cgc.c). */
static LLVMValueRef state_ptr(struct gl *g, int mod)
{
    return LLVMBuildCall2(g->b, LLVMGlobalGetValueType(g->stget[mod]), g->stget[mod],
                          (LLVMValueRef[]){ev_flow(g)}, 1, "");
}

static size_t state_off(struct gl *g, int mod, int k)
{
    size_t off = 1; /* bool init */
    const struct ir_module *m = &g->p->modules[mod];
    for (int i = 0; i <= k; i++) {
        size_t sz, al;
        mlay(m->state[i].ty, true, &sz, &al);
        off = align_up(off, al);
        if (i == k)
            return off;
        off += sz;
    }
    return off;
}

static size_t state_size(const struct ir_module *m)
{
    size_t off = 1, maxal = 1;
    for (int i = 0; i < m->nstate; i++) {
        size_t sz, al;
        mlay(m->state[i].ty, true, &sz, &al);
        off = align_up(off, al) + sz;
        if (al > maxal)
            maxal = al;
    }
    return align_up(off, maxal);
}

/* A str field of per-flow state: {size_t n; uint8_t b[MBX_TABLE_STR_MAX]}. */
static void sf_set(struct gl *g, LLVMValueRef f, LLVMValueRef s)
{
    LLVMValueRef n = xv(g, s, 1), max = c64(g, MBX_TABLE_STR_MAX);
    n = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntULT, n, max, ""), n, max, "");
    st(g, n, f, 8);
    LLVMValueRef to = gep(g, f, 8);
    LLVMBuildMemMove(g->b, to, 1, xv(g, s, 0), 1, n);
}

static LLVMValueRef sf_get(struct gl *g, LLVMValueRef f)
{
    LLVMValueRef b = gep(g, f, 8);
    return mkstr(g, b, ld(g, g->i64, f, 8));
}

static LLVMValueRef http_field(struct gl *g, const struct ir_expr *x, LLVMValueRef o)
{
    const char *n = x->name;
#define TXS(fld) ptr_to_str(g, gep(g, o, offsetof(struct mbx_http_tx, fld)))
    if (strcmp(n, "http_session_method") == 0)
        return TXS(method);
    if (strcmp(n, "http_session_uri") == 0)
        return TXS(uri);
    if (strcmp(n, "http_session_host") == 0)
        return TXS(host);
    if (strcmp(n, "http_session_user_agent") == 0)
        return TXS(user_agent);
    if (strcmp(n, "http_session_protocol") == 0)
        return TXS(protocol);
    if (strcmp(n, "http_session_content_type") == 0)
        return TXS(content_type);
#undef TXS
    if (strcmp(n, "http_session_status") == 0)
        return LLVMBuildSExt(
            g->b, ld(g, g->i32, gep(g, o, offsetof(struct mbx_http_tx, status)), 4), g->i64, "");
    if (strcmp(n, "http_session_request_body_len") == 0)
        return ld(g, g->i64, gep(g, o, offsetof(struct mbx_http_tx, request_body_len)), 8);
    if (strcmp(n, "http_session_response_body_len") == 0)
        return ld(g, g->i64, gep(g, o, offsetof(struct mbx_http_tx, response_body_len)), 8);
    if (strcmp(n, "file_info_name") == 0)
        return ptr_to_str(g,
                          ld(g, g->ptr, gep(g, o, offsetof(struct mbx_http_file_info, name)), 8));
    if (strcmp(n, "file_info_size") == 0)
        return ld(g, g->i64, gep(g, o, offsetof(struct mbx_http_file_info, size)), 8);
    if (strcmp(n, "file_info_gaps") == 0)
        return mload(g, IT_BOOL, gep(g, o, offsetof(struct mbx_http_file_info, gaps)));
    if (strcmp(n, "file_info_mime") == 0) {
        LLVMValueRef tx = ld(g, g->ptr, gep(g, o, offsetof(struct mbx_http_file_info, tx)), 8);
        LLVMValueRef srv = LLVMBuildICmp(
            g->b, LLVMIntEQ, ld(g, g->i32, gep(g, o, offsetof(struct mbx_http_file_info, side)), 4),
            ci(g->i32, MBX_SERVER), "");
        LLVMValueRef resp = gep(g, tx, offsetof(struct mbx_http_tx, content_type));
        LLVMValueRef req = gep(g, tx, offsetof(struct mbx_http_tx, req_content_type));
        LLVMValueRef f = LLVMBuildSelect(g->b, srv, resp, req, "");
        return ptr_to_str(g, f);
    }
    if (strcmp(n, "file_info_state") == 0) {
        LLVMValueRef gaps = mload(g, IT_BOOL, gep(g, o, offsetof(struct mbx_http_file_info, gaps)));
        LLVMValueRef stv = ld(g, g->i32, gep(g, o, offsetof(struct mbx_http_file_info, state)), 4);
        LLVMValueRef so = cstr(g, "open"), sc = cstr(g, "complete"), st_ = cstr(g, "truncated"),
                     sg = cstr(g, "gap");
        LLVMValueRef s = LLVMBuildSelect(
            g->b, LLVMBuildICmp(g->b, LLVMIntEQ, stv, ci(g->i32, MBX_HTTP_FILE_OPEN), ""), so, sc,
            "");
        s = LLVMBuildSelect(
            g->b, LLVMBuildICmp(g->b, LLVMIntEQ, stv, ci(g->i32, MBX_HTTP_FILE_TRUNCATED), ""), st_,
            s, "");
        s = LLVMBuildSelect(g->b, gaps, sg, s, "");
        return ptr_to_str(g, s);
    }
    if (strcmp(n, "file_info_sha256") == 0) {
        /* hex of the 32 bytes when has_sha256, else "" (g_http_sha256 of cgc.c) */
        LLVMValueRef buf = alloca_bytes(g, 65, "hex");
        LLVMValueRef has =
            mload(g, IT_BOOL, gep(g, o, offsetof(struct mbx_http_file_info, has_sha256)));
        LLVMBasicBlockRef from = LLVMGetInsertBlock(g->b), yes = newbb(g, "sha"),
                          join = newbb(g, "");
        LLVMBuildCondBr(g->b, has, yes, join);
        LLVMPositionBuilderAtEnd(g->b, yes);
        LLVMValueRef hx = cstr(g, "0123456789abcdef");
        LLVMValueRef sha = gep(g, o, offsetof(struct mbx_http_file_info, sha256));
        for (int i = 0; i < 32; i++) {
            LLVMValueRef byte =
                LLVMBuildZExt(g->b, ld(g, g->i8, gep(g, sha, (size_t)i), 1), g->i64, "");
            LLVMValueRef hi = LLVMBuildLShr(g->b, byte, c64(g, 4), "");
            LLVMValueRef lo = LLVMBuildAnd(g->b, byte, c64(g, 15), "");
            LLVMValueRef ch = ld(g, g->i8, gepv(g, hx, hi), 1);
            st(g, ch, gep(g, buf, (size_t)(2 * i)), 1);
            LLVMValueRef cl = ld(g, g->i8, gepv(g, hx, lo), 1);
            st(g, cl, gep(g, buf, (size_t)(2 * i + 1)), 1);
        }
        st(g, ci(g->i8, 0), gep(g, buf, 64), 1);
        LLVMValueRef d = CALL(g, "mbx_str_dup", "s:s", mkstr(g, buf, c64(g, 64)));
        LLVMBasicBlockRef yend = LLVMGetInsertBlock(g->b);
        LLVMBuildBr(g->b, join);
        LLVMPositionBuilderAtEnd(g->b, join);
        return phi2(g, g->str, LLVMConstNull(g->str), from, d, yend);
    }
    fail(g, "this std.http field");
    return LLVMGetUndef(vty(g, x->ty));
}

static char sigc(struct gl *g, enum ir_ty t)
{
    switch (t) {
    case IT_VOID:
        return 'v';
    case IT_BOOL:
        return 'b';
    case IT_STR:
    case IT_BYTES:
        return 's';
    case IT_ADDR:
        return 'a';
    case IT_ENDP:
    case IT_STREAM:
    case IT_PREFIX:
        fail(g, "an extern function or field of this type");
        return 'p';
    default:
        return is_int(t) ? 'l' : 'p';
    }
}

static LLVMValueRef ex(struct gl *g, const struct ir_expr *x)
{
    if (x == NULL) {
        fail(g, "a missing operand");
        return c64(g, 0);
    }
    switch (x->op) {
    case X_CONST:
        return ex_const(g, x);
    case X_LOCAL:
        if (g->fn == NULL)
            break;
        return ld(g, vty(g, x->ty), g->loc[x->index], 16);
    case X_CONFIG:
        return mload(g, x->ty, g->cfg[x->index]);
    case X_TABLE:
        return ld(g, g->ptr, g->tbl[x->index], 8);
    case X_STATE: {
        if (g->fn == NULL || g->fn->module < 0)
            break;
        LLVMValueRef f = gep(g, state_ptr(g, g->fn->module), state_off(g, g->fn->module, x->index));
        if (x->ty == IT_STR || x->ty == IT_BYTES)
            return sf_get(g, f);
        return mload(g, x->ty, f);
    }
    case X_EVARG:
        return ex_evarg(g, x);
    case X_ENDP: {
        LLVMValueRef v = LLVMGetUndef(g->endp);
        v = LLVMBuildInsertValue(g->b, v, ex(g, x->a[0]), 0, "");
        return LLVMBuildInsertValue(g->b, v, ci(g->i32, (uint64_t)x->index), 1, "");
    }
    case X_FLOWF: {
        LLVMValueRef f = ex(g, x->a[0]);
        LLVMValueRef a[1] = {f};
        switch (x->index) {
        case FF_START:
            return call_if(g, nonnull(g, f), "mbx_flow_start", "l:p", a, c64(g, 0));
        case FF_LAST:
            return call_if(g, nonnull(g, f), "mbx_flow_last", "l:p", a, c64(g, 0));
        case FF_ID:
            return call_if(g, nonnull(g, f), "mbx_flow_id", "l:p", a, c64(g, 0));
        case FF_MIDSTREAM:
            return call_if(g, nonnull(g, f), "mbx_flow_midstream", "b:p", a, ci(g->i1, 0));
        case FF_CID: {
            LLVMValueRef buf = alloca_bytes(g, 64, "cid");
            zero(g, buf, 64);
            call_if(g, nonnull(g, f), "mbx_flow_community_id", "p:ppl",
                    (LLVMValueRef[]){f, buf, c64(g, 64)}, NULL);
            LLVMValueRef s = mkstr(g, buf, CALL(g, "strlen", "l:p", buf));
            return CALL(g, "mbx_str_dup", "s:s", s);
        }
        default:
            break;
        }
        break;
    }
    case X_ENDPF: {
        LLVMValueRef ep = ex(g, x->a[0]);
        LLVMValueRef f = endp_f(g, ep), side = endp_s(g, ep);
        if (x->index == EF_IP) {
            LLVMValueRef pa = call_if(g, nonnull(g, f), "mbx_flow_addr", "p:pi",
                                      (LLVMValueRef[]){f, side}, nullp(g));
            LLVMBasicBlockRef from = LLVMGetInsertBlock(g->b), yes = newbb(g, ""),
                              join = newbb(g, "");
            LLVMBuildCondBr(g->b, nonnull(g, pa), yes, join);
            LLVMPositionBuilderAtEnd(g->b, yes);
            LLVMValueRef v = ld(g, g->i128, pa, 1);
            LLVMBuildBr(g->b, join);
            LLVMPositionBuilderAtEnd(g->b, join);
            return phi2(g, g->i128, ci(g->i128, 0), from, v, yes);
        }
        if (x->index == EF_PORT) {
            LLVMValueRef pv = call_if(g, nonnull(g, f), "mbx_flow_port", "h:pi",
                                      (LLVMValueRef[]){f, side}, ci(g->i16, 0));
            return LLVMBuildZExt(g->b, pv, g->i64, "");
        }
        LLVMValueRef h = alloca_bytes(g, sizeof(struct mbx_half_info), "half");
        zero(g, h, sizeof(struct mbx_half_info));
        call_if(g, nonnull(g, f), "mbx_flow_half", "v:pip", (LLVMValueRef[]){f, side, h}, NULL);
#define HF(m)                                                                                      \
    ld_uint(g, gep(g, h, offsetof(struct mbx_half_info, m)), FSIZE(struct mbx_half_info, m))
        switch (x->index) {
        case EF_STATE:
            return HF(state);
        case EF_SEQ:
            return HF(next_seq);
        case EF_BYTES:
            return HF(bytes);
        case EF_PKTS:
            return HF(pkts);
        case EF_REXMITS:
            return HF(rexmits);
        default:
            break;
        }
#undef HF
        break;
    }
    case X_STREAM:
        return ex(g, x->a[0]);
    case X_UFIELD: {
        LLVMValueRef o = ex(g, x->a[0]);
        if (g->p->uses_std_http &&
            (strncmp(x->name, "http_session_", 13) == 0 || strncmp(x->name, "file_info_", 10) == 0))
            return http_field(g, x, o);
        char name[256], sig[4] = {sigc(g, x->ty), ':', 'p', 0};
        snprintf(name, sizeof(name), "mbx_ext_%s", x->name);
        return fcall(g, name, sig, (LLVMValueRef[]){o});
    }
    case X_UNARY: {
        LLVMValueRef v = ex(g, x->a[0]);
        if (x->bop == OP_NOT)
            return LLVMBuildNot(g->b, v, "");
        return LLVMBuildSub(g->b, c64(g, 0), v, "");
    }
    case X_BINARY:
        return ex_binary(g, x);
    case X_CAST:
        return ex_cast(g, x);
    case X_TGET: {
        const struct ir_table *t = x->a[0]->table;
        enum ir_ty kt = t ? t->key : x->a[1]->ty;
        LLVMValueRef tv = ex(g, x->a[0]);
        LLVMValueRef k = key(g, x->a[1], kt);
        LLVMValueRef v = CALL(g, "mbx_table_get", "p:pKl", tv, k, g->now);
        LLVMBasicBlockRef from = LLVMGetInsertBlock(g->b), yes = newbb(g, ""), join = newbb(g, "");
        LLVMBuildCondBr(g->b, nonnull(g, v), yes, join);
        LLVMPositionBuilderAtEnd(g->b, yes);
        LLVMValueRef r;
        LLVMTypeRef rt;
        if (t && t->val_is_set) {
            rt = g->ptr;
            r = ld(g, g->ptr, v, 8);
        } else if (x->ty == IT_ADDR) {
            rt = g->i128;
            r = ld(g, g->i128, v, 1);
        } else if (x->ty == IT_STR || x->ty == IT_BYTES) {
            rt = g->str;
            r = ld(g, g->str, v, 8);
        } else {
            rt = g->i64;
            r = ld(g, g->i64, v, 8);
        }
        LLVMBuildBr(g->b, join);
        LLVMPositionBuilderAtEnd(g->b, join);
        r = phi2(g, rt, LLVMConstNull(rt), from, r, yes);
        if (x->ty == IT_BOOL)
            r = LLVMBuildICmp(g->b, LLVMIntNE, r, c64(g, 0), "");
        return r;
    }
    case X_TREF_SET: {
        const struct ir_table *t = x->a[0]->table;
        LLVMValueRef tv = ex(g, x->a[0]);
        LLVMValueRef k = key(g, x->a[1], t ? t->key : x->a[1]->ty);
        return CALL(g, "mbx_table_put_set", "p:pKl", tv, k, g->now);
    }
    case X_METHOD:
        return ex_method(g, x);
    case X_SLICE: {
        LLVMValueRef s = ex(g, x->a[0]);
        LLVMValueRef lo = x->a[1] ? ex(g, x->a[1]) : c64(g, 0);
        LLVMValueRef hi = x->a[2] ? ex(g, x->a[2]) : c64(g, INT64_MAX);
        LLVMValueRef n = xv(g, s, 1);
        lo = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, lo, c64(g, 0), ""), c64(g, 0),
                             lo, "");
        hi = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSGT, hi, n, ""), n, hi, "");
        LLVMValueRef ok = LLVMBuildICmp(g->b, LLVMIntSGT, hi, lo, "");
        LLVMValueRef off = LLVMBuildSelect(g->b, ok, lo, c64(g, 0), "");
        LLVMValueRef len = LLVMBuildSelect(g->b, ok, LLVMBuildSub(g->b, hi, lo, ""), c64(g, 0), "");
        return mkstr(g, gepv(g, xv(g, s, 0), off), len);
    }
    case X_INDEX: {
        LLVMValueRef s = ex(g, x->a[0]);
        LLVMValueRef i = ex(g, x->a[1]);
        LLVMBasicBlockRef from = LLVMGetInsertBlock(g->b), yes = newbb(g, ""), join = newbb(g, "");
        LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntULT, i, xv(g, s, 1), ""), yes, join);
        LLVMPositionBuilderAtEnd(g->b, yes);
        LLVMValueRef v = LLVMBuildZExt(g->b, ld(g, g->i8, gepv(g, xv(g, s, 0), i), 1), g->i64, "");
        LLVMBuildBr(g->b, join);
        LLVMPositionBuilderAtEnd(g->b, join);
        return phi2(g, g->i64, c64(g, 0), from, v, yes);
    }
    case X_CALLFN: {
        char sig[40];
        int n = 0;
        sig[n++] = sigc(g, x->ty);
        sig[n++] = ':';
        LLVMValueRef a[32];
        for (int i = 0; i < x->na && i < 30; i++) {
            sig[n++] = sigc(g, x->a[i]->ty);
            a[i] = ex(g, x->a[i]);
        }
        sig[n] = 0;
        return fcall(g, x->name, sig, a);
    }
    }
    fail(g, "this expression");
    return LLVMGetUndef(vty(g, x->ty));
}

/* ---------------------------------------------------------------- statements */

static void block(struct gl *g, const struct ir_stmt *s);

static LLVMValueRef out_o(struct gl *g)
{
    return CALL(g, "mbx_engine_output", "p:p", g->e);
}

static void out_member(struct gl *g, LLVMValueRef o, const char *k, const struct ir_expr *v)
{
    LLVMValueRef kk = cstr(g, k);
    LLVMValueRef x = ex(g, v);
    switch (v->ty) {
    case IT_BOOL:
        CALL(g, "mbx_out_bool", "v:ppb", o, kk, x);
        return;
    case IT_INT:
        CALL(g, "mbx_out_int", "v:ppl", o, kk, x);
        return;
    case IT_UINT:
    case IT_PORT:
        CALL(g, "mbx_out_uint", "v:ppl", o, kk, x);
        return;
    case IT_TIME:
        CALL(g, "mbx_gen_out_time", "v:ppl", o, kk, x);
        return;
    case IT_DURATION:
        CALL(g, "mbx_gen_out_duration", "v:ppl", o, kk, x);
        return;
    case IT_STATE:
        CALL(g, "mbx_out_str", "v:ppp", o, kk,
             CALL(g, "mbx_tcp_state_name", "p:i", LLVMBuildTrunc(g->b, x, g->i32, "")));
        return;
    case IT_STR:
    case IT_BYTES: {
        LLVMValueRef p = xv(g, x, 0);
        p = LLVMBuildSelect(g->b, nonnull(g, p), p, cstr(g, ""), "");
        CALL(g, v->ty == IT_STR ? "mbx_out_strn" : "mbx_out_hex", "v:pppl", o, kk, p, xv(g, x, 1));
        return;
    }
    case IT_ADDR: {
        LLVMValueRef a = alloca_ty(g, g->i128, "addr");
        st(g, x, a, 16);
        CALL(g, "mbx_out_addr", "v:ppp", o, kk, a);
        return;
    }
    case IT_ENDP:
    case IT_STREAM:
        CALL(g, "mbx_gen_out_side", "v:ppi", o, kk, endp_s(g, x));
        return;
    case IT_FLOW:
        CALL(g, "mbx_out_uint", "v:ppl", o, kk,
             call_if(g, nonnull(g, x), "mbx_flow_id", "l:p", (LLVMValueRef[]){x}, c64(g, 0)));
        return;
    case IT_TABLE: {
        LLVMBasicBlockRef yes = newbb(g, "keys"), no = newbb(g, "nokeys"), join = newbb(g, "");
        LLVMBuildCondBr(g->b, nonnull(g, x), yes, no);
        LLVMPositionBuilderAtEnd(g->b, yes);
        CALL(g, "mbx_table_out_keys", "v:pppl", x, o, kk, g->now);
        LLVMBuildBr(g->b, join);
        LLVMPositionBuilderAtEnd(g->b, no);
        CALL(g, "mbx_out_array", "v:pp", o, kk);
        CALL(g, "mbx_out_end_array", "v:p", o);
        LLVMBuildBr(g->b, join);
        LLVMPositionBuilderAtEnd(g->b, join);
        return;
    }
    default:
        fail(g, "a value of this type in an alert or log");
        return;
    }
}

static void stmt_out(struct gl *g, const struct ir_stmt *s)
{
    const char *mod = g->p->modules[g->fn->module].name;
    LLVMValueRef o = out_o(g);
    CALL(g, "mbx_out_begin", "v:plpp", o, g->now, cstr(g, s->op == Y_ALERT ? "alert" : "log"),
         ev_flow(g));
    if (s->op == Y_ALERT) {
        CALL(g, "mbx_out_object", "v:pp", o, cstr(g, "alert"));
        LLVMValueRef k = cstr(g, "signature");
        CALL(g, "mbx_out_str", "v:ppp", o, k, cstr(g, s->name));
    } else {
        CALL(g, "mbx_out_object", "v:pp", o, cstr(g, "log"));
        LLVMValueRef m = ex(g, s->a);
        LLVMValueRef p = xv(g, m, 0);
        p = LLVMBuildSelect(g->b, nonnull(g, p), p, cstr(g, ""), "");
        CALL(g, "mbx_out_strn", "v:pppl", o, cstr(g, "message"), p, xv(g, m, 1));
    }
    LLVMValueRef mk = cstr(g, "module");
    CALL(g, "mbx_out_str", "v:ppp", o, mk, cstr(g, mod));
    CALL(g, "mbx_out_end_object", "v:p", o);
    if (s->nargs > 0) {
        CALL(g, "mbx_out_object", "v:pp", o, cstr(g, "mbx"));
        for (int i = 0; i < s->nargs; i++)
            out_member(g, o, s->keys[i], s->args[i]);
        CALL(g, "mbx_out_end_object", "v:p", o);
    }
    CALL(g, "mbx_out_end", "v:p", o);
}

/* The address an lvalue (local, config, state field) is kept at. */
static LLVMValueRef lvalue(struct gl *g, const struct ir_expr *l)
{
    if (l->op == X_LOCAL)
        return g->loc[l->index];
    if (l->op == X_CONFIG)
        return g->cfg[l->index];
    if (l->op == X_STATE)
        return gep(g, state_ptr(g, g->fn->module), state_off(g, g->fn->module, l->index));
    fail(g, "an assignment to this target");
    return NULL;
}

static void store(struct gl *g, const struct ir_stmt *s)
{
    const struct ir_expr *l = s->lhs;
    if (l->op == X_TGET) {
        const struct ir_table *t = l->a[0]->table;
        enum ir_ty kt = t ? t->key : l->a[1]->ty;
        LLVMValueRef tv = ex(g, l->a[0]);
        LLVMValueRef k = key(g, l->a[1], kt);
        LLVMValueRef v = ex(g, s->a);
        if (l->ty == IT_STR || l->ty == IT_BYTES) {
            CALL(g, "mbx_table_put_str", "i:pKsl", tv, k, v, g->now);
            return;
        }
        LLVMValueRef slot = CALL(g, "mbx_table_put", "p:pKl", tv, k, g->now);
        LLVMBasicBlockRef yes = newbb(g, "put"), join = newbb(g, "");
        LLVMBuildCondBr(g->b, nonnull(g, slot), yes, join);
        LLVMPositionBuilderAtEnd(g->b, yes);
        if (l->ty == IT_ADDR) {
            st(g, v, slot, 1);
        } else {
            if (LLVMTypeOf(v) == g->i1)
                v = LLVMBuildZExt(g->b, v, g->i64, "");
            if (s->aop == OP_ADD || s->aop == OP_SUB) {
                LLVMValueRef old = ld(g, g->i64, slot, 8);
                v = s->aop == OP_ADD ? LLVMBuildAdd(g->b, old, v, "")
                                     : LLVMBuildSub(g->b, old, v, "");
            }
            st(g, v, slot, 8);
        }
        LLVMBuildBr(g->b, join);
        LLVMPositionBuilderAtEnd(g->b, join);
        return;
    }
    if (l->op == X_STATE && (l->ty == IT_STR || l->ty == IT_BYTES)) {
        LLVMValueRef f = lvalue(g, l);
        sf_set(g, f, ex(g, s->a));
        return;
    }
    LLVMValueRef v = ex(g, s->a);
    LLVMValueRef p = lvalue(g, l);
    if (p == NULL)
        return;
    if (s->aop == OP_ADD || s->aop == OP_SUB) {
        if (!is_int(l->ty)) {
            fail(g, "+= or -= on this type");
            return;
        }
        LLVMValueRef old = l->op == X_LOCAL ? ld(g, g->i64, p, 16) : mload(g, l->ty, p);
        v = s->aop == OP_ADD ? LLVMBuildAdd(g->b, old, v, "") : LLVMBuildSub(g->b, old, v, "");
    }
    if (l->op == X_LOCAL)
        st(g, v, p, 16);
    else
        mstore(g, l->ty, v, p);
}

static void set_local(struct gl *g, int i, LLVMValueRef v)
{
    st(g, v, g->loc[i], 16);
}

static void for_table(struct gl *g, const struct ir_stmt *s)
{
    const struct ir_table *tb = s->a->table;
    enum ir_ty kt = tb ? tb->key : IT_UINT;
    LLVMValueRef t = ex(g, s->a);
    LLVMValueRef it = alloca_ty(g, g->i32, "it"), k = alloca_ty(g, g->tkey, "k"),
                 v = alloca_ty(g, g->ptr, "v");
    st(g, ci(g->i32, 0), it, 4);
    LLVMBasicBlockRef cond = newbb(g, "for"), next = newbb(g, "next"), body = newbb(g, "body"),
                      done = newbb(g, "done");
    LLVMBuildBr(g->b, cond);
    LLVMPositionBuilderAtEnd(g->b, cond);
    LLVMBuildCondBr(g->b, nonnull(g, t), next, done);
    LLVMPositionBuilderAtEnd(g->b, next);
    LLVMValueRef more = CALL(g, "mbx_table_next", "b:pplpp", t, it, g->now, k, v);
    LLVMBuildCondBr(g->b, more, body, done);
    LLVMPositionBuilderAtEnd(g->b, body);
    LLVMValueRef kp = ld(g, g->ptr, gep(g, k, offsetof(struct mbx_tkey, p)), 8);
    LLVMValueRef ku = ld(g, g->i64, gep(g, k, offsetof(struct mbx_tkey, u)), 8);
    if (kt == IT_ADDR)
        set_local(g, s->index, ld(g, g->i128, kp, 1));
    else if (kt == IT_STR || kt == IT_BYTES)
        set_local(g, s->index,
                  mkstr(g, kp, ld(g, g->i64, gep(g, k, offsetof(struct mbx_tkey, n)), 8)));
    else if (kt == IT_BOOL)
        set_local(g, s->index, LLVMBuildICmp(g->b, LLVMIntNE, ku, c64(g, 0), ""));
    else
        set_local(g, s->index, ku);
    if (s->index2 >= 0 && tb) {
        LLVMValueRef vp = ld(g, g->ptr, v, 8);
        if (tb->val_is_set)
            set_local(g, s->index2, ld(g, g->ptr, vp, 8));
        else if (tb->val == IT_ADDR)
            set_local(g, s->index2, ld(g, g->i128, vp, 1));
        else if (tb->val == IT_STR || tb->val == IT_BYTES)
            set_local(g, s->index2, ld(g, g->str, vp, 8));
        else if (tb->val == IT_BOOL)
            set_local(g, s->index2,
                      LLVMBuildICmp(g->b, LLVMIntNE, ld(g, g->i64, vp, 8), c64(g, 0), ""));
        else
            set_local(g, s->index2, ld(g, g->i64, vp, 8));
    }
    block(g, s->body);
    br(g, cond);
    LLVMPositionBuilderAtEnd(g->b, done);
}

static void for_bytes(struct gl *g, const struct ir_stmt *s)
{
    LLVMValueRef str = ex(g, s->a);
    LLVMValueRef i = alloca_ty(g, g->i64, "i");
    st(g, c64(g, 0), i, 8);
    LLVMBasicBlockRef cond = newbb(g, "for"), body = newbb(g, "body"), done = newbb(g, "done");
    LLVMBuildBr(g->b, cond);
    LLVMPositionBuilderAtEnd(g->b, cond);
    LLVMValueRef iv = ld(g, g->i64, i, 8);
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntULT, iv, xv(g, str, 1), ""), body, done);
    LLVMPositionBuilderAtEnd(g->b, body);
    if (s->index >= 0)
        set_local(g, s->index, iv);
    if (s->index2 >= 0)
        set_local(g, s->index2,
                  LLVMBuildZExt(g->b, ld(g, g->i8, gepv(g, xv(g, str, 0), iv), 1), g->i64, ""));
    block(g, s->body);
    if (!terminated(g)) {
        st(g, LLVMBuildAdd(g->b, ld(g, g->i64, i, 8), c64(g, 1), ""), i, 8);
        LLVMBuildBr(g->b, cond);
    }
    LLVMPositionBuilderAtEnd(g->b, done);
}

static LLVMValueRef fs_ptr(struct gl *g, LLVMValueRef f)
{
    return LLVMBuildCall2(g->b, LLVMGlobalGetValueType(g->g_fsfn), g->g_fsfn, &f, 1, "");
}

/* fs->{off,on} |= 1 << bit when f is not NULL. */
static void set_bit(struct gl *g, LLVMValueRef f, size_t field, int bit)
{
    LLVMBasicBlockRef yes = newbb(g, ""), join = newbb(g, "");
    LLVMBuildCondBr(g->b, nonnull(g, f), yes, join);
    LLVMPositionBuilderAtEnd(g->b, yes);
    LLVMValueRef w = gep(g, fs_ptr(g, f), field);
    st(g, LLVMBuildOr(g->b, ld(g, g->i64, w, 8), c64(g, UINT64_C(1) << bit), ""), w, 8);
    LLVMBuildBr(g->b, join);
    LLVMPositionBuilderAtEnd(g->b, join);
}

static LLVMValueRef ld_slot(struct gl *g, LLVMValueRef arr, int i)
{
    return ld(g, g->i32, gep(g, arr, (size_t)i * 4), 4);
}

static void raise(struct gl *g, const struct ir_stmt *s)
{
    const struct ir_event *ev = s->event;
    size_t total;
    payload_off(ev, 0, &total);
    LLVMValueRef r = alloca_bytes(g, total, "payload");
    zero(g, r, total);
    LLVMValueRef fl = NULL;
    for (int i = 0; i < s->nargs && i < ev->nparams; i++) {
        LLVMValueRef v = ex(g, s->args[i]);
        mstore(g, ev->ptys[i], v, gep(g, r, payload_off(ev, i, NULL)));
        if (fl == NULL && ev->ptys[i] == IT_FLOW)
            fl = v;
    }
    if (fl == NULL)
        fl = ev_flow(g);
    LLVMValueRef side = ev_side(g);
    if (ev->direct) {
        LLVMValueRef rf = g->raisers[ev->slot - MBX_EV_NBUILTIN];
        LLVMValueRef cur = g->fn->kind == FN_TIMER ? nullp(g) : g->ev;
        LLVMValueRef a[5] = {cur, g->e, fl, side, r};
        LLVMBuildCall2(g->b, LLVMGlobalGetValueType(rf), rf, a, 5, "");
    } else {
        CALL(g, "mbx_raise", "v:pippp", g->e, ld_slot(g, g->g_ev, ev->slot), fl, side, r);
    }
}

static void stmt(struct gl *g, const struct ir_stmt *s)
{
    const struct ir_prog *p = g->p;
    switch (s->op) {
    case Y_LET:
        set_local(g, s->index, ex(g, s->a));
        return;
    case Y_STORE:
        store(g, s);
        return;
    case Y_EXPR:
        ex(g, s->a);
        return;
    case Y_IF: {
        LLVMValueRef c = ex(g, s->a);
        LLVMBasicBlockRef tb = newbb(g, "then"), eb = s->else_ ? newbb(g, "else") : NULL,
                          join = newbb(g, "endif");
        LLVMBuildCondBr(g->b, c, tb, eb ? eb : join);
        LLVMPositionBuilderAtEnd(g->b, tb);
        block(g, s->body);
        br(g, join);
        if (eb) {
            LLVMPositionBuilderAtEnd(g->b, eb);
            block(g, s->else_);
            br(g, join);
        }
        LLVMPositionBuilderAtEnd(g->b, join);
        return;
    }
    case Y_FOR_TABLE:
        for_table(g, s);
        return;
    case Y_FOR_BYTES:
        for_bytes(g, s);
        return;
    case Y_RETURN:
        if (g->fn->kind == FN_FILTER)
            LLVMBuildRet(g->b, ci(g->i1, 0));
        else
            LLVMBuildRetVoid(g->b);
        LLVMPositionBuilderAtEnd(g->b, newbb(g, "dead"));
        return;
    case Y_RAISE:
        raise(g, s);
        return;
    case Y_ALERT:
    case Y_LOG:
        stmt_out(g, s);
        return;
    case Y_DROP_PACKET:
        CALL(g, "mbx_drop_packet", "v:p", g->e);
        return;
    case Y_DROP_FLOW: {
        LLVMValueRef f = ev_flow(g);
        call_if(g, nonnull(g, f), "mbx_drop_flow", "v:p", (LLVMValueRef[]){f}, NULL);
        return;
    }
    case Y_STEER: {
        LLVMValueRef sf = s->a->ty == IT_FLOW ? ex(g, s->a) : ev_flow(g);
        for (int i = 0; i < p->nsubs; i++) {
            if (p->subs[i].module != s->index)
                continue;
            if (p->subs[i].direct)
                set_bit(g, sf, 8, p->subs[i].bit);
            else {
                LLVMValueRef id = ld_slot(g, g->g_sub, i);
                call_if(g, nonnull(g, sf), "mbx_flow_subscribe", "i:pi", (LLVMValueRef[]){sf, id},
                        NULL);
            }
        }
        return;
    }
    case Y_UNSUB: {
        LLVMValueRef f = ev_flow(g);
        if (p->subs[g->fn->sub].direct)
            set_bit(g, f, 0, p->subs[g->fn->sub].bit);
        else {
            LLVMValueRef id = ld_slot(g, g->g_sub, g->fn->sub);
            call_if(g, nonnull(g, f), "mbx_flow_unsubscribe", "i:pi", (LLVMValueRef[]){f, id},
                    NULL);
        }
        return;
    }
    }
    fail(g, "this statement");
}

static void block(struct gl *g, const struct ir_stmt *s)
{
    for (; s && !g->failed; s = s->next)
        stmt(g, s);
}

/* ---------------------------------------------------------------- functions */

/* Start function f: an entry block for allocas, then the body block. */
static void fn_begin(struct gl *g, LLVMValueRef f)
{
    g->fv = f;
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(g->c, f, "entry");
    g->body = LLVMAppendBasicBlockInContext(g->c, f, "body");
    LLVMPositionBuilderAtEnd(g->ab, entry);
    LLVMPositionBuilderAtEnd(g->b, g->body);
}

static void fn_end(struct gl *g, LLVMValueRef ret)
{
    if (!terminated(g)) {
        if (ret)
            LLVMBuildRet(g->b, ret);
        else
            LLVMBuildRetVoid(g->b);
    }
    LLVMBuildBr(g->ab, g->body);
}

static LLVMValueRef func_decl(struct gl *g, const struct ir_func *f)
{
    LLVMTypeRef ps[2] = {g->ptr, g->ptr};
    LLVMTypeRef r = f->kind == FN_FILTER ? g->i1 : g->vt;
    LLVMValueRef v = LLVMAddFunction(g->m, f->name, LLVMFunctionType(r, ps, 2, 0));
    LLVMSetLinkage(v, LLVMInternalLinkage);
    if (f->kind == FN_FILTER)
        LLVMAddAttributeAtIndex(
            v, LLVMAttributeReturnIndex,
            LLVMCreateEnumAttribute(g->c, LLVMGetEnumAttributeKindForName("zeroext", 7), 0));
    return v;
}

static bool is_binding(const struct ir_stmt *s)
{
    return s->op == Y_LET && s->a && s->a->op == X_EVARG;
}

static void func(struct gl *g, int idx)
{
    const struct ir_func *f = g->p->funcs[idx];
    g->fn = f;
    fn_begin(g, g->fns[idx]);
    if (f->kind == FN_TIMER) {
        g->ev = nullp(g);
        g->e = LLVMGetParam(g->fv, 0);
    } else {
        g->ev = LLVMGetParam(g->fv, 0);
        g->e = ld(g, g->ptr, ev_field(g, offsetof(struct mbx_event, engine)), 8);
    }
    g->now = CALL(g, "mbx_engine_now", "l:p", g->e);
    g->loc = calloc((size_t)f->nlocals + 1, sizeof(*g->loc));
    if (g->loc == NULL)
        abort();
    for (int i = 0; i < f->nlocals; i++) {
        LLVMTypeRef t = vty(g, f->locals[i].ty);
        if (t == g->vt) {
            fail(g, "a local of this type");
            t = g->i64;
        }
        g->loc[i] = alloca_ty(g, t, "");
        st(g, LLVMConstNull(t), g->loc[i], 16);
    }
    const struct ir_stmt *s = f->body;
    for (; s && is_binding(s); s = s->next)
        stmt(g, s);
    if (f->kind == FN_FILTER) {
        LLVMValueRef w = f->where ? ex(g, f->where) : ci(g->i1, 1);
        fn_end(g, w);
    } else {
        if (f->where) {
            LLVMValueRef w = ex(g, f->where);
            LLVMBasicBlockRef go = newbb(g, "match"), no = newbb(g, "nomatch");
            LLVMBuildCondBr(g->b, w, go, no);
            LLVMPositionBuilderAtEnd(g->b, no);
            LLVMBuildRetVoid(g->b);
            LLVMPositionBuilderAtEnd(g->b, go);
        }
        block(g, s);
        fn_end(g, NULL);
    }
    free(g->loc);
    g->loc = NULL;
    g->fn = NULL;
}

/* The per-flow state: g_fs(f) (the off/on words) and one accessor per module with state
 * that runs its initialisers on first use. */
static void state_fns(struct gl *g)
{
    const struct ir_prog *p = g->p;
    size_t off = p->nbits ? 16 : 0;
    bool any = p->nbits > 0;
    for (int i = 0; i < p->nmodules; i++) {
        if (p->modules[i].nstate == 0)
            continue;
        any = true;
        off = align_up(off, 8);
        g->stoff[i] = off;
        off += state_size(&p->modules[i]);
    }
    g->fs_size = any ? align_up(off ? off : 1, 8) : 0;
    if (!any)
        return;
    g->g_slot = tls_global(g, g->i32, "g_flow_slot", ci(g->i32, (uint64_t)-1));
    LLVMValueRef none = tls_global(g, LLVMArrayType2(g->i8, g->fs_size), "g_fs_none", NULL);
    LLVMTypeRef pt = g->ptr;
    g->g_fsfn = LLVMAddFunction(g->m, "g_fs", LLVMFunctionType(g->ptr, &pt, 1, 0));
    LLVMSetLinkage(g->g_fsfn, LLVMInternalLinkage);
    g->fn = NULL;
    fn_begin(g, g->g_fsfn);
    LLVMValueRef f = LLVMGetParam(g->fv, 0);
    LLVMValueRef slot = ld(g, g->i32, g->g_slot, 4);
    LLVMValueRef x =
        call_if(g, nonnull(g, f), "mbx_flow_ext", "p:pi", (LLVMValueRef[]){f, slot}, nullp(g));
    fn_end(g, LLVMBuildSelect(g->b, nonnull(g, x), x, none, ""));
    for (int i = 0; i < p->nmodules; i++) {
        const struct ir_module *m = &p->modules[i];
        if (m->nstate == 0)
            continue;
        char name[300];
        snprintf(name, sizeof(name), "g_st_%s", m->name);
        g->stget[i] = LLVMAddFunction(g->m, name, LLVMFunctionType(g->ptr, &pt, 1, 0));
        LLVMSetLinkage(g->stget[i], LLVMInternalLinkage);
        fn_begin(g, g->stget[i]);
        g->ev = g->e = nullp(g);
        g->now = c64(g, 0);
        LLVMValueRef s = gep(g, fs_ptr(g, LLVMGetParam(g->fv, 0)), g->stoff[i]);
        LLVMBasicBlockRef init = newbb(g, "init"), done = newbb(g, "done");
        LLVMBuildCondBr(g->b, mload(g, IT_BOOL, s), done, init);
        LLVMPositionBuilderAtEnd(g->b, init);
        mstore(g, IT_BOOL, ci(g->i1, 1), s);
        for (int k = 0; k < m->nstate; k++) {
            if (m->state[k].init == NULL)
                continue;
            LLVMValueRef fp = gep(g, s, state_off(g, i, k));
            LLVMValueRef v = ex(g, m->state[k].init);
            if (m->state[k].ty == IT_STR || m->state[k].ty == IT_BYTES)
                sf_set(g, fp, v);
            else
                mstore(g, m->state[k].ty, v, fp);
        }
        LLVMBuildBr(g->b, done);
        LLVMPositionBuilderAtEnd(g->b, done);
        fn_end(g, s);
    }
}

/* The subscribers of ev and of the events derived from it, in dispatch order. */
static void dispatch_tree(struct gl *g, const struct ir_event *ev, LLVMValueRef evp,
                          LLVMValueRef fs)
{
    const struct ir_prog *p = g->p;
    LLVMValueRef idp = gep(g, evp, offsetof(struct mbx_event, id));
    st(g, ld_slot(g, g->g_ev, ev->slot), idp, 4);
    for (int i = 0; i < p->nsubs; i++) {
        const struct ir_sub *s = &p->subs[i];
        if (s->event != ev)
            continue;
        LLVMBasicBlockRef join = NULL;
        if (s->bit >= 0) {
            LLVMValueRef off = ld(g, g->i64, fs, 8), on = ld(g, g->i64, gep(g, fs, 8), 8);
            LLVMValueRef m = (s->flags & MBX_SUB_PER_FLOW)
                                 ? LLVMBuildAnd(g->b, on, LLVMBuildNot(g->b, off, ""), "")
                                 : LLVMBuildNot(g->b, off, "");
            LLVMValueRef bit = LLVMBuildAnd(g->b, m, c64(g, UINT64_C(1) << s->bit), "");
            LLVMBasicBlockRef yes = newbb(g, "sub");
            join = newbb(g, "");
            LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntNE, bit, c64(g, 0), ""), yes, join);
            LLVMPositionBuilderAtEnd(g->b, yes);
        }
        int fi = 0;
        while (p->funcs[fi] != s->fn)
            fi++;
        LLVMValueRef a[2] = {evp, nullp(g)};
        LLVMBuildCall2(g->b, LLVMGlobalGetValueType(g->fns[fi]), g->fns[fi], a, 2, "");
        if (join) {
            LLVMBuildBr(g->b, join);
            LLVMPositionBuilderAtEnd(g->b, join);
        }
    }
    for (int i = 0; i < p->nevents; i++) {
        const struct ir_event *k = p->events[i];
        if (k->kind != EV_DERIVED || k->base != ev)
            continue;
        LLVMBasicBlockRef join = NULL;
        if (k->filter) {
            st(g, ld_slot(g, g->g_ev, k->slot), idp, 4);
            int fi = 0;
            while (p->funcs[fi] != k->filter)
                fi++;
            LLVMValueRef a[2] = {evp, nullp(g)};
            LLVMValueRef r =
                LLVMBuildCall2(g->b, LLVMGlobalGetValueType(g->fns[fi]), g->fns[fi], a, 2, "");
            LLVMBasicBlockRef yes = newbb(g, "derived");
            join = newbb(g, "");
            LLVMBuildCondBr(g->b, r, yes, join);
            LLVMPositionBuilderAtEnd(g->b, yes);
        }
        dispatch_tree(g, k, evp, fs);
        if (join) {
            LLVMBuildBr(g->b, join);
            LLVMPositionBuilderAtEnd(g->b, join);
        }
    }
}

static void raisers(struct gl *g)
{
    const struct ir_prog *p = g->p;
    LLVMTypeRef ps[5] = {g->ptr, g->ptr, g->ptr, g->i32, g->ptr};
    for (int i = 0; i < p->nevents; i++) {
        const struct ir_event *ev = p->events[i];
        if (!ev->direct || ev->kind != EV_RAISED)
            continue;
        char name[300];
        snprintf(name, sizeof(name), "r_%s", ev->cname);
        g->raisers[i] = LLVMAddFunction(g->m, name, LLVMFunctionType(g->vt, ps, 5, 0));
        LLVMSetLinkage(g->raisers[i], LLVMInternalLinkage);
    }
    for (int i = 0; i < p->nevents; i++) {
        if (g->raisers[i] == NULL)
            continue;
        g->fn = NULL;
        fn_begin(g, g->raisers[i]);
        LLVMValueRef cur = LLVMGetParam(g->fv, 0), f = LLVMGetParam(g->fv, 2);
        LLVMValueRef evp = alloca_bytes(g, sizeof(struct mbx_event), "ev");
        zero(g, evp, sizeof(struct mbx_event));
        st(g, LLVMGetParam(g->fv, 1), gep(g, evp, offsetof(struct mbx_event, engine)), 8);
        st(g, f, gep(g, evp, offsetof(struct mbx_event, flow)), 8);
        LLVMBasicBlockRef from = LLVMGetInsertBlock(g->b), yes = newbb(g, ""), join = newbb(g, "");
        LLVMBuildCondBr(g->b, nonnull(g, cur), yes, join);
        LLVMPositionBuilderAtEnd(g->b, yes);
        LLVMValueRef pk = ld(g, g->ptr, gep(g, cur, offsetof(struct mbx_event, pkt)), 8);
        LLVMBuildBr(g->b, join);
        LLVMPositionBuilderAtEnd(g->b, join);
        LLVMValueRef pkt = phi2(g, g->ptr, nullp(g), from, pk, yes);
        st(g, pkt, gep(g, evp, offsetof(struct mbx_event, pkt)), 8);
        st(g, LLVMGetParam(g->fv, 3), gep(g, evp, offsetof(struct mbx_event, side)), 4);
        st(g, LLVMGetParam(g->fv, 4), gep(g, evp, offsetof(struct mbx_event, payload)), 8);
        LLVMValueRef fs = p->nbits ? fs_ptr(g, f) : NULL;
        dispatch_tree(g, p->events[i], evp, fs);
        fn_end(g, NULL);
    }
}

/* std.http's attach/detach (mbx_http.h), as cgc.c binds them. */
static LLVMValueRef http_attach(struct gl *g, const struct ir_module *m, LLVMValueRef *detach)
{
    const struct ir_prog *p = g->p;
    bool files = false;
    for (int s = 0; s < p->nsubs; s++) {
        const char *n = p->subs[s].event->root->name;
        if (p->subs[s].event->root->kind == EV_EXTERN &&
            (strcmp(n, "file_data") == 0 || strcmp(n, "file_seen") == 0))
            files = true;
    }
    files = files || p->http_eve || p->uses_std_av; /* EVE fileinfo and the scanner hash */
    LLVMTypeRef ps[2] = {g->ptr, g->ptr};
    LLVMValueRef at = LLVMAddFunction(g->m, "g_http_attach", LLVMFunctionType(g->i32, ps, 2, 0));
    LLVMSetLinkage(at, LLVMInternalLinkage);
    g->fn = NULL;
    fn_begin(g, at);
    LLVMValueRef opts = alloca_bytes(g, sizeof(struct mbx_http_options), "opts");
    zero(g, opts, sizeof(struct mbx_http_options));
    st(g, ci(g->i8, files), gep(g, opts, offsetof(struct mbx_http_options, bodies)), 1);
    if (p->http_eve) { /* http_eve is a member: http_parser writes its EVE records */
        st(g, ci(g->i8, 1), gep(g, opts, offsetof(struct mbx_http_options, eve_http)), 1);
        st(g, ci(g->i8, 1), gep(g, opts, offsetof(struct mbx_http_options, eve_fileinfo)), 1);
    }
    LLVMValueRef h = CALL(g, "mbx_http_attach", "p:pp", LLVMGetParam(at, 0), opts);
    st(g, h, g->g_http, 8);
    LLVMBasicBlockRef bad = newbb(g, "fail"), ok = newbb(g, "ok");
    LLVMBuildCondBr(g->b, nonnull(g, h), ok, bad);
    LLVMPositionBuilderAtEnd(g->b, bad);
    LLVMValueRef en = ld(g, g->i32, fcall(g, "__errno_location", "p:", NULL), 4);
    LLVMValueRef err = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntNE, en, ci(g->i32, 0), ""),
                                       en, ci(g->i32, ENOMEM), "");
    LLVMBuildRet(g->b, LLVMBuildSub(g->b, ci(g->i32, 0), err, ""));
    LLVMPositionBuilderAtEnd(g->b, ok);
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
        LLVMValueRef id = CALL(g, f, "i:p", h);
        st(g, id, gep(g, LLVMGetParam(at, 1), (size_t)k * 4), 4);
    }
    fn_end(g, ci(g->i32, 0));
    *detach = LLVMAddFunction(g->m, "g_http_detach", LLVMFunctionType(g->vt, NULL, 0, 0));
    LLVMSetLinkage(*detach, LLVMInternalLinkage);
    fn_begin(g, *detach);
    CALL(g, "mbx_http_detach", "v:p", ld(g, g->ptr, g->g_http, 8));
    st(g, nullp(g), g->g_http, 8);
    fn_end(g, NULL);
    return at;
}

/* std.http's http_eve (nothing to attach: http_parser's options switch its EVE output
 * on) and std.av's av_scanner (mbx_av_http.h, over std.http's module, attached first). */
static void stdlib_attach(struct gl *g, const struct ir_module *m, LLVMValueRef *at,
                          LLVMValueRef *de)
{
    char nm[300];
    LLVMTypeRef ps[2] = {g->ptr, g->ptr};
    snprintf(nm, sizeof(nm), "g_%s_attach", m->name);
    *at = LLVMAddFunction(g->m, nm, LLVMFunctionType(g->i32, ps, 2, 0));
    LLVMSetLinkage(*at, LLVMInternalLinkage);
    snprintf(nm, sizeof(nm), "g_%s_detach", m->name);
    *de = LLVMAddFunction(g->m, nm, LLVMFunctionType(g->vt, NULL, 0, 0));
    LLVMSetLinkage(*de, LLVMInternalLinkage);
    g->fn = NULL;
    fn_begin(g, *at);
    LLVMValueRef r = ci(g->i32, 0);
    if (m->is_std_av) {
        LLVMValueRef h = ld(g, g->ptr, g->g_http, 8);
        r = CALL(g, "mbx_av_http_attach", "i:pppip", LLVMGetParam(*at, 0), h, nullp(g),
                 ci(g->i32, 0), LLVMGetParam(*at, 1));
    }
    fn_end(g, r);
    fn_begin(g, *de);
    if (m->is_std_av)
        fcall(g, "mbx_av_http_detach", "v:", NULL);
    fn_end(g, NULL);
}

/* ---------------------------------------------------------------- registration */

static uint8_t cfg_type(enum ir_ty t)
{
    switch (t) {
    case IT_INT:
        return MBX_CFG_INT;
    case IT_BOOL:
        return MBX_CFG_BOOL;
    case IT_STR:
        return MBX_CFG_STR;
    case IT_BYTES:
        return MBX_CFG_BYTES;
    case IT_ADDR:
        return MBX_CFG_IP;
    case IT_PORT:
        return MBX_CFG_PORT;
    case IT_DURATION:
        return MBX_CFG_DURATION;
    case IT_TIME:
        return MBX_CFG_TIME;
    default:
        return MBX_CFG_UINT;
    }
}

static uint8_t tkind(enum ir_ty t)
{
    switch (t) {
    case IT_INT:
        return MBX_TK_INT;
    case IT_BOOL:
        return MBX_TK_BOOL;
    case IT_UINT:
    case IT_PORT:
    case IT_TIME:
    case IT_DURATION:
    case IT_STATE:
        return MBX_TK_UINT;
    case IT_ADDR:
        return MBX_TK_ADDR;
    case IT_STR:
        return MBX_TK_STR;
    case IT_BYTES:
        return MBX_TK_BYTES;
    case IT_TABLE:
        return MBX_TK_SET;
    default:
        return MBX_TK_NONE;
    }
}

/* A zeroed table of n records of size sz, filled by main(). */
static LLVMValueRef tab(struct gl *g, const char *name, size_t sz, int n)
{
    return global(g, LLVMArrayType2(g->i8, sz * (size_t)(n ? n : 1)), name, NULL);
}

static void put_p(struct gl *g, LLVMValueRef base, size_t off, LLVMValueRef v)
{
    st(g, v, gep(g, base, off), 8);
}

static void put_i(struct gl *g, LLVMValueRef base, size_t off, size_t n, uint64_t v)
{
    LLVMTypeRef t = n == 1 ? g->i8 : n == 4 ? g->i32 : g->i64;
    st(g, ci(t, v), gep(g, base, off), (unsigned)n);
}

#define PUTI(g, base, T, m, v) put_i(g, base, offsetof(T, m), FSIZE(T, m), (uint64_t)(v))
#define PUTP(g, base, T, m, v) put_p(g, base, offsetof(T, m), v)

/* A pointer to a period / expire / max value: a config, or a constant of its own. */
static LLVMValueRef value_ref(struct gl *g, const struct ir_expr *x, const char *name)
{
    if (x->op == X_CONFIG)
        return g->cfg[x->index];
    LLVMValueRef v = global(g, g->i64, name, NULL);
    LLVMValueRef c = ex(g, x);
    if (LLVMTypeOf(c) == g->i1)
        c = LLVMBuildZExt(g->b, c, g->i64, "");
    st(g, c, v, 8);
    return v;
}

static bool sub_event_controlled(const struct ir_prog *p, const struct ir_event *ev)
{
    for (int i = 0; i < p->nsubs; i++)
        if (p->subs[i].event == ev && !p->subs[i].direct &&
            (p->subs[i].fn->unsub || (p->subs[i].flags & MBX_SUB_PER_FLOW)))
            return true;
    return false;
}

/* g_vars(void **v): the addresses of this thread's variables, in the order of
 * mbx_program.worker_vars (subscriptions in g_subs' order). */
static void worker_vars(struct gl *g)
{
    const struct ir_prog *p = g->p;
    LLVMTypeRef pt = g->ptr;
    g->vars = LLVMAddFunction(g->m, "g_vars", LLVMFunctionType(g->vt, &pt, 1, 0));
    LLVMSetLinkage(g->vars, LLVMInternalLinkage);
    g->fn = NULL;
    fn_begin(g, g->vars);
    LLVMValueRef v = LLVMGetParam(g->vars, 0);
    put_p(g, v, 0, g->g_ev);
    if (g->fs_size)
        put_p(g, v, 8, g->g_slot);
    for (int i = 0; i < p->ntables; i++)
        put_p(g, v, 8 * (size_t)(2 + i), g->tbl[i]);
    size_t k = 2 + (size_t)p->ntables;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < p->nsubs; i++) {
            const struct ir_sub *s = &p->subs[i];
            if (s->direct || sub_event_controlled(p, s->event) != (pass == 0))
                continue;
            put_p(g, v, 8 * k++, gep(g, g->g_sub, (size_t)i * 4));
        }
    fn_end(g, NULL);
}

static void registration(struct gl *g)
{
    const struct ir_prog *p = g->p;
    worker_vars(g);
    LLVMTypeRef mp[2] = {g->i32, g->ptr};
    LLVMValueRef mainf = LLVMAddFunction(g->m, "main", LLVMFunctionType(g->i32, mp, 2, 0));
    g->fn = NULL;
    fn_begin(g, mainf);
    g->ev = g->e = nullp(g);
    g->now = c64(g, 0);
    /* configs: their defaults */
    for (int i = 0; i < p->nconfigs; i++)
        if (p->configs[i].init)
            mstore(g, p->configs[i].ty, ex(g, p->configs[i].init), g->cfg[i]);
    LLVMValueRef mods = tab(g, "g_modules", sizeof(struct mbx_prog_module), p->nmodules);
    for (int i = 0; i < p->nmodules; i++) {
        LLVMValueRef r = gep(g, mods, sizeof(struct mbx_prog_module) * (size_t)i);
        PUTP(g, r, struct mbx_prog_module, name, cstr(g, p->modules[i].name));
        PUTI(g, r, struct mbx_prog_module, is_extern, p->modules[i].is_extern);
        PUTI(g, r, struct mbx_prog_module, reads, p->modules[i].reads);
    }
    LLVMValueRef cfgs = tab(g, "g_configs", sizeof(struct mbx_prog_config), p->nconfigs);
    for (int i = 0; i < p->nconfigs; i++) {
        const struct ir_config *c = &p->configs[i];
        LLVMValueRef r = gep(g, cfgs, sizeof(struct mbx_prog_config) * (size_t)i);
        PUTP(g, r, struct mbx_prog_config, module, cstr(g, c->module));
        PUTP(g, r, struct mbx_prog_config, key, cstr(g, c->name));
        PUTI(g, r, struct mbx_prog_config, type, cfg_type(c->ty));
        PUTP(g, r, struct mbx_prog_config, var, g->cfg[i]);
    }
    LLVMValueRef tbls = tab(g, "g_tables", sizeof(struct mbx_prog_table), p->ntables);
    for (int i = 0; i < p->ntables; i++) {
        const struct ir_table *t = p->tables[i];
        LLVMValueRef r = gep(g, tbls, sizeof(struct mbx_prog_table) * (size_t)i);
        LLVMValueRef d = gep(g, r, offsetof(struct mbx_prog_table, def));
        char nm[300];
        snprintf(nm, sizeof(nm), "%s.%s", t->module, t->name);
        PUTP(g, d, struct mbx_table_def, name, cstr(g, nm));
        PUTI(g, d, struct mbx_table_def, key, tkind(t->key));
        PUTI(g, d, struct mbx_table_def, val, t->val_is_set ? MBX_TK_SET : tkind(t->val));
        PUTI(g, d, struct mbx_table_def, elem, t->val_is_set ? tkind(t->elem) : MBX_TK_NONE);
        if (t->expire) {
            snprintf(nm, sizeof(nm), "g_expire_%d", i);
            PUTP(g, r, struct mbx_prog_table, expire, value_ref(g, t->expire, nm));
        }
        if (t->max) {
            snprintf(nm, sizeof(nm), "g_max_%d", i);
            PUTP(g, r, struct mbx_prog_table, max, value_ref(g, t->max, nm));
        }
    }
    int next = 0;
    for (int i = 0; i < p->nmodules; i++)
        next += p->modules[i].is_extern;
    LLVMValueRef exts = tab(g, "g_externs", sizeof(struct mbx_prog_extern), next);
    LLVMTypeRef ap[2] = {g->ptr, g->ptr};
    /* std.http's parser first (std.av's scanner attaches to it), then the others in
     * pipeline order, as cgc.c registers them */
    for (int x = 0, j = 0; x < 2 * p->nmodules; x++) {
        int i = x % p->nmodules;
        const struct ir_module *m = &p->modules[i];
        if (!m->is_extern || m->is_std_http != (x < p->nmodules))
            continue;
        LLVMValueRef r = gep(g, exts, sizeof(struct mbx_prog_extern) * (size_t)j++);
        LLVMValueRef at, de;
        if (m->is_std_http) {
            at = g->http_at;
            de = g->http_de;
        } else if (m->is_std_http_eve || m->is_std_av) {
            at = g->ext_at[i];
            de = g->ext_de[i];
        } else {
            char nm[300];
            snprintf(nm, sizeof(nm), "mbx_ext_%s_attach", m->name);
            at = LLVMAddFunction(g->m, nm, LLVMFunctionType(g->i32, ap, 2, 0));
            snprintf(nm, sizeof(nm), "mbx_ext_%s_detach", m->name);
            de = LLVMAddFunction(g->m, nm, LLVMFunctionType(g->vt, NULL, 0, 0));
        }
        PUTP(g, r, struct mbx_prog_extern, name, cstr(g, m->name));
        PUTP(g, r, struct mbx_prog_extern, attach, at);
        PUTP(g, r, struct mbx_prog_extern, detach, de);
        if (m->nexports) {
            char nm[300];
            snprintf(nm, sizeof(nm), "g_slots_%s", m->name);
            LLVMValueRef sl = tab(g, nm, 4, m->nexports);
            for (int k = 0; k < m->nexports; k++)
                put_i(g, sl, (size_t)k * 4, 4, (uint64_t)m->exports[k]->slot);
            PUTP(g, r, struct mbx_prog_extern, slots, sl);
            PUTI(g, r, struct mbx_prog_extern, nslots, m->nexports);
        }
    }
    int nev = 0;
    for (int i = 0; i < p->nevents; i++)
        nev += p->events[i]->kind == EV_RAISED || p->events[i]->kind == EV_DERIVED;
    LLVMValueRef evs = tab(g, "g_events", sizeof(struct mbx_prog_event), nev);
    for (int i = 0, j = 0; i < p->nevents; i++) {
        const struct ir_event *ev = p->events[i];
        if (ev->kind != EV_RAISED && ev->kind != EV_DERIVED)
            continue;
        LLVMValueRef r = gep(g, evs, sizeof(struct mbx_prog_event) * (size_t)j++);
        PUTP(g, r, struct mbx_prog_event, name, cstr(g, ev->name));
        PUTI(g, r, struct mbx_prog_event, slot, ev->slot);
        PUTI(g, r, struct mbx_prog_event, base_slot, ev->kind == EV_RAISED ? -1 : ev->base->slot);
        if (ev->kind == EV_DERIVED && ev->filter) {
            int fi = 0;
            while (p->funcs[fi] != ev->filter)
                fi++;
            PUTP(g, r, struct mbx_prog_event, filter, g->fns[fi]);
        }
    }
    int nrt = 0;
    for (int i = 0; i < p->nsubs; i++)
        nrt += !p->subs[i].direct;
    LLVMValueRef subs = tab(g, "g_subs", sizeof(struct mbx_prog_sub), nrt);
    int j = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < p->nsubs; i++) {
            const struct ir_sub *s = &p->subs[i];
            if (s->direct || sub_event_controlled(p, s->event) != (pass == 0))
                continue;
            LLVMValueRef r = gep(g, subs, sizeof(struct mbx_prog_sub) * (size_t)j++);
            int fi = 0;
            while (p->funcs[fi] != s->fn)
                fi++;
            PUTI(g, r, struct mbx_prog_sub, module, s->module);
            PUTI(g, r, struct mbx_prog_sub, slot, s->event->slot);
            PUTP(g, r, struct mbx_prog_sub, fn, g->fns[fi]);
            PUTI(g, r, struct mbx_prog_sub, flags, s->flags);
        }
    LLVMValueRef tms = tab(g, "g_timers", sizeof(struct mbx_prog_timer), p->ntimers);
    for (int i = 0; i < p->ntimers; i++) {
        LLVMValueRef r = gep(g, tms, sizeof(struct mbx_prog_timer) * (size_t)i);
        char nm[64];
        snprintf(nm, sizeof(nm), "g_period_%d", i);
        int fi = 0;
        while (p->funcs[fi] != p->timers[i].fn)
            fi++;
        PUTI(g, r, struct mbx_prog_timer, module, p->timers[i].module);
        PUTP(g, r, struct mbx_prog_timer, period, value_ref(g, p->timers[i].period, nm));
        PUTP(g, r, struct mbx_prog_timer, fn, g->fns[fi]);
    }
    LLVMValueRef pr = tab(g, "g_prog", sizeof(struct mbx_program), 1);
    PUTP(g, pr, struct mbx_program, name, cstr(g, p->name));
    PUTP(g, pr, struct mbx_program, modules, mods);
    PUTI(g, pr, struct mbx_program, nmodules, p->nmodules);
    if (p->nconfigs) {
        PUTP(g, pr, struct mbx_program, configs, cfgs);
        PUTI(g, pr, struct mbx_program, nconfigs, p->nconfigs);
    }
    if (p->ntables) {
        PUTP(g, pr, struct mbx_program, tables, tbls);
        PUTI(g, pr, struct mbx_program, ntables, p->ntables);
    }
    if (next) {
        PUTP(g, pr, struct mbx_program, externs, exts);
        PUTI(g, pr, struct mbx_program, nexterns, next);
    }
    if (nev) {
        PUTP(g, pr, struct mbx_program, events, evs);
        PUTI(g, pr, struct mbx_program, nevents, nev);
    }
    if (nrt) {
        PUTP(g, pr, struct mbx_program, subs, subs);
        PUTI(g, pr, struct mbx_program, nsubs, nrt);
    }
    if (p->ntimers) {
        PUTP(g, pr, struct mbx_program, timers, tms);
        PUTI(g, pr, struct mbx_program, ntimers, p->ntimers);
    }
    PUTI(g, pr, struct mbx_program, nslots, p->nslots);
    if (g->fs_size)
        PUTI(g, pr, struct mbx_program, flow_state, g->fs_size);
    PUTP(g, pr, struct mbx_program, worker_vars, g->vars);
    LLVMValueRef r =
        CALL(g, "mbx_main", "i:ipp", LLVMGetParam(mainf, 0), LLVMGetParam(mainf, 1), pr);
    fn_end(g, r);
}

/* ---------------------------------------------------------------- the module */

static LLVMTargetMachineRef target_machine(char **triple_out)
{
    LLVMInitializeNativeTarget();
    LLVMInitializeNativeAsmPrinter();
    char *triple = LLVMGetDefaultTargetTriple();
    if (strncmp(triple, "x86_64", 6) != 0) {
        fprintf(stderr,
                "mbxc: the LLVM back end supports x86-64 hosts only (the C ABI of struct "
                "arguments), not %s; use --backend=c\n",
                triple);
        LLVMDisposeMessage(triple);
        return NULL;
    }
    LLVMTargetRef t;
    char *err = NULL;
    if (LLVMGetTargetFromTriple(triple, &t, &err)) {
        fprintf(stderr, "mbxc: LLVM has no target %s: %s\n", triple, err);
        LLVMDisposeMessage(err);
        LLVMDisposeMessage(triple);
        return NULL;
    }
    LLVMTargetMachineRef tm = LLVMCreateTargetMachine(
        t, triple, "x86-64", "", LLVMCodeGenLevelDefault, LLVMRelocPIC, LLVMCodeModelDefault);
    *triple_out = triple;
    return tm;
}

/* Build and verify the module of p; NULL after a message. */
static LLVMModuleRef build_module(const struct ir_prog *p, LLVMContextRef c,
                                  LLVMTargetMachineRef tm, const char *triple)
{
    struct gl g0 = {.p = p, .c = c}, *g = &g0;
    g->m = LLVMModuleCreateWithNameInContext(p->name, c);
    LLVMSetSourceFileName(g->m, p->source ? p->source : "?", strlen(p->source ? p->source : "?"));
    LLVMSetTarget(g->m, triple);
    LLVMTargetDataRef td = LLVMCreateTargetDataLayout(tm);
    LLVMSetModuleDataLayout(g->m, td);
    LLVMDisposeTargetData(td);
    g->b = LLVMCreateBuilderInContext(c);
    g->ab = LLVMCreateBuilderInContext(c);
    g->i1 = LLVMInt1TypeInContext(c);
    g->i8 = LLVMInt8TypeInContext(c);
    g->i16 = LLVMInt16TypeInContext(c);
    g->i32 = LLVMInt32TypeInContext(c);
    g->i64 = LLVMInt64TypeInContext(c);
    g->i128 = LLVMInt128TypeInContext(c);
    g->ptr = LLVMPointerTypeInContext(c, 0);
    g->vt = LLVMVoidTypeInContext(c);
    LLVMTypeRef sf[2] = {g->ptr, g->i64}, ef[2] = {g->ptr, g->i32},
                kf[3] = {g->i64, g->ptr, g->i64};
    g->str = LLVMStructTypeInContext(c, sf, 2, 0);
    g->endp = LLVMStructTypeInContext(c, ef, 2, 0);
    g->tkey = LLVMStructTypeInContext(c, kf, 3, 0);

    size_t nm = (size_t)p->nmodules + 1;
    g->cfg = calloc((size_t)p->nconfigs + 1, sizeof(*g->cfg));
    g->tbl = calloc((size_t)p->ntables + 1, sizeof(*g->tbl));
    g->fns = calloc((size_t)p->nfuncs + 1, sizeof(*g->fns));
    g->raisers = calloc((size_t)p->nevents + 1, sizeof(*g->raisers));
    g->stget = calloc(nm, sizeof(*g->stget));
    g->stoff = calloc(nm, sizeof(*g->stoff));
    g->ext_at = calloc(nm, sizeof(*g->ext_at));
    g->ext_de = calloc(nm, sizeof(*g->ext_de));
    if (!g->cfg || !g->tbl || !g->fns || !g->raisers || !g->stget || !g->stoff || !g->ext_at ||
        !g->ext_de)
        abort();
    for (int i = 0; i < p->nconfigs; i++) {
        char name[300];
        snprintf(name, sizeof(name), "cfg_%s_%s", p->configs[i].module, p->configs[i].name);
        enum ir_ty t = p->configs[i].ty;
        LLVMTypeRef ty = t == IT_BOOL ? g->i8 : vty(g, t);
        g->cfg[i] = global(g, ty, name, NULL);
    }
    for (int i = 0; i < p->ntables; i++) {
        char name[300];
        snprintf(name, sizeof(name), "tb_%s_%s", p->tables[i]->module, p->tables[i]->name);
        g->tbl[i] = tls_global(g, g->ptr, name, NULL);
    }
    g->g_ev = tls_global(g, LLVMArrayType2(g->i32, (uint64_t)p->nslots), "g_ev", NULL);
    if (p->uses_std_http) /* std.http's module, attached first */
        g->g_http = tls_global(g, g->ptr, "g_http", NULL);
    g->g_sub =
        tls_global(g, LLVMArrayType2(g->i32, (uint64_t)(p->nsubs ? p->nsubs : 1)), "g_sub", NULL);
    for (int i = 0; i < p->nfuncs; i++)
        g->fns[i] = func_decl(g, p->funcs[i]);
    state_fns(g);
    raisers(g);
    for (int i = 0; i < p->nfuncs && !g->failed; i++)
        func(g, i);
    for (int i = 0; i < p->nmodules && !g->failed; i++)
        if (p->modules[i].is_extern && p->modules[i].is_std_http && g->http_at == NULL)
            g->http_at = http_attach(g, &p->modules[i], &g->http_de);
    for (int i = 0; i < p->nmodules && !g->failed; i++)
        if (p->modules[i].is_extern && (p->modules[i].is_std_http_eve || p->modules[i].is_std_av))
            stdlib_attach(g, &p->modules[i], &g->ext_at[i], &g->ext_de[i]);
    if (!g->failed)
        registration(g);
    LLVMDisposeBuilder(g->b);
    LLVMDisposeBuilder(g->ab);
    free(g->cfg);
    free(g->tbl);
    free(g->fns);
    free(g->raisers);
    free(g->stget);
    free(g->stoff);
    free(g->ext_at);
    free(g->ext_de);
    for (int i = 0; i < g->nstr; i++)
        free(g->strs[i].s);
    free(g->strs);
    if (g->failed) {
        LLVMDisposeModule(g->m);
        return NULL;
    }
    char *msg = NULL;
    if (LLVMVerifyModule(g->m, LLVMReturnStatusAction, &msg)) {
        fprintf(stderr, "mbxc: internal compiler error: the LLVM module does not verify:\n%s\n",
                msg);
        LLVMDisposeMessage(msg);
        if (getenv("MBXC_LLVM_DUMP")) /* debugging mbxc: the module that failed */
            LLVMDumpModule(g->m);
        LLVMDisposeModule(g->m);
        return NULL;
    }
    LLVMDisposeMessage(msg);
    return g->m;
}

/* emit-llvm: the verified module as text (before optimisation). */
static int cgl_emit(const struct ir_prog *p, FILE *out)
{
    char *triple = NULL;
    LLVMTargetMachineRef tm = target_machine(&triple);
    if (tm == NULL)
        return -1;
    LLVMContextRef c = LLVMContextCreate();
    LLVMModuleRef m = build_module(p, c, tm, triple);
    int rc = -1;
    if (m) {
        char *s = LLVMPrintModuleToString(m);
        fprintf(out, "; Generated by mbxc %s from %s (pipeline %s). Do not edit.\n", MBXC_VERSION,
                p->source ? p->source : "?", p->name);
        fputs(s, out);
        LLVMDisposeMessage(s);
        LLVMDisposeModule(m);
        rc = 0;
    }
    LLVMContextDispose(c);
    LLVMDisposeTargetMachine(tm);
    LLVMDisposeMessage(triple);
    return rc;
}

int cgl_emit_object(const struct ir_prog *p, const char *path)
{
    char *triple = NULL;
    LLVMTargetMachineRef tm = target_machine(&triple);
    if (tm == NULL)
        return -1;
    LLVMContextRef c = LLVMContextCreate();
    LLVMModuleRef m = build_module(p, c, tm, triple);
    int rc = -1;
    if (m) {
        LLVMPassBuilderOptionsRef o = LLVMCreatePassBuilderOptions();
        LLVMErrorRef e = LLVMRunPasses(m, "default<O2>", tm, o);
        LLVMDisposePassBuilderOptions(o);
        char *err = NULL;
        if (e) {
            char *msg = LLVMGetErrorMessage(e);
            fprintf(stderr, "mbxc: internal compiler error: LLVM passes: %s\n", msg);
            LLVMDisposeErrorMessage(msg);
        } else if (LLVMTargetMachineEmitToFile(tm, m, path, LLVMObjectFile, &err)) {
            fprintf(stderr, "mbxc: LLVM cannot write %s: %s\n", path, err);
            LLVMDisposeMessage(err);
        } else {
            rc = 0;
        }
        LLVMDisposeModule(m);
    }
    LLVMContextDispose(c);
    LLVMDisposeTargetMachine(tm);
    LLVMDisposeMessage(triple);
    return rc;
}

const struct backend cgl_backend = {"llvm", ".ll", cgl_emit};
