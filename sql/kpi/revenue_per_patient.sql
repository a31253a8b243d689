-- @id revenue_per_patient
-- @label.ru Выручка на пациента
-- @label.en Revenue per patient
-- @unit money
-- @additive no
-- @dimensions doctor, direction, source, day, week, month
-- @definition Revenue of all visits in [from, to) divided by unique patients then (visits without a patient add revenue, not patients); null without patients. kpi.md §2.
SELECT {{dim}} AS dim, SUM(f.revenue_minor) * 1.0 / NULLIF({{patients}}, 0) AS value,
       SUM(f.revenue_minor) AS revenue_minor, {{patients}} AS unique_patients
FROM clinic_visit f
WHERE f.portal_id = :portal AND f.visit_date >= :from AND f.visit_date < :to {{filters}}
GROUP BY {{dim}}
