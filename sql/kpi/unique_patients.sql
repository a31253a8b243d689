-- @id unique_patients
-- @label.ru Уникальные пациенты
-- @label.en Unique patients
-- @unit count
-- @empty 0
-- @additive no
-- @dimensions doctor, direction, source, day, week, month
-- @definition Distinct patients with at least one visit in [from, to); visits without a patient are not counted. kpi.md §2.
SELECT {{dim}} AS dim, SUM(f.patients) AS value
FROM {{patient_sums}} f
WHERE 1 = 1 {{filters}}
GROUP BY {{dim}}
