-- @id revenue_per_patient
-- @label.ru Выручка на пациента
-- @label.en Revenue per patient
-- @unit money
-- @additive no
-- @dimensions doctor, direction, source, day, week, month
-- @definition Revenue of all visits in [from, to) divided by unique patients then (visits without a patient add revenue, not patients); null without patients. kpi.md §2.
SELECT {{dim}} AS dim, SUM(f.revenue_minor) * 1.0 / NULLIF(SUM(f.patients), 0) AS value,
       SUM(f.revenue_minor) AS revenue_minor, SUM(f.patients) AS unique_patients
FROM {{patient_sums}} f
WHERE 1 = 1 {{filters}}
GROUP BY {{dim}}
