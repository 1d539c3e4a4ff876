#!/usr/bin/env python3
"""Send a Davit batch document and print each item's outcome.

    python3 batch.py http://localhost:8080/dav/ batch.xml [user:password]

Exits 0 when every item succeeded, 1 when any failed, 2 when the batch
itself was refused (anything but 207 Multi-Status).
"""
import sys
import xml.etree.ElementTree as ET

import requests

DAV = "{DAV:}"
BATCH = "{urn:davit:batch}"


def code(status_line):
    # "HTTP/1.1 204 No Content" -> 204
    return int(status_line.split()[1])


def main():
    url, path = sys.argv[1], sys.argv[2]
    auth = tuple(sys.argv[3].split(":", 1)) if len(sys.argv) > 3 else None
    content_type = "application/json" if path.endswith(".json") else "application/xml"
    with open(path, "rb") as f:
        r = requests.post(url, data=f.read(), auth=auth,
                          headers={"Content-Type": content_type})
    if r.status_code != 207:
        print(f"batch refused: {r.status_code} {r.text.strip()}", file=sys.stderr)
        return 2
    failed = False
    for resp in ET.fromstring(r.content).iter(DAV + "response"):
        item = resp.findtext(BATCH + "id", default="")
        href = resp.findtext(DAV + "href")
        status = resp.findtext(DAV + "status")
        if status is not None:  # DELETE, COPY, MOVE, MKCOL, UNLOCK ...
            ok = 200 <= code(status) < 300
            print(f"{item}\t{code(status)}\t{href}")
        else:  # PROPFIND, PROPPATCH, LOCK: a status per group of properties
            codes = [code(ps.findtext(DAV + "status")) for ps in resp.iter(DAV + "propstat")]
            # 404 on a PROPFIND only means "no such property".
            ok = all(200 <= c < 300 or c == 404 for c in codes)
            print(f"{item}\t{','.join(map(str, codes))}\t{href}")
        for cond in resp.findall(DAV + "error/*"):
            print(f"\tcondition {cond.tag}")
        desc = resp.findtext(DAV + "responsedescription")
        if desc:
            print(f"\t{desc}")
        failed = failed or not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
