-- B7 trace workload for sqlite3 (memory-mapped I/O): create, insert 1,000,000 rows, index, query, update, delete, vacuum.
PRAGMA mmap_size = 1073741824;
PRAGMA cache_size = -262144;
CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, name TEXT, payload BLOB);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
INSERT INTO t(k, name, payload) SELECT (i * 7919) % 100003, 'row-' || i, randomblob(64) FROM n;
CREATE INDEX t_k ON t(k);
CREATE INDEX t_name ON t(name);
SELECT count(*), sum(k) FROM t WHERE k BETWEEN 1000 AND 60000;
SELECT k, count(*) FROM t GROUP BY k ORDER BY count(*) DESC LIMIT 3;
SELECT count(*) FROM t a JOIN t b ON a.k = b.id WHERE a.id % 10 = 0;
UPDATE t SET payload = randomblob(128) WHERE id % 3 = 0;
DELETE FROM t WHERE id % 5 = 0;
VACUUM;
SELECT count(*) FROM t;
