#!/bin/sh
# tests/peers/postfix.rs runs this through tests/peers/djbdns.sh, inside new PID,
# mount and network namespaces where tinydns and dnscache serve the test
# zones. It lays the unpacked postfix package over /usr, the test's etc/
# over /etc (passwd and group with the postfix users, resolv.conf, and
# postfix/ with the test's main.cf and master.cf), and an overlay over /dev
# where a syslog socket collects what rmxpolicyd logs. Then it starts
# Postfix, sends with swaks each line of @DIR@/sends (a source address and
# recipients), and stops Postfix once the queue is empty.
set -eu
dir=@DIR@
mount -t proc proc /proc
mount -t overlay overlay -o "lowerdir=$dir/usr:$dir/root/usr:/usr" /usr
mount -t overlay overlay -o "lowerdir=$dir/etc:/etc" /etc
mkdir "$dir/dev-upper" "$dir/dev-work"
mount -t overlay overlay -o "lowerdir=/dev,upperdir=$dir/dev-upper,workdir=$dir/dev-work" /dev
rm -f /dev/log
perl -MIO::Socket::UNIX -MSocket -e '
    my $socket = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => "/dev/log")
        or die "syslog: bind /dev/log: $!\n";
    chmod 0666, "/dev/log";
    open my $out, ">>", $ARGV[0] or die "syslog: $ARGV[0]: $!\n";
    $out->autoflush(1);
    while (defined $socket->recv(my $line, 65536)) { print $out "$line\n" }
' "$dir/syslog" &
syslog=$!
# A resolver that never answers, for the scenario whose resolv.conf names it.
perl -MIO::Socket::INET -e '
    my $socket = IO::Socket::INET->new(LocalAddr => "127.0.0.77:53", Proto => "udp")
        or die "dead resolver: $!\n";
    sleep 600;
' &
dead=$!
tries=0
until [ -S /dev/log ]; do
    tries=$((tries + 1))
    [ "$tries" -lt 100 ] || { echo "postfix.sh: no /dev/log" >&2; exit 1; }
    sleep 0.1
done
postfix start >"$dir/start.log" 2>&1
tries=0
until grep -q '^ *[0-9]*: 0100007F:0019 00000000:0000 0A' /proc/net/tcp; do
    tries=$((tries + 1))
    [ "$tries" -lt 200 ] || { echo "postfix.sh: smtpd did not listen" >&2; cat "$dir/start.log" "$dir/maillog" >&2; exit 1; }
    sleep 0.1
done
n=0
while read -r source recipients; do
    n=$((n + 1))
    started=$(date +%s%N)
    swaks --server 127.0.0.1:25 --local-interface "$source" --from sender@example.org \
        --to "$recipients" --helo client.example --header "Subject: rmx $n $source" \
        >"$dir/swaks.$n" 2>&1 || true
    echo $(( ($(date +%s%N) - started) / 1000000 )) >"$dir/ms.$n"
done <"$dir/sends"
# Until syslog holds as many lines matching the pattern of @DIR@/await
# ("COUNT PATTERN") as it asks: the rmxpolicyd still at work when Postfix
# gave up on it.
if [ -s "$dir/await" ]; then
    read -r count pattern <"$dir/await" || true
    tries=0
    until [ "$(grep -c -- "$pattern" "$dir/syslog")" -ge "$count" ]; do
        tries=$((tries + 1))
        [ "$tries" -lt 300 ] || break
        sleep 0.1
    done
fi
tries=0
until postqueue -p 2>/dev/null | grep -q 'Mail queue is empty'; do
    tries=$((tries + 1))
    [ "$tries" -lt 300 ] || break
    sleep 0.1
done
postfix stop >>"$dir/start.log" 2>&1
kill "$syslog" "$dead"
