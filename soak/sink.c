/* soak/sink.c: the SMTP daemon that rmxsmtpd and rblsmtpd exec in the soak.
 * Its greeting tells the client what it was handed: the RMXRESULT it got
 * ("-" without one) and how many descriptors beyond 0, 1 and 2 it inherited
 * ("fds+0" unless a wrapper leaked one). It then reads the client's last
 * command and says goodbye. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void) {
    int extra = 0;
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL) return 111;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.') continue;
        int fd = atoi(entry->d_name);
        if (fd > 2 && fd != dirfd(dir)) extra++;
    }
    closedir(dir);
    const char *result = getenv("RMXRESULT");
    char line[128];
    int n = snprintf(line, sizeof line, "220 sink %s fds+%d\r\n", result ? result : "-", extra);
    if (write(1, line, n) != n) return 111;
    char command[512];
    if (read(0, command, sizeof command) <= 0) return 111;
    static const char bye[] = "221 sink\r\n";
    return write(1, bye, sizeof bye - 1) == sizeof bye - 1 ? 0 : 111;
}
