#!/usr/bin/env bash
# CPU profile of a running .NET process with Linux perf: user and kernel time, sampled at 2 kHz
# with call stacks, then the binaries, the frames with the most inclusive time and those with the
# most exclusive time. Start the process (or the load test, whose servers inherit it) with
#   DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
# so that JIT-compiled frames have names. Kernel frames need root or kernel.perf_event_paranoid <= 1.
#
# usage: perf-profile.sh PID [SECONDS=6] [OUTPUT=perf.data] [TOP=50]
set -euo pipefail
pid=${1:?usage: perf-profile.sh PID [SECONDS] [OUTPUT] [TOP]}
seconds=${2:-6}
out=${3:-perf.data}
top=${4:-50}

perf record -F 2000 -g -p "$pid" -o "$out" -- sleep "$seconds" >/dev/null 2>&1

# perf pads every line to its widest symbol and JIT symbols carry their tier: trim both.
tidy() { sed -E 's/ +- +- *$//; s/\[(OptimizedTier1|Optimized|Tier0|Tier1|QuickJitted|InstrumentedTier)[^]]*\]//g' | cut -c1-220; }

echo "== by binary (exclusive)"
perf report -i "$out" --no-children --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9.]+%' | head -8 | tidy
echo "== inclusive (children, self)"
perf report -i "$out" --children --sort symbol --stdio -g none 2>/dev/null | grep -E '^ +[0-9.]+%' | grep -v '\] 0x0000' | head -"$top" | tidy
echo "== exclusive"
perf report -i "$out" --no-children --sort symbol --stdio -g none 2>/dev/null | grep -E '^ +[0-9.]+%' | head -"$top" | tidy
