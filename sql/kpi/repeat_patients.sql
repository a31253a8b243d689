-- @id repeat_patients
-- @label.ru Повторные пациенты
-- @label.en Returning patients
-- @unit count
-- @empty 0
-- @additive no
-- @dimensions doctor, direction, source, day, week, month
-- @definition Distinct patients with a visit in [from, to) on a day after their first-ever visit day (a second deal on the first day does not make a patient returning). kpi.md §2.
SELECT {{dim}} AS dim, SUM(f.repeat_patients) AS value
FROM {{patient_sums}} f
WHERE 1 = 1 {{filters}}
GROUP BY {{dim}}
