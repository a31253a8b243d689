-- @id repeat_share
-- @label.ru Доля повторных пациентов
-- @label.en Returning patient share
-- @unit percent
-- @additive no
-- @dimensions doctor, direction, source, day, week, month
-- @definition repeat_patients / unique_patients in [from, to), a share in [0, 1]; null without patients. kpi.md §2.
SELECT {{dim}} AS dim, SUM(f.repeat_patients) * 1.0 / NULLIF(SUM(f.patients), 0) AS value,
       SUM(f.repeat_patients) AS repeat_patients, SUM(f.patients) AS unique_patients
FROM {{patient_sums}} f
WHERE 1 = 1 {{filters}}
GROUP BY {{dim}}
