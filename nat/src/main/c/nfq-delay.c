/*
 * nfq-delay: a fixed one-way delay for packets of one netfilter queue (NFQUEUE), the NAT lab's stand-in for
 * `tc qdisc ... netem delay D` on kernels built without sch_netem.
 *
 *   usage: nfq-delay QUEUE_NUM DELAY_MS [BOUND]
 *
 * iptables rules send packets to queue QUEUE_NUM (`-j NFQUEUE --queue-num N --queue-bypass`); the kernel holds each
 * packet until a verdict. This program receives only the packet's metadata (NFQNL_COPY_META: no payload is copied),
 * stamps it with a release time (CLOCK_MONOTONIC at arrival + DELAY_MS), keeps it in a FIFO ring and, when the time
 * has come, issues NF_ACCEPT, so the packet continues through netfilter DELAY_MS later. With one fixed delay the
 * release times are in arrival order, so a FIFO is enough and nothing is reordered.
 *
 * Bound: at most BOUND packets (default 4096) are held at once. A packet arriving when the ring is full is DROPPED
 * and counted, as netem's tail-drop `limit` does: accepting it at once would let it overtake the held packets (a
 * reordering) and cross without delay, so the measurement would silently be wrong; a counted drop is visible. The
 * kernel queue's own limit is set above BOUND so that the kernel does not drop first; should it ever be full anyway,
 * the queue is fail-open (NFQA_CFG_F_FAIL_OPEN): the kernel then accepts the packet without delay.
 *
 * Output (stdout, line-buffered): "ready queue=N delay_ms=D bound=B" once bound, and on exit
 * "stats queue=N delayed=X dropped_full=Y netlink_overruns=Z".
 *
 * Shutdown: SIGTERM or SIGINT. Held packets are accepted at once (none is lost), the queue is unbound and the
 * statistics printed. Should the process die without that (SIGKILL), the kernel drops the packets still waiting
 * for a verdict when the queue's socket closes (at most BOUND packets of the last DELAY_MS), and from then on the
 * rules' --queue-bypass lets packets pass undelayed because no program is bound to the queue: never a stall.
 *
 * Build: gcc -O2 -Wall -Wextra -o nfq-delay nfq-delay.c -lnetfilter_queue   (Debian: libnetfilter-queue-dev)
 */
#define _GNU_SOURCE /* ppoll */
/* glibc's socket headers first: they tell the kernel's uapi headers included after them not to redefine in_addr. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <linux/netfilter.h> /* NF_ACCEPT, NF_DROP */
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_NO_ENOBUFS
#define NETLINK_NO_ENOBUFS 5
#endif

#define DEFAULT_BOUND 4096u
#define MAX_BOUND 65536u
#define MAX_DELAY_MS 60000L

/* One held packet: the kernel's packet id and when to release it (monotonic nanoseconds). */
struct held {
    uint32_t id;
    int64_t release_ns;
};

/* Everything the callback needs; no globals but the signal flag. */
struct state {
    struct nfq_q_handle *qh;
    struct held *ring;
    uint32_t bound;
    uint32_t head; /* index of the oldest held packet */
    uint32_t count;
    int64_t delay_ns;
    uint64_t delayed;
    uint64_t dropped_full;
    uint64_t overruns;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
    (void) sig;
    stop_requested = 1;
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Called by nfq_handle_packet for each queued packet: hold it, or drop it when the ring is full. */
static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data) {
    (void) msg;
    struct state *s = data;
    struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
    if (ph == NULL) {
        return 0; /* no header, no id: nothing to give a verdict on */
    }
    uint32_t id = ntohl(ph->packet_id);
    if (s->count == s->bound) {
        s->dropped_full++;
        return nfq_set_verdict(qh, id, NF_DROP, 0, NULL);
    }
    struct held *h = &s->ring[(s->head + s->count) % s->bound];
    h->id = id;
    h->release_ns = now_ns() + s->delay_ns;
    s->count++;
    return 0;
}

/* Accepts every held packet whose time has come (all of them when flush is set). */
static void release_due(struct state *s, int flush) {
    int64_t now = now_ns();
    while (s->count > 0 && (flush || s->ring[s->head].release_ns <= now)) {
        nfq_set_verdict(s->qh, s->ring[s->head].id, NF_ACCEPT, 0, NULL);
        s->head = (s->head + 1) % s->bound;
        s->count--;
        s->delayed++;
    }
}

static long parse_long(const char *text, long min, long max, const char *what) {
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || end == text || v < min || v > max) {
        fprintf(stderr, "nfq-delay: %s must be an integer in %ld..%ld, got '%s'\n", what, min, max, text);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: nfq-delay QUEUE_NUM DELAY_MS [BOUND]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    uint16_t queue = (uint16_t) parse_long(argv[1], 0, 65535, "QUEUE_NUM");
    long delay_ms = parse_long(argv[2], 0, MAX_DELAY_MS, "DELAY_MS");
    uint32_t bound = argc == 4 ? (uint32_t) parse_long(argv[3], 1, MAX_BOUND, "BOUND") : DEFAULT_BOUND;

    struct state s = {0};
    s.bound = bound;
    s.delay_ns = delay_ms * 1000000LL;
    s.ring = calloc(bound, sizeof *s.ring);
    if (s.ring == NULL) {
        fprintf(stderr, "nfq-delay: out of memory for %u packets\n", bound);
        return 1;
    }

    /* SIGTERM/SIGINT are blocked except inside ppoll, so a signal cannot slip in between the check and the wait. */
    sigset_t blocked, during_wait;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGINT);
    sigprocmask(SIG_BLOCK, &blocked, &during_wait);
    sigdelset(&during_wait, SIGTERM);
    sigdelset(&during_wait, SIGINT);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    struct nfq_handle *h = nfq_open();
    if (h == NULL) {
        fprintf(stderr, "nfq-delay: nfq_open failed (%s): needs root (CAP_NET_ADMIN) and the kernel's"
                " nfnetlink_queue\n", strerror(errno));
        return 1;
    }
    s.qh = nfq_create_queue(h, queue, on_packet, &s);
    if (s.qh == NULL) {
        fprintf(stderr, "nfq-delay: cannot bind queue %u (%s): is another program bound to it?\n", queue,
                strerror(errno));
        nfq_close(h);
        return 1;
    }
    if (nfq_set_mode(s.qh, NFQNL_COPY_META, 0) < 0) {
        fprintf(stderr, "nfq-delay: cannot set metadata-only copy mode (%s)\n", strerror(errno));
        nfq_destroy_queue(s.qh);
        nfq_close(h);
        return 1;
    }
    /* The kernel's limit above ours, so the ring decides; fail-open if the kernel's is ever reached. */
    nfq_set_queue_maxlen(s.qh, bound * 2);
    nfq_set_queue_flags(s.qh, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN);

    int fd = nfq_fd(h);
    int rcvbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
    int one = 1;
    setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);

    printf("ready queue=%u delay_ms=%ld bound=%u\n", queue, delay_ms, bound);

    char buf[4096] __attribute__((aligned));
    while (!stop_requested) {
        /* Wait until the oldest held packet is due, or for new packets; forever when nothing is held. */
        struct timespec timeout;
        struct timespec *tp = NULL;
        if (s.count > 0) {
            int64_t wait = s.ring[s.head].release_ns - now_ns();
            if (wait < 0) {
                wait = 0;
            }
            timeout.tv_sec = wait / 1000000000LL;
            timeout.tv_nsec = wait % 1000000000LL;
            tp = &timeout;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int n = ppoll(&pfd, 1, tp, &during_wait);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "nfq-delay: poll failed: %s\n", strerror(errno));
            break;
        }
        if (n > 0) {
            /* Drain what is there without blocking, so a burst is stamped as it arrived. */
            for (;;) {
                ssize_t len = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (len > 0) {
                    nfq_handle_packet(h, buf, (int) len);
                    continue;
                }
                if (len < 0 && errno == ENOBUFS) {
                    /* Messages lost on the socket (only if NETLINK_NO_ENOBUFS was refused); the kernel then
                     * accepts those packets itself (fail-open), undelayed. */
                    s.overruns++;
                    continue;
                }
                break; /* EAGAIN: drained */
            }
        }
        release_due(&s, 0);
    }

    release_due(&s, 1);
    printf("stats queue=%u delayed=%llu dropped_full=%llu netlink_overruns=%llu\n", queue,
           (unsigned long long) s.delayed, (unsigned long long) s.dropped_full, (unsigned long long) s.overruns);
    nfq_destroy_queue(s.qh);
    nfq_close(h);
    free(s.ring);
    return 0;
}
