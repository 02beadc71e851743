#!/usr/bin/env bash
# Runs the sample chat on a cluster, on this machine, with one command:
#
#   bash eng/cluster.sh            # or: bash eng/cluster.sh --instances 3 --port 8080
#
# It starts, all on 127.0.0.1:
#   - a PostgreSQL server of its own, in a new temporary folder, on a free port (initdb and
#     pg_ctl of the installed PostgreSQL; as root, they run as the postgres user). It installs
#     nothing: without PostgreSQL's server programs it says so and stops (bash eng/test.sh, as
#     root, installs them);
#   - INSTANCES instances of samples/Comety.Chat on free ports, each with ConnectionStrings:Comety
#     on that server: Comety's log, the rooms, members and history, the sessions and the
#     data-protection keys are all in the database, so any instance answers any request;
#   - samples/Comety.Cluster.Proxy (YARP) on PORT: round robin over the instances, no session
#     affinity, so one page's polls and sends go to different instances in turn;
# then prints the one URL to open. Open it in two browsers (or a private window), join a room in
# each and chat; kill an instance (the script prints each one's pid: kill -9 PID) and watch the
# pages carry on; the script does not restart it, start it again with the command it prints.
# Ctrl+C stops everything and deletes the temporary folder.
#
# Options (flag, or environment variable):
#   --instances N   COMETY_CLUSTER_INSTANCES   how many chat instances, 1 to 9 (default 3)
#   --port PORT     COMETY_CLUSTER_PORT        the load balancer's port (default 8080; 0 picks a free one)
#   --no-build      COMETY_CLUSTER_NO_BUILD=1  use the existing Release build instead of building once
set -euo pipefail

instances="${COMETY_CLUSTER_INSTANCES:-3}"
port="${COMETY_CLUSTER_PORT:-8080}"
build=1
[[ "${COMETY_CLUSTER_NO_BUILD:-0}" == 1 ]] && build=0
while (($#)); do
  case "$1" in
    --instances) instances="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "cluster.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$instances" =~ ^[1-9]$ ]] || { echo "cluster.sh: --instances takes 1 to 9, not '$instances'" >&2; exit 2; }
[[ "$port" =~ ^[0-9]+$ ]] || { echo "cluster.sh: --port takes a number, not '$port'" >&2; exit 2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# PostgreSQL's server programs: PATH first, else Debian's /usr/lib/postgresql/<version>/bin.
bin=
if command -v initdb >/dev/null 2>&1; then
  bin="$(dirname "$(readlink -f "$(command -v initdb)")")"
else
  for folder in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
    if [[ -x "$folder/initdb" && -x "$folder/pg_ctl" ]]; then bin="$folder"; break; fi
  done
fi
if [[ -z "$bin" || ! -x "$bin/pg_ctl" ]]; then
  echo "cluster.sh: PostgreSQL's server programs (initdb, pg_ctl) are neither on PATH nor in /usr/lib/postgresql/<version>/bin; install PostgreSQL (as root, bash eng/test.sh does)." >&2
  exit 1
fi

as_postgres=()
if [[ "$(id -u)" == 0 ]]; then
  id postgres >/dev/null 2>&1 || { echo "cluster.sh: as root, PostgreSQL runs as the postgres user, which this machine does not have (apt-get install postgresql creates it)." >&2; exit 1; }
  as_postgres=(runuser -u postgres --)
fi

# A free loopback port, from the kernel.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

folder="$(mktemp -d -t comety-cluster-XXXXXX)"
pids=()
cleanup() {
  # A second Ctrl+C (or a signal to the whole group) must not cut the clean-up short and leave
  # PostgreSQL running with its folder.
  trap - EXIT
  trap '' INT TERM
  echo
  echo "Stopping the cluster..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ -f "$folder/data/postmaster.pid" ]]; then
    "${as_postgres[@]}" "$bin/pg_ctl" stop -D "$folder/data" -m fast -w -s >/dev/null 2>&1 || true
  fi
  rm -rf "$folder"
  echo "Stopped; $folder is deleted."
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ ${#as_postgres[@]} -gt 0 ]] && chown postgres: "$folder"
echo "PostgreSQL: a new cluster in $folder"
"${as_postgres[@]}" "$bin/initdb" -D "$folder/data" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync >"$folder/initdb.log" 2>&1 \
  || { cat "$folder/initdb.log" >&2; exit 1; }
pg_port="$(free_port)"
"${as_postgres[@]}" "$bin/pg_ctl" start -D "$folder/data" -l "$folder/postgres.log" -w -s \
  -o "-k '$folder' -h 127.0.0.1 -p $pg_port -c max_connections=300" \
  || { tail -20 "$folder/postgres.log" >&2; exit 1; }
connection="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres"
echo "PostgreSQL: listening on 127.0.0.1:$pg_port"

if ((build)); then
  echo "Building the chat and the load balancer (Release)..."
  dotnet build "$root/samples/Comety.Chat/Comety.Chat.csproj" -c Release -nologo -v quiet >"$folder/build.log" 2>&1 \
    && dotnet build "$root/samples/Comety.Cluster.Proxy/Comety.Cluster.Proxy.csproj" -c Release -nologo -v quiet >>"$folder/build.log" 2>&1 \
    || { cat "$folder/build.log" >&2; exit 1; }
fi
chat_dll="$(ls "$root"/samples/Comety.Chat/bin/Release/net*/Comety.Chat.dll | head -1)"
proxy_dll="$(ls "$root"/samples/Comety.Cluster.Proxy/bin/Release/net*/Comety.Cluster.Proxy.dll | head -1)"

# Waits until a process's log says it listens, or it exits.
wait_listening() { # pid log what
  for _ in $(seq 1 600); do
    grep -q "Now listening on" "$2" 2>/dev/null && return 0
    kill -0 "$1" 2>/dev/null || { echo "cluster.sh: $3 exited:" >&2; tail -30 "$2" >&2; exit 1; }
    sleep 0.1
  done
  echo "cluster.sh: $3 did not start listening within 60 s:" >&2; tail -30 "$2" >&2; exit 1
}

destinations=()
for i in $(seq 1 "$instances"); do
  chat_port="$(free_port)"
  log="$folder/chat-$i.log"
  # The content root is the project (Views, wwwroot); Development serves Comety.Razor's script from its project.
  (cd "$root/samples/Comety.Chat" && ASPNETCORE_ENVIRONMENT=Development exec dotnet "$chat_dll" \
    --urls "http://127.0.0.1:$chat_port" "--ConnectionStrings:Comety=$connection") >"$log" 2>&1 &
  pids+=($!)
  wait_listening $! "$log" "chat instance $i"
  echo "Chat instance $i: http://127.0.0.1:$chat_port (pid $!, log $log)"
  echo "  start it again: (cd $root/samples/Comety.Chat && ASPNETCORE_ENVIRONMENT=Development dotnet $chat_dll --urls http://127.0.0.1:$chat_port '--ConnectionStrings:Comety=$connection')"
  destinations+=("http://127.0.0.1:$chat_port")
done

[[ "$port" == 0 ]] && port="$(free_port)"
log="$folder/proxy.log"
(cd "$root/samples/Comety.Cluster.Proxy" && exec dotnet "$proxy_dll" --urls "http://127.0.0.1:$port" \
  "--Destinations=$(IFS=,; echo "${destinations[*]}")") >"$log" 2>&1 &
pids+=($!)
wait_listening $! "$log" "the load balancer"

echo
echo "The chat, on $instances instances behind a round-robin load balancer:"
echo
echo "    http://127.0.0.1:$port/"
echo
echo "Try: kill -9 one instance's pid (above) while two browsers chat. Ctrl+C stops everything."
wait -n "${pids[@]}" 2>/dev/null || true
echo "A process of the cluster exited; the others go on (Ctrl+C stops them)."
wait
