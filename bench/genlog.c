/* genlog: a synthetic rmxsmtpd log as multilog writes it, for bench/report.
 *
 *   genlog LINES NETWORKS [DAYS [FIRST]] > log
 *
 * LINES lines over DAYS days (30) from FIRST (seconds since 1970, UTC;
 * 1790000000), from clients in NETWORKS /24 blocks (a third of
 * them publish a list, named after the block), each client one of HOSTS hosts
 * of its block: pass, fail, none, dry-run refusals, temperrors, and a
 * tcpserver line now and then. The same arguments give the same bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Hosts per block: the addresses a site sees again and again. */
enum { HOSTS = 8 };

static uint64_t state = 0x2545f4914f6cdd1dULL;

static uint64_t next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "genlog: usage: genlog LINES NETWORKS [DAYS [FIRST]]\n");
        return 100;
    }
    uint64_t lines = strtoull(argv[1], 0, 10), networks = strtoull(argv[2], 0, 10);
    uint64_t span = (argc > 3 ? strtoull(argv[3], 0, 10) : 30) * 86400;
    uint64_t start = argc > 4 ? strtoull(argv[4], 0, 10) : 1790000000ULL;
    if (lines == 0 || networks == 0 || span == 0) {
        fprintf(stderr, "genlog: usage: genlog LINES NETWORKS [DAYS [FIRST]]\n");
        return 100;
    }
    static char buf[1 << 16];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    for (uint64_t i = 0; i < lines; i++) {
        uint64_t r = next();
        uint64_t t = start + i * span / lines;
        /* Big networks first: a skewed pick among the blocks. */
        uint64_t net = (r % networks) * ((r >> 20) % networks) / networks;
        unsigned a = 10 + net / 65536 % 200, b = net / 256 % 256, c = net % 256, host = 1 + (r >> 40) % HOSTS;
        int published = net % 3 == 0;
        unsigned pid = 1000 + i % 60000;
        printf("@%016llx%08x rmxsmtpd: pid %u: %u.%u.%u.%u ", (unsigned long long)((1ULL << 62) + 10 + t),
               (unsigned)(r & 0x3fffffff), pid, a, b, c, host);
        unsigned kind = (r >> 48) % 20;
        if (published && kind < 12)
            printf("pass %u.%u.%u.in-addr.arpa accept\n", c, b, a);
        else if (published && kind < 17)
            printf("fail %u.%u.%u.in-addr.arpa reject: 451 4.7.1 Your IP [%u.%u.%u.%u] is not listed in Reverse MX!\n",
                   c, b, a, a, b, c, host);
        else if (kind == 19)
            printf("temperror %u.%u.%u.in-addr.arpa accept (timeout after 10 s)\n", c, b, a);
        else if (kind == 18)
            printf("none - dry-run accept, would reject: 451 4.7.1 Your IP [%u.%u.%u.%u] is not listed in Reverse MX!\n",
                   a, b, c, host);
        else
            printf("none - accept\n");
        if (i % 100000 == 0)
            printf("@%016llx00000000 tcpserver: status: 1/40\n", (unsigned long long)((1ULL << 62) + 10 + t));
    }
    return fflush(stdout) ? 111 : 0;
}
