/*
 * bench/cpu.c: where the CPU time of one row of bench/postfix goes. Run in
 * the PID namespace of the bench, it reads /proc/PID/stat (the name) and
 * /proc/PID/schedstat (the time on a CPU, in nanoseconds) of every process
 * there every 20 ms, until SIGTERM, then prints the CPU time that each kind
 * of process used while it ran, in milliseconds:
 *
 *   cpu  ->  "SERVICE POSTFIX DNS CLIENT"
 *
 * SERVICE is the policy service (rmxpolicyd, or bench/dunno.c); POSTFIX,
 * Postfix's own processes; DNS, dnscache and tinydns; CLIENT, smtp-source.
 * A process seen at the first look counts from there; one born later counts
 * from its start. A process that exits between two looks loses what it
 * used since the last one: at most 20 ms of its time.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum kind { SERVICE, POSTFIX, DNS, CLIENT, OTHER, KINDS };

struct seen {
    int pid;                     /* 0: an empty slot */
    unsigned long long start;    /* its start time, against reused pids */
    unsigned long long first, last;
    enum kind kind;
};

#define SLOTS 65536
static struct seen seen[SLOTS];
static volatile sig_atomic_t stop;

static void on_term(int sig) { (void)sig; stop = 1; }

static enum kind kind_of(const char *comm)
{
    static const char *postfix[] = {
        "master", "smtpd", "cleanup", "qmgr", "trivial-rewrite", "discard", "spawn",
        "anvil", "pickup", "postlogd", "proxymap", "scache", "bounce", "local",
        "postdrop", "postqueue", "postfix", "postsuper", "postlog", 0
    };
    if (!strcmp(comm, "rmxpolicyd") || !strcmp(comm, "dunno"))
        return SERVICE;
    if (!strcmp(comm, "dnscache") || !strcmp(comm, "tinydns"))
        return DNS;
    if (!strcmp(comm, "smtp-source"))
        return CLIENT;
    for (int i = 0; postfix[i]; i++)
        if (!strcmp(comm, postfix[i]))
            return POSTFIX;
    return OTHER;
}

/* One look at every process; `initial` at the first. */
static void look(int initial)
{
    DIR *proc = opendir("/proc");
    struct dirent *e;
    if (!proc)
        exit(111);
    while ((e = readdir(proc))) {
        int pid = atoi(e->d_name);
        char path[64], buf[1024];
        if (pid <= 0)
            continue;
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        /* pid (comm) state ...: comm may hold spaces; it ends at the last ')'. */
        char *open = strchr(buf, '('), *close = strrchr(buf, ')');
        if (!open || !close)
            continue;
        *close = 0;
        const char *comm = open + 1;
        unsigned long long used, start;
        /* After ") ": state, then fields 4...; starttime is field 22. */
        if (sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
                              "%*d %*d %*d %*d %*d %*d %llu", &start) != 1)
            continue;
        snprintf(path, sizeof path, "/proc/%d/schedstat", pid);
        if (!(f = fopen(path, "r")))
            continue;
        int read = fscanf(f, "%llu", &used);
        fclose(f);
        if (read != 1)
            continue;
        unsigned slot = (unsigned)pid % SLOTS;
        while (seen[slot].pid && !(seen[slot].pid == pid && seen[slot].start == start))
            slot = (slot + 1) % SLOTS;
        if (!seen[slot].pid) {
            seen[slot].pid = pid;
            seen[slot].start = start;
            seen[slot].first = initial ? used : 0;
        }
        /* The latest name: a child of spawn(8) becomes rmxpolicyd. */
        seen[slot].kind = kind_of(comm);
        seen[slot].last = used;
    }
    closedir(proc);
}

int main(void)
{
    double total[KINDS] = { 0 };
    struct timespec pause = { 0, 20 * 1000 * 1000 };
    signal(SIGTERM, on_term);
    look(1);
    while (!stop) {
        nanosleep(&pause, 0);
        look(0);
    }
    for (int i = 0; i < SLOTS; i++)
        if (seen[i].pid)
            total[seen[i].kind] += (seen[i].last - seen[i].first) / 1e6;
    printf("%.0f %.0f %.0f %.0f\n", total[SERVICE], total[POSTFIX], total[DNS], total[CLIENT]);
    return 0;
}
