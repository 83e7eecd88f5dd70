-- The study's core numbers, hand-written in DuckDB SQL: the reference the whole
-- `burnout analyze` is measured against (issue 15). Reads a Parquet cohort folder set
-- with `SET VARIABLE cohort = '/path/to/folder';` and computes, with the reference
-- plan's constants written in: subscale scores (units of 1/600,000 point, at most one
-- blank item), the threshold at baseline, completers (6 sessions, every assessment
-- scored), responses (>= 1 point in the good direction), profiles at baseline and at
-- the last assessment (z cut-offs from the completers' baseline), the transitions
-- between them, side effects at sessions 2, 4, 6 and responders by subgroup.
-- No validation: it trusts the files. benchmarks/bench_core.py runs it.

CREATE OR REPLACE TEMP TABLE pt AS
WITH mbi AS (
  SELECT patient_id, after_session,
    (item_1 IS NOT NULL)::INT + (item_2 IS NOT NULL)::INT + (item_3 IS NOT NULL)::INT
      + (item_4 IS NOT NULL)::INT + (item_6 IS NOT NULL)::INT AS n_e,
    coalesce(item_1, 0) + coalesce(item_2, 0) + coalesce(item_3, 0) + coalesce(item_4, 0) + coalesce(item_6, 0) AS s_e,
    (item_8 IS NOT NULL)::INT + (item_9 IS NOT NULL)::INT + (item_13 IS NOT NULL)::INT
      + (item_14 IS NOT NULL)::INT + (item_15 IS NOT NULL)::INT AS n_c,
    coalesce(item_8, 0) + coalesce(item_9, 0) + coalesce(item_13, 0) + coalesce(item_14, 0) + coalesce(item_15, 0) AS s_c,
    (item_5 IS NOT NULL)::INT + (item_7 IS NOT NULL)::INT + (item_10 IS NOT NULL)::INT
      + (item_11 IS NOT NULL)::INT + (item_12 IS NOT NULL)::INT + (item_16 IS NOT NULL)::INT AS n_p,
    coalesce(item_5, 0) + coalesce(item_7, 0) + coalesce(item_10, 0) + coalesce(item_11, 0)
      + coalesce(item_12, 0) + coalesce(item_16, 0) AS s_p
  FROM read_parquet(getvariable('cohort') || '/mbi_gs.parquet')
  WHERE after_session IN (0, 2, 4, 6)
), scored AS (
  SELECT patient_id, after_session,
    CASE WHEN n_e >= 4 THEN s_e::BIGINT * 600000 // n_e END AS e,
    CASE WHEN n_c >= 4 THEN s_c::BIGINT * 600000 // n_c END AS c,
    CASE WHEN n_p >= 5 THEN s_p::BIGINT * 600000 // n_p END AS p
  FROM mbi
), wide AS (
  SELECT patient_id,
    max(e) FILTER (after_session = 0) AS e0, max(c) FILTER (after_session = 0) AS c0, max(p) FILTER (after_session = 0) AS p0,
    max(e) FILTER (after_session = 6) AS e6, max(c) FILTER (after_session = 6) AS c6, max(p) FILTER (after_session = 6) AS p6,
    bool_and(e IS NOT NULL AND c IS NOT NULL AND p IS NOT NULL) AND count(DISTINCT after_session) = 4 AS all_scored
  FROM scored GROUP BY patient_id
), sess AS (
  SELECT patient_id,
    count(*) FILTER (session BETWEEN 1 AND 6) AS delivered,
    max(side_effects::INT) FILTER (session = 2) AS se2,
    max(side_effects::INT) FILTER (session = 4) AS se4,
    max(side_effects::INT) FILTER (session = 6) AS se6
  FROM read_parquet(getvariable('cohort') || '/sessions.parquet') GROUP BY patient_id
)
SELECT pa.patient_id,
  CASE WHEN pa.age >= 18 AND pa.age < 35 THEN '18-34' WHEN pa.age >= 35 AND pa.age < 50 THEN '35-49'
       WHEN pa.age >= 50 THEN '50+' ELSE 'unknown' END AS age_band,
  coalesce(nullif(lower(trim(pa.sex)), ''), 'unknown') AS sex,
  coalesce(nullif(lower(trim(pa.route)), ''), 'unknown') AS route,
  coalesce(nullif(lower(trim(pa.pathway)), ''), 'unknown') AS pathway,
  w.e0, w.c0, w.p0, w.e6, w.c6, w.p6, s.se2, s.se4, s.se6,
  coalesce(w.e0 >= 2880000 AND (w.c0 >= 2280000 OR w.p0 <= 2580000), false) AS threshold_met,
  coalesce(w.e0 >= 2880000 AND (w.c0 >= 2280000 OR w.p0 <= 2580000), false)
    AND coalesce(s.delivered, 0) >= 6 AND coalesce(w.all_scored, false) AS completer,
  coalesce(w.e0 - w.e6 >= 600000, false) AS r_e,
  coalesce(w.c0 - w.c6 >= 600000, false) AS r_c,
  coalesce(w.p6 - w.p0 >= 600000, false) AS r_p
FROM read_parquet(getvariable('cohort') || '/patients.parquet') pa
LEFT JOIN wide w USING (patient_id) LEFT JOIN sess s USING (patient_id);

-- flow and responders
SELECT count(*) AS patients, count(*) FILTER (threshold_met) AS threshold_met, count(*) FILTER (completer) AS completers,
  count(*) FILTER (completer AND r_e) AS responders_exhaustion, count(*) FILTER (completer AND r_c) AS responders_cynicism,
  count(*) FILTER (completer AND r_p) AS responders_professional_efficacy,
  count(*) FILTER (completer AND (r_e OR r_c OR r_p)) AS responders_at_least_1,
  sum(se2) FILTER (completer) AS side_effects_2, sum(se4) FILTER (completer) AS side_effects_4,
  sum(se6) FILTER (completer) AS side_effects_6
FROM pt;

-- profile cut-offs (z from the completers' baseline: mean + z * sd, in units) and the transitions
CREATE OR REPLACE TEMP TABLE cut AS
SELECT ceil(avg(e0) - 0.65 * stddev_samp(e0)) AS ce, ceil(avg(c0) + 0.90 * stddev_samp(c0)) AS cc,
       floor(avg(p0) - 0.35 * stddev_samp(p0)) AS cp
FROM pt WHERE completer;

SELECT
  CASE WHEN e0 >= ce AND c0 >= cc THEN 'burnout' WHEN e0 >= ce THEN 'overextended' WHEN c0 >= cc THEN 'disengaged'
       WHEN p0 <= cp THEN 'ineffective' ELSE 'engaged' END AS baseline,
  CASE WHEN e6 >= ce AND c6 >= cc THEN 'burnout' WHEN e6 >= ce THEN 'overextended' WHEN c6 >= cc THEN 'disengaged'
       WHEN p6 <= cp THEN 'ineffective' ELSE 'engaged' END AS last,
  count(*) AS n
FROM pt, cut WHERE completer GROUP BY ALL ORDER BY ALL;

-- responders by subgroup
SELECT age_band, sex, route, pathway, count(*) FILTER (completer) AS completers,
  count(*) FILTER (completer AND (r_e OR r_c OR r_p)) AS at_least_1
FROM pt WHERE threshold_met
GROUP BY GROUPING SETS ((age_band), (sex), (route), (pathway)) ORDER BY ALL;
