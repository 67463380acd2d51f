#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Leak tracing end to end, against a real vigild and a real vault (TAP).

Run by tests/integ/t0027-trace.sh.  Reuses the helpers of
tests/integ/vigild_e2e.py.

A vault of 3,000 generated customers and 10 honeytoken records (planted
with a known seed, so the test knows their phones); two vendors' agents
working cases that ticketing opens and assigns; vigild with containment
off (the detector alerts, contains nobody: this is the theft detection
did not stop).  One agent of bpo, the thief, works its cases like the
others and also takes 40 more customers under cases, and a honeytoken
by breaking the glass; a colleague at callco happens to serve 5 of the
same customers.  Then:

  a. `vigil trace` over a dirty, tab-separated leak with a Chinese
     header (30 of the thief's customers, the honeytoken, rows nobody
     has, a row with only a name, duplicates, a junk column): layout,
     counts, the honeytoken hit, the thief ranked first and named with
     its org and a small p-value, the colleague not named, evidence
     with inclusion proofs that `vigil audit check-proof` accepts,
     nothing of the file repeated, the table and the HTML report, the
     trace's own audit entry with the file's SHA-256;
  b. leaks that name nobody: customers drawn from everyone's cases;
  c. exports: a leaked, reshuffled subset of an export names it and its
     recipient, through its rows and its canaries;
  d. POST /v1/leaks/trace: the same answer for the security role, and
     the errors (403, 400, 413) as JSON;
  e. bad input to `vigil trace`: a missing file, a file without a usable
     column, a bad option.
"""

import csv
import hashlib
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vigild_e2e as E                                  # noqa: E402
from vigild_e2e import (ROOT, VIGIL, VIGILD, Client, bail, diag,  # noqa: E402
                        err_is, is_, ok, out, run, start_daemon,
                        stop_daemon, write)

REAL_SEED = 31
HONEY_SEED = 4343
NREAL = 3000
NHONEY = 10
JUST = "customer on the line, ticket system down, INC-%04d"
FW = str.maketrans("0123456789", "０１２３４５６７８９")


def dirty_phone(p, i):
    """A generated phone as a leak would show it."""
    d = p[3:] if p.startswith("+86") else p
    forms = ("+86 %s-%s-%s" % (d[:3], d[3:7], d[7:]),
             "0086 %s %s %s" % (d[:3], d[3:7], d[7:]),
             d.translate(FW),
             "(+86)" + d)
    return forms[i % len(forms)]


class Trace:
    def __init__(self, tmp):
        self.t = tmp
        self.v = os.path.join(tmp, "v")
        self.keys = {}

    def k(self, pid):
        return self.keys[pid]

    def add_principal(self, pid, org, role, kind):
        p = run(VIGIL, "principal", "add", self.v, "--id", pid, "--org",
                org, "--kind", kind, "--role", role)
        self.keys[pid] = p.stdout.split()[0]

    def cli_lookup(self, phone):
        p = run(VIGIL, "lookup", self.v, "--phone", phone, "--json")
        return json.loads(p.stdout)["matches"][0]["id"]

    def open_case(self, cus, assignee):
        r = self.c.req("POST", "/v1/cases", {"customer_id": cus,
                                             "assignee": assignee,
                                             "channel": "phone"},
                       key=self.k("tk1"))
        if r.status != 201:
            bail("opening a case failed: " + r.show())
        return r.json["id"]

    def reveal(self, who, cus, case=None, just=None):
        body = {"fields": ["name", "phone"], "purpose": "support"}
        if case is not None:
            body["case_id"] = case
        if just is not None:
            body["justification"] = just
        return self.c.req("POST", "/v1/customers/%s/reveal" % cus, body,
                          key=self.k(who))

    def work(self, who, cus):
        r = self.reveal(who, cus, case=self.open_case(cus, who))
        return r.status == 200

    def trace(self, path, *args, check=True):
        p = run(VIGIL, "trace", self.v, path, *args, check=False)
        if check and p.returncode != 0:
            bail("vigil trace failed (%d): %s" % (p.returncode, p.stderr))
        return p

    # --- setup ---------------------------------------------------------------

    def setup(self):
        run(VIGIL, "init", self.v)
        real = os.path.join(self.t, "real.csv")
        hcsv = os.path.join(self.t, "honey.csv")
        run(VIGIL, "gen-customers", "--count", str(NREAL), "--seed",
            str(REAL_SEED), "--out", real)
        run(VIGIL, "import", "--quiet", self.v, real)
        run(VIGIL, "honey", "plant", self.v, "--count", str(NHONEY),
            "--seed", str(HONEY_SEED))
        run(VIGIL, "gen-customers", "--count", str(NHONEY), "--seed",
            str(HONEY_SEED), "--out", hcsv)
        with open(real, newline="", encoding="utf-8") as f:
            self.real = list(csv.DictReader(f))
        with open(hcsv, newline="", encoding="utf-8") as f:
            self.honey = list(csv.DictReader(f))
        self.honey_id = self.cli_lookup(self.honey[0]["phone"])
        # 0-119: ordinary work (15 for each of 8 agents); 120-159: what
        # the thief takes; 160-199: the thief's own ordinary work.
        self.cus = [self.cli_lookup(r["phone"]) for r in self.real[:200]]
        for i in range(1, 5):
            self.add_principal("callco-ag%d" % i, "callco", "agent",
                               "vendor")
            self.add_principal("bpo-ag%d" % i, "bpo", "agent", "vendor")
        self.add_principal("sec1", "acme", "security", "employee")
        self.add_principal("tk1", "acme", "ticketing", "system")
        self.add_principal("mkt1", "acme", "marketing_ops", "employee")
        self.thief = "bpo-ag1"
        self.colleague = "callco-ag2"
        self.agents = sorted(p for p in self.keys if "-ag" in p)
        self.real_phones = set(E.canon_phone(r["phone"]) for r in
                               self.real + self.honey)
        self.pol = os.path.join(self.t, "policy.yaml")
        E.generous_policy(self.pol)
        self.cfg = os.path.join(self.t, "vigild.yaml")
        write(self.cfg, "detect: {medium: none, high: none, "
              "critical: none}\nlimits: {trace_bytes: 20000}\n")

    def traffic(self):
        good = 0
        for i, a in enumerate(self.agents):
            mine = self.cus[i * 15:(i + 1) * 15] if a != self.thief else \
                self.cus[160:175]
            for c in mine:
                good += self.work(a, c)
        is_(good, 8 * 15, "8 agents work 15 cases each")
        good = sum(self.work(self.thief, c) for c in self.cus[120:160])
        is_(good, 40, "the thief takes 40 more, each under a case")
        good = sum(self.work(self.colleague, c) for c in self.cus[120:125])
        is_(good, 5, "a colleague serves 5 of the same customers")
        r = self.reveal(self.thief, self.honey_id, just=JUST % 1)
        is_(r.status, 200, "the thief breaks the glass on a honeytoken "
            "(containment is off)")

    # --- a. the thief ----------------------------------------------------------

    def leak_file(self):
        rows = []
        stolen = self.real[120:160]
        pick = random.Random(7).sample(range(40), 30)
        for n, i in enumerate(pick):
            r = stolen[i]
            rows.append((r["name"], dirty_phone(r["phone"], n),
                         "VIP %d" % n, r["email"].upper()))
        h = self.honey[0]
        rows.append((h["name"], dirty_phone(h["phone"], 1), "new",
                     h["email"]))
        rows.append(("王某某", "13900000001", "x", ""))
        rows.append(("李某", "+86 139-0000-0002", "", ""))
        rows.append(("赵某", "13900000003", "", ""))
        rows.append(("张三", "", "only a name", ""))
        rows.append(rows[0])
        rows.append(rows[5])
        random.Random(8).shuffle(rows)
        self.leak_rows = rows
        path = os.path.join(self.t, "leak.tsv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("姓名\t手机\t备注\t邮箱\n")
            for r in rows:
                f.write("\t".join(r) + "\n")
        self.honey_line = 2 + rows.index(next(
            r for r in rows if r[0] == h["name"]))
        return path

    def thief_traced(self):
        path = self.leak_file()
        p = self.trace(path, "--json")
        try:
            rep = json.loads(p.stdout)
        except ValueError:
            bail("vigil trace --json printed no JSON: " + p.stdout[:500])
        self.rep = rep
        lay = rep["file"]["layout"]
        types = [c["type"] for c in lay["columns"]]
        is_((rep["format"], rep["file"]["rows"], lay["delimiter"],
             lay["header"], types),
            ("vigil-trace-1", 37, "\\t", True,
             ["name", "phone", "unused", "email"]),
            "the layout is sniffed: tabs, a Chinese header, name, phone, "
            "a junk column, e-mail")
        is_((rep["matched"], rep["customers"], rep["unmatched"],
             rep["unmatched_reasons"]),
            (33, 31, 4, {"not_found": 3, "no_indexed_value": 1,
                         "unreadable": 0}),
            "33 rows matched to 31 customers; 3 not found, 1 with only "
            "a name")
        is_((rep["honey_rows"], [h["line"] for h in rep["honey_hits"]]),
            (1, [self.honey_line]), "the honeytoken row, by line")
        s = rep["suspects"]
        top = s[0] if s else {}
        is_((top.get("principal"), top.get("org"), top.get("named"),
             top.get("rank"), top.get("overlap"), top.get("honey")),
            (self.thief, "bpo", True, 1, 31, 1),
            "the thief first, named, with its org, 31 leaked customers, "
            "the honeytoken")
        # Below alpha, and no smaller: the thief did a quarter of this
        # small world's reveals, scattered over 31 provinces, so the null
        # (docs/DETECTION.md) expects much of any leak of served
        # customers to be its own.
        ok(top.get("p_value", 1) < 1e-3 and top.get("log10_p_value", 0) <
           -3, "its p-value is below alpha (10^%.1f)" %
           top.get("log10_p_value", 0))
        col = [x for x in s if x["principal"] == self.colleague]
        ok(col and col[0]["overlap"] == 5 and not col[0]["named"],
           "the colleague who served 5 of them is listed, not named",
           repr(col))
        is_(rep["named"], 1, "only the thief is named")
        is_(rep["rings"], [], "one thief is no ring")
        ev = top.get("evidence", [])
        ok(len(ev) == 10 and all("proof" in e for e in ev),
           "10 evidence entries, each with an inclusion proof",
           repr([e.get("proof_missing") for e in ev]))
        ok(any(e["honey"] for e in ev), "the honeytoken's entry is kept "
           "in the evidence")
        ok(all(e["fields"] == ["name", "phone"] for e in ev),
           "each shows name and phone in clear")
        proof = os.path.join(self.t, "proof.json")
        write(proof, json.dumps(ev[0]["proof"]))
        chain = ev[0]["chain"]
        key = os.path.join(self.v, "audit", chain, "key.pub")
        p = run(VIGIL, "audit", "check-proof", proof, "--key", key,
                check=False)
        ok(p.returncode == 0, "vigil audit check-proof accepts an "
           "evidence entry's proof", p.stdout + p.stderr)
        bad = json.loads(json.dumps(ev[0]["proof"]))
        bad["seq"] = bad.get("seq", 0) + 1
        write(proof, json.dumps(bad))
        p = run(VIGIL, "audit", "check-proof", proof, "--key", key,
                check=False)
        ok(p.returncode != 0, "... and refuses it once altered")
        text = p.stdout
        leaked = [x for r in self.leak_rows for x in r if len(x) > 3]
        ok(not any(x in self.rep_text() for x in leaked),
           "the report repeats no value of the file")
        # The table and the HTML.
        html = os.path.join(self.t, "trace.html")
        p = self.trace(path, "--html", html)
        ok(self.thief in p.stdout and "ring" not in p.stdout and
           "principals tested" in p.stdout, "the table names the thief",
           p.stdout[:1500])
        with open(html, encoding="utf-8") as f:
            h = f.read()
        ok(self.thief in h and "<details>" in h and "inclusion proof" in h,
           "the HTML report has the suspect and its proofs")
        # The trace is audited, with the file's hash.
        sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
        q = run(VIGIL, "audit", "query", self.v, "--action", "leak.trace")
        ents = [json.loads(x) for x in q.stdout.splitlines()
                if x.startswith("{")]
        ok(len(ents) >= 2 and all(("file_sha256=" + sha) in json.dumps(e)
                                  for e in ents),
           "each trace is an audit entry with the file's SHA-256",
           q.stdout[:800])
        del text

    def rep_text(self):
        return json.dumps(self.rep, ensure_ascii=False)

    # --- b. nobody -------------------------------------------------------------

    def nobody(self):
        path = os.path.join(self.t, "crm.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("phone,name\n")
            for r in random.Random(9).sample(self.real[:120], 60):
                f.write("%s,%s\n" % (r["phone"], r["name"]))
        rep = json.loads(self.trace(path, "--json").stdout)
        is_((rep["matched"], rep["named"]), (60, 0),
            "60 customers of everyone's cases (a CRM leak) name nobody")
        ok(rep.get("volumes_exact") is True, "access volumes are exact")
        # 70,000 rows of 200 customers: kept once each, whatever the rows.
        path = os.path.join(self.t, "repeats.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("phone\n")
            for i in range(70000):
                f.write("%s\n" % self.real[i % 200]["phone"])
        rep = json.loads(self.trace(path, "--json", "--no-proofs").stdout)
        is_((rep["file"]["rows"], rep["matched"], rep["customers"]),
            (70000, 70000, 200), "70,000 rows of 200 customers: 200 "
            "customers, every row counted")
        ok(len(rep["suspects"]) >= 6, "... though the agents who served "
           "them are listed with their overlaps")

    # --- c. exports -------------------------------------------------------------

    def export(self, recipient, limit, fields, region=None,
               consumer="courier", purpose="delivery"):
        body = {"consumer": consumer, "recipient": recipient,
                "purpose": purpose, "fields": fields, "limit": limit}
        if region:
            body["region"] = region
        r = self.c.req("POST", "/v1/exports", body, key=self.k("mkt1"))
        if r.status != 200:
            bail("export failed: " + r.show())
        rows = list(csv.reader(r.body.decode("utf-8").splitlines()))
        return r.h("x-vigil-export"), rows[0], rows[1:]

    def canary(self, row, head):
        return E.canon_phone(row[head.index("phone")]) not in \
            self.real_phones

    def exports(self):
        a, ha, ra = self.export("fastship-ltd", 500,
                                ["name", "phone", "address"])
        b, hb, rb = self.export("quickpost", 100, ["name", "phone"],
                                region="CN-GD")
        ok(a and b and a != b, "two exports made (%s, %s)" % (a, b))
        na = sum(self.canary(x, ha) for x in ra)
        nb = sum(self.canary(x, hb) for x in rb)
        ok(na >= 2 and nb >= 2, "each carries canaries (%d, %d)" % (na, nb))
        # 40 rows of the first, reshuffled, retyped, no header.
        sample = random.Random(11).sample(ra, 40)
        cn = sum(self.canary(x, ha) for x in sample)
        path = os.path.join(self.t, "export-leak.csv")
        with open(path, "w", encoding="utf-8") as f:
            for n, x in enumerate(sample):
                f.write("%s;%s\n" % (dirty_phone(x[ha.index("phone")], n),
                                     x[ha.index("name")]))
        rep = json.loads(self.trace(path, "--json").stdout)
        ex = rep["exports"]
        top = ex[0] if ex else {}
        is_((top.get("id"), top.get("recipient"), top.get("consumer"),
             top.get("principal"), top.get("named"), top.get("overlap"),
             top.get("canary_hits")),
            (a, "fastship-ltd", "courier", "mkt1", True, 40 - cn, cn),
            "40 reshuffled rows name the export, its recipient and who "
            "asked for it (%d canaries among them)" % cn)
        ok(top.get("manifest", {}).get("seq") is not None,
           "the export's manifest entry is cited")
        is_(rep["named"], 0, "no principal is named for an export's leak")
        # A canary alone names its export.
        cb = [x for x in rb if self.canary(x, hb)][0]
        real_b = [x for x in rb if not self.canary(x, hb)][:2]
        path = os.path.join(self.t, "canary-leak.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("name,phone\n")
            for x in [real_b[0], cb, real_b[1]]:
                f.write("%s,%s\n" % (x[hb.index("name")],
                                     x[hb.index("phone")]))
        rep = json.loads(self.trace(path, "--json").stdout)
        top = rep["exports"][0] if rep["exports"] else {}
        is_((rep["canary_rows"], [c["line"] for c in rep["canary_hits"]],
             top.get("id"), top.get("canary_hits"), top.get("named")),
            (1, [3], b, 1, True), "three rows, one a canary: the canary "
            "names its export, by line")
        # A pseudonymised export (masked fields, the vendor's pseudonyms):
        # 30 of its rows, upper-cased, are still traced, through the
        # pseudonyms and the canaries' pseudonyms.
        d, hd, rd = self.export("dm-agency", 300, ["name", "phone"],
                                consumer="dm-vendor", purpose="marketing")
        ok(all("*" in x[hd.index("phone")] for x in rd),
           "the dm-vendor export is masked (pseudonymised only)")
        sample = random.Random(12).sample(rd, 30)
        path = os.path.join(self.t, "psn-leak.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("id,name,phone\n")
            for x in sample:
                f.write("%s,%s,%s\n" % (x[0].upper(), x[hd.index("name")],
                                        x[hd.index("phone")]))
        rep = json.loads(self.trace(path, "--json", "--no-proofs").stdout)
        cols = [c["type"] for c in rep["file"]["layout"]["columns"]]
        top = rep["exports"][0] if rep["exports"] else {}
        ok(cols[0] == "pseudonym" and rep["matched"] + rep["canary_rows"]
           == 30 and top.get("id") == d and top.get("named") and
           top.get("recipient") == "dm-agency",
           "30 rows of a pseudonymised export name it through its "
           "pseudonyms (%d customers, %d canaries)" % (rep["matched"],
                                                       rep["canary_rows"]),
           json.dumps({k: rep[k] for k in ("matched", "canary_rows",
                                             "exports", "file")})[:1500])

    # --- d. over HTTP -----------------------------------------------------------

    def http(self):
        path = os.path.join(self.t, "leak.tsv")
        data = open(path, "rb").read()
        tsv = {"Content-Type": "text/tab-separated-values"}
        r = self.c.req("POST", "/v1/leaks/trace", data, key=self.k("sec1"),
                       ctype=None, headers=tsv)
        ok(r.status == 200 and isinstance(r.json, dict),
           "POST /v1/leaks/trace answers the security role", r.show())
        rep = r.json if isinstance(r.json, dict) else {}
        top = (rep.get("suspects") or [{}])[0]
        is_((rep.get("format"), rep.get("matched"), top.get("principal"),
             top.get("named"), rep.get("file", {}).get("sha256")),
            ("vigil-trace-1", 33, self.thief, True,
             hashlib.sha256(data).hexdigest()),
            "the same report: the thief named, the file's SHA-256")
        r = self.c.req("POST", "/v1/leaks/trace", data,
                       key=self.k("callco-ag3"), ctype=None, headers=tsv)
        ok(r.status == 403 and isinstance(r.json, dict) and
           "error" in r.json, "an agent may not trace: 403", r.show())
        r = self.c.req("POST", "/v1/leaks/trace", data, key=self.k("sec1"))
        err_is(r, 415, "unsupported_media_type", "JSON is not a leaked "
               "file: 415")
        r = self.c.req("POST", "/v1/leaks/trace", b"", key=self.k("sec1"),
                       ctype=None, headers={"Content-Type": "text/csv"})
        err_is(r, 400, "bad_file", "an empty file: 400")
        r = self.c.req("POST", "/v1/leaks/trace?alpha=0.1", data,
                       key=self.k("sec1"), ctype=None, headers=tsv)
        err_is(r, 400, "bad_query", "query parameters: 400")
        r = self.c.req("POST", "/v1/leaks/trace", b"a,b\n1,2\n3,4\n",
                       key=self.k("sec1"), ctype=None,
                       headers={"Content-Type": "text/csv"})
        err_is(r, 422, "no_usable_column", "no usable column: 422")
        big = data * (20000 // len(data) + 1)
        r = self.c.req("POST", "/v1/leaks/trace", big, key=self.k("sec1"),
                       ctype=None, headers={"Content-Type": "text/csv"})
        err_is(r, 413, "body_too_large", "a file over limits.trace_bytes: "
               "413")
        r = self.c.req("POST", "/v1/leaks/trace", data, ctype=None,
                       headers=tsv)
        is_(r.status, 401, "no key: 401")

    # --- e. bad input ----------------------------------------------------------

    def bad_input(self):
        nobody = os.path.join(self.t, "nobody.csv")
        write(nobody, "phone\n13900000001\n13900000002\n")
        p = self.trace(nobody, "--json", check=False)
        rep = json.loads(p.stdout) if p.returncode == 0 else {}
        is_((p.returncode, rep.get("matched"), rep.get("unmatched"),
             rep.get("suspects")), (0, 0, 2, []),
            "a file of nobody's customers: a report that names nobody")
        p = self.trace(os.path.join(self.t, "nope.csv"), check=False)
        ok(p.returncode == 2 and "nope.csv" in p.stderr,
           "a missing file: exit 2, named", p.stderr)
        junk = os.path.join(self.t, "junk.csv")
        write(junk, "a,b\n1,2\n3,4\n")
        p = self.trace(junk, check=False)
        ok(p.returncode == 2 and "junk.csv" in p.stderr and
           "column" in p.stderr, "a file without a usable column: exit 2, "
           "says why", p.stderr)
        p = run(VIGIL, "trace", self.v, junk, "--alpha", "2", check=False)
        is_(p.returncode, 1, "a bad --alpha is a usage error")
        p = run(VIGIL, "trace", self.v, check=False)
        is_(p.returncode, 1, "no file is a usage error")

    def run(self):
        self.setup()
        self.d = start_daemon("vigild starts, containment off", self.t,
                              self.v, self.pol, config=self.cfg)
        self.c = Client(self.d.port)
        self.traffic()
        stop_daemon(self.d, "vigild stops (a final signed checkpoint)")
        self.thief_traced()
        self.nobody()
        self.bad_input()
        self.d = start_daemon("vigild starts again", self.t, self.v,
                              self.pol, config=self.cfg)
        self.c = Client(self.d.port)
        self.exports()
        self.http()
        stop_daemon(self.d, "vigild stops")
        q = run(VIGIL, "audit", "query", self.v, "--action", "leak.trace")
        ents = [json.loads(x) for x in q.stdout.splitlines()
                if x.startswith("{")]
        text = json.dumps(ents)
        ok(sum(1 for e in ents if '"allow"' in json.dumps(e)) >= 4 and
           '"deny"' in text, "traces allowed and refused are all in the "
           "audit log", q.stdout[:1000])


def main():
    return E.run_tap("vigil-trace.", Trace)


if __name__ == "__main__":
    sys.exit(main())
