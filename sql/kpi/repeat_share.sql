-- @id repeat_share
-- @label.ru Доля повторных пациентов
-- @label.en Returning patient share
-- @unit percent
-- @additive no
-- @dimensions doctor, direction, source, day, week, month
-- @definition repeat_patients / unique_patients in [from, to), a share in [0, 1]; null without patients. kpi.md §2.
SELECT {{dim}} AS dim,
       {{repeat_patients}} * 1.0 / NULLIF({{patients}}, 0) AS value,
       {{repeat_patients}} AS repeat_patients,
       {{patients}} AS unique_patients
FROM clinic_visit f
WHERE f.portal_id = :portal AND f.visit_date >= :from AND f.visit_date < :to {{filters}}
GROUP BY {{dim}}
