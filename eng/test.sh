#!/usr/bin/env bash
# Runs every Comety test. Installs what the tests need first, on Debian (as root), when it is
# missing: Node.js and npm restore jQuery from libman.json during the build, the browser
# tests run the page script in Debian's Chromium (or the one COMETY_CHROMIUM names), and the
# PostgreSQL tests create and start a PostgreSQL server of their own with its initdb and pg_ctl.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
# git: the packaging tests commit the sources they pack, as a clone has them.
command -v git >/dev/null 2>&1 || need+=(git)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ -z "${COMETY_CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
  need+=(chromium)
fi
# PostgreSQL's server programs: on PATH, or where Debian's package puts them, off PATH. As root,
# the tests run them as the postgres user, which the package creates (initdb refuses root).
if { ! command -v initdb >/dev/null 2>&1 && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; } \
  || { [ "$(id -u)" -eq 0 ] && ! id -u postgres >/dev/null 2>&1; }; then
  need+=(postgresql)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "The tests need: ${need[*]}. Install them (apt-get install ${need[*]}) or run this as root." >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

dotnet test Comety.sln --configuration Release "$@"
