// The peer of Gridmate's sync benchmark: the Community Health Toolkit's offline stack, PouchDB
// on the phone side replicating from a CouchDB-protocol server (express-pouchdb over
// pouchdb-node, both on LevelDB), loaded with the same records and timed the same way.
//
//   node peer.js RECORDS.ndjson WORKDIR
//
// RECORDS.ndjson holds one {"entity", "id", "data"} per line: the server's live records. The
// bench talks to this script line by line: it prints {"port", "docs", "bulk_ms"} once the
// server holds every record (bulk_ms: their own bulk write of them, the floor), reads the port
// of the bench's byte-counting relay, replicates the whole database into an empty phone
// database through it and prints {"initial_ms", "docs"}, then waits for "push", writes 1,000
// visits on the phone (not timed, as Gridmate's are typed before its sync) and prints
// {"push_ms"} for replicating them to the server.
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const express = require('express');
const PouchDB = require('pouchdb-node');

const [file, work] = process.argv.slice(2);
const lines = readline.createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => lines.once('line', resolve));
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');

async function main() {
  fs.mkdirSync(path.join(work, 'server'), { recursive: true });
  fs.mkdirSync(path.join(work, 'phone'), { recursive: true });
  const ServerDB = PouchDB.defaults({ prefix: path.join(work, 'server') + '/' });
  const PhoneDB = PouchDB.defaults({ prefix: path.join(work, 'phone') + '/' });

  // A record as a CHT document: flat, typed, its id the entity's and the record's.
  const docs = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const r = JSON.parse(l);
      return Object.assign({}, r.data, { _id: r.entity + ':' + r.id, type: r.entity });
    });

  const community = new ServerDB('community');
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < docs.length; i += 5000) {
    await community.bulkDocs(docs.slice(i, i + 5000));
  }
  const bulkMs = Number(process.hrtime.bigint() - t0) / 1e6;

  const app = express();
  app.use('/', require('express-pouchdb')(ServerDB, { mode: 'minimumForPouchDB', logPath: path.join(work, 'log.txt') }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  say({ port: server.address().port, docs: docs.length, bulk_ms: bulkMs });

  const relay = (await nextLine()).trim();
  const remote = 'http://127.0.0.1:' + relay + '/community';
  const phone = new PhoneDB('phone');
  const t1 = process.hrtime.bigint();
  const pulled = await PouchDB.replicate(remote, phone);
  const initialMs = Number(process.hrtime.bigint() - t1) / 1e6;
  const info = await phone.info();
  say({ initial_ms: initialMs, docs: info.doc_count, written: pulled.docs_written });

  await nextLine();
  const households = docs.filter((d) => d.type === 'household');
  const now = new Date().toISOString();
  const visits = [];
  for (let i = 0; i < 1000; i++) {
    const h = households[(i * 7) % households.length];
    visits.push({
      _id: 'visit:bench-' + i,
      type: 'visit',
      household_id: h.id,
      started_at: now,
      ended_at: now,
      kind: 'routine',
      outcome: 'met',
      notes: '了解家庭情况',
      people_served: 1,
    });
  }
  await phone.bulkDocs(visits);
  const t2 = process.hrtime.bigint();
  const pushed = await PouchDB.replicate(phone, remote);
  const pushMs = Number(process.hrtime.bigint() - t2) / 1e6;
  say({ push_ms: pushMs, written: pushed.docs_written });
  server.close();
  process.exit(0);
}

main().catch((e) => {
  process.stderr.write(String((e && e.stack) || e) + '\n');
  process.exit(1);
});
