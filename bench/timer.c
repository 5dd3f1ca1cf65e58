/*
 * timer: whole-process wall time and peak RSS of several commands, run
 * interleaved (A B C A B C ...), after a warm-up.
 *
 *   timer [-n RUNS] [-w WARMUP] [-r RAWFILE] [-d FILE]... :: LABEL [NAME=VALUE...] PROG [ARG...] :: ...
 *
 * Each command is started with posix_spawnp(3), stdin, stdout and stderr on
 * /dev/null, the timer's environment plus the NAME=VALUE pairs given before
 * PROG; the clock (CLOCK_MONOTONIC) runs from just before the spawn to the
 * return of wait4(2), whose rusage gives ru_maxrss. Each round runs every
 * command once, in an order shuffled anew every round.
 *
 * -d FILE drops FILE's pages from the page cache (fdatasync, then
 * POSIX_FADV_DONTNEED) before the warm-up, so that every program timed is
 * read in the same way, by exec, as after a reboot. How its pages came into
 * the cache matters: here a static rmxsmtpd that `cp` had just written ran
 * about 100 us faster than the same bytes read back in by exec.
 *
 * Output, one line per command, in the order given (a tab after LABEL):
 *   LABEL median_us p10_us p90_us min_us max_us maxrss_median_kib maxrss_max_kib bad_exits runs
 * RAWFILE gets one line per timed run: LABEL, a tab, round ns maxrss_kib status.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct command {
    const char *label;
    char **argv;
    char **envp;
    long long *ns;
    long *rss;
    int bad;
};

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static int cmp_l(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static long long pct_ll(const long long *v, int n, int p) {
    int i = (int)((long long)p * (n - 1) / 100);
    return v[i];
}

static char **make_env(char **pairs, int count) {
    int base = 0;
    while (environ[base]) base++;
    char **envp = calloc(base + count + 1, sizeof *envp);
    int n = 0;
    for (int i = 0; i < base; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t len = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        int overridden = 0;
        for (int j = 0; j < count; j++)
            if (strncmp(pairs[j], environ[i], len) == 0 && pairs[j][len] == '=') overridden = 1;
        if (!overridden) envp[n++] = environ[i];
    }
    for (int j = 0; j < count; j++) envp[n++] = pairs[j];
    envp[n] = NULL;
    return envp;
}

static void drop_cache(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "timer: cannot open %s: %s\n", path, strerror(errno));
        exit(111);
    }
    fdatasync(fd);
    int e = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (e != 0) fprintf(stderr, "timer: posix_fadvise %s: %s\n", path, strerror(e));
    close(fd);
}

static void run_once(struct command *c, posix_spawn_file_actions_t *fa, int round, FILE *raw) {
    pid_t pid;
    int status = 0;
    struct rusage ru;
    long long t0 = now_ns();
    int e = posix_spawnp(&pid, c->argv[0], fa, NULL, c->argv, c->envp);
    if (e != 0) {
        fprintf(stderr, "timer: cannot spawn %s: %s\n", c->argv[0], strerror(e));
        exit(111);
    }
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("timer: wait4");
            exit(111);
        }
    }
    long long t1 = now_ns();
    if (round >= 0) {
        c->ns[round] = t1 - t0;
        c->rss[round] = ru.ru_maxrss;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) c->bad++;
        if (raw) fprintf(raw, "%s\t%d %lld %ld %d\n", c->label, round, t1 - t0, ru.ru_maxrss, status);
    }
}

int main(int argc, char **argv) {
    int runs = 200, warmup = 20, opt;
    const char *rawname = NULL;
    const char *drop[64];
    int ndrop = 0;
    while ((opt = getopt(argc, argv, "+n:w:r:d:")) != -1) {
        switch (opt) {
        case 'n': runs = atoi(optarg); break;
        case 'w': warmup = atoi(optarg); break;
        case 'r': rawname = optarg; break;
        case 'd':
            if (ndrop < 64) drop[ndrop++] = optarg;
            break;
        default:
            fprintf(stderr, "usage: timer [-n RUNS] [-w WARMUP] [-r RAWFILE] [-d FILE]... :: LABEL [NAME=VALUE...] PROG [ARG...] :: ...\n");
            return 100;
        }
    }
    if (runs < 1) runs = 1;
    struct command cmds[64];
    int ncmd = 0;
    for (int i = optind; i < argc;) {
        if (strcmp(argv[i], "::") != 0) {
            fprintf(stderr, "timer: expected :: before %s\n", argv[i]);
            return 100;
        }
        int start = ++i;
        while (i < argc && strcmp(argv[i], "::") != 0) i++;
        int end = i; /* argv[start..end) is LABEL [NAME=VALUE...] PROG [ARG...] */
        if (end - start < 2 || ncmd == 64) {
            fprintf(stderr, "timer: a command needs a label and a program\n");
            return 100;
        }
        struct command *c = &cmds[ncmd++];
        c->label = argv[start];
        int p = start + 1;
        while (p < end && strchr(argv[p], '=') && argv[p][0] != '=' && argv[p][0] != '/') p++;
        c->envp = make_env(&argv[start + 1], p - (start + 1));
        if (p == end) {
            fprintf(stderr, "timer: %s: no program\n", c->label);
            return 100;
        }
        c->argv = calloc(end - p + 1, sizeof *c->argv);
        for (int k = p; k < end; k++) c->argv[k - p] = argv[k];
        c->ns = calloc(runs, sizeof *c->ns);
        c->rss = calloc(runs, sizeof *c->rss);
        c->bad = 0;
    }
    if (ncmd == 0) {
        fprintf(stderr, "timer: no command\n");
        return 100;
    }
    for (int i = 0; i < ndrop; i++) drop_cache(drop[i]);
    FILE *raw = rawname ? fopen(rawname, "w") : NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    /* Every round runs each command once, in an order shuffled anew (with a
     * fixed seed, so that runs are repeatable): no command always follows
     * the same one, or always comes first. */
    int order[64];
    unsigned long long seed = 0x9e3779b97f4a7c15ULL;
    for (int r = -warmup; r < runs; r++) {
        for (int k = 0; k < ncmd; k++) order[k] = k;
        for (int k = ncmd - 1; k > 0; k--) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            int j = (int)((seed >> 33) % (unsigned long long)(k + 1));
            int t = order[k];
            order[k] = order[j];
            order[j] = t;
        }
        for (int k = 0; k < ncmd; k++) run_once(&cmds[order[k]], &fa, r, raw);
    }
    if (raw) fclose(raw);
    for (int k = 0; k < ncmd; k++) {
        struct command *c = &cmds[k];
        qsort(c->ns, runs, sizeof *c->ns, cmp_ll);
        qsort(c->rss, runs, sizeof *c->rss, cmp_l);
        printf("%s\t%.1f %.1f %.1f %.1f %.1f %ld %ld %d %d\n", c->label,
               pct_ll(c->ns, runs, 50) / 1e3, pct_ll(c->ns, runs, 10) / 1e3,
               pct_ll(c->ns, runs, 90) / 1e3, c->ns[0] / 1e3, c->ns[runs - 1] / 1e3,
               c->rss[(runs - 1) / 2], c->rss[runs - 1], c->bad, runs);
    }
    return 0;
}
