// B7 trace workload for node: JSON and regular expressions over growing documents, so the
// JIT compiles and re-compiles and the heap grows, shrinks and is compacted.
'use strict';
const rounds = Number(process.argv[2] || 40);
let checksum = 0;
const pattern = /"name":"([a-z]+)-(\d+)"/g;
for (let r = 0; r < rounds; r++) {
  const doc = [];
  for (let i = 0; i < 4000 + r * 250; i++) {
    doc.push({ id: i, name: `item-${i * 7919 % 100003}`, tags: ['a', 'b', String(r)], nested: { x: i / 3, y: [i, r, i ^ r] } });
  }
  const text = JSON.stringify(doc);
  const back = JSON.parse(text);
  checksum += back.length;
  for (const m of text.matchAll(pattern)) {
    checksum += m[2].length;
  }
  checksum += text.replace(/\d+/g, (d) => String(d.length)).length % 97;
}
console.log(`rounds=${rounds} checksum=${checksum}`);
