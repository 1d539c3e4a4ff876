#!/usr/bin/env bash
# davfs2 (mount.davfs over FUSE) against a fresh Davit: mount with
# buf_size 64 (this kernel asks for 32 KiB directory reads), then plain
# mkdir, cp, mv, ls -l, cat, rm, rm -r on the mount, each checked on the
# server; while a file is open for writing on the mount another client
# (curl) meets davfs2's lock with 423; unmount, mount again with an empty
# cache and compare every byte (sha256) with what was written.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
export PATH="$PATH:/usr/sbin:/sbin"
need mount.davfs umount.davfs curl sha256sum
[ "$(id -u)" = 0 ] || fatal "running as root" "mount.davfs needs root here (mount -t davfs)"
if [ ! -c /dev/fuse ]; then
  modprobe fuse 2>/dev/null || true
  [ -c /dev/fuse ] || fatal "FUSE is available" "no /dev/fuse (and modprobe fuse did not create it); /proc/filesystems: $(grep -E 'fuse|coda' /proc/filesystems | tr '\n' ' ')"
fi
getent passwd davfs2 >/dev/null || fatal "the davfs2 user exists" "the davfs2 package did not create its user"
start_server
fresh_collection

mnt="$work/mnt"
mirror="$work/mirror" # the same operations on a local folder: what the server must hold
mkdir -p "$mnt" "$mirror"
chmod 711 "$work" # mount.davfs, as user davfs2, must reach its cache below it

# conf N writes davfs2 config N with its own, empty cache folder. The cache
# folder must belong to root and group davfs2 (mount.davfs drops to davfs2).
conf() {
  local c="$work/cache$1"
  mkdir -p "$c"
  chown root:davfs2 "$c"
  chmod 775 "$c"
  cat >"$work/davfs2-$1.conf" <<CONF
buf_size 64
use_locks 1
delay_upload 0
cache_dir $c
secrets $work/secrets
CONF
}
# No credentials: the server asks for none, and neon sends them only when
# challenged; the secrets entry keeps mount.davfs from prompting.
printf '%s anonymous ""\n' "$mnt" >"$work/secrets"
chmod 600 "$work/secrets"

mounted() { mountpoint -q "$mnt"; }
do_mount() {
  conf "$1"
  mount.davfs -o "conf=$work/davfs2-$1.conf" "$url" "$mnt" </dev/null >"$work/mount$1.out" 2>&1 && mounted
}
do_umount() {
  mounted || return 0
  umount "$mnt" >"$work/umount.out" 2>&1 || { sleep 1; umount "$mnt" >>"$work/umount.out" 2>&1; }
  ! mounted
}
on_cleanup 'mounted && { umount "$mnt" || umount -l "$mnt"; } >/dev/null 2>&1'

# wait_server PATH EXPECTED waits (15 s at most) until the server's copy of
# PATH below the collection has the sha256 of local file EXPECTED, or, with
# EXPECTED "gone", until it is absent.
wait_server() {
  local p="$root$coll$1" want=$2 i
  for i in $(seq 150); do
    if [ "$want" = gone ]; then
      [ -e "$p" ] || return 0
    elif [ -f "$p" ] && [ "$(sha256sum <"$p")" = "$(sha256sum <"$want")" ]; then
      return 0
    fi
    sleep 0.1
  done
  echo "server copy of $1 is not as expected"
  return 1
}

if ! do_mount 1; then
  fatal "mount.davfs" "$(cat "$work/mount1.out"; ls -l /dev/fuse; grep -E 'fuse|coda' /proc/filesystems; dmesg 2>/dev/null | tail -n 5)"
fi
pass "mount.davfs with buf_size 64"

# mkdir
step "mkdir" mkdir "$mnt/dir é #1" "$mnt/gone"
mkdir "$mirror/dir é #1" "$mirror/gone"
step "mkdir reached the server" curl -fs -o /dev/null -X PROPFIND -H 'Depth: 0' "${url}dir%20%C3%A9%20%231/"

# cp: small files, one with awkward characters, 300 in one folder (large
# directory reads), and an 8 MiB file.
src="$work/src"
mkdir -p "$src/many"
for i in $(seq 1 300); do printf 'entry %d\n' "$i" >"$src/many/file-$i.txt"; done
printf 'hello from davfs2\n' >"$src/hello.txt"
printf 'odd name\n' >"$src/odd %41 & #.txt"
head -c $((8 << 20)) /dev/urandom >"$src/big.bin"
step "cp -r" cp -r "$src/." "$mnt/dir é #1/"
cp -r "$src/." "$mirror/dir é #1/"
step "cp reached the server: big.bin" wait_server "/dir é #1/big.bin" "$src/big.bin"
step "cp reached the server: odd name" wait_server "/dir é #1/odd %41 & #.txt" "$src/odd %41 & #.txt"
step "cp reached the server: 300 files" wait_server "/dir é #1/many/file-300.txt" "$src/many/file-300.txt"
cp "$src/hello.txt" "$mnt/gone/x.txt"; cp "$src/hello.txt" "$mirror/gone/x.txt"

# mv: a file and a folder
step "mv a file" mv "$mnt/dir é #1/hello.txt" "$mnt/dir é #1/hello moved.txt"
mv "$mirror/dir é #1/hello.txt" "$mirror/dir é #1/hello moved.txt"
step "mv a folder" mv "$mnt/dir é #1/many" "$mnt/many moved"
mv "$mirror/dir é #1/many" "$mirror/many moved"
step "mv reached the server" wait_server "/dir é #1/hello moved.txt" "$src/hello.txt"
step "mv removed the old name" wait_server "/dir é #1/hello.txt" gone
step "mv of the folder reached the server" wait_server "/many moved/file-7.txt" "$src/many/file-7.txt"

# ls -l
ls -l "$mnt/dir é #1" >"$work/ls.out" 2>&1
check "ls -l shows big.bin with its size" "$(awk '$NF == "big.bin" {print $5}' "$work/ls.out")" = $((8 << 20))
# shellcheck disable=SC2010 # ls itself is the client under test here
check "ls -l of the 300-entry folder" "$(ls -l "$mnt/many moved" | grep -c 'file-')" = 300

# cat
check "cat" "$(cat "$mnt/dir é #1/hello moved.txt")" = "hello from davfs2"
check "cat the odd name" "$(cat "$mnt/dir é #1/odd %41 & #.txt")" = "odd name"

# Locks: davfs2 locks a file while it is open for writing.
printf 'v1\n' >"$mnt/locked.txt"; printf 'v1\n' >"$mirror/locked.txt"
step "the file to lock reached the server" wait_server /locked.txt "$mirror/locked.txt"
exec 3>>"$mnt/locked.txt"
printf 'v2 from davfs2\n' >&3
lockdisc=$(curl -s -X PROPFIND -H 'Depth: 0' --data '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>' "${url}locked.txt")
check "davfs2 holds a lock while the file is open" "$(printf '%s' "$lockdisc" | grep -c 'activelock')" = 1
check "another client's PUT gets 423 meanwhile" "$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary intruder "${url}locked.txt")" = 423
check "another client's DELETE gets 423 meanwhile" "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "${url}locked.txt")" = 423
exec 3>&-
printf 'v2 from davfs2\n' >>"$mirror/locked.txt"
step "closing uploads the file" wait_server /locked.txt "$mirror/locked.txt"
released() {
  local i d
  for i in $(seq 150); do
    d=$(curl -s -X PROPFIND -H 'Depth: 0' --data '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>' "${url}locked.txt")
    [ -n "$d" ] && ! grep -q activelock <<<"$d" && return 0
    sleep 0.1
  done
  return 1
}
step "davfs2 unlocks after closing" released

# rm, rm -r
step "rm" rm "$mnt/dir é #1/odd %41 & #.txt"
rm "$mirror/dir é #1/odd %41 & #.txt"
step "rm -r" rm -r "$mnt/gone"
rm -r "$mirror/gone"
step "rm reached the server" wait_server "/dir é #1/odd %41 & #.txt" gone
step "rm -r reached the server" wait_server /gone gone

# Unmount; the server holds exactly what was written.
step "umount" do_umount
check "the server holds every byte written" "$(diff <(sha_tree "$mirror") <(sha_tree "$root$coll") >"$work/diff1" 2>&1 && echo same)" = same
[ -s "$work/diff1" ] && head -n 20 "$work/diff1"

# Mount again with an empty cache: everything read comes from the server.
check "the second cache folder starts empty" -z "$(ls -A "$work/cache2" 2>/dev/null)"
if do_mount 2; then pass "mount again with an empty cache"; else fail "mount again with an empty cache" "$(cat "$work/mount2.out")"; fi
check "every byte read back through the mount (sha256)" "$(diff <(sha_tree "$mirror") <(sha_tree "$mnt" | grep -v '/lost+found/') >"$work/diff2" 2>&1 && echo same)" = same
[ -s "$work/diff2" ] && head -n 20 "$work/diff2"
step "final umount" do_umount
finish
