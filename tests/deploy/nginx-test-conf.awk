# Rewrites deploy/nginx/llamaguard.conf for a test run, changing nothing but where things are:
#   awk -v servers="127.0.0.1:P1 127.0.0.1:P2" -v listen="127.0.0.1:P" -v logpath=/tmp/x/access.log -f nginx-test-conf.awk
# The upstream's `server` lines become one line per address in `servers`, each with the parameters of the shipped
# file's first server line (max_fails, fail_timeout…); `listen` and `access_log` (its format kept) are replaced.
/^upstream llamaguard \{/ { inside = 1 }
inside && /^\}/ { inside = 0 }
inside && $1 == "server" {
    if (!done) {
        params = $0
        sub(/^[ \t]*server[ \t]+[^ \t;]+/, "", params)
        n = split(servers, s, " ")
        for (i = 1; i <= n; i++) print "    server " s[i] params
        done = 1
    }
    next
}
$1 == "listen" { print "    listen " listen ";"; next }
$1 == "access_log" { print "    access_log " logpath " " $3; next }
{ print }
