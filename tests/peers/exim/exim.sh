#!/bin/sh
# tests/peers/exim.rs runs this through tests/peers/djbdns.sh, inside new PID,
# mount and network namespaces where tinydns and dnscache serve the test
# zones. rmxpolicyd runs behind tcpserver through examples/exim/run, as
# shipped, from a /usr overlay that holds it at /usr/local/bin, and finds
# dnscache through /etc/resolv.conf. Exim, with the shipped ACL, first
# checks two hosts in its host-checking mode (-bh), then listens on
# 127.0.0.1:2525 for swaks, sending from each address of @DIR@/sends.
set -eu
dir=@DIR@
mount --bind "$dir/resolv.conf" /etc/resolv.conf
mount -t overlay overlay -o "lowerdir=$dir/usr:/usr" /usr
sh @ROOT@/examples/exim/run >"$dir/policyd.log" 2>&1 &
policyd=$!
# Until a socket listens on 127.0.0.1:PORT (in hex).
listening() {
    tries=0
    until grep -q "^ *[0-9]*: 0100007F:$1 00000000:0000 0A" /proc/net/tcp; do
        tries=$((tries + 1))
        [ "$tries" -lt 200 ] || { echo "exim.sh: nothing listens on port 0x$1" >&2; exit 1; }
        sleep 0.1
    done
}
listening 2731
for host in 127.0.0.9 127.0.0.5; do
    printf 'EHLO client.example\r\nMAIL FROM:<sender@example.org>\r\nRCPT TO:<nobody@rmx.test>\r\nQUIT\r\n' |
        exim -C "$dir/exim.conf" -bh "$host" >"$dir/bh.$host" 2>"$dir/bh.$host.debug" || true
done
exim -C "$dir/exim.conf" -bdf -odi &
exim=$!
listening 09DD
while read -r source; do
    swaks --server 127.0.0.1:2525 --local-interface "$source" --from sender@example.org \
        --to nobody@rmx.test --helo client.example --header "Subject: rmx from $source" \
        >"$dir/swaks.$source" 2>&1 || true
done <"$dir/sends"
# Delivery may still run when swaks has its last reply.
tries=0
until [ "$(grep -c '^Subject: rmx from ' "$dir/mail/inbox" 2>/dev/null)" = "$(grep -c . "$dir/sends")" ] ||
    [ "$tries" -ge 50 ]; do
    tries=$((tries + 1))
    sleep 0.1
done
kill "$exim" "$policyd"
wait "$exim" "$policyd" || true
