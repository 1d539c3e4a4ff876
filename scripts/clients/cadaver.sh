#!/usr/bin/env bash
# cadaver (neon) in one scripted session on standard input against a fresh
# Davit: mkcol, put, get, propset, propget, lock, put while holding the
# lock, unlock, copy, move, delete, rmcol. Each command's own answer is
# checked, and between commands curl looks at the server from outside
# (another client meets the lock with 423).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
need cadaver curl
start_server
fresh_collection

cd "$work" || exit 1
printf 'first version\n' >one.txt
printf 'second version, written under the lock\n' >two.txt
mkfifo "$work/cadaver.in"
# The session's working collection is the fresh one; its stdin is the fifo.
cadaver "$url" <"$work/cadaver.in" >"$work/cadaver.out" 2>&1 &
cadaver_pid=$!
exec 7>"$work/cadaver.in"
on_cleanup 'exec 7>&-; kill $cadaver_pid 2>/dev/null; wait $cadaver_pid 2>/dev/null'

# cad NAME COMMAND PATTERN sends one command and waits (10 s at most) for
# the next prompt; passes when the command's output matches the extended
# regular expression PATTERN and does not say "failed".
cad() {
  local name=$1 cmd=$2 want=$3 from out i
  from=$(stat -c %s "$work/cadaver.out")
  printf '%s\n' "$cmd" >&7
  for i in $(seq 200); do
    out=$(tail -c +"$((from + 1))" "$work/cadaver.out")
    # finished once a new prompt follows the command's output
    if tail -n +2 <<<"$out" | grep -q '^dav:'; then break; fi
    kill -0 "$cadaver_pid" 2>/dev/null || break
    sleep 0.05
  done
  # (here-strings, not pipes: with pipefail an early grep -q exit can fail
  # the writer with SIGPIPE)
  if grep -Eq -- "$want" <<<"$out" && ! grep -qi 'failed' <<<"$out"; then
    pass "$name"
  else
    fail "$name: \`$cmd'" "$out"
  fi
}

# status METHOD PATH [CURL-ARG...] prints the status curl gets.
status() {
  local m=$1 p=$2; shift 2
  curl -s -o "$work/curl.body" -w '%{http_code}' -X "$m" "$@" "$base$p"
}

# wait for the first prompt
for i in $(seq 100); do grep -q '^dav:' cadaver.out && break; sleep 0.05; done

C=$coll
cad "mkcol" "mkcol sub" "Creating \`sub': succeeded"
check "the collection exists on the server" "$(status PROPFIND "${C}sub/" -H 'Depth: 0')" = 207
cad "cd" "cd sub" "dav:${C}sub/>"
cad "put" "put one.txt f.txt" "Uploading one.txt to \`${C}sub/f.txt'.*succeeded"
check "the server has the bytes" "$(curl -s "$base${C}sub/f.txt")" = "first version"
cad "ls" "ls" "f\.txt +14 "
cad "get" "get f.txt got1.txt" "Downloading \`${C}sub/f.txt' to got1.txt.*succeeded"
check "get returned the bytes" "$(cat got1.txt 2>/dev/null)" = "first version"
cad "propset" "propset f.txt colour blue" "Setting property on \`f.txt': succeeded"
curl -s -X PROPFIND -H 'Depth: 0' --data '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><c:colour xmlns:c="http://webdav.org/cadaver/custom-properties/"/></D:prop></D:propfind>' "$base${C}sub/f.txt" >"$work/prop.xml"
check "the server stored the property" "$(grep -c '>blue</' "$work/prop.xml")" = 1
cad "propget" "propget f.txt colour" "Value of colour is: blue"
cad "lock" "lock f.txt" "Locking \`f.txt': succeeded"
check "another client's PUT meets the lock (423)" "$(status PUT "${C}sub/f.txt" --data-binary intruder)" = 423
check "another client's DELETE meets the lock (423)" "$(status DELETE "${C}sub/f.txt")" = 423
check "lockdiscovery shows the lock" "$(curl -s -X PROPFIND -H 'Depth: 0' --data '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>' "$base${C}sub/f.txt" | grep -c 'opaquelocktoken\|urn:uuid')" = 1
cad "put while holding the lock" "put two.txt f.txt" "Uploading two.txt to \`${C}sub/f.txt'.*succeeded"
check "the locked PUT reached the server" "$(curl -s "$base${C}sub/f.txt")" = "second version, written under the lock"
cad "unlock" "unlock f.txt" "Unlocking \`f.txt': succeeded"
check "after unlock another client can write (204)" "$(status PUT "${C}sub/f.txt" --data-binary @two.txt)" = 204
cad "copy" "copy f.txt g.txt" "Copying \`${C}sub/f.txt' to \`${C}sub/g.txt'.*succeeded"
check "the copy has the bytes" "$(curl -s "$base${C}sub/g.txt")" = "second version, written under the lock"
check "the copy kept the property" "$(curl -s -X PROPFIND -H 'Depth: 0' --data '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><c:colour xmlns:c="http://webdav.org/cadaver/custom-properties/"/></D:prop></D:propfind>' "$base${C}sub/g.txt" | grep -c '>blue</')" = 1
cad "move" "move g.txt h.txt" "Moving \`${C}sub/g.txt' to \`${C}sub/h.txt'.*succeeded"
check "the move's source is gone (404)" "$(status GET "${C}sub/g.txt")" = 404
cad "get after move" "get h.txt got2.txt" "succeeded"
check "the moved file has the bytes" "$(cat got2.txt 2>/dev/null)" = "second version, written under the lock"
cad "mkcol nested" "mkcol deeper" "Creating \`deeper': succeeded"
cad "copy a collection" "copy ${C}sub/deeper/ ${C}sub/deeper2/" "succeeded"
cad "delete" "delete h.txt" "Deleting \`h.txt': succeeded"
check "the deleted file is gone (404)" "$(status GET "${C}sub/h.txt")" = 404
cad "cd back" "cd .." "dav:${C}>"
cad "rmcol" "rmcol sub" "Deleting collection \`sub': succeeded"
check "the collection is gone (404)" "$(status PROPFIND "${C}sub/" -H 'Depth: 0')" = 404
printf 'quit\n' >&7
exec 7>&-
wait "$cadaver_pid"
check "cadaver exits 0" "$?" = 0
finish
