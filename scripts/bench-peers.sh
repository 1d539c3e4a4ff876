#!/usr/bin/env bash
# Side-by-side benchmark of Davit against the peer WebDAV servers (issue 5):
# Apache httpd + mod_dav_fs, nginx + dav-ext (nginx-extras), lighttpd +
# mod_webdav, rclone serve webdav and golang.org/x/net/webdav (bench/xnet).
#
# Each server is started on 127.0.0.1 on a free port over a fresh copy of
# the same data, pinned to one core (SERVER_CPU), while the load tool
# (bench/load) runs pinned to the other (LOAD_CPU) and takes every workload
# to every server in turn. The table goes to stdout and into
# docs/performance.md.
#
#   scripts/bench-peers.sh                 # or: make bench-peers
#   SERVERS=davit,xnet DURATION=2s scripts/bench-peers.sh
#
# Environment:
#   SERVERS    comma-separated, in column order (default: all):
#              davit,davit-nosync,apache,nginx,lighttpd,rclone,xnet,floor,evfloor
#              (davit-nosync is Davit with --no-sync; it runs the PUT, the
#              PROPPATCH, the MOVE and the mixed load only;
#              floor is bench/floor, not a peer: net/http answering from
#              memory, the most a net/http server can do here; it runs GET
#              4 KiB, its revalidation (304) and PROPFIND Depth 0 only;
#              evfloor is bench/evfloor, not a peer either: a Go server
#              without net/http (an event loop, its own minimal HTTP/1.1)
#              doing only the system calls Davit's answer needs; it runs
#              the same four workloads as floor;
#              davit-base is the Davit binary BASE_BIN, not a peer: another
#              build, measured interleaved with this one, as in
#              git worktree add /tmp/base HEAD~1 && (cd /tmp/base && go build -o /tmp/davit-base ./cmd/davit)
#              BASE_BIN=/tmp/davit-base SERVERS=davit,davit-base WORKLOADS=mixed scripts/bench-peers.sh)
#   DURATION   measured time of each workload (default 3s; a warm-up of a
#              fifth of it, at most 1s, comes first)
#   ROUNDS     run everything this many times, keeping each best (default 1)
#   WORKLOADS  comma-separated subset (default: all; `go run ./bench/load workloads`)
#   DOC        markdown file whose bench-peers section gets the table
#              (default docs/performance.md; empty: print only)
#   SERVER_CPU, LOAD_CPU   cores to pin to (default 0 and 1)
#   BENCH_TMP  where the data copies go (default /var/tmp: a disk, so that
#              fsync costs what it costs; never tmpfs)
#   KEEP=1     keep the work folder (results, logs) after the run
#   DAVIT_BIN  a Davit binary to run instead of building this tree's
#              (cmd/davit)
#   BASE_BIN   the Davit binary of the davit-base column
#   BASE_NOSYNC=1  run davit-base with --no-sync, to set it beside
#              davit-nosync (SERVERS=davit-nosync,davit-base)
#   CLIENT_CHECK=N  instead of the table, check the load tool against wrk
#              (Debian wrk, C and epoll): on each server in turn, N times
#              (default 3), the load tool and then wrk, each alone on
#              LOAD_CPU for DURATION, on GET 4 KiB and on PROPFIND Depth 0
#              with the four named properties, 32 connections; prints each
#              pair (req/s) and the median ratio wrk/load. A ratio near 1
#              says the figures are the servers' and not the load tool's
#              (floor, evfloor and davit-nosync are skipped)
#   PROFILE=DIR  run Davit under bench/profserve (this tree's server with the
#              Go profiler on; DAVIT_BIN is not used) and write DIR/davit.cpu.pprof,
#              DIR/davit.allocs.pprof, and DIR/davit.mutex.pprof and
#              DIR/davit.block.pprof (where requests wait); choose WORKLOADS
#              to profile one
#
# Installing the peers needs root (apt-get); the Apache, nginx and lighttpd
# workers run as www-data, as Debian runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

SERVERS=${SERVERS:-davit,davit-nosync,apache,nginx,lighttpd,rclone,xnet,floor,evfloor}
BASE_BIN=${BASE_BIN:-}
DURATION=${DURATION:-3s}
WORKLOADS=${WORKLOADS:-}
DOC=${DOC-docs/performance.md}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
BENCH_TMP=${BENCH_TMP:-/var/tmp}
KEEP=${KEEP:-0}
ROUNDS=${ROUNDS:-1}
PROFILE=${PROFILE:-}
CLIENT_CHECK=${CLIENT_CHECK:-}
[ -z "$PROFILE" ] || { mkdir -p "$PROFILE" && PROFILE=$(cd "$PROFILE" && pwd); }

IFS=, read -r -a servers <<<"$SERVERS"
for s in "${servers[@]}"; do
  case $s in davit | davit-nosync | apache | nginx | lighttpd | rclone | xnet | floor | evfloor) ;;
  davit-base)
    [ -n "$BASE_BIN" ] && [ -x "$BASE_BIN" ] || { echo "bench-peers: davit-base needs BASE_BIN, a Davit binary" >&2; exit 2; } ;;
  *) echo "bench-peers: unknown server '$s' (davit,davit-nosync,apache,nginx,lighttpd,rclone,xnet,floor,evfloor,davit-base)" >&2; exit 2 ;;
  esac
done

# --- install what the chosen servers need -------------------------------
need=()
command -v taskset >/dev/null || need+=(util-linux)
[ -z "$CLIENT_CHECK" ] || command -v wrk >/dev/null || need+=(wrk)
for s in "${servers[@]}"; do
  case $s in
  apache) [ -x /usr/sbin/apache2 ] || need+=(apache2) ;;
  nginx) [ -f /usr/lib/nginx/modules/ngx_http_dav_ext_module.so ] && [ -x /usr/sbin/nginx ] || need+=(nginx-extras) ;;
  lighttpd)
    [ -x /usr/sbin/lighttpd ] || need+=(lighttpd)
    [ -f /usr/lib/lighttpd/mod_webdav.so ] || need+=(lighttpd-mod-webdav) ;;
  rclone) command -v rclone >/dev/null || need+=(rclone) ;;
  esac
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench-peers: missing ${need[*]} and not root: install them with apt-get" >&2
    exit 1
  fi
  echo "bench-peers: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Packages must not start their system services (port 80): a missing
  # policy-rc.d is put in place for the install only; an existing one is
  # left alone.
  policy=/usr/sbin/policy-rc.d made_policy=0
  if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy && made_policy=1
  fi
  rc=0
  { apt-get update -qq && apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}"; } >&2 || rc=$?
  [ $made_policy = 1 ] && rm -f $policy
  [ $rc = 0 ] || { echo "bench-peers: apt-get install ${need[*]} failed" >&2; exit 1; }
fi

# --- build and make the data --------------------------------------------
mkdir -p "$BENCH_TMP"
work=$(mktemp -d "$BENCH_TMP/davit-bench.XXXXXX")
chmod 755 "$work" # the peers' workers (www-data) read and write below it
pids=()
stop_servers() {
  local p
  for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$p" 2>/dev/null || true
  done
  pids=()
}
cleanup() {
  stop_servers
  if [ "$KEEP" = 1 ]; then echo "bench-peers: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bin=$work/bin
mkdir -p "$bin"
go build -o "$bin/load" ./bench/load
davit_cmd=()
for s in "${servers[@]}"; do
  case $s in
  davit | davit-nosync)
    if [ ${#davit_cmd[@]} -eq 0 ]; then
      if [ -n "$PROFILE" ]; then
        go build -o "$bin/davit" ./bench/profserve
        davit_cmd=("$bin/davit" serve)
        continue
      fi
      if [ -n "${DAVIT_BIN:-}" ]; then
        cp "$DAVIT_BIN" "$bin/davit"
      else
        go build -o "$bin/davit" ./cmd/davit
      fi
      davit_cmd=("$bin/davit" serve)
    fi ;;
  xnet) (cd bench/xnet && go build -o "$bin/xnet" .) ;;
  floor) go build -o "$bin/floor" ./bench/floor ;;
  evfloor) (cd bench/evfloor && go build -o "$bin/evfloor" .) ;;
  davit-base) cp "$BASE_BIN" "$bin/davit-base" ;;
  esac
done
echo "bench-peers: making the data set (100 MiB file, folders of 100, 10,000 and 100,000 files)" >&2
"$bin/load" mkdata "$work/data"

if [ "$(id -u)" -eq 0 ]; then user=www-data group=www-data; else user=$(id -un) group=$(id -gn); fi

# start_server NAME ROOT RUN PORT: starts the server in its own session,
# pinned to SERVER_CPU, and prints its pid (the session's leader).
start_server() {
  local name=$1 root=$2 run=$3 port=$4 cmd=()
  case $name in
  davit | davit-nosync)
    cmd=("${davit_cmd[@]}" --root "$root" --listen "127.0.0.1:$port")
    if [ -n "$PROFILE" ]; then
      cmd=("$bin/davit" -cpuprofile "$PROFILE/$name.cpu.pprof" -memprofile "$PROFILE/$name.allocs.pprof" \
        -mutexprofile "$PROFILE/$name.mutex.pprof" -blockprofile "$PROFILE/$name.block.pprof" "${cmd[@]:1}")
    fi
    if [ "${davit_cmd[1]:-}" = serve ]; then
      # No access log, like the peers as configured here.
      printf 'log:\n  access: false\n' >"$run/davit.yaml"
      cmd+=(--config "$run/davit.yaml")
    fi
    [ "$name" = davit-nosync ] && cmd+=(--no-sync) ;;
  davit-base)
    printf 'log:\n  access: false\n' >"$run/davit.yaml"
    cmd=("$bin/davit-base" serve --root "$root" --listen "127.0.0.1:$port" --config "$run/davit.yaml")
    [ -n "${BASE_NOSYNC:-}" ] && cmd+=(--no-sync) ;;
  xnet) cmd=("$bin/xnet" -root "$root" -listen "127.0.0.1:$port") ;;
  floor) cmd=("$bin/floor" -listen "127.0.0.1:$port") ;;
  evfloor) cmd=("$bin/evfloor" -root "$root" -listen "127.0.0.1:$port") ;;
  rclone)
    : >"$run/rclone.conf"
    cmd=(rclone serve webdav "$root" --addr "127.0.0.1:$port" --config "$run/rclone.conf" -q) ;;
  apache | nginx | lighttpd)
    local tmpl=bench/peers/$name.conf
    [ "$name" = apache ] && tmpl=bench/peers/apache2.conf
    mkdir -p "$run/upload" "$run/client_body"
    sed -e "s|@PORT@|$port|g" -e "s|@ROOT@|$root|g" -e "s|@RUN@|$run|g" \
      -e "s|@USER@|$user|g" -e "s|@GROUP@|$group|g" "$tmpl" >"$run/$name.conf"
    if [ "$(id -u)" -eq 0 ]; then chown -R "$user:$group" "$root" "$run"; fi
    case $name in
    apache) cmd=(/usr/sbin/apache2 -f "$run/$name.conf" -DFOREGROUND) ;;
    nginx) cmd=(/usr/sbin/nginx -p "$run" -c "$run/$name.conf" -e "$run/error.log") ;;
    lighttpd) cmd=(/usr/sbin/lighttpd -D -f "$run/$name.conf") ;;
    esac ;;
  esac
  # setsid makes a new session whose id is the pid the shell writes; the
  # server then execs in that same process.
  setsid bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0"; exec taskset -c "$1" "${@:2}"' "$run/pid" "$SERVER_CPU" "${cmd[@]}" \
    >"$run/server.log" 2>&1 </dev/null &
  for _ in $(seq 100); do [ -s "$run/pid" ] && break; sleep 0.05; done
  cat "$run/pid"
}

# client_check N: the load tool against wrk (see CLIENT_CHECK), N rounds on
# each started target, one server and one client at a time.
client_check() {
  local rounds=$1 lua=$work/propfind.lua t name addr w load_rs wrk_rs out
  # The same request as the load tool's pf0-named (bench/load/workloads.go).
  cat >"$lua" <<'LUA'
wrk.method = "PROPFIND"
wrk.headers["Depth"] = "0"
wrk.headers["Content-Type"] = "application/xml; charset=utf-8"
wrk.body = '<?xml version="1.0" encoding="utf-8"?>\n<D:propfind xmlns:D="DAV:"><D:prop><D:getcontentlength/><D:getlastmodified/><D:resourcetype/><D:getetag/></D:prop></D:propfind>'
LUA
  printf '%-10s %-10s %5s %12s %12s %9s\n' server workload round "load req/s" "wrk req/s" wrk/load
  for t in "${targets[@]}"; do
    [ "$t" = -target ] && continue
    IFS=, read -r name addr _ _ <<<"$t"
    case $name in floor | evfloor | davit-nosync) continue ;; esac
    for w in get4k pf0-named; do
      local ratios=()
      for r in $(seq "$rounds"); do
        load_rs=$(taskset -c "$LOAD_CPU" "$bin/load" run -target "$name,$addr" -workloads "$w" -duration "$DURATION" -out /dev/null 2>&1 |
          awk '/req\/s/ { for (i = 1; i <= NF; i++) if ($i == "req/s") { gsub(",", "", $(i-1)); print $(i-1) } }')
        if [ "$w" = get4k ]; then
          out=$(taskset -c "$LOAD_CPU" wrk -t1 -c32 -d"$DURATION" "http://$addr/small.bin")
        else
          out=$(taskset -c "$LOAD_CPU" wrk -t1 -c32 -d"$DURATION" -s "$lua" "http://$addr/small.bin")
        fi
        if grep -q 'Non-2xx\|Socket errors' <<<"$out"; then
          echo "bench-peers: wrk on $name $w had errors:" >&2
          echo "$out" >&2
          exit 1
        fi
        wrk_rs=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' <<<"$out")
        [ -n "$load_rs" ] && [ -n "$wrk_rs" ] || { echo "bench-peers: no figure for $name $w (load '$load_rs', wrk '$wrk_rs')" >&2; exit 1; }
        ratios+=("$(awk -v a="$wrk_rs" -v b="$load_rs" 'BEGIN { printf "%.2f", a / b }')")
        printf '%-10s %-10s %5s %12s %12s %9s\n' "$name" "$w" "$r" "$load_rs" "$wrk_rs" "${ratios[-1]}"
      done
      printf '%-10s %-10s %5s %12s %12s %9s\n' "$name" "$w" median "" "" "$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
    done
  done
}

# Every server is started over its own copy of the data, then the load
# tool runs each workload on each server in turn (workload by workload, so
# that the figures compared are taken close together in time), then all
# are stopped. An idle server costs nothing while the others are measured.
targets=()
failed=()
for s in "${servers[@]}"; do
  only=
  if [ "$s" = davit-nosync ]; then # the writes are what --no-sync changes
    for w in put1m proppatch move mixed; do
      if [ -z "$WORKLOADS" ] || [[ ",$WORKLOADS," == *,$w,* ]]; then only=${only:+$only+}$w; fi
    done
    [ -n "$only" ] || continue
  fi
  if [ "$s" = floor ] || [ "$s" = evfloor ]; then # the references answer GET 4 KiB (and its revalidation) and PROPFIND Depth 0 only
    for w in get4k get4k-304 pf0-all pf0-named; do
      if [ -z "$WORKLOADS" ] || [[ ",$WORKLOADS," == *,$w,* ]]; then only=${only:+$only+}$w; fi
    done
    [ -n "$only" ] || continue
  fi
  run=$work/run/$s
  mkdir -p "$run"
  echo "bench-peers: $s: copying the data" >&2
  # What the workloads write (put/, mixed/, mv/, and d100p/, whose files
  # get properties and, from Davit, the modification time Windows sends) is
  # copied; what they only read (the GET files, the listing folders) gets
  # new names for the same files (hard links), which takes seconds rather
  # than a minute.
  mkdir "$run/root"
  cp -al "$work/data/." "$run/root/"
  rm -rf "$run/root/put" "$run/root/mixed" "$run/root/d100p" "$run/root/mv"
  cp -a "$work/data/put" "$work/data/mixed" "$work/data/d100p" "$work/data/mv" "$run/root/"
  port=$("$bin/load" freeport)
  p=$(start_server "$s" "$run/root" "$run" "$port")
  pids+=("$p")
  if ! "$bin/load" wait -addr "127.0.0.1:$port" -timeout 30s; then
    echo "bench-peers: $s did not start; its log:" >&2
    cat "$run/server.log" "$run/error.log" 2>/dev/null >&2 || true
    failed+=("$s")
    continue
  fi
  echo "bench-peers: $s: pid $p on 127.0.0.1:$port (core $SERVER_CPU)" >&2
  targets+=(-target "$s,127.0.0.1:$port,$p${only:+,$only}")
done
[ ${#targets[@]} -gt 0 ] || { echo "bench-peers: no server started" >&2; exit 1; }

if [ -n "$CLIENT_CHECK" ]; then
  client_check "$CLIENT_CHECK"
  exit 0
fi

echo "bench-peers: load on core $LOAD_CPU, $DURATION per workload" >&2
taskset -c "$LOAD_CPU" "$bin/load" run "${targets[@]}" -duration "$DURATION" -rounds "$ROUNDS" \
  ${WORKLOADS:+-workloads "$WORKLOADS"} -out "$work/results.json"
stop_servers
if [ -n "$PROFILE" ]; then
  echo "bench-peers: profiles in $PROFILE (go tool pprof -top $PROFILE/davit.cpu.pprof)" >&2
fi

# data_fs describes the file system of the data copies: the write rows
# depend on it (on ext4 without a journal, each new inode is found past
# those freed in the last minutes; docs/performance.md, Method).
data_fs() {
  local fstype src dev
  read -r fstype src < <(findmnt -n -o FSTYPE,SOURCE -T "$work" 2>/dev/null) || { echo "data on an unknown file system"; return; }
  dev=${src##*/}
  if [ "$fstype" = ext4 ] && [ -d "/sys/fs/ext4/$dev" ]; then
    if compgen -G "/proc/fs/jbd2/$dev-*" >/dev/null; then
      echo "data on ext4 with a journal ($src)"
    else
      echo "data on ext4 without a journal ($src)"
    fi
  else
    echo "data on $fstype ($src)"
  fi
}

note="Run of $(date -u +%Y-%m-%d) on $(nproc) cores (Linux $(uname -r)); $(data_fs); servers pinned to core $SERVER_CPU, load tool to core $LOAD_CPU; $DURATION per workload after a warm-up, $ROUNDS round(s), best kept; servers: ${SERVERS}."
echo >&2
"$bin/load" table ${DOC:+-doc "$DOC"} -note "$note" "$work/results.json"
if [ ${#failed[@]} -gt 0 ]; then
  echo "bench-peers: could not start: ${failed[*]}" >&2
  exit 1
fi
