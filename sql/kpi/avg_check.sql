-- @id avg_check
-- @label.ru Средний чек
-- @label.en Average check
-- @unit money
-- @additive no
-- @dimensions doctor, direction, source, day, week, month
-- @definition Revenue divided by visits in [from, to), from their sums at the requested grain; null without visits. kpi.md §2.
SELECT {{dim}} AS dim, SUM(f.revenue_minor) * 1.0 / SUM(f.visits) AS value,
       SUM(f.revenue_minor) AS revenue_minor, SUM(f.visits) AS visits
FROM {{visit_sums}} f
WHERE 1 = 1 {{filters}}
GROUP BY {{dim}}
