/*
 * test_source.c - unit tests of capture file and live sources (mbx.h section 3).
 *
 * Small pcap files are written here byte by byte (both byte orders, us and ns
 * magic) and read back; pcapng is made from them by tshark during the test and
 * must give the same frames through libpcap; a FIFO exercises the non-seekable
 * path; every refusal (missing, empty, garbage, cut header, cut record, record
 * over the snap length) is checked for its code and its one-line message.  The
 * whole ../shared/corpora is read and compared with capinfos (packets, data
 * size), run during the test as the independent count.  Live capture reads a
 * datagram sent to the loopback interface.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "mbx.h"
#include "source.h"

static char tmpdir[256];

/* ------------------------------------------------------------ pcap writer */

struct rec {
    uint32_t sec, frac; /* frac: us or ns as the file says */
    uint32_t caplen, wirelen;
    uint8_t fill; /* every captured byte is fill + its index */
};

/* Three records: a whole frame, a frame cut by the snap length, an empty one. */
static const struct rec recs_us[3] = {
    {1700000000, 123456, 60, 60, 0x10},
    {1700000001, 999999, 10, 1500, 0x80},
    {1700000002, 0, 0, 64, 0},
};
static const struct rec recs_ns[3] = {
    {1700000000, 123456789, 60, 60, 0x10},
    {1700000001, 999999999, 10, 1500, 0x80},
    {1700000002, 1, 0, 64, 0},
};

struct buf {
    uint8_t b[1 << 16];
    size_t n;
};

static void w32(struct buf *b, uint32_t v, bool big)
{
    for (int i = 0; i < 4; i++)
        b->b[b->n++] = (uint8_t)(big ? v >> (24 - 8 * i) : v >> (8 * i));
}
static void w16(struct buf *b, uint16_t v, bool big)
{
    b->b[b->n++] = (uint8_t)(big ? v >> 8 : v);
    b->b[b->n++] = (uint8_t)(big ? v : v >> 8);
}

/* A classic pcap image: magic written in the file's order (so that a reader
 * on this host sees it swapped when big is set), version 2.4, snaplen, link. */
static void pcap_image(struct buf *b, bool big, bool ns, uint32_t snaplen, uint32_t link,
                       const struct rec *r, int nr)
{
    b->n = 0;
    w32(b, ns ? 0xa1b23c4d : 0xa1b2c3d4, big);
    w16(b, 2, big);
    w16(b, 4, big);
    w32(b, 0, big);
    w32(b, 0, big);
    w32(b, snaplen, big);
    w32(b, link, big);
    for (int i = 0; i < nr; i++) {
        w32(b, r[i].sec, big);
        w32(b, r[i].frac, big);
        w32(b, r[i].caplen, big);
        w32(b, r[i].wirelen, big);
        for (uint32_t k = 0; k < r[i].caplen; k++)
            b->b[b->n++] = (uint8_t)(r[i].fill + k);
    }
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    if (n)
        assert_int_equal(fwrite(p, 1, n, fp), n);
    fclose(fp);
}

static char *tpath(const char *name)
{
    static char paths[8][512];
    static int k;
    char *p = paths[k++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

/* Reads a whole source into arrays (copies of the frames). */
struct got {
    int n;
    struct mbx_frame f[64];
    uint8_t data[64][256];
    int last_rc;
};

static void read_all(struct mbx_source *s, struct got *g, int burst)
{
    struct mbx_frame f[64];
    g->n = 0;
    for (;;) {
        int rc = mbx_source_next(s, f, burst);
        g->last_rc = rc;
        if (rc <= 0)
            break;
        assert_true(rc <= burst);
        for (int i = 0; i < rc; i++) {
            assert_true(g->n < 64);
            g->f[g->n] = f[i];
            assert_true(f[i].caplen <= 256);
            memcpy(g->data[g->n], f[i].data, f[i].caplen);
            g->n++;
        }
    }
}

static void check_recs(const struct got *g, const struct rec *r, int nr, bool ns, int link)
{
    assert_int_equal(g->n, nr);
    for (int i = 0; i < nr; i++) {
        assert_int_equal(g->f[i].caplen, r[i].caplen);
        assert_int_equal(g->f[i].wirelen, r[i].wirelen);
        mbx_time want = (mbx_time)r[i].sec * 1000000000u + (mbx_time)r[i].frac * (ns ? 1 : 1000);
        assert_int_equal(g->f[i].ts, want);
        assert_int_equal(g->f[i].linktype, link);
        for (uint32_t k = 0; k < r[i].caplen; k++)
            assert_int_equal(g->data[i][k], (uint8_t)(r[i].fill + k));
    }
}

/* ------------------------------------------------------------ tests */

static void test_pcap_orders_and_resolutions(void **state)
{
    static struct buf b;
    for (int v = 0; v < 4; v++) {
        bool big = v & 1, ns = v & 2;
        pcap_image(&b, big, ns, 65535, 1, ns ? recs_ns : recs_us, 3);
        char *path = tpath("orders.pcap");
        write_file(path, b.b, b.n);
        char err[256] = "";
        struct mbx_source *s = mbx_source_open_file(path, err, sizeof err);
        assert_non_null(s);
        assert_string_equal(s->ops->kind, "pcap"); /* the mmap reader */
        static struct got g;
        read_all(s, &g, 2); /* bursts of 2: 2, 1, then the end */
        assert_int_equal(g.last_rc, 0);
        check_recs(&g, ns ? recs_ns : recs_us, 3, ns, 1);
        /* the end stays the end */
        struct mbx_frame f[4];
        assert_int_equal(mbx_source_next(s, f, 4), 0);
        assert_string_equal(mbx_source_error(s), "");
        assert_int_equal(mbx_source_next(s, f, 0), -EINVAL);
        mbx_source_close(s);
    }
    /* the first bytes really are what the format says (pcap-savefile(5)) */
    pcap_image(&b, true, false, 65535, 1, recs_us, 1);
    static const uint8_t be_head[8] = {0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4};
    assert_memory_equal(b.b, be_head, 8);
    pcap_image(&b, false, true, 65535, 1, recs_us, 1);
    static const uint8_t le_ns_head[8] = {0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0};
    assert_memory_equal(b.b, le_ns_head, 8);
    mbx_source_close(NULL);
}

/* Frames of the mmap reader stay valid until close, across bursts. */
static void test_pcap_frames_stay_valid(void **state)
{
    static struct buf b;
    pcap_image(&b, false, false, 65535, 101, recs_us, 3);
    char *path = tpath("valid.pcap");
    write_file(path, b.b, b.n);
    char err[256];
    struct mbx_source *s = mbx_source_open_file(path, err, sizeof err);
    assert_non_null(s);
    struct mbx_frame f1[1], f2[2];
    assert_int_equal(mbx_source_next(s, f1, 1), 1);
    assert_int_equal(mbx_source_next(s, f2, 2), 2);
    assert_int_equal(f1[0].linktype, 101);
    for (uint32_t k = 0; k < 60; k++)
        assert_int_equal(f1[0].data[k], (uint8_t)(0x10 + k));
    mbx_source_close(s);
}

static int run(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* pcapng, written by tshark from our pcap, read through libpcap. */
static void test_pcapng_via_libpcap(void **state)
{
    static struct buf b;
    for (int ns = 0; ns < 2; ns++) {
        pcap_image(&b, false, ns, 65535, 1, ns ? recs_ns : recs_us, 3);
        char *in = tpath("ng-in.pcap"), *out = tpath("ng-out.pcapng");
        write_file(in, b.b, b.n);
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "tshark -r %s -F pcapng -w %s 2>/dev/null", in, out);
        assert_int_equal(run(cmd), 0);
        char err[256] = "";
        struct mbx_source *s = mbx_source_open_file(out, err, sizeof err);
        if (!s)
            fail_msg("%s", err);
        assert_string_equal(s->ops->kind, "libpcap");
        static struct got g;
        read_all(s, &g, 2);
        assert_int_equal(g.last_rc, 0);
        check_recs(&g, ns ? recs_ns : recs_us, 3, ns, 1);
        mbx_source_close(s);
    }
}

/* A real capture read both ways gives the same frames: the mmap reader on the
 * pcap, libpcap on tshark's pcapng of it. */
static void test_pcapng_same_as_pcap(void **state)
{
    char in[512], cmd[1200];
    snprintf(in, sizeof in, "%s/corpora/netem-http/client.pcap", MBX_SHARED_DIR);
    char *out = tpath("client.pcapng");
    snprintf(cmd, sizeof cmd, "tshark -r %s -F pcapng -w %s 2>/dev/null", in, out);
    assert_int_equal(run(cmd), 0);
    char err[256];
    struct mbx_source *a = mbx_source_open_file(in, err, sizeof err);
    struct mbx_source *b = mbx_source_open_file(out, err, sizeof err);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a->ops->kind, "pcap");
    assert_string_equal(b->ops->kind, "libpcap");
    struct mbx_frame fa[1], fb[32];
    int n = 0, nb = 0, ib = 0;
    for (;;) {
        int ra = mbx_source_next(a, fa, 1);
        if (ib == nb) {
            nb = mbx_source_next(b, fb, 32);
            ib = 0;
        }
        if (ra <= 0) {
            assert_int_equal(ra, 0);
            assert_int_equal(nb, 0);
            break;
        }
        assert_true(nb > 0);
        const struct mbx_frame *x = &fa[0], *y = &fb[ib++];
        assert_int_equal(x->caplen, y->caplen);
        assert_int_equal(x->wirelen, y->wirelen);
        assert_int_equal(x->ts, y->ts);
        assert_int_equal(x->linktype, y->linktype);
        assert_memory_equal(x->data, y->data, x->caplen);
        n++;
    }
    assert_int_equal(n, 3133); /* corpora/README.md stats: capinfos says 3133 packets */
    mbx_source_close(a);
    mbx_source_close(b);
}

/* A pipe cannot be mapped: libpcap reads it as a stream. */
static void test_fifo_via_libpcap(void **state)
{
    static struct buf b;
    pcap_image(&b, true, true, 65535, 1, recs_ns, 3);
    char *path = tpath("fifo");
    unlink(path);
    assert_int_equal(mkfifo(path, 0600), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(path, O_WRONLY);
        ssize_t w = fd >= 0 ? write(fd, b.b, b.n) : -1;
        _exit(w == (ssize_t)b.n ? 0 : 1);
    }
    char err[256] = "";
    struct mbx_source *s = mbx_source_open_file(path, err, sizeof err);
    if (!s)
        fail_msg("%s", err);
    assert_string_equal(s->ops->kind, "libpcap");
    static struct got g;
    read_all(s, &g, 32);
    assert_int_equal(g.last_rc, 0);
    check_recs(&g, recs_ns, 3, true, 1);
    mbx_source_close(s);
    int st;
    waitpid(pid, &st, 0);
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* "-" is standard input, read through libpcap. */
static void test_stdin_via_libpcap(void **state)
{
    static struct buf b;
    pcap_image(&b, false, false, 65535, 1, recs_us, 3);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        ssize_t w = write(pfd[1], b.b, b.n);
        _exit(w == (ssize_t)b.n ? 0 : 1);
    }
    close(pfd[1]);
    int saved = dup(0);
    assert_true(saved >= 0);
    assert_int_equal(dup2(pfd[0], 0), 0);
    close(pfd[0]);
    char err[256] = "";
    struct mbx_source *s = mbx_source_open_file("-", err, sizeof err);
    if (!s)
        fail_msg("%s", err);
    assert_string_equal(s->ops->kind, "libpcap");
    static struct got g;
    read_all(s, &g, 2);
    assert_int_equal(g.last_rc, 0);
    check_recs(&g, recs_us, 3, false, 1);
    mbx_source_close(s); /* closes the stream on fd 0 */
    assert_int_equal(dup2(saved, 0), 0);
    close(saved);
    int st;
    waitpid(pid, &st, 0);
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void expect_open_error(const char *path, const char *want_suffix)
{
    char err[512] = "";
    struct mbx_source *s = mbx_source_open_file(path, err, sizeof err);
    assert_null(s);
    char want[1024];
    snprintf(want, sizeof want, "%s: %s", path, want_suffix);
    assert_string_equal(err, want);
    assert_null(strchr(err, '\n'));
}

static void test_open_errors(void **state)
{
    expect_open_error(tpath("no-such-file.pcap"), "No such file or directory");
    char *empty = tpath("empty.pcap");
    write_file(empty, "", 0);
    expect_open_error(empty, "empty file, not a capture");
    char *text = tpath("x.txt");
    write_file(text, "GET / HTTP/1.1\r\nHost: example\r\n\r\n", 33);
    expect_open_error(text, "not a pcap or pcapng capture");
    char *tiny = tpath("tiny");
    write_file(tiny, "\xd4\xc3", 2);
    expect_open_error(tiny, "not a pcap or pcapng capture (only 2 bytes)");
    static struct buf b;
    pcap_image(&b, false, false, 65535, 1, recs_us, 0);
    char *cut = tpath("cut-header.pcap");
    write_file(cut, b.b, 10);
    expect_open_error(cut, "truncated pcap global header (10 of 24 bytes)");
    expect_open_error(tmpdir, "is a directory, not a capture");
    /* pcapng cut inside its section header block: libpcap's reason, on one line */
    char *ng = tpath("cut.pcapng");
    write_file(ng, "\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c", 10);
    char err[512] = "";
    assert_null(mbx_source_open_file(ng, err, sizeof err));
    assert_true(strncmp(err, ng, strlen(ng)) == 0);
    assert_non_null(strstr(err, "cut short"));
    assert_null(strchr(err, '\n'));
    assert_null(mbx_source_open_file("", err, sizeof err));
    assert_string_equal(err, "no capture file named");
    assert_null(mbx_source_open_live("mbx-no-such-if0", err, sizeof err));
    assert_true(strncmp(err, "mbx-no-such-if0: cannot capture: ", 33) == 0);
}

/* A file cut inside a record: every whole record, then -EIO with the offset. */
static void test_truncated_records(void **state)
{
    static struct buf b;
    pcap_image(&b, false, false, 65535, 1, recs_us, 3);
    /* record 1 at 24 (16 + 60), record 2 at 100 (16 + 10), record 3 at 126 */
    assert_int_equal(b.n, 24 + 76 + 26 + 16);
    struct {
        size_t len; /* bytes kept */
        int whole;  /* records before the cut */
        size_t off; /* offset of the cut record */
    } cuts[] = {
        {24 + 76 + 20, 1, 100}, /* inside record 2's data */
        {24 + 76 + 5, 1, 100},  /* inside record 2's header */
        {24 + 30, 0, 24},       /* inside record 1's data */
        {24 + 76 + 26 + 15, 2, 126},
    };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char *path = tpath("cut.pcap");
        write_file(path, b.b, cuts[i].len);
        char err[256];
        struct mbx_source *s = mbx_source_open_file(path, err, sizeof err);
        assert_non_null(s);
        static struct got g;
        read_all(s, &g, 32);
        assert_int_equal(g.n, cuts[i].whole);
        assert_int_equal(g.last_rc, -EIO);
        char want[700];
        snprintf(want, sizeof want, "%s: truncated record at offset %zu (packet %d)", path,
                 cuts[i].off, cuts[i].whole + 1);
        assert_string_equal(mbx_source_error(s), want);
        struct mbx_frame f[2];
        assert_int_equal(mbx_source_next(s, f, 2), -EIO); /* sticky */
        mbx_source_close(s);
    }
    /* the same through libpcap (a pcapng cut inside its last block) */
    char *in = tpath("whole.pcap"), *ng = tpath("whole.pcapng");
    write_file(in, b.b, b.n);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "tshark -r %s -F pcapng -w %s 2>/dev/null", in, ng);
    assert_int_equal(run(cmd), 0);
    FILE *fp = fopen(ng, "rb");
    assert_non_null(fp);
    static struct buf nb;
    nb.n = fread(nb.b, 1, sizeof nb.b, fp);
    fclose(fp);
    char *ngcut = tpath("cut2.pcapng");
    write_file(ngcut, nb.b, nb.n - 20);
    char err[256];
    struct mbx_source *s = mbx_source_open_file(ngcut, err, sizeof err);
    assert_non_null(s);
    static struct got g;
    read_all(s, &g, 32);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.last_rc, -EIO);
    assert_true(strncmp(mbx_source_error(s), ngcut, strlen(ngcut)) == 0);
    assert_non_null(strstr(mbx_source_error(s), "(packet 3)"));
    mbx_source_close(s);
}

/* caplen over the snap length, or over 256 KiB when the snap length says
 * nothing: -EINVAL after the whole records before it. */
static void test_oversized_record(void **state)
{
    static struct buf b;
    struct rec r[2] = {{1, 0, 20, 20, 0}, {2, 0, 100, 100, 0}};
    pcap_image(&b, false, false, 64, 1, r, 2);
    char *path = tpath("big.pcap");
    write_file(path, b.b, b.n);
    char err[256];
    struct mbx_source *s = mbx_source_open_file(path, err, sizeof err);
    assert_non_null(s);
    static struct got g;
    read_all(s, &g, 32);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.last_rc, -EINVAL);
    char want[700];
    snprintf(want, sizeof want,
             "%s: record at offset 60 (packet 2) has 100 captured bytes, more than the snap "
             "length 64",
             path);
    assert_string_equal(mbx_source_error(s), want);
    mbx_source_close(s);
    /* snap length 0, a record header claiming 1 GiB */
    b.n = 0;
    pcap_image(&b, true, false, 0, 1, r, 0);
    w32(&b, 1, true);
    w32(&b, 0, true);
    w32(&b, 1u << 30, true);
    w32(&b, 1u << 30, true);
    write_file(path, b.b, b.n);
    s = mbx_source_open_file(path, err, sizeof err);
    assert_non_null(s);
    struct mbx_frame f[4];
    assert_int_equal(mbx_source_next(s, f, 4), -EINVAL);
    assert_non_null(strstr(mbx_source_error(s), "more than the snap length 262144"));
    mbx_source_close(s);
}

/* Every capture in ../shared/corpora reads to its end with the packet count and
 * data size (sum of wire lengths) that capinfos, run here, gives. */
static void test_corpora_match_capinfos(void **state)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "find %s/corpora \\( -name '*.pcap' -o -name '*.pcapng' \\) -type f -print0 | "
             "xargs -0 capinfos -c -d -M -T -r 2>/dev/null",
             MBX_SHARED_DIR);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[2048];
    int files = 0;
    while (fgets(line, sizeof line, p)) {
        char *tab1 = strchr(line, '\t');
        if (!tab1)
            continue;
        *tab1 = '\0';
        unsigned long long want_pkts, want_bytes;
        if (sscanf(tab1 + 1, "%llu\t%llu", &want_pkts, &want_bytes) != 2)
            continue;
        char err[512];
        struct mbx_source *s = mbx_source_open_file(line, err, sizeof err);
        if (!s)
            fail_msg("%s", err);
        struct mbx_frame f[32];
        unsigned long long pkts = 0, bytes = 0;
        int rc;
        while ((rc = mbx_source_next(s, f, 32)) > 0) {
            pkts += (unsigned)rc;
            for (int i = 0; i < rc; i++)
                bytes += f[i].wirelen;
        }
        if (rc != 0 || pkts != want_pkts || bytes != want_bytes)
            fail_msg("%s: rc %d (%s), %llu packets, %llu bytes; capinfos: %llu, %llu", line, rc,
                     mbx_source_error(s), pkts, bytes, want_pkts, want_bytes);
        mbx_source_close(s);
        files++;
    }
    pclose(p);
    print_message("%d captures agree with capinfos\n", files);
    assert_true(files >= 250); /* corpora/README.md: several hundred captures */
}

/* Live capture on the loopback interface sees a datagram sent to itself. */
static void test_live_loopback(void **state)
{
    char err[512];
    struct mbx_source *s = mbx_source_open_live("lo", err, sizeof err);
    if (!s) {
        if (strstr(err, "ermission") || strstr(err, "not permitted")) {
            print_message("skipped: %s\n", err);
            skip();
        }
        fail_msg("%s", err);
    }
    assert_string_equal(s->ops->kind, "libpcap");
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char msg[64];
    snprintf(msg, sizeof msg, "mbx-live-%d", (int)getpid());
    bool found = false;
    for (int tries = 0; tries < 50 && !found; tries++) {
        sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&to, sizeof to);
        struct mbx_frame f[32];
        int rc = mbx_source_next(s, f, 32);
        if (rc == -EAGAIN)
            continue;
        assert_true(rc > 0);
        for (int i = 0; i < rc; i++) {
            struct mbx_pkt p;
            if (mbx_decode(&p, f[i].linktype, f[i].data, f[i].caplen, f[i].wirelen, f[i].ts) ==
                    MBX_DECODE_OK &&
                p.proto == 17 && p.dport == 9 && p.payload_len == strlen(msg) &&
                memcmp(p.payload, msg, p.payload_len) == 0) {
                found = true;
                assert_true(f[i].ts > 1600000000ull * 1000000000ull); /* a real time */
            }
        }
    }
    close(fd);
    mbx_source_close(s);
    assert_true(found);
}

static int setup(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mbx-test-source-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return run(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcap_orders_and_resolutions),
        cmocka_unit_test(test_pcap_frames_stay_valid),
        cmocka_unit_test(test_pcapng_via_libpcap),
        cmocka_unit_test(test_pcapng_same_as_pcap),
        cmocka_unit_test(test_fifo_via_libpcap),
        cmocka_unit_test(test_stdin_via_libpcap),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_truncated_records),
        cmocka_unit_test(test_oversized_record),
        cmocka_unit_test(test_corpora_match_capinfos),
        cmocka_unit_test(test_live_loopback),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
