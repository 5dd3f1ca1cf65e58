#!/bin/sh
# tests/peers/exim.rs runs this through tests/peers/djbdns.sh, inside new PID,
# mount and network namespaces where tinydns and dnscache serve the test
# zones. svscan runs the service directory @DIR@/service, where rmx/run and
# rmx/log/run are examples/exim/run and examples/exim/log/run as shipped
# (the first with the options the test gives rmxpolicyd), all owned by
# root: tcpserver and rmxpolicyd, from a /usr overlay that holds it at
# /usr/local/bin, and multilog writing rmx/log/main. rmxpolicyd finds
# dnscache through /etc/resolv.conf.
#
# Then Exim, with the shipped ACL: first in its host-checking mode (-bh),
# for each line of @DIR@/checks (a configuration, a client, a recipient);
# then the Debian configuration that update-exim4.conf writes, with
# CHECK_RCPT_LOCAL_ACL_FILE naming the shipped ACL; then listening on
# 127.0.0.1:2525 for swaks, sending from each address of @DIR@/sends; and
# last with rmxpolicyd down (svc -d), from each address of @DIR@/sends.down.
set -eu
dir=@DIR@
mount --bind "$dir/resolv.conf" /etc/resolv.conf
mount -t overlay overlay -o "lowerdir=$dir/usr:/usr" /usr
svscan "$dir/service" >"$dir/svscan.log" 2>&1 &
svscan=$!
listens() { grep -q "^ *[0-9]*: 0100007F:$1 00000000:0000 0A" /proc/net/tcp; }
# Until port PORT (in hex) of 127.0.0.1 is as asked: `port up PORT`, or
# `port down PORT`.
port() {
    tries=0
    until { [ "$1" = up ] && listens "$2"; } || { [ "$1" = down ] && ! listens "$2"; }; do
        tries=$((tries + 1))
        [ "$tries" -lt 200 ] || { echo "exim.sh: port 0x$2 not $1" >&2; exit 1; }
        sleep 0.1
    done
}
# One SMTP dialogue in host-checking mode: exim -C CONF -bh HOST, to RCPT.
check() {
    printf 'EHLO client.example\r\nMAIL FROM:<sender@example.org>\r\nRCPT TO:<%s>\r\nQUIT\r\n' "$3" |
        exim -C "$1" -bh "$2" >"$dir/bh.$4" 2>"$dir/bh.$4.debug" || true
}
port up 2731
n=0
while read -r conf host rcpt; do
    n=$((n + 1))
    check "$conf" "$host" "$rcpt" "$n"
done <"$dir/checks"
# Debian's exim4-config, as the manual says: the macro in
# exim4.conf.localmacros, then update-exim4.conf.
cp -a /etc/exim4 "$dir/exim4"
echo "CHECK_RCPT_LOCAL_ACL_FILE = @ROOT@/examples/exim/rmx.acl" >"$dir/exim4/exim4.conf.localmacros"
mount --bind "$dir/exim4" /etc/exim4
# Whatever else it writes stays in the namespace.
mkdir "$dir/lib-upper" "$dir/lib-work"
mount -t overlay overlay -o "lowerdir=/var/lib/exim4,upperdir=$dir/lib-upper,workdir=$dir/lib-work" /var/lib/exim4
update-exim4.conf -o "$dir/debian.conf"
check "$dir/debian.conf" 127.0.0.9 root@localhost debian
exim -C "$dir/exim.conf" -bdf -odi &
exim=$!
port up 09DD
send() {
    swaks --server 127.0.0.1:2525 --local-interface "$1" --from sender@example.org \
        --to nobody@rmx.test --helo client.example --header "Subject: rmx from $1" \
        >"$dir/swaks.$2" 2>&1 || true
}
while read -r source; do
    send "$source" "$source"
done <"$dir/sends"
svc -d "$dir/service/rmx"
port down 2731
while read -r source; do
    send "$source" "$source.down"
done <"$dir/sends.down"
# Delivery may still run when swaks has its last reply.
expected=$(cat "$dir/sends" "$dir/sends.down" | grep -c .)
tries=0
until [ "$(grep -c '^Subject: rmx from ' "$dir/mail/inbox" 2>/dev/null)" = "$expected" ] ||
    [ "$tries" -ge 50 ]; do
    tries=$((tries + 1))
    sleep 0.1
done
kill "$exim"
wait "$exim" || true
# The log service ends once the pipe from the service is closed.
svc -dx "$dir/service/rmx" "$dir/service/rmx/log"
kill "$svscan"
wait "$svscan" || true
tries=0
while svok "$dir/service/rmx/log"; do
    tries=$((tries + 1))
    [ "$tries" -lt 100 ] || break
    sleep 0.1
done
