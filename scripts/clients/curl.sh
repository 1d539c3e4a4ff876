#!/usr/bin/env bash
# Raw HTTP with curl against a fresh Davit: every method with its exact
# expected status, the RFC 4918 precondition cases, and every 207 (and
# every XML error body) checked well-formed with xmllint; every 207 also
# read by Davit's own streaming reader (`davit multistatus decode`).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
need curl xmllint
start_server
fresh_collection
C=$coll

# req NAME WANT METHOD PATH [CURL-ARG...] sends one request and passes when
# the status is WANT; the body lands in $work/body, headers in $work/hdr.
# A 207 must be a well-formed DAV:multistatus; any XML body well-formed.
req() {
  local name=$1 want=$2 method=$3 path=$4 code
  shift 4
  local how=(-X "$method")
  [ "$method" = HEAD ] && how=(--head)
  code=$(curl -s -g "${how[@]}" -o "$work/body" -D "$work/hdr" -w '%{http_code}' "$@" "$base$path")
  if [ "$code" != "$want" ]; then
    fail "$name: $method $path -> $code, want $want" "$(cat "$work/body")"
    return 1
  fi
  if [ "$code" = 207 ]; then
    local n
    n=$(xmllint --xpath "count(/*[local-name()='multistatus' and namespace-uri()='DAV:'])" "$work/body" 2>&1)
    if [ "$n" != 1 ]; then
      fail "$name: $method $path -> 207 but not a well-formed DAV:multistatus" "$n
$(cat "$work/body")"
      return 1
    fi
    if ! "$DAVIT_BIN" multistatus decode "$work/body" >/dev/null 2>"$work/decerr"; then
      fail "$name: $method $path -> 207 that davit multistatus decode refuses" "$(cat "$work/decerr")"
      return 1
    fi
  elif grep -qi '^content-type: application/xml' "$work/hdr"; then
    if ! xmllint --noout "$work/body" 2>"$work/xmlerr"; then
      fail "$name: $method $path -> $code with malformed XML" "$(cat "$work/xmlerr")"
      return 1
    fi
  fi
  pass "$name: $method $path -> $code"
}

hdr() { grep -i "^$1:" "$work/hdr" | head -n1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'; }
xp() { xmllint --xpath "$1" "$work/body" 2>/dev/null; }
xml=(-H 'Content-Type: application/xml; charset=utf-8')

# OPTIONS
req "OPTIONS on the root" 200 OPTIONS /
check "DAV header advertises classes 1 and 2" "$(hdr DAV | grep -c '1, 2')" = 1
check "MS-Author-Via: DAV" "$(hdr MS-Author-Via)" = DAV
check "Allow lists PROPFIND" "$(hdr Allow | grep -c PROPFIND)" = 1
req "OPTIONS on a missing resource" 200 OPTIONS "${C}nothing"

# MKCOL
req "MKCOL" 201 MKCOL "${C}d/"
req "MKCOL on an existing collection" 405 MKCOL "${C}d/"
req "MKCOL without the trailing slash on an existing collection" 405 MKCOL "${C}d"
req "MKCOL with a missing parent" 409 MKCOL "${C}no/such/"
req "MKCOL with a body" 415 MKCOL "${C}withbody/" "${xml[@]}" --data '<x/>'

# PUT
printf 'hello, davit\n' >"$work/a.txt"
req "PUT new file" 201 PUT "${C}d/a.txt" --data-binary @"$work/a.txt"
req "PUT over the file" 204 PUT "${C}d/a.txt" --data-binary @"$work/a.txt"
req "PUT with a missing parent" 409 PUT "${C}no/such/file" --data-binary x
req "PUT onto a collection" 405 PUT "${C}d" --data-binary x
req "PUT chunked" 201 PUT "${C}d/chunked.txt" -H 'Transfer-Encoding: chunked' --data-binary @"$work/a.txt"
req "PUT with If-None-Match: * on an existing file" 412 PUT "${C}d/a.txt" -H 'If-None-Match: *' --data-binary x
req "PUT with If-Match: * on a missing file" 412 PUT "${C}d/none.txt" -H 'If-Match: *' --data-binary x
req "PUT with X-OC-Mtime" 201 PUT "${C}d/mtime.txt" -H 'X-OC-Mtime: 1000000000' --data-binary x
check "X-OC-MTime: accepted" "$(hdr X-OC-MTime)" = accepted
req "PUT with a malformed X-OC-Mtime" 400 PUT "${C}d/mtime.txt" -H 'X-OC-Mtime: yesterday' --data-binary x

# GET, HEAD
req "GET" 200 GET "${C}d/a.txt"
check "GET body is what was PUT" "$(cat "$work/body")" = "hello, davit"
etag=$(hdr ETag)
check "GET has a strong ETag" -n "$etag" -a "${etag#W/}" = "$etag"
req "GET If-None-Match the ETag" 304 GET "${C}d/a.txt" -H "If-None-Match: $etag"
req "GET a range" 206 GET "${C}d/a.txt" -r 0-4
check "range body" "$(cat "$work/body")" = "hello"
req "GET an unsatisfiable range" 416 GET "${C}d/a.txt" -r 1000-2000
req "HEAD" 200 HEAD "${C}d/a.txt"
check "HEAD Content-Length" "$(hdr Content-Length)" = 13
req "GET a missing file" 404 GET "${C}d/missing.txt"
req "GET X-OC-Mtime file's Last-Modified" 200 GET "${C}d/mtime.txt"
check "Last-Modified from X-OC-Mtime" "$(hdr Last-Modified)" = "Sun, 09 Sep 2001 01:46:40 GMT"
req "GET a collection" 200 GET "${C}d/"

# PROPFIND
req "PROPFIND Depth 0 allprop (no body)" 207 PROPFIND "${C}d/a.txt" -H 'Depth: 0'
check "getcontentlength 13" "$(xp "string(//*[local-name()='getcontentlength'])")" = 13
req "PROPFIND Depth 1 on a collection" 207 PROPFIND "${C}d/" -H 'Depth: 1'
check "Depth 1 lists the collection and its 3 members" "$(xp "count(//*[local-name()='response'])")" = 4
req "PROPFIND Depth 1 without the trailing slash" 207 PROPFIND "${C}d" -H 'Depth: 1'
check "collection href ends in /" "$(xp "string((//*[local-name()='href'])[1])")" = "${C}d/"
req "PROPFIND Depth 1,noroot" 207 PROPFIND "${C}d/" -H 'Depth: 1,noroot'
check "noroot leaves out the collection" "$(xp "count(//*[local-name()='response'])")" = 3
req "PROPFIND Depth infinity" 207 PROPFIND "$C" -H 'Depth: infinity'
req "PROPFIND propname" 207 PROPFIND "${C}d/a.txt" -H 'Depth: 0' "${xml[@]}" \
  --data '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>'
req "PROPFIND named properties" 207 PROPFIND "${C}d/" -H 'Depth: 1' "${xml[@]}" \
  --data '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getlastmodified/><D:getcontentlength/><D:resourcetype/><D:getetag/><x:nope xmlns:x="urn:x"/></D:prop></D:propfind>'
check "unknown property answered 404 in its propstat" "$(xp "count(//*[local-name()='propstat'][contains(*[local-name()='status'],'404')])")" = 4
req "PROPFIND allprop with include" 207 PROPFIND "${C}d/a.txt" -H 'Depth: 0' "${xml[@]}" \
  --data '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/><D:include><D:lockdiscovery/></D:include></D:propfind>'
req "PROPFIND on a missing resource" 404 PROPFIND "${C}missing" -H 'Depth: 0'
req "PROPFIND with malformed XML" 400 PROPFIND "${C}d/" -H 'Depth: 0' "${xml[@]}" --data '<D:propfind xmlns:D="DAV:"><D:prop>'
req "PROPFIND with a bad Depth" 400 PROPFIND "${C}d/" -H 'Depth: 2'
req "PROPFIND on the root" 207 PROPFIND / -H 'Depth: 1'

# PROPPATCH
req "PROPPATCH set and remove" 207 PROPPATCH "${C}d/a.txt" "${xml[@]}" \
  --data '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:davit:test"><D:set><D:prop><Z:color>blue &amp; green</Z:color></D:prop></D:set><D:remove><D:prop><Z:gone/></D:prop></D:remove></D:propertyupdate>'
check "PROPPATCH answered 200 for each" "$(xp "count(//*[local-name()='propstat'][contains(*[local-name()='status'],'200')]/*[local-name()='prop']/*)")" = 2
req "PROPFIND reads the dead property back" 207 PROPFIND "${C}d/a.txt" -H 'Depth: 0' "${xml[@]}" \
  --data '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><Z:color xmlns:Z="urn:davit:test"/></D:prop></D:propfind>'
check "dead property value" "$(xp "string(//*[local-name()='color'])")" = "blue & green"
req "PROPPATCH a protected property" 207 PROPPATCH "${C}d/a.txt" "${xml[@]}" \
  --data '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:davit:test"><D:set><D:prop><D:getetag>x</D:getetag><Z:other>1</Z:other></D:prop></D:set></D:propertyupdate>'
check "protected property 403, the other 424" "$(xp "count(//*[contains(*[local-name()='status'],'403')])")$(xp "count(//*[contains(*[local-name()='status'],'424')])")" = 11
req "PROPPATCH on a missing resource" 404 PROPPATCH "${C}missing" "${xml[@]}" \
  --data '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:x>1</D:x></D:prop></D:set></D:propertyupdate>'

# COPY
req "COPY a file" 201 COPY "${C}d/a.txt" -H "Destination: $base${C}d/b.txt"
req "COPY without overwrite onto an existing file" 412 COPY "${C}d/a.txt" -H "Destination: $base${C}d/b.txt" -H 'Overwrite: F'
req "COPY with overwrite" 204 COPY "${C}d/a.txt" -H "Destination: $base${C}d/b.txt" -H 'Overwrite: T'
req "COPY a collection" 201 COPY "${C}d/" -H "Destination: $base${C}e/"
req "COPY into a missing parent" 409 COPY "${C}d/a.txt" -H "Destination: $base${C}no/such/a.txt"
req "COPY with a relative Destination" 201 COPY "${C}d/a.txt" -H "Destination: ${C}d/rel.txt"
req "COPY onto itself" 403 COPY "${C}d/a.txt" -H "Destination: $base${C}d/a.txt"
req "COPY without Destination" 400 COPY "${C}d/a.txt"
req "COPY kept the dead property" 207 PROPFIND "${C}e/a.txt" -H 'Depth: 0' "${xml[@]}" \
  --data '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><Z:color xmlns:Z="urn:davit:test"/></D:prop></D:propfind>'
check "copied dead property value" "$(xp "string(//*[local-name()='color'])")" = "blue & green"

# MOVE
req "MOVE a file" 201 MOVE "${C}d/b.txt" -H "Destination: $base${C}d/c.txt"
req "MOVE without overwrite onto an existing file" 412 MOVE "${C}d/c.txt" -H "Destination: $base${C}d/a.txt" -H 'Overwrite: F'
req "MOVE a collection" 201 MOVE "${C}e/" -H "Destination: $base${C}f/"
req "MOVE a collection into itself" 403 MOVE "${C}f/" -H "Destination: $base${C}f/g/"
req "MOVE source is gone" 404 GET "${C}e/a.txt"

# LOCK, UNLOCK
lockbody='<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>mailto:curl@example.org</D:href></D:owner></D:lockinfo>'
req "LOCK a file" 200 LOCK "${C}d/a.txt" -H 'Timeout: Second-600' "${xml[@]}" --data "$lockbody"
token=$(hdr Lock-Token)
check "Lock-Token header" "${token:0:1}${token: -1}" = "<>"
check "lockdiscovery echoes the owner" "$(xp "string(//*[local-name()='owner']/*[local-name()='href'])")" = "mailto:curl@example.org"
req "PUT to a locked file without the token" 423 PUT "${C}d/a.txt" --data-binary x
req "DELETE a locked file without the token" 423 DELETE "${C}d/a.txt"
req "PROPPATCH a locked file without the token" 423 PROPPATCH "${C}d/a.txt" "${xml[@]}" \
  --data '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><Z:a xmlns:Z="urn:z">1</Z:a></D:prop></D:set></D:propertyupdate>'
req "MOVE a locked file without the token" 423 MOVE "${C}d/a.txt" -H "Destination: $base${C}d/z.txt"
req "LOCK a locked file again" 423 LOCK "${C}d/a.txt" "${xml[@]}" --data "$lockbody"
req "PUT to a locked file with the token" 204 PUT "${C}d/a.txt" -H "If: ($token)" --data-binary @"$work/a.txt"
req "LOCK refresh" 200 LOCK "${C}d/a.txt" -H "If: ($token)" -H 'Timeout: Second-300'
req "PROPFIND lockdiscovery" 207 PROPFIND "${C}d/a.txt" -H 'Depth: 0' "${xml[@]}" \
  --data '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>'
check "lockdiscovery names the token" "$(xp "string(//*[local-name()='locktoken']/*[local-name()='href'])")" = "${token:1:${#token}-2}"
req "UNLOCK with a wrong token" 409 UNLOCK "${C}d/a.txt" -H 'Lock-Token: <urn:uuid:00000000-0000-0000-0000-000000000000>'
req "UNLOCK without a Lock-Token" 400 UNLOCK "${C}d/a.txt"
req "UNLOCK" 204 UNLOCK "${C}d/a.txt" -H "Lock-Token: $token"
req "PUT after UNLOCK" 204 PUT "${C}d/a.txt" --data-binary @"$work/a.txt"
req "LOCK an unmapped URL creates it" 201 LOCK "${C}d/new.txt" "${xml[@]}" --data "$lockbody"
token2=$(hdr Lock-Token)
req "the locked empty resource exists" 200 GET "${C}d/new.txt"
req "LOCK a collection Depth infinity" 200 LOCK "${C}f/" -H 'Depth: infinity' "${xml[@]}" --data "$lockbody"
token3=$(hdr Lock-Token)
req "PUT into a locked collection without the token" 423 PUT "${C}f/new.txt" --data-binary x
req "PUT into a locked collection with the token" 201 PUT "${C}f/new.txt" -H "If: ($token3)" --data-binary x
req "UNLOCK the collection" 204 UNLOCK "${C}f/" -H "Lock-Token: $token3"
req "UNLOCK the new file" 204 UNLOCK "${C}d/new.txt" -H "Lock-Token: $token2"

# DELETE
req "DELETE a file" 204 DELETE "${C}d/c.txt"
req "DELETE a deleted file" 404 DELETE "${C}d/c.txt"
req "DELETE a collection" 204 DELETE "${C}f/"
req "DELETE left nothing" 404 PROPFIND "${C}f/" -H 'Depth: 0'

# Other methods
req "POST is not allowed" 405 POST "${C}d/a.txt" --data x
req "an unknown method" 405 BREW "${C}d/a.txt"

req "DELETE the test collection" 204 DELETE "$C"

# Behind a reverse proxy: a second Davit with --prefix /dav; the client's
# Destination carries the proxy's public scheme, host and port.
pport=$(free_port)
"$DAVIT_BIN" serve --root "$work/root-prefix" --listen "127.0.0.1:$pport" --prefix /dav --no-sync >"$work/server-prefix.log" 2>&1 &
# shellcheck disable=SC2034 # used by the cleanup command below, run later
ppid_=$!
on_cleanup 'kill $ppid_ 2>/dev/null; wait $ppid_ 2>/dev/null'
for _ in $(seq 100); do curl -fs -o /dev/null -X OPTIONS "http://127.0.0.1:$pport/dav/" && break; sleep 0.1; done
base="http://127.0.0.1:$pport"
req "prefix: OPTIONS" 200 OPTIONS /dav/
req "prefix: MKCOL" 201 MKCOL /dav/p/
req "prefix: PUT" 201 PUT /dav/p/a.txt --data-binary @"$work/a.txt"
req "prefix: COPY to the proxy's public URL" 201 COPY /dav/p/a.txt -H "Destination: https://public.example/dav/p/b%20c.txt"
req "prefix: MOVE to the proxy's public URL with a port" 201 MOVE "/dav/p/b%20c.txt" -H "Destination: https://public.example:8443/dav/p/d.txt"
req "prefix: COPY to a relative Destination" 201 COPY /dav/p/a.txt -H "Destination: /dav/p/e.txt"
req "prefix: COPY outside the prefix" 502 COPY /dav/p/a.txt -H "Destination: https://public.example/elsewhere/a.txt"
req "prefix: PROPFIND" 207 PROPFIND /dav/p -H 'Depth: 1'
check "prefix: hrefs carry the prefix" "$(xp "string((//*[local-name()='href'])[1])")" = /dav/p/
check "prefix: the listing has the copies" "$(xp "count(//*[local-name()='href'])")" = 4
req "prefix: GET the moved file" 200 GET /dav/p/d.txt
check "prefix: the moved file's bytes" "$(cat "$work/body")" = "hello, davit"
finish
