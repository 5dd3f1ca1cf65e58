#!/bin/sh
# ipv6_end_to_end of tests/peers/rmxsmtpd.rs, run by djbdns.sh: openbsd-inetd
# accepts on [::1]:25 (rmxsmtpd with its default prefixes) and [::1]:26
# (rmxsmtpd -6 48) and runs smtpd.run; swaks connects from ::1 to each.
# Transcripts go to @DIR@/swaks-25 and @DIR@/swaks-26.
set -eu
# inetd writes /run/inetd.pid; keep that off the host.
mount -t tmpfs tmpfs /run
inetd -i -d @DIR@/inetd.conf >@DIR@/inetd.log 2>&1 &
inetd=$!
for port in 0019 001A; do
    tries=0
    until grep -Eq "^ *[0-9]+: 0{24}01000000:$port [0-9A-F:]+ 0A " /proc/net/tcp6; do
        tries=$((tries + 1))
        if [ "$tries" -ge 200 ]; then
            echo "inet6.sh: inetd did not listen on port $port within 20 s" >&2
            exit 1
        fi
        sleep 0.1
    done
done
for port in 25 26; do
    swaks --server ::1 --port "$port" --timeout 20 --helo client.rmx.test \
        --from sender@example.org --to user@rmx.test \
        --header "Subject: rmx test to port $port" \
        >@DIR@/swaks-$port 2>&1 || echo "exit $?" >>@DIR@/swaks-$port
done
# exim may still be delivering; the namespaces end with this script.
tries=0
until grep -qs "^Subject: rmx test to port 25$" @DIR@/mail/inbox; do
    tries=$((tries + 1))
    if [ "$tries" -ge 200 ]; then
        echo "inet6.sh: nothing delivered within 20 s" >&2
        break
    fi
    sleep 0.1
done
kill "$inetd"
wait "$inetd" || true
