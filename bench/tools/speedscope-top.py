#!/usr/bin/env python3
"""Summarises a speedscope file converted from a dotnet-trace thread-time trace.

Samples whose stack holds a known wait (thread pool or timer idle, epoll, a monitor or
semaphore wait) are left out. What remains is thread time, not CPU time: a thread blocked
inside a frame the runtime counts as managed (Monitor.Enter's slow path, for one) still counts.
For CPU, use perf-profile.sh. Prints the frames with the most inclusive and exclusive samples.

usage: speedscope-top.py FILE.speedscope.json [TOP] [FRAME]

With FRAME, only stacks through a frame whose name contains it, and who calls it.
"""
import collections
import json
import sys

WAITS = ("LowLevelLifoSemaphore", "WaitOneNoCheck", "WaitHandle.Wait", "Monitor.Wait", "Thread.Sleep",
         "SocketAsyncEngine.EventLoop", "WaitForSignal", "PortableThreadPool+GateThread", "Interop+Sys.WaitForSocketEvents",
         "LowLevelMonitor", "ThreadNative::Sleep", "SemaphoreSlim.Wait(", "ManualResetEventSlim.Wait", "Thread.StartCallback")

def main():
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    needle = sys.argv[3] if len(sys.argv) > 3 else None
    data = json.load(open(path))
    frames = [f["name"] for f in data["shared"]["frames"]]
    inclusive = collections.Counter()
    exclusive = collections.Counter()
    callers = collections.Counter()
    busy = 0
    total = 0
    for profile in data["profiles"]:
        stack = []
        last = None
        for event in profile["events"]:
            at = event["at"]
            if stack and last is not None and at > last:
                dt = at - last
                total += dt
                names = [frames[i] for i in stack]
                waiting = any(w in n for n in names[-6:] for w in WAITS)
                if not waiting and (needle is None or any(needle in n for n in names)):
                    busy += dt
                    for n in set(names):
                        inclusive[n] += dt
                    leaf = [n for n in names if n not in ("CPU_TIME", "UNMANAGED_CODE_TIME")]
                    exclusive[leaf[-1] if leaf else names[-1]] += dt
                    if needle:
                        at_needle = max(i for i, n in enumerate(names) if needle in n)
                        callers[names[at_needle - 1] if at_needle > 0 else "-"] += dt
            last = at
            if event["type"] == "O":
                stack.append(event["frame"])
            else:
                stack.pop()
    print(f"busy ms {busy:.0f} of {total:.0f} (all threads)")
    print("-- inclusive")
    for name, w in inclusive.most_common(top):
        print(f"{100 * w / busy:6.1f}%  {name[:150]}")
    if needle:
        print("-- callers of " + needle)
        for name, w in callers.most_common(15):
            print(f"{100 * w / busy:6.1f}%  {name[:150]}")
    print("-- exclusive")
    for name, w in exclusive.most_common(top):
        print(f"{100 * w / busy:6.1f}%  {name[:150]}")

main()
