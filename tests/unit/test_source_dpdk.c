/*
 * test_source_dpdk.c - the DPDK source against the file source (mbx.h section 3).
 *
 * The EAL runs without hugepages or PCI, with a file prefix unique to this
 * process, and a net_pcap vdev replays ../shared/corpora/netem-http/client.pcap.
 * What comes out of the port must be what the mmap reader gives for the same
 * file: the same number of frames, the same bytes, the same timestamps, and the
 * input must end by itself (the end-of-file rule in mbx.h).  Inline mode is
 * checked with a second vdev whose TX writes a capture: every frame forwarded
 * from port 0 must come out there, byte for byte.  The EAL starts once per
 * process, so the tests run in order in one process: later opens reuse it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mbx.h"

static char capture[512];
static char prefix[64];
static char vdev[700];
static char vdev1[1400];
static char fwd_path[600];
static char tmpdir[256];
static bool dpdk_missing; /* libmbx built without DPDK: the other tests skip too */

/* EAL argument vectors: the EAL wants char **, string literals are const. */
static char argbuf[16][700];
static char *args[16];
static char **make_argv(const char *const *words, int n)
{
    for (int i = 0; i < n; i++) {
        snprintf(argbuf[i], sizeof argbuf[i], "%s", words[i]);
        args[i] = argbuf[i];
    }
    args[n] = NULL;
    return args;
}

/* Reads src to its end and compares every frame with the file source's. */
static void compare_with_file(struct mbx_source *d)
{
    char err[512];
    struct mbx_source *f = mbx_source_open_file(capture, err, sizeof err);
    if (!f)
        fail_msg("%s", err);
    struct mbx_frame fd[32], ff[1];
    long frames = 0;
    unsigned long long bytes = 0;
    for (;;) {
        int n = mbx_source_next(d, fd, 32);
        if (n == -EAGAIN) /* mbx.h: ports that replay files never give -EAGAIN */
            fail_msg("-EAGAIN from a file-backed port after %ld frames", frames);
        if (n < 0)
            fail_msg("dpdk: %d %s", n, mbx_source_error(d));
        if (n == 0)
            break;
        assert_true(n <= 32);
        for (int i = 0; i < n; i++) {
            assert_int_equal(mbx_source_next(f, ff, 1), 1);
            assert_int_equal(fd[i].caplen, ff[0].caplen);
            assert_int_equal(fd[i].ts, ff[0].ts);
            assert_int_equal(fd[i].linktype, MBX_LINK_ETHERNET);
            assert_non_null(fd[i].priv); /* the mbuf */
            assert_memory_equal(fd[i].data, ff[0].data, ff[0].caplen);
            bytes += fd[i].caplen;
            frames++;
        }
        /* hand back half of the bursts, leave the others to the next call */
        if (frames % 2)
            mbx_source_done(d, fd, NULL, n);
    }
    assert_int_equal(mbx_source_next(f, ff, 1), 0); /* the file has nothing more */
    /* corpora/README.md (netem-http): capinfos gives 3133 packets */
    assert_int_equal(frames, 3133);
    print_message("%ld frames, %llu bytes, same as the file\n", frames, bytes);
    assert_int_equal(mbx_source_next(d, fd, 32), 0); /* the end stays the end */
    mbx_source_close(f);
}

static void test_dpdk_same_as_file(void **state)
{
    const char *eal[] = {"test_source_dpdk",
                         "--no-huge",
                         "--no-shconf",
                         "--no-telemetry",
                         "-m",
                         "512",
                         "--no-pci",
                         prefix,
                         vdev,
                         vdev1,
                         "-l",
                         "0",
                         "--log-level=error"};
    int n = (int)(sizeof eal / sizeof eal[0]);
    char err[512] = "";
    uint16_t port = 0;
    struct mbx_source *d =
        mbx_source_open_dpdk(n, make_argv(eal, n), &port, 1, false, err, sizeof err);
    if (!d && strstr(err, "built without DPDK")) {
        print_message("skipped: %s\n", err); /* MBX_WITH_DPDK=OFF */
        dpdk_missing = true;
        skip();
    }
    if (!d)
        fail_msg("%s", err);
    compare_with_file(d);
    mbx_source_close(d);
}

/* The EAL is up: a second open ignores its arguments and restarts the port,
 * which replays the file from its start. */
static void test_dpdk_reopen(void **state)
{
    if (dpdk_missing)
        skip();
    const char *eal[] = {"ignored", "--this-is-not-an-eal-option"};
    uint16_t port = 0;
    char err[512] = "";
    struct mbx_source *d =
        mbx_source_open_dpdk(2, make_argv(eal, 2), &port, 1, false, err, sizeof err);
    if (!d)
        fail_msg("%s", err);
    compare_with_file(d);
    mbx_source_close(d);
}

/* Inline: port 0 <-> port 1; everything read on port 0 goes out of port 1,
 * whose net_pcap TX writes fwd.pcap. */
static void test_dpdk_inline(void **state)
{
    if (dpdk_missing)
        skip();
    const char *words[] = {"x"};
    uint16_t ports[2] = {0, 1};
    char err[512] = "";
    struct mbx_source *d =
        mbx_source_open_dpdk(1, make_argv(words, 1), ports, 2, true, err, sizeof err);
    if (!d)
        fail_msg("%s", err);
    struct mbx_frame f[32];
    bool fwd[32];
    for (int i = 0; i < 32; i++)
        fwd[i] = true;
    long frames = 0;
    for (;;) {
        int n = mbx_source_next(d, f, 32);
        assert_true(n >= 0); /* no -EAGAIN: both ports replay files */
        if (n == 0)
            break;
        frames += n;
        mbx_source_done(d, f, fwd, n);
    }
    /* both files: netem-http client.pcap (3133) and bug-814 input.pcap (7, capinfos) */
    assert_int_equal(frames, 3133 + 7);
    mbx_source_close(d); /* stopping port 1 closes its TX capture */
    struct mbx_source *a = mbx_source_open_file(capture, err, sizeof err);
    struct mbx_source *b = mbx_source_open_file(fwd_path, err, sizeof err);
    if (!a || !b)
        fail_msg("%s", err);
    struct mbx_frame x[1], y[1];
    long same = 0;
    while (mbx_source_next(a, x, 1) == 1) {
        assert_int_equal(mbx_source_next(b, y, 1), 1);
        assert_int_equal(x[0].caplen, y[0].caplen);
        assert_memory_equal(x[0].data, y[0].data, x[0].caplen);
        same++;
    }
    assert_int_equal(mbx_source_next(b, y, 1), 0);
    assert_int_equal(same, 3133);
    mbx_source_close(a);
    mbx_source_close(b);
}

static void test_dpdk_errors(void **state)
{
    if (dpdk_missing)
        skip();
    const char *words[] = {"x"};
    char **eal = make_argv(words, 1);
    char err[512] = "";
    uint16_t bad = 7;
    assert_null(mbx_source_open_dpdk(1, eal, &bad, 1, false, err, sizeof err));
    assert_string_equal(err, "dpdk: no port 7 (2 available)");
    uint16_t one = 0;
    assert_null(mbx_source_open_dpdk(1, eal, &one, 1, true, err, sizeof err));
    assert_string_equal(err, "dpdk: inline mode needs exactly 2 ports, 1 given");
    uint16_t twice[2] = {0, 0};
    assert_null(mbx_source_open_dpdk(1, eal, twice, 2, false, err, sizeof err));
    assert_string_equal(err, "dpdk: port 0 given twice");
}

int main(void)
{
    snprintf(capture, sizeof capture, "%s/corpora/netem-http/client.pcap", MBX_SHARED_DIR);
    snprintf(prefix, sizeof prefix, "--file-prefix=mbxtest%d", (int)getpid());
    snprintf(vdev, sizeof vdev, "--vdev=net_pcap0,rx_pcap=%s", capture);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mbx-test-dpdk-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    snprintf(fwd_path, sizeof fwd_path, "%s/fwd.pcap", tmpdir);
    snprintf(vdev1, sizeof vdev1,
             "--vdev=net_pcap1,rx_pcap=%s/corpora/suricata-verify/bug-814/input.pcap,tx_pcap=%s",
             MBX_SHARED_DIR, fwd_path);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dpdk_same_as_file),
        cmocka_unit_test(test_dpdk_reopen),
        cmocka_unit_test(test_dpdk_inline),
        cmocka_unit_test(test_dpdk_errors),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(fwd_path);
    rmdir(tmpdir);
    /* the EAL's runtime folder for our prefix, empty under --no-shconf */
    char run[600];
    snprintf(run, sizeof run, "/var/run/dpdk/mbxtest%d", (int)getpid());
    rmdir(run);
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (xdg) {
        snprintf(run, sizeof run, "%s/dpdk/mbxtest%d", xdg, (int)getpid());
        rmdir(run);
    }
    return rc;
}
