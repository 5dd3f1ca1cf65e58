/*
 * policy: how long rmxpolicyd takes per request, from outside. Runs
 * rmxpolicyd (argv[1] and its options) on two pipes and sends it N
 * requests one after another, timing each from the write to the end of its
 * reply:
 *
 *   policy N CACHED UNCACHED_BASE rmxpolicyd [option ...]
 *
 * first N requests for the client CACHED (the first of them, which looks
 * the list up, is left out), then N requests each from another client, the
 * addresses from UNCACHED_BASE up (a lookup each). Output: the median
 * microseconds of each, "cached_us uncached_us".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static FILE *to, *from;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* One request for `client`; the seconds it took. Exits on a bad reply. */
static double ask(const char *client)
{
    char line[4096];
    double start = now();
    fprintf(to, "request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=%s\n"
                "sender=a@example.org\nrecipient=b@rmx.test\n\n", client);
    fflush(to);
    if (!fgets(line, sizeof line, from) || strncmp(line, "action=", 7) != 0) {
        fprintf(stderr, "policy: no action for %s\n", client);
        exit(1);
    }
    if (!fgets(line, sizeof line, from) || strcmp(line, "\n") != 0) {
        fprintf(stderr, "policy: no empty line after the action\n");
        exit(1);
    }
    return now() - start;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n)
{
    qsort(t, n, sizeof *t, cmp);
    return t[n / 2] * 1e6;
}

int main(int argc, char **argv)
{
    int in[2], out[2], n;
    double *t;
    struct in_addr base;
    char client[INET_ADDRSTRLEN];

    if (argc < 5 || (n = atoi(argv[1])) < 2 || inet_pton(AF_INET, argv[3], &base) != 1) {
        fprintf(stderr, "usage: policy N CACHED UNCACHED_BASE rmxpolicyd [option ...]\n");
        return 100;
    }
    if (pipe(in) || pipe(out))
        return 111;
    if (fork() == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execv(argv[4], argv + 4);
        perror("policy: exec");
        _exit(111);
    }
    close(in[0]);
    close(out[1]);
    to = fdopen(in[1], "w");
    from = fdopen(out[0], "r");
    t = calloc(n, sizeof *t);
    ask(argv[2]);
    for (int i = 0; i < n; i++)
        t[i] = ask(argv[2]);
    double cached = median(t, n);
    for (int i = 0; i < n; i++) {
        struct in_addr a = { htonl(ntohl(base.s_addr) + i) };
        inet_ntop(AF_INET, &a, client, sizeof client);
        t[i] = ask(client);
    }
    printf("%.1f %.1f\n", cached, median(t, n));
    return 0;
}
