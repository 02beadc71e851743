#!/usr/bin/env python3
"""One person's session opens many concurrent polls against the sample chat; prints what the
server held and its RSS before and after. Loopback only; bounded in count and time.

    python3 bench/tools/poll-flood.py --url http://127.0.0.1:5000 --pid <server pid> --polls 3000
"""
import argparse
import asyncio
import http.cookiejar
import json
import re
import time
import urllib.parse
import urllib.request


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def sign_in(base):
    """Creates a room and joins it, as a person does with the forms; returns the Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def token(html):
        return re.search(r'name="__RequestVerificationToken"[^>]*value="([^"]+)"', html).group(1)

    home = opener.open(base + "/").read().decode()
    room = opener.open(base + "/rooms", urllib.parse.urlencode(
        {"name": f"flood {int(time.time())}", "__RequestVerificationToken": token(home)}).encode())
    join_page = room.read().decode()
    slug = urllib.parse.urlparse(room.geturl()).path.rsplit("/", 1)[-1]
    opener.open(base + f"/rooms/{slug}/join", urllib.parse.urlencode(
        {"name": "Flood", "__RequestVerificationToken": token(join_page)}).encode()).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def position(base, cookie):
    """The position a page of the session would poll from: the lastId of a poll that only looks."""
    request = urllib.request.Request(base + "/chat/updates?timeout=0", headers={"Cookie": cookie})
    return json.load(urllib.request.urlopen(request))["lastId"]


async def poll(host, port, cookie, confirm, statuses, close_refused):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write((f"GET /chat/updates?timeout=300&confirm={confirm} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                  f"Cookie: {cookie}\r\n\r\n").encode())
    await writer.drain()
    try:
        line = await reader.readline()
        statuses.append(int(line.split()[1]) if line else 0)
        if close_refused and statuses[-1] != 200:
            return
        await asyncio.sleep(3600)  # keep the connection, as a browser's waiting poll would
    finally:
        writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--polls", type=int, default=3000)
    parser.add_argument("--close-refused", action="store_true", help="close a connection whose poll was not held")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds to wait before measuring")
    args = parser.parse_args()
    target = urllib.parse.urlparse(args.url)
    if target.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("loopback only")

    cookie = sign_in(args.url)
    confirm = position(args.url, cookie)
    before = rss_kb(args.pid)
    statuses = []
    tasks = []
    for _ in range(args.polls):
        tasks.append(asyncio.create_task(poll(target.hostname, target.port, cookie, confirm, statuses, args.close_refused)))
        await asyncio.sleep(0.001)
    await asyncio.sleep(args.settle)
    after = rss_kb(args.pid)
    answered = {s: statuses.count(s) for s in sorted(set(statuses))}
    print(f"polls opened: {args.polls}; answered within {args.settle:.0f} s: {answered}; "
          f"held: {args.polls - len(statuses)}")
    print(f"server RSS: {before / 1024:.1f} MB before, {after / 1024:.1f} MB after, "
          f"growth {(after - before) / 1024:.1f} MB ({(after - before) / args.polls:.1f} KB per poll)")
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


asyncio.run(main())
