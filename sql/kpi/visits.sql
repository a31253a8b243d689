-- @id visits
-- @label.ru Визиты
-- @label.en Visits
-- @unit count
-- @empty 0
-- @additive yes
-- @dimensions doctor, direction, source, day, week, month
-- @definition Number of visits dated in [from, to). Two deals of one patient on one day are two visits. kpi.md §2.
SELECT {{dim}} AS dim, SUM(f.visits) AS value
FROM clinic_visit_day f
WHERE f.portal_id = :portal AND f.visit_date >= :from AND f.visit_date < :to {{filters}}
GROUP BY {{dim}}
