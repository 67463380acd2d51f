#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bench/broker/setup.py: prepares the broker benchmark's requests.

usage: setup.py URL TICKETING_KEY AGENTS_FILE CUSTOMERS_CSV NCASES OUTDIR

Opens NCASES cases through the running vigild (POST /v1/cases as the
ticketing system), spread round-robin over the agents listed in
AGENTS_FILE ("id key" per line), for the first NCASES customers of the
CSV (found by an exact phone lookup, as a ticketing system would), and
writes:
  OUTDIR/reveal.txt  POST /v1/customers/{id}/reveal under each case
  OUTDIR/lookup.txt  POST /v1/lookup of the phones of the CSV
in the tab-separated format bench/broker/reqs.lua reads.
"""
import csv
import http.client
import json
import sys
from urllib.parse import urlparse


def main():
    url, tkey, agents_file, csv_file, ncases, out = sys.argv[1:7]
    ncases = int(ncases)
    u = urlparse(url)
    agents = [line.split() for line in open(agents_file) if line.strip()]
    conn = http.client.HTTPConnection(u.hostname, u.port)
    hdr = {"Authorization": "Bearer " + tkey,
           "Content-Type": "application/json"}
    ids = []
    with open(csv_file, newline="") as f:
        for row in csv.DictReader(f):
            if len(ids) >= ncases:
                break
            conn.request("POST", "/v1/lookup",
                         json.dumps({"phone": row["phone"]}), hdr)
            r = conn.getresponse()
            data = r.read()
            if r.status != 200:
                sys.exit("setup: lookup failed: %d %s" % (r.status, data))
            found = json.loads(data)["customers"]
            if len(found) == 1:
                ids.append(found[0]["id"])
    reveal = []
    for i in range(min(ncases, len(ids))):
        aid, akey = agents[i % len(agents)]
        body = json.dumps({"customer_id": ids[i], "assignee": aid,
                           "channel": "phone"})
        conn.request("POST", "/v1/cases", body, hdr)
        r = conn.getresponse()
        data = r.read()
        if r.status != 201:
            sys.exit("setup: case open failed: %d %s" % (r.status, data))
        case = json.loads(data)["id"]
        rb = json.dumps({"fields": ["phone", "name"], "purpose": "support",
                         "case_id": case}, separators=(",", ":"))
        reveal.append("POST\t/v1/customers/%s/reveal\t%s\t%s"
                      % (ids[i], akey, rb))
    with open(out + "/reveal.txt", "w") as f:
        f.write("\n".join(reveal) + "\n")
    lookup = []
    with open(csv_file, newline="") as f:
        for n, row in enumerate(csv.DictReader(f)):
            if n >= 20000:
                break
            aid, akey = agents[n % len(agents)]
            lb = json.dumps({"phone": row["phone"]}, ensure_ascii=False,
                            separators=(",", ":"))
            lookup.append("POST\t/v1/lookup\t%s\t%s" % (akey, lb))
    with open(out + "/lookup.txt", "w", encoding="utf-8") as f:
        f.write("\n".join(lookup) + "\n")


if __name__ == "__main__":
    main()
