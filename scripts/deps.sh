#!/usr/bin/env bash
# Installs the Debian packages the test suite drives (litmus, Apache httpd
# with mod_dav_fs, cadaver, rclone, davfs2, curl, xmllint from libxml2-utils,
# python3 for the scripts' helpers, shellcheck for the scripts themselves). Fails loudly when a
# package is missing and cannot be installed: no suite is ever skipped.
set -euo pipefail
need=()
command -v litmus  >/dev/null || need+=(litmus)
command -v apache2 >/dev/null || [ -x /usr/sbin/apache2 ] || need+=(apache2)
command -v cadaver >/dev/null || need+=(cadaver)
command -v rclone  >/dev/null || need+=(rclone)
command -v curl    >/dev/null || need+=(curl)
[ -x /usr/sbin/mount.davfs ] || need+=(davfs2)
command -v xmllint >/dev/null || need+=(libxml2-utils)
command -v python3 >/dev/null || need+=(python3)
python3 -c 'import requests' 2>/dev/null || need+=(python3-requests)
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v php     >/dev/null || need+=(php-cli)
php -r 'exit(function_exists("curl_init") ? 0 : 1);' 2>/dev/null || need+=(php-curl)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing ${need[*]} and not root: install them with apt-get (Debian 12)" >&2
  exit 1
fi
echo "deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 || { echo "deps: apt-get install ${need[*]} failed" >&2; exit 1; }
