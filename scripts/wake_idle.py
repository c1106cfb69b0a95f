#!/usr/bin/env python3
"""What idle open phones cost the server: N wake streams (GET /api/v1/sync/wake) held on a running
demo server, then the server's own CPU time over a minute and its resident memory, read from
/proc. Usage: python3 scripts/wake_idle.py N PORT SERVER_PID (raise `ulimit -n` above N first).
The demo's grid worker signs in once; every stream uses that token."""
import asyncio, json, sys, time, urllib.request
N = int(sys.argv[1]); port = int(sys.argv[2]); pid = int(sys.argv[3])
def login(dev):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/session", method="POST",
        data=json.dumps({"phone":"13800001001","password":"demo-grid-worker-2026","device_id":dev,"device_name":"idle"}).encode(),
        headers={"content-type":"application/json"})
    return json.load(urllib.request.urlopen(req))["token"]
def cpu_ticks():
    f = open(f"/proc/{pid}/stat").read().split(")")[1].split()
    return int(f[11]) + int(f[12])
def rss_mb():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1]) / 1024
tok = login("idle-phones")
async def hold(i, ready):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(f"GET /api/v1/sync/wake HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {tok}\r\n\r\n".encode())
    await w.drain()
    buf = b""
    while b"event: ready" not in buf:
        buf += await r.read(1024)
    ready.append(i)
    while True:
        d = await r.read(1024)
        if not d: return
async def main():
    rss0 = rss_mb()
    ready = []
    tasks = [asyncio.create_task(hold(i, ready)) for i in range(N)]
    while len(ready) < N:
        await asyncio.sleep(0.5)
    rss1 = rss_mb()
    t0, c0 = time.time(), cpu_ticks()
    await asyncio.sleep(60)
    t1, c1 = time.time(), cpu_ticks()
    hz = 100
    print(f"{N} idle streams: server RSS {rss0:.0f} MB before, {rss1:.0f} MB with them (+{rss1-rss0:.0f} MB); CPU over {t1-t0:.0f} s idle: {(c1-c0)/hz/(t1-t0)*100:.2f} % of a core")
    for t in tasks: t.cancel()
asyncio.run(main())
