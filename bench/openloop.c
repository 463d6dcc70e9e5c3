/* openloop: a small open-loop HTTP/1.1 load generator (the method of wrk2, written anew).
 *
 * Request i is *due* at start + i / rate, whatever happened to the requests before it. It is
 * sent on the first idle keep-alive connection at or after that time, and its latency is
 * measured from the due time, not from the send: a server (or client) that stalls shows up
 * as latency instead of as a lower send rate ("coordinated omission"). One thread, epoll,
 * a timerfd armed at the next due time, no allocation on the request path once warm.
 *
 *   openloop -p PORT -r RATE -d SECONDS -c CONNECTIONS -f REQUESTS [-o LATENCIES]
 *
 * REQUESTS holds complete pre-built HTTP/1.1 requests, each preceded by its length in bytes
 * on a line of its own ("1234\n" then 1234 bytes); they are sent in rotation. Responses must
 * carry Content-Length (no chunked encoding). One JSON object is printed on stdout: counts,
 * latency percentiles in microseconds, how late the client itself sent (send lag), the
 * client's CPU seconds and share of one core, and the share of the run it spent waiting
 * for a CPU (runnable, not running: other processes had the cores). -o writes "due_us latency_us status" per
 * request, due time relative to the start (start_monotonic_s in the JSON: CLOCK_MONOTONIC,
 * Python's time.monotonic), to find *when* the slow ones happened.
 *
 * Build: gcc -Wall -Wextra -O2 -o openloop openloop.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define DRAIN_NS 10000000000LL /* after the last due time, wait at most 10 s for answers */

struct request { const char *data; size_t len; };

struct conn {
    int fd;
    int busy;            /* a request is in flight */
    int want_out;        /* EPOLLOUT registered (a partial write is pending) */
    const struct request *req;
    size_t written;
    int64_t due, sent;   /* ns, CLOCK_MONOTONIC */
    char *buf;           /* the response read so far */
    size_t len, cap;
    size_t head_len;     /* 0 until the header's blank line was seen */
    size_t body_len;
    int status;
};

struct sample { int64_t due, latency, lag; int status; };

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
    perror(what);
    exit(2);
}

static char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path);
    size_t cap = 1 << 16, len = 0;
    char *data = malloc(cap);
    size_t n;
    while (data && (n = fread(data + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap)
            data = realloc(data, cap *= 2);
    }
    if (!data)
        die("malloc");
    fclose(f);
    *size = len;
    return data;
}

/* "<length>\n<bytes>" repeated. */
static struct request *parse_requests(char *data, size_t size, size_t *count)
{
    size_t cap = 16, n = 0, at = 0;
    struct request *reqs = malloc(cap * sizeof *reqs);
    while (reqs && at < size) {
        char *end;
        unsigned long len = strtoul(data + at, &end, 10);
        if (end == data + at || *end != '\n' || len == 0 || len > size - (size_t)(end + 1 - data)) {
            fprintf(stderr, "bad request file at byte %zu\n", at);
            exit(2);
        }
        if (n == cap)
            reqs = realloc(reqs, (cap *= 2) * sizeof *reqs);
        if (!reqs)
            break;
        reqs[n].data = end + 1;
        reqs[n].len = len;
        n++;
        at = (size_t)(end + 1 - data) + len;
    }
    if (!reqs || n == 0) {
        fprintf(stderr, "no requests\n");
        exit(2);
    }
    *count = n;
    return reqs;
}

static int connect_to(int port)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* loopback: a non-blocking connect completes at once or soon; writes wait for EPOLLOUT */
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS)
        die("connect");
    return fd;
}

static void watch(int ep, struct conn *c, int op)
{
    struct epoll_event ev = {.events = EPOLLIN | (c->want_out ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(ep, op, c->fd, &ev) < 0)
        die("epoll_ctl");
}

/* Parse what has arrived; 1 when the whole response is in, -1 on a malformed one. */
static int response_complete(struct conn *c)
{
    if (c->head_len == 0) {
        char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (!end)
            return 0;
        c->head_len = (size_t)(end - c->buf) + 4;
        if (c->len < 12 || memcmp(c->buf, "HTTP/1.", 7) != 0)
            return -1;
        c->status = atoi(c->buf + 9);
        c->body_len = (size_t)-1;
        for (char *line = memchr(c->buf, '\n', c->head_len); line && line < end;
             line = memchr(line + 1, '\n', (size_t)(end - line))) {
            if (strncasecmp(line + 1, "content-length:", 15) == 0)
                c->body_len = strtoul(line + 16, NULL, 10);
        }
        if (c->body_len == (size_t)-1)
            return -1;
    }
    return c->len >= c->head_len + c->body_len ? 1 : 0;
}

struct run {
    int ep, port;
    struct conn *conns;
    int nconns;
    struct conn **idle;  /* a stack of idle connections */
    int nidle;
    struct sample *samples;
    long completed, errors, non2xx;
};

static void reopen(struct run *r, struct conn *c)
{
    epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = connect_to(r->port);
    c->want_out = 0;
    watch(r->ep, c, EPOLL_CTL_ADD);
}

static void finish(struct run *r, struct conn *c, int status, int64_t now)
{
    struct sample *s = &r->samples[r->completed + r->errors];
    s->due = c->due;
    s->latency = now - c->due;
    s->lag = c->sent - c->due;
    s->status = status;
    if (status == 0)
        r->errors++;
    else {
        r->completed++;
        if (status < 200 || status > 299)
            r->non2xx++;
    }
    c->busy = 0;
    c->len = c->head_len = 0;
    r->idle[r->nidle++] = c;
}

static void fail(struct run *r, struct conn *c, int64_t now)
{
    if (c->busy)
        finish(r, c, 0, now);
    reopen(r, c);
}

static void write_some(struct run *r, struct conn *c, int64_t now)
{
    while (c->written < c->req->len) {
        ssize_t n = write(c->fd, c->req->data + c->written, c->req->len - c->written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == ENOTCONN)) {
            if (!c->want_out) {
                c->want_out = 1;
                watch(r->ep, c, EPOLL_CTL_MOD);
            }
            return;
        }
        if (n <= 0) {
            fail(r, c, now);
            return;
        }
        c->written += (size_t)n;
    }
    if (c->want_out) {
        c->want_out = 0;
        watch(r->ep, c, EPOLL_CTL_MOD);
    }
}

static void read_some(struct run *r, struct conn *c, int64_t now)
{
    for (;;) {
        if (c->cap - c->len < 16384) {
            c->cap = c->cap ? c->cap * 2 : 65536;
            c->buf = realloc(c->buf, c->cap);
            if (!c->buf)
                die("realloc");
        }
        ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0 || !c->busy) { /* closed, failed, or bytes nobody asked for */
            fail(r, c, now);
            return;
        }
        c->len += (size_t)n;
        int done = response_complete(c);
        if (done < 0 || (done > 0 && c->len != c->head_len + c->body_len)) {
            fail(r, c, now);
            return;
        }
        if (done > 0) {
            finish(r, c, c->status, now);
            return;
        }
    }
}

static void arm(int tfd, int64_t at)
{
    struct itimerspec its = {0};
    its.it_value.tv_sec = at / 1000000000LL;
    its.it_value.tv_nsec = at % 1000000000LL;
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
        its.it_value.tv_nsec = 1; /* all zero would disarm */
    if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
        die("timerfd_settime");
}

static int by_latency(const void *a, const void *b)
{
    int64_t x = ((const struct sample *)a)->latency, y = ((const struct sample *)b)->latency;
    return (x > y) - (x < y);
}

static int by_lag(const void *a, const void *b)
{
    int64_t x = ((const struct sample *)a)->lag, y = ((const struct sample *)b)->lag;
    return (x > y) - (x < y);
}

/* Nearest rank, as bench/common.py's percentile: index round(q * (n - 1)). */
static int64_t pct(const struct sample *s, long n, double q, int lag)
{
    if (n == 0)
        return 0;
    long i = (long)(q * (double)(n - 1) + 0.5);
    return lag ? s[i].lag : s[i].latency;
}

/* Seconds this (single-threaded) process spent runnable but waiting for a CPU. */
static double runqueue_seconds(void)
{
    unsigned long long run = 0, wait = 0;
    FILE *f = fopen("/proc/self/schedstat", "r");
    if (f) {
        if (fscanf(f, "%llu %llu", &run, &wait) != 2)
            wait = 0;
        fclose(f);
    }
    return (double)wait / 1e9;
}

static void usage(void)
{
    fprintf(stderr, "usage: openloop -p PORT -r RATE -d SECONDS -c CONNECTIONS -f REQUESTS "
                    "[-o LATENCIES]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int port = 0, nconns = 64, opt;
    double rate = 0, seconds = 0;
    const char *path = NULL, *dump = NULL;
    while ((opt = getopt(argc, argv, "p:r:d:c:f:o:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'r': rate = atof(optarg); break;
        case 'd': seconds = atof(optarg); break;
        case 'c': nconns = atoi(optarg); break;
        case 'f': path = optarg; break;
        case 'o': dump = optarg; break;
        default: usage();
        }
    }
    if (port <= 0 || rate <= 0 || seconds <= 0 || nconns <= 0 || !path)
        usage();

    size_t size, nreqs;
    char *data = read_file(path, &size);
    struct request *reqs = parse_requests(data, size, &nreqs);
    long total = (long)(rate * seconds);
    if (total < 1)
        total = 1;

    struct run r = {.port = port, .nconns = nconns};
    r.ep = epoll_create1(EPOLL_CLOEXEC);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    r.conns = calloc((size_t)nconns, sizeof *r.conns);
    r.idle = calloc((size_t)nconns, sizeof *r.idle);
    r.samples = calloc((size_t)total, sizeof *r.samples);
    if (r.ep < 0 || tfd < 0 || !r.conns || !r.idle || !r.samples)
        die("setup");
    struct epoll_event tev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(r.ep, EPOLL_CTL_ADD, tfd, &tev) < 0)
        die("epoll_ctl timerfd");
    for (int i = 0; i < nconns; i++) {
        struct conn *c = &r.conns[i];
        c->fd = connect_to(port);
        watch(r.ep, c, EPOLL_CTL_ADD);
        r.idle[r.nidle++] = c;
    }

    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    double wait0 = runqueue_seconds();
    const double interval = 1e9 / rate;
    const int64_t start = now_ns() + 50000000LL; /* connections settle for 50 ms */
    long next = 0; /* the next request to send */
    arm(tfd, start);
    struct epoll_event events[256];
    int64_t now = now_ns(), last_due = start + (int64_t)((double)(total - 1) * interval);

    while (r.completed + r.errors < total && now < last_due + DRAIN_NS) {
        int n = epoll_wait(r.ep, events, 256, 100);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        now = now_ns();
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (!c) {
                uint64_t expirations;
                if (read(tfd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
                    die("read timerfd");
                continue;
            }
            if (events[i].events & (EPOLLERR | EPOLLHUP))
                fail(&r, c, now);
            else {
                if (events[i].events & EPOLLOUT)
                    write_some(&r, c, now);
                if (events[i].events & EPOLLIN)
                    read_some(&r, c, now);
            }
        }
        /* everything due goes out on idle connections; the rest waits (its clock runs) */
        now = now_ns();
        while (next < total && r.nidle > 0) {
            int64_t due = start + (int64_t)((double)next * interval);
            if (due > now)
                break;
            struct conn *c = r.idle[--r.nidle];
            c->busy = 1;
            c->req = &reqs[next % (long)nreqs];
            c->written = 0;
            c->due = due;
            c->sent = now;
            next++;
            write_some(&r, c, now);
        }
        if (next < total && r.nidle > 0) /* with none idle, the next answer wakes the loop */
            arm(tfd, start + (int64_t)((double)next * interval));
    }
    int64_t end = now_ns();
    getrusage(RUSAGE_SELF, &ru1);
    double waited = runqueue_seconds() - wait0;

    long done = r.completed + r.errors;
    if (dump) {
        FILE *f = fopen(dump, "w");
        if (!f)
            die(dump);
        for (long i = 0; i < done; i++)
            fprintf(f, "%lld %lld %d\n", (long long)((r.samples[i].due - start) / 1000),
                    (long long)(r.samples[i].latency / 1000), r.samples[i].status);
        fclose(f);
    }
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec
                          + ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec)
                 + (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec
                            + ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    double elapsed = (double)(end - start) / 1e9;
    qsort(r.samples, (size_t)done, sizeof *r.samples, by_lag);
    int64_t lag99 = pct(r.samples, done, .99, 1), lagmax = done ? r.samples[done - 1].lag : 0;
    qsort(r.samples, (size_t)done, sizeof *r.samples, by_latency);
    double sum = 0;
    for (long i = 0; i < done; i++)
        sum += (double)r.samples[i].latency;
    printf("{\"rate\": %.1f, \"seconds\": %.3f, \"connections\": %d, \"scheduled\": %ld, "
           "\"sent\": %ld, \"completed\": %ld, \"errors\": %ld, \"non_2xx\": %ld, "
           "\"unanswered\": %ld, \"elapsed_s\": %.3f, \"achieved_per_s\": %.1f, "
           "\"p50_us\": %lld, \"p90_us\": %lld, \"p95_us\": %lld, \"p99_us\": %lld, "
           "\"p999_us\": %lld, "
           "\"max_us\": %lld, \"mean_us\": %.1f, \"send_lag_p99_us\": %lld, "
           "\"send_lag_max_us\": %lld, \"cpu_s\": %.3f, \"cpu_share\": %.3f, "
           "\"runqueue_share\": %.3f, \"start_monotonic_s\": %.6f}\n",
           rate, seconds, nconns, total, next, r.completed, r.errors, r.non2xx, next - done,
           elapsed, elapsed > 0 ? (double)r.completed / elapsed : 0.0,
           (long long)(pct(r.samples, done, .50, 0) / 1000),
           (long long)(pct(r.samples, done, .90, 0) / 1000),
           (long long)(pct(r.samples, done, .95, 0) / 1000),
           (long long)(pct(r.samples, done, .99, 0) / 1000),
           (long long)(pct(r.samples, done, .999, 0) / 1000),
           (long long)(done ? r.samples[done - 1].latency / 1000 : 0),
           done ? sum / (double)done / 1000 : 0.0, (long long)(lag99 / 1000),
           (long long)(lagmax / 1000), cpu, elapsed > 0 ? cpu / elapsed : 0.0,
           elapsed > 0 ? waited / elapsed : 0.0, (double)start / 1e9);
    return r.errors || next - done ? 1 : 0;
}
