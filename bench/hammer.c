/*
 * hammer: connections per second through a TCP server on loopback.
 *
 *   hammer -p PORT [-a 127.0.0.1] [-c CONCURRENCY] [-n CONNECTIONS] [-t SECONDS]
 *          [-s STALL] [-e EXPECT] SOURCE...
 *
 * Keeps CONCURRENCY connections open at once, each from the next SOURCE
 * address (round robin; every 127.0.0.0/8 address works on lo), reads each
 * one until the server closes it, and counts the ones whose first bytes are
 * EXPECT. A connection still open after STALL seconds (default 5) is closed
 * and counted as bad. Stops after CONNECTIONS connections or SECONDS seconds,
 * whichever comes first; only loopback addresses are accepted.
 *
 * Keep CONCURRENCY at most the server's listen backlog (tcpserver: 20): past
 * it, a connection the client sees as established can be dropped from a full
 * accept queue, and then waits for data that never comes.
 *
 * Output: completed good bad stalled seconds connections_per_second
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXC 256

struct slot {
    int fd;
    char buf[64];
    int len;
    double since;
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int loopback(struct in_addr a) {
    return (ntohl(a.s_addr) >> 24) == 127;
}

int main(int argc, char **argv) {
    int port = 0, conc = 50, total = 2000, opt;
    double limit = 60, stall = 5;
    const char *expect = "220 sink";
    struct in_addr server;
    inet_pton(AF_INET, "127.0.0.1", &server);
    while ((opt = getopt(argc, argv, "p:a:c:n:t:s:e:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'a':
            if (inet_pton(AF_INET, optarg, &server) != 1) return 100;
            break;
        case 'c': conc = atoi(optarg); break;
        case 'n': total = atoi(optarg); break;
        case 't': limit = atof(optarg); break;
        case 's': stall = atof(optarg); break;
        case 'e': expect = optarg; break;
        default: return 100;
        }
    }
    int nsrc = argc - optind;
    if (port <= 0 || nsrc < 1 || conc < 1 || conc > MAXC || !loopback(server)) {
        fprintf(stderr, "usage: hammer -p PORT [-a 127.x.y.z] [-c N<=%d] [-n N] [-t S] [-s S] [-e EXPECT] 127.x.y.z...\n", MAXC);
        return 100;
    }
    struct in_addr *src = calloc(nsrc, sizeof *src);
    for (int i = 0; i < nsrc; i++)
        if (inet_pton(AF_INET, argv[optind + i], &src[i]) != 1 || !loopback(src[i])) {
            fprintf(stderr, "hammer: not a loopback address: %s\n", argv[optind + i]);
            return 100;
        }
    size_t elen = strlen(expect);
    struct slot slots[MAXC];
    struct pollfd pfd[MAXC];
    int started = 0, done = 0, good = 0, stalled = 0, next_src = 0;
    double t0 = now();
    for (int i = 0; i < conc; i++) slots[i].fd = -1;
    for (;;) {
        int open = 0;
        for (int i = 0; i < conc; i++) {
            struct slot *s = &slots[i];
            if (s->fd < 0 && started < total && now() - t0 < limit) {
                int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                if (fd < 0) { perror("hammer: socket"); return 111; }
                struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = src[next_src]};
                next_src = (next_src + 1) % nsrc;
                if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) { perror("hammer: bind"); return 111; }
                struct sockaddr_in da = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = server};
                if (connect(fd, (struct sockaddr *)&da, sizeof da) < 0 && errno != EINPROGRESS) {
                    perror("hammer: connect");
                    close(fd);
                    done++;
                    started++;
                    continue;
                }
                s->fd = fd;
                s->len = 0;
                s->since = now();
                started++;
            }
            pfd[i].fd = s->fd;
            pfd[i].events = POLLIN;
            pfd[i].revents = 0;
            if (s->fd >= 0) open++;
        }
        if (open == 0) break;
        int left = (int)((limit - (now() - t0)) * 1000);
        if (left <= 0) break;
        if (left > 100) left = 100;
        if (poll(pfd, conc, left) < 0 && errno != EINTR) { perror("hammer: poll"); return 111; }
        double t = now();
        for (int i = 0; i < conc; i++) {
            struct slot *s = &slots[i];
            if (s->fd >= 0 && !pfd[i].revents && t - s->since > stall) {
                close(s->fd);
                s->fd = -1;
                stalled++;
                done++;
                continue;
            }
            if (s->fd < 0 || !pfd[i].revents) continue;
            char tmp[512];
            ssize_t r = read(s->fd, tmp, sizeof tmp);
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (r > 0) {
                int room = (int)sizeof s->buf - s->len;
                int take = r < room ? (int)r : room;
                memcpy(s->buf + s->len, tmp, take);
                s->len += take;
                continue;
            }
            /* EOF or error: the server is done with this one. */
            if ((size_t)s->len >= elen && memcmp(s->buf, expect, elen) == 0) good++;
            close(s->fd);
            s->fd = -1;
            done++;
        }
    }
    double secs = now() - t0;
    for (int i = 0; i < conc; i++)
        if (slots[i].fd >= 0) close(slots[i].fd);
    printf("%d %d %d %d %.3f %.1f\n", done, good, done - good, stalled, secs, done / secs);
    return 0;
}
