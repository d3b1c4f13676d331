#!/bin/sh
# T-HTTP-6 is stricter than git: with a user but no password in an http URL
# (http://bot@host/...), git 2.39 (through curl) first presents that user
# with an EMPTY password, and asks its credential helper only after the
# server refuses it.  The refusal is in the server's log (lighttpd delays it
# by about a second).  Exits 0 when git does so.
. "$(dirname "$0")/lib.inc"; pair
command -v lighttpd >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'bot:secret\n' > users
cat > lighttpd.conf <<CONF
server.document-root = "$d"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$d/error.log"
server.modules = ( "mod_alias", "mod_setenv", "mod_auth", "mod_authn_file", "mod_cgi" )
auth.backend = "plain"
auth.backend.plain.userfile = "$d/users"
alias.url = ( "/git" => "$(git --exec-path)/git-http-backend" )
setenv.add-environment = ( "GIT_PROJECT_ROOT" => "$d", "GIT_HTTP_EXPORT_ALL" => "1" )
cgi.assign = ( "" => "" )
auth.require = ( "/" => ( "method" => "basic", "realm" => "r", "require" => "valid-user" ) )
CONF
timeout 60 lighttpd -D -f lighttpd.conf >/dev/null 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$d"' EXIT
i=0; until python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "lighttpd did not start"; exit 1; }; sleep 0.05
done
git -C b -c 'credential.helper=!f() { echo username=bot; echo password=secret; }; f' \
	ls-remote "http://bot@127.0.0.1:$port/git/r.git" >/dev/null || { echo "git ls-remote failed"; exit 1; }
grep -q "password doesn't match.*username: bot" error.log || { echo "git sent no empty password first"; exit 1; }
echo "git presents a URL's user with an empty password before asking its helper: the server refused a login"
