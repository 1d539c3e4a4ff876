#!/usr/bin/env bash
# rclone (webdav backend, remote from environment variables) against a
# fresh Davit: mkdir, copy of 1,000 small files and 3 large ones whose names
# hold spaces, accents, %, #, & and emoji, lsjson, check --download,
# server-side copyto and moveto, deletefile, purge; then vendor owncloud,
# whose uploads carry X-OC-Mtime, keeping modification times.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
need rclone curl python3
start_server
fresh_collection

export RCLONE_CONFIG="$work/rclone.conf" # none: the remotes come from the environment
export RCLONE_CONFIG_DAVIT_TYPE=webdav RCLONE_CONFIG_DAVIT_URL="$url" RCLONE_CONFIG_DAVIT_VENDOR=other
export RCLONE_CONFIG_DAVOC_TYPE=webdav RCLONE_CONFIG_DAVOC_URL="$url" RCLONE_CONFIG_DAVOC_VENDOR=owncloud
rc=(rclone --low-level-retries 1 --retries 1 --transfers 8 --checkers 8)

# logged PATTERN RCLONE-ARG... runs rclone -v and passes when its log holds
# PATTERN (the log goes to a file: grep -q on a pipe could cut rclone off).
logged() {
  local pattern=$1; shift
  "${rc[@]}" -v "$@" >"$work/rclone.log" 2>&1 || { cat "$work/rclone.log"; return 1; }
  grep -q -- "$pattern" "$work/rclone.log" || { cat "$work/rclone.log"; return 1; }
}

# The source tree: 10 folders of 100 small files, and 3 files of 20 MiB.
src="$work/src"
names=("plain" "with space" "accénts ñ ü ø" "per%cent %41 %%" "hash #1 #" "and & more &amp;" "emoji 🐙 🚀" "mixé #%& 🦀 x")
for d in $(seq 0 9); do
  dir="$src/dir $d ${names[$((d % ${#names[@]}))]}"
  mkdir -p "$dir"
  for f in $(seq 0 99); do
    printf 'small file %d/%d\n' "$d" "$f" >"$dir/${names[$((f % ${#names[@]}))]} $f.txt"
  done
done
for i in 1 2 3; do head -c $((20 << 20)) /dev/urandom >"$src/large ${names[$((i + 3))]} $i.bin"; done
nsrc=$(find "$src" -type f | wc -l)
check "source tree holds 1,003 files" "$nsrc" = 1003

step "mkdir" "${rc[@]}" mkdir davit:tree
step "mkdir is a collection on the server" curl -fs -o /dev/null -X PROPFIND -H 'Depth: 0' "${url}tree/"
t0=$SECONDS
step "copy 1,003 files" "${rc[@]}" copy "$src" davit:tree
echo "    (copy took $((SECONDS - t0)) s)"
step "lsjson -R" sh -c "${rc[*]@Q} lsjson -R --files-only davit:tree >'$work/ls.json'"
check "lsjson lists 1,003 files" "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$work/ls.json")" = 1003
check "lsjson names equal the source's" "$(python3 - "$work/ls.json" "$src" <<'PY'
import json, os, sys
got = sorted(e["Path"] for e in json.load(open(sys.argv[1])))
want = sorted(os.path.relpath(os.path.join(d, f), sys.argv[2]) for d, _, fs in os.walk(sys.argv[2]) for f in fs)
print("same" if got == want else "differ: %s" % sorted(set(got) ^ set(want))[:5])
PY
)" = same
check "the server's root holds the same bytes" "$(diff <(sha_tree "$src") <(sha_tree "$root$coll/tree") >/dev/null && echo same)" = same
step "check --download" "${rc[@]}" check --download "$src" davit:tree
big="large ${names[4]} 1.bin"
step "copyto (server-side)" logged 'Copied (server-side copy)' copyto "davit:tree/$big" "davit:copied/big copy 🐙.bin"
step "copyto result equals the source" cmp "$src/$big" "$root$coll/copied/big copy 🐙.bin"
step "moveto (server-side)" logged 'Moved (server-side)' moveto "davit:copied/big copy 🐙.bin" "davit:moved/big # moved %.bin"
step "moveto result equals the source" cmp "$src/$big" "$root$coll/moved/big # moved %.bin"
check "moveto source is gone" ! -e "$root$coll/copied/big copy 🐙.bin"
step "deletefile" "${rc[@]}" deletefile "davit:moved/big # moved %.bin"
check "deletefile removed it" ! -e "$root$coll/moved/big # moved %.bin"
step "check after changes" "${rc[@]}" check "$src" davit:tree
step "purge" "${rc[@]}" purge davit:tree
check "purge removed the tree" ! -e "$root$coll/tree"
step "lsjson of the purged tree fails" sh -c "! ${rc[*]@Q} lsjson davit:tree"

# Vendor owncloud: X-OC-Mtime on upload; lsjson ModTime equals the source's.
mt="$work/mtimes"
mkdir -p "$mt/sub é"
printf 'one\n' >"$mt/one.txt"; touch -d '2001-02-03 04:05:06 UTC' "$mt/one.txt"
printf 'two\n' >"$mt/sub é/two #&%.txt"; touch -d '1999-12-31 23:59:59 UTC' "$mt/sub é/two #&%.txt"
head -c $((3 << 20)) /dev/urandom >"$mt/sub é/three 🚀.bin"; touch -d '2024-06-01 12:00:00 UTC' "$mt/sub é/three 🚀.bin"
step "owncloud: copy with X-OC-Mtime" "${rc[@]}" copy "$mt" davoc:oc
step "owncloud: lsjson" sh -c "${rc[*]@Q} lsjson -R --files-only davoc:oc >'$work/oc.json' && ${rc[*]@Q} lsjson -R --files-only '$mt' >'$work/src.json'"
check "owncloud: lsjson ModTime equals the source's" "$(python3 - "$work/oc.json" "$work/src.json" <<'PY'
import json, sys
from datetime import datetime
def times(p):
    return {e["Path"]: datetime.fromisoformat(e["ModTime"].replace("Z", "+00:00")).timestamp() for e in json.load(open(p))}
got, want = times(sys.argv[1]), times(sys.argv[2])
bad = [(k, got.get(k), v) for k, v in want.items() if got.get(k) is None or abs(got[k] - v) >= 1]
print("same" if len(got) == len(want) == 3 and not bad else "differ: %s" % bad)
PY
)" = same
check "owncloud: the server file has the modification time" "$(date -u -r "$root$coll/oc/one.txt" +%FT%T)" = 2001-02-03T04:05:06
step "owncloud: check --download" "${rc[@]}" check --download "$mt" davoc:oc
step "owncloud: a second copy transfers nothing" logged 'There was nothing to transfer' copy "$mt" davoc:oc
step "owncloud: purge" "${rc[@]}" purge davoc:oc
finish
