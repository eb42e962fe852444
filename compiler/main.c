/*
 * main.c - the mbxc command line.
 *
 *   mbxc check FILE...   parse + resolve + typecheck + link + analyse
 *   mbxc graph FILE...   the linked pipeline as Graphviz DOT on stdout
 *   mbxc build FILE -o BIN | emit-c FILE | emit-llvm FILE   the back ends (build.c;
 *                        --backend=llvm and emit-llvm: cgl.c, registered here)
 * Exit status: 0 clean, 1 errors in the program, 2 usage or I/O error,
 * 3 internal error (the prelude disagrees with mbx_events.def).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "front.h"

static const char usage[] =
    "usage: mbxc COMMAND [OPTIONS] FILE...\n"
    "\n"
    "commands:\n"
    "  check FILE...        parse, type-check and link-check; exit 1 on errors\n"
    "  graph FILE...        print the linked pipeline as Graphviz DOT\n"
    "  build FILE -o BIN [X.c...]  native binary: C back end, $CC -O2, libmbx\n"
    "                       (X.c/.o/.a: the C side of extern modules; --keep-c)\n"
    "  emit-c FILE [-o F]   print the generated C (--dump-after=lower: the IR)\n"
    "  emit-llvm FILE [-o F]  print the LLVM IR of the LLVM back end\n"
    "                       (build --backend=llvm: a binary through LLVM instead of $CC)\n"
    "\n"
    "options:\n"
    "  -I DIR               look for `use`d units in DIR (before MBX_PATH and the stdlib)\n"
    "  -Werror              make every warning an error\n"
    "  -Werror=NAME         make warning NAME an error\n"
    "  -Wno-NAME            disable warning NAME\n"
    "                       (NAME: unused-handler, unused-export, unused-import)\n"
    "  --max-errors=N       stop showing errors after N (default 20)\n"
    "  --stdlib=DIR         read prelude.mbx and std.* units from DIR\n"
    "  --json-diagnostics   print diagnostics as one JSON array on stderr\n"
    "  --dump-after=PASS    print the program after PASS\n"
    "                       (parse, resolve, typecheck, link, analyse)\n"
    "  --help, --version\n"
    "\n"
    "environment: MBX_PATH=DIR:DIR... more unit directories\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mbxc: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'mbxc --help'.\n", stderr);
    return 2;
}

int main(int argc, char **argv)
{
    const char *cmd = NULL;
    const char *files[256];
    int nfiles = 0;
    const char *incs[64];
    int nincs = 0;
    bool json = false, werror = false;
    unsigned wdis = 0, werr = 0;
    build_register_llvm(&cgl_backend, cgl_emit_object);
    int max_errors = 20;
    const char *dump = NULL;

    /* the back-end commands parse their own options (-o, --backend=, C inputs) */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-I") == 0) {
            i++;
            continue;
        }
        if (argv[i][0] == '-')
            continue;
        if (strcmp(argv[i], "build") == 0 || strcmp(argv[i], "emit-c") == 0 ||
            strcmp(argv[i], "emit-llvm") == 0)
            return build_command(argc, argv, i);
        break;
    }
    const char *stdlib = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("mbxc %s\n", MBXC_VERSION);
            return 0;
        } else if (strcmp(a, "-I") == 0 || strncmp(a, "-I", 2) == 0) {
            const char *dir = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
            if (!dir)
                return usage_error("%s needs a directory", "-I");
            if (nincs == 64)
                return usage_error("too many %s options", "-I");
            incs[nincs++] = dir;
        } else if (strcmp(a, "-Werror") == 0) {
            werror = true;
        } else if (strncmp(a, "-Werror=", 8) == 0) {
            int w = diag_warn_by_name(a + 8);
            if (w < 0)
                return usage_error("unknown warning '%s'", a + 8);
            werr |= 1u << w;
        } else if (strncmp(a, "-Wno-", 5) == 0) {
            int w = diag_warn_by_name(a + 5);
            if (w < 0)
                return usage_error("unknown warning '%s'", a + 5);
            wdis |= 1u << w;
        } else if (strncmp(a, "-W", 2) == 0) {
            if (diag_warn_by_name(a + 2) < 0)
                return usage_error("unknown warning '%s'", a + 2);
        } else if (strcmp(a, "--json-diagnostics") == 0) {
            json = true;
        } else if (strncmp(a, "--dump-after=", 13) == 0) {
            dump = a + 13;
            static const char *const passes[] = {"parse", "resolve", "typecheck", "link",
                                                 "analyse"};
            bool ok = false;
            for (size_t k = 0; k < sizeof(passes) / sizeof(passes[0]); k++)
                ok |= strcmp(dump, passes[k]) == 0;
            if (!ok)
                return usage_error("unknown pass '%s' (parse, resolve, typecheck, link, analyse)",
                                   dump);
        } else if (strncmp(a, "--stdlib=", 9) == 0) {
            stdlib = a + 9;
        } else if (strncmp(a, "--max-errors=", 13) == 0) {
            char *end;
            long n = strtol(a + 13, &end, 10);
            if (*end || n < 1 || n > 100000)
                return usage_error("bad --max-errors value '%s'", a + 13);
            max_errors = (int)n;
        } else if (a[0] == '-' && a[1]) {
            return usage_error("unknown option '%s'", a);
        } else if (!cmd) {
            cmd = a;
        } else {
            if (nfiles == 256)
                return usage_error("too many files (the limit is %s)", "256");
            files[nfiles++] = a;
        }
    }
    if (!cmd)
        return usage_error("%s", "no command given (check, graph, build, emit-c, emit-llvm)");
    bool graph = strcmp(cmd, "graph") == 0;
    if (!graph && strcmp(cmd, "check") != 0)
        return usage_error("unknown command '%s'", cmd);
    if (nfiles == 0)
        return usage_error("'%s' needs at least one FILE", cmd);

    struct mbxc mc;
    mbxc_init(&mc, stderr);
    mc.diag.json = json;
    mc.diag.werror_all = werror;
    mc.diag.werror = werr;
    mc.diag.wdisabled = wdis;
    mc.diag.max_errors = max_errors;
    mc.dump_after = dump;
    if (stdlib)
        mc.stdlib_dirs[0] = mc.stdlib_dirs[1] = stdlib;
    for (int i = 0; i < nincs; i++)
        mbxc_add_path(&mc, incs[i]);
    mbxc_add_default_paths(&mc);

    int status = 0;
    if (parse_prelude(&mc) != 0) {
        status = 2;
    } else {
        for (int i = 0; i < nfiles; i++)
            if (!parse_file(&mc, files[i], NULL, true))
                status = 2;
    }
    if (status == 0) {
        parse_uses(&mc);
        mbxc_check(&mc);
        if (mc.internal_error)
            status = 3;
        else if (mc.diag.errors)
            status = 1;
        else if (graph)
            link_print_dot(&mc, stdout);
    }
    diag_flush(&mc.diag, true);
    mbxc_fini(&mc);
    return status;
}
