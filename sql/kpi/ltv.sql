-- @id ltv
-- @label.ru LTV пациента
-- @label.en Patient LTV
-- @unit money
-- @additive no
-- @dimensions doctor, direction, source, day, week, month
-- @columns doctor=first_doctor_id, direction=first_direction_id, source=first_source_id, day=first_date, week=first_week, month=first_month
-- @definition The patients whose first-ever visit is in [from, to): mean of their revenue from that visit up to today, with every doctor. By doctor it is LTV by first doctor (ltv_by_first_doctor, kpi.md §4); the cohort size is beside it. kpi.md §2.
SELECT {{dim}} AS dim, AVG(f.lifetime_revenue_minor * 1.0) AS value, COUNT(*) AS cohort
FROM clinic_patient f
WHERE f.portal_id = :portal AND f.first_date >= :from AND f.first_date < :to {{filters}}
GROUP BY {{dim}}
