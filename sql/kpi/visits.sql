-- @id visits
-- @label.ru Визиты
-- @label.en Visits
-- @unit count
-- @empty 0
-- @additive yes
-- @dimensions doctor, direction, source, day, week, month
-- @definition Number of visits dated in [from, to). Two deals of one patient on one day are two visits. kpi.md §2.
SELECT {{dim}} AS dim, SUM(f.visits) AS value
FROM {{visit_sums}} f
WHERE 1 = 1 {{filters}}
GROUP BY {{dim}}
